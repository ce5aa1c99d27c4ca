#!/usr/bin/python3
"""Generate tests/data/dsp-filter/*.npy: FIR taps and filtered signals computed with numpy
with scipy.signal.firwin (Hamming) inside a transcription of MNE's firwin design and zero-phase
convolution with reflect-limited padding, to check worker/dsp-filter.c against an independent
implementation. Run: /usr/bin/python3 tests/data/gen-dsp-filter.py"""
import os

import numpy as np
from scipy.signal import firwin as scipy_firwin


def firwin(numtaps, cutoff):
    return scipy_firwin(numtaps, cutoff, window='hamming', pass_zero=True, fs=2)


def odd(n):
    return n + (1 - n % 2)


def firwin_design(N, freq, gain, sfreq):
    # mne.filter._firwin_design with freq normalised to Nyquist
    freq = np.asarray(freq) / (sfreq / 2.0)
    h = np.zeros(N)
    prev_freq, prev_gain = freq[-1], gain[-1]
    if gain[-1] == 1:
        h[N // 2] = 1
    for this_freq, this_gain in zip(freq[::-1][1:], gain[::-1][1:]):
        if this_gain != prev_gain:
            transition = (prev_freq - this_freq) / 2.0
            this_N = odd(int(round(3.3 / transition)))
            this_h = firwin(this_N, (prev_freq + this_freq) / 2.0)
            offset = (N - this_N) // 2
            if this_gain == 0:
                h[offset:N - offset] -= this_h
            else:
                h[offset:N - offset] += this_h
        prev_gain, prev_freq = this_gain, this_freq
    return h


def trans_lo(lo):
    return min(max(0.25 * lo, 2.0), lo)


def trans_hi(fs, hi):
    return min(max(0.25 * hi, 2.0), fs / 2.0 - hi)


def design(fs, lo=None, hi=None):
    freq, gain, trans = [0.0], [0 if lo is not None else 1], []
    if lo is not None:
        t = trans_lo(lo)
        freq += [lo - t, lo]
        gain += [0, 1]
        trans.append(t)
    if hi is not None:
        t = trans_hi(fs, hi)
        freq += [hi, hi + t]
        gain += [1, 0]
        trans.append(t)
    freq.append(fs / 2.0)
    gain.append(1 if hi is None else 0)
    N = odd(int(round(3.3 * fs / min(trans))))
    return firwin_design(N, freq, gain, fs)


def design_notch(fs, freqs, width):
    freq, gain = [0.0], [1]
    for f in sorted(freqs):
        w = width if width > 0 else f / 200.0
        lo, hi = f - w / 2 - 0.5, f + w / 2 + 0.5
        freq += [lo, lo + 0.5, hi - 0.5, hi]
        gain += [1, 0, 0, 1]
    freq.append(fs / 2.0)
    gain.append(1)
    return firwin_design(odd(int(round(3.3 * fs / 0.5))), freq, gain, fs)


def smart_pad(x, e):
    return np.concatenate([2 * x[0] - x[e:0:-1], x, 2 * x[-1] - x[-2:-e - 2:-1]])


def apply(h, x):
    e = max(min(len(h), len(x)) - 1, 0)
    c = np.convolve(smart_pad(x, e), h)
    s = (len(h) - 1) // 2 + e
    return c[s:s + len(x)]


OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dsp-filter")


def emit(name, a):
    np.save(os.path.join(OUT, name + ".npy"), np.asarray(a, dtype="<f8"))


os.makedirs(OUT, exist_ok=True)
emit("lp70_2048", design(2048.0, hi=70.0))
emit("hp1_256", design(256.0, lo=1.0))
emit("bp8_30_512", design(512.0, lo=8.0, hi=30.0))
emit("notch50_250", design_notch(250.0, [50.0], 0.0))
rng = np.random.default_rng(7)
n = 1000
t = np.arange(n) / 2048.0
sig = np.cumsum(rng.standard_normal(n)) + 5 * np.sin(2 * np.pi * 150 * t) + 20.0
emit("signal", sig)
emit("signal_lp70_2048", apply(design(2048.0, hi=70.0), sig))
emit("signal_hp1_256", apply(design(256.0, lo=1.0), sig))
