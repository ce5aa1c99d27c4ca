#!/usr/bin/python3
"""Generate the small scipy fixtures the DSP unit tests compare against.

Run from the repository root with the system Python (numpy + scipy):
    /usr/bin/python3 tests/data/gen-spectral-fixtures.py
Writes tests/data/spectral/fx_*.npy. The reference vectors (wn_*, harm*, pp_*) are copied from the
reference implementation's outputs and are not generated here.
"""
import os

import numpy as np
import scipy.signal as ss
from scipy.signal import windows

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spectral")


def save(name, arr):
    np.save(os.path.join(out, "fx_" + name + ".npy"), np.ascontiguousarray(arr))


# DPSS (unit L2, scipy's sign conventions): even and odd lengths, small and the benchmark size.
for n, nw, k in [(64, 3.0, 5), (33, 2.5, 4), (1000, 4.0, 7), (10, 1.5, 2)]:
    save(f"dpss_n{n}_k{k}", windows.dpss(n, nw, Kmax=k, sym=True))

# Symmetric windows.
save("win_kaiser51_b6p5", windows.kaiser(51, 6.5, sym=True))
save("win_hann16", windows.hann(16, sym=True))
save("win_hamming17", windows.hamming(17, sym=True))
save("win_blackman20", windows.blackman(20, sym=True))

# Butterworth second-order sections (fs 200 Hz).
for name, order, freq, btype in [("lp4", 4, 40, "lowpass"), ("lp5", 5, 30, "lowpass"),
                                 ("hp3", 3, 10, "highpass"), ("bp4", 4, [8, 30], "bandpass"),
                                 ("bs3", 3, [45, 55], "bandstop"), ("bp1", 1, [5, 60], "bandpass"),
                                 ("lp1", 1, 20, "lowpass"), ("hp6", 6, 70, "highpass")]:
    save("butter_" + name, ss.butter(order, freq, btype, fs=200, output="sos"))

rng = np.random.default_rng(11)
x = rng.standard_normal(240)
save("sig240", x)
sos = ss.butter(5, [10, 40], "bandpass", fs=200, output="sos")
save("sosfiltfilt_bp5", ss.sosfiltfilt(sos, x))
save("sosfilt_bp5", ss.sosfilt(sos, x))

# Hilbert (analytic signal), even and odd lengths: columns real, imag.
for n in (240, 239):
    h = ss.hilbert(x[:n])
    save(f"hilbert{n}", np.stack([h.real, h.imag], 1))

# Polyphase resampling (Kaiser 5.0 window FIR), several ratios.
for up, down in [(3, 2), (1, 4), (5, 3), (2, 1), (4, 6)]:
    save(f"resample_{up}_{down}", ss.resample_poly(x, up, down))

# Linear detrend.
save("detrend240", ss.detrend(x, type="linear"))
