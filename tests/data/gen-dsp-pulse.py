#!/usr/bin/python3
"""Write tests/data/dsp-pulse/*.npy: an ECG lead made here (its own beat model, independent of
neurodag's generator) with its true R peaks, and the R peaks MNE's find_ecg_events finds on it,
the peer the R-peak detector is checked against.

Run from the repository root with /usr/bin/python3 (numpy, mne):
    /usr/bin/python3 tests/data/gen-dsp-pulse.py
"""
import os

import mne
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dsp-pulse")


def arr(name, values, dtype="<f8"):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(values, dtype=dtype).ravel())


def ecg_lead(rng, fs, seconds, hr):
    """Beats with RR = 60/hr (1 + 0.05 AR(1) noise + 0.04 sin(breathing)); each beat a sum of
    Gaussian P, Q, R, S, T waves with a 5 % random amplitude; baseline wander and white noise."""
    n = int(seconds * fs)
    t = np.arange(n) / fs
    rr0, r, w, peaks = 60.0 / hr, 0.4, 0.0, []
    waves = [(-0.17, 0.02, 0.12), (-0.03, 0.01, -0.2), (0.0, 0.011, 1.0), (0.035, 0.01, -0.3),
             (0.3, 0.06, 0.35)]
    x = np.zeros(n)
    while r < seconds - 0.5:
        peaks.append(int(round(r * fs)))
        a = 1 + 0.05 * rng.randn()
        for c, wd, amp in waves:
            x += a * amp * np.exp(-0.5 * ((t - r - c) / wd) ** 2)
        w = 0.6 * w + 0.8 * rng.randn()
        r += rr0 * (1 + 0.05 * w + 0.04 * np.sin(2 * np.pi * r / 4.2))
    x = 1e-3 * x + 80e-6 * np.sin(2 * np.pi * 0.27 * t) + 15e-6 * rng.randn(n)
    return x, np.asarray(peaks)


def main():
    rng = np.random.RandomState(20240907)
    os.makedirs(OUT, exist_ok=True)
    fs = 500.0
    x, peaks = ecg_lead(rng, fs, 90.0, 72.0)
    info = mne.create_info(["ECG"], fs, ["ecg"])
    raw = mne.io.RawArray(x[None, :], info, verbose=False)
    events, _, _ = mne.preprocessing.find_ecg_events(raw, ch_name="ECG", verbose=False)
    arr("ecg_500", x)
    arr("ecg_500_true", peaks, "<i8")
    arr("ecg_500_mne", events[:, 0], "<i8")
    print("%d beats, MNE finds %d" % (len(peaks), len(events)))


if __name__ == "__main__":
    main()
