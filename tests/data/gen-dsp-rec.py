#!/usr/bin/python3
"""Write tests/data/dsp-rec/*.npy: scipy outputs the C kernels are checked against
(firls designs, filtfilt with a Butterworth numerator, Welch PSDs).

Run from the repository root with /usr/bin/python3 (numpy, scipy):
    /usr/bin/python3 tests/data/gen-dsp-rec.py
"""
import os

import numpy as np
from scipy import signal

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dsp-rec")


def arr(name, values):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(values, dtype="<f8").ravel())


def main():
    rng = np.random.RandomState(20240601)
    os.makedirs(OUT, exist_ok=True)

    # firls: (name, numtaps, bands, desired), bands normalised to Nyquist = 1.
    designs = [
        ("firls_hp31", 31, [0, 0.2, 0.3, 1], [0, 0, 1, 1]),
        ("firls_lp21", 21, [0, 0.3, 0.5, 1], [1, 1, 0, 0]),
        ("firls_slope15", 15, [0, 0.1, 0.2, 0.5, 0.6, 1], [0, 0.5, 1, 1, 0.2, 0]),
    ]
    for name, nt, bands, desired in designs:
        arr(name, signal.firls(nt, bands, desired))
    # The ANC adaptation high-pass at fs 2048 Hz, cut-off 6 Hz.
    fs, fc = 2048.0, 6.0
    nt = int(round(1.2 * fs / (0.85 * fc))) | 1
    arr("firls_anc_2048_6", signal.firls(nt, [0, 0.85 * fc / (fs / 2), fc / (fs / 2), 1],
                                         [0, 0, 1, 1]))

    # filtfilt with the numerator of butter(5, 1 Hz, 'high') at 2048 Hz, default odd padding.
    x = np.cumsum(rng.randn(400)) + 5 * np.sin(np.arange(400) * 0.05)
    b, _ = signal.butter(5, 1.0 / 1024.0, "high")
    arr("filtfilt_x", x)
    arr("filtfilt_y", signal.filtfilt(b, [1.0], x))

    # Welch (Hann, 50 % overlap, constant detrend, density, one-sided).
    cases = [("welch_a", 1200, 100.0, 300), ("welch_b", 1000, 256.0, 257),
             ("welch_c", 200, 100.0, 200)]
    for name, n, wfs, nper in cases:
        w = rng.randn(n) + 0.5 * np.sin(2 * np.pi * 10.0 * np.arange(n) / wfs) + 0.3
        _, p = signal.welch(w, fs=wfs, nperseg=nper)
        arr(name + "_x", w)
        arr(name + "_p", p)


if __name__ == "__main__":
    main()
