#!/usr/bin/python3
"""Write tests/data/small.edf by hand (byte by byte, no EDF library) and the values MNE reads
from it into tests/data/small-expected.txt, for test-io-edf.c. Run from anywhere:
    /usr/bin/python3 tests/data/make-small-edf.py
The fixture: EDF+C, 10 records of 1 s, Fz (uV, 256 Hz, symmetric range) and Resp (mV, 128 Hz,
asymmetric digital range), 4 annotations (one with a duration, one with spaces and UTF-8)."""
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EDF = os.path.join(HERE, "small.edf")
EXPECTED = os.path.join(HERE, "small-expected.txt")

N_REC = 10
SIGNALS = [  # label, dim, pmin, pmax, dmin, dmax, spr, transducer, prefilter
    ("Fz", "uV", -500.0, 500.0, -32768, 32767, 256, "AgAgCl electrode", "HP:0.1Hz LP:70Hz"),
    ("Resp", "mV", -2.0, 2.0, -2048, 2047, 128, "belt", ""),
]
ANNOT_SPR = 60
ANNOTS = [(0.5, None, "Stim A"), (1.25, 0.5, "Blink"), (3.0, None, "1"),
          (7.75, 2.0, "Eyes closed \u00e9")]


def field(s, n):
    b = s.encode("ascii")
    assert len(b) <= n, s
    return b + b" " * (n - len(b))


def main():
    rng = np.random.default_rng(1234)
    t0 = np.arange(N_REC * 256) / 256.0
    fz = 80 * np.sin(2 * np.pi * 10 * t0) + 30 * rng.standard_normal(t0.size)
    t1 = np.arange(N_REC * 128) / 128.0
    resp = 1.2 * np.sin(2 * np.pi * 0.3 * t1) + 0.3
    digital = []
    for (lab, dim, pmin, pmax, dmin, dmax, spr, _, _), x in zip(SIGNALS, (fz, resp)):
        d = np.round((x - pmin) * (dmax - dmin) / (pmax - pmin) + dmin)
        digital.append(np.clip(d, dmin, dmax).astype("<i2"))

    ns = len(SIGNALS) + 1
    hdr = b"0       "
    hdr += field("X M 01-JAN-1990 Test_Patient", 80)
    hdr += field("Startdate 02-MAR-2021 X tech small_fixture", 80)
    hdr += b"02.03.21" + b"10.11.12"
    hdr += field(str(256 * (ns + 1)), 8) + field("EDF+C", 44)
    hdr += field(str(N_REC), 8) + field("1", 8) + field(str(ns), 4)
    sigs = [s[:9] for s in SIGNALS] + [("EDF Annotations", "", -1, 1, -32768, 32767, ANNOT_SPR, "", "")]
    full = SIGNALS + [("EDF Annotations", "", -1, 1, -32768, 32767, ANNOT_SPR, "", "")]
    hdr += b"".join(field(s[0], 16) for s in sigs)
    hdr += b"".join(field(s[7], 80) for s in full)
    hdr += b"".join(field(s[1], 8) for s in sigs)
    hdr += b"".join(field("%g" % s[2], 8) for s in sigs)
    hdr += b"".join(field("%g" % s[3], 8) for s in sigs)
    hdr += b"".join(field(str(s[4]), 8) for s in sigs)
    hdr += b"".join(field(str(s[5]), 8) for s in sigs)
    hdr += b"".join(field(s[8], 80) for s in full)
    hdr += b"".join(field(str(s[6]), 8) for s in sigs)
    hdr += b" " * (32 * ns)
    assert len(hdr) == 256 * (ns + 1)

    out = bytearray(hdr)
    for r in range(N_REC):
        for i, s in enumerate(SIGNALS):
            out += digital[i][r * s[6]:(r + 1) * s[6]].tobytes()
        tal = b"+%d\x14\x14\x00" % r
        for onset, dur, text in ANNOTS:
            if int(onset) == r:
                tal += b"+%g" % onset
                if dur is not None:
                    tal += b"\x15%g" % dur
                tal += b"\x14" + text.encode("utf-8") + b"\x14\x00"
        assert len(tal) <= 2 * ANNOT_SPR
        out += tal + b"\x00" * (2 * ANNOT_SPR - len(tal))
    with open(EDF, "wb") as f:
        f.write(out)

    import mne
    raw = mne.io.read_raw_edf(EDF, preload=True, verbose=False)
    fz_mne = raw.get_data(picks=["Fz"])[0]  # volts; Fz has the highest rate, so MNE keeps it as is
    # Resp is resampled by MNE (lower rate): decode it from the digital values instead.
    lab, dim, pmin, pmax, dmin, dmax, spr, _, _ = SIGNALS[1]
    resp_v = (pmax + (digital[1].astype(float) - dmax) * (pmax - pmin) / (dmax - dmin)) * 1e-3
    with open(EXPECTED, "w") as f:
        f.write("channels %d\n" % len(SIGNALS))
        for s in SIGNALS:
            f.write("channel %s %s %d %d %.10g %.10g %d %d\n" % (s[0], s[1], s[6], s[6] * N_REC, s[2], s[3], s[4], s[5]))
        f.write("annotations %d\n" % len(raw.annotations))
        for a in raw.annotations:
            dur = a["duration"] if a["duration"] > 0 else -1
            f.write("annotation %.7f %.7f %s\n" % (a["onset"], dur, a["description"]))
        f.write("samples 0 %d\n" % fz_mne.size)
        f.write("".join("%.17g\n" % v for v in fz_mne))
        f.write("samples 1 %d\n" % resp_v.size)
        f.write("".join("%.17g\n" % v for v in resp_v))


if __name__ == "__main__":
    main()
