#!/usr/bin/python3
"""EDF+ interchange: an EDF+ file written here byte by byte (not by EDFlib) with every patient
and recording subfield, per-channel prefilters and annotations at onsets that are not multiples
of 100 µs goes through a pipeline; the EDF+ that neurodag writes keeps the subfields and the
prefilters, and MNE reads the annotation onsets and durations back to the microsecond.
Usage: check-edf-fields.py NEURODAG WORKDIR"""
import json
import os
import shutil
import subprocess
import sys

NEURODAG, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
FS, NREC, LABELS = 256, 8, ["Fz", "Cz"]
PREFILTER = ["HP:0.1Hz LP:70Hz", "HP:0.05Hz LP:100Hz N:50Hz"]
PATIENT = "MCH-0234567 F 02-MAY-1951 Haagse_Harry cohort_B"
RECORDING = "Startdate 02-MAR-2002 EMR-7654 Jane_Tech Scanner_X site_A_run2"
MARKS = [(0.000137, 0.0, "R128"), (1.234567, 0.250001, "Stim 1"), (3.1415926, -1, "Resp"),
         (5.999999, 0.000003, "end")]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def field(s, n):
    return s.encode("ascii").ljust(n)[:n]


def tal(onset, dur, text):
    d = "" if dur is None or dur < 0 else "\x15" + ("%.6f" % dur).rstrip("0").rstrip(".")
    return ("%+.7f" % onset).rstrip("0").rstrip(".") + d + "\x14" + text + "\x14\x00"


def write_edf(path):
    import numpy as np
    ann_bytes = 120
    ns = len(LABELS) + 1
    hdr = field("0", 8) + field(PATIENT, 80) + field(RECORDING, 80) + field("02.03.02", 8)
    hdr += field("10.11.12", 8) + field(str(256 * (ns + 1)), 8) + field("EDF+C", 44)
    hdr += field(str(NREC), 8) + field("1", 8) + field(str(ns), 4)
    labels = LABELS + ["EDF Annotations"]
    cols = [(16, labels), (80, ["AgAgCl electrode"] * 2 + [""]), (8, ["uV"] * 2 + [""]),
            (8, ["-500"] * 2 + ["-1"]), (8, ["500"] * 2 + ["1"]),
            (8, ["-32768"] * 3), (8, ["32767"] * 3), (80, PREFILTER + [""]),
            (8, [str(FS)] * 2 + [str(ann_bytes // 2)]), (32, [""] * 3)]
    for n, vals in cols:
        hdr += b"".join(field(v, n) for v in vals)
    t = np.arange(FS * NREC) / FS
    sig = [200 * np.sin(2 * np.pi * 3 * t), 150 * np.cos(2 * np.pi * 5 * t)]
    dig = [np.round(s / 500 * 32767).astype("<i2") for s in sig]
    with open(path, "wb") as f:
        f.write(hdr)
        for r in range(NREC):
            for d in dig:
                f.write(d[r * FS:(r + 1) * FS].tobytes())
            block = "+%d\x14\x14\x00" % r + "".join(tal(o, d, x) for o, d, x in MARKS
                                                      if int(o) == r)
            f.write(block.encode().ljust(ann_bytes, b"\x00"))


def raw_header(path):
    with open(path, "rb") as f:
        fixed = f.read(256)
        ns = int(fixed[252:256])
        sig = f.read(256 * ns)
    pre = [sig[ns * 136 + i * 80: ns * 136 + (i + 1) * 80].decode().strip() for i in range(ns)]
    return fixed[8:88].decode().strip(), fixed[88:168].decode().strip(), pre


def main():
    try:
        import mne
        import numpy  # noqa: F401
    except ImportError as e:
        print("SKIP: %s" % e)
        return 77
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    src, out = os.path.join(WORK, "input.edf"), os.path.join(WORK, "output.edf")
    write_edf(src)
    got = mne.io.read_raw_edf(src, verbose=False).annotations
    check(len(got) == len(MARKS), "MNE reads the input's %d annotations" % len(got))
    pipe = {"name": "fields", "input": {"format": "edf", "path": src},
            "steps": [{"op": "highpass", "freq": 1.0}],
            "output": {"format": "edf", "path": out}}
    path = os.path.join(WORK, "p.json")
    with open(path, "w") as f:
        json.dump(pipe, f)
    r = subprocess.run([NEURODAG, "run", "-q", "-n", "1", "--overwrite", path],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "the pipeline runs: %d %s" % (r.returncode, r.stderr[-500:]))
    if r.returncode != 0:
        return 1
    patient, recording, pre = raw_header(out)
    check(patient == PATIENT, "patient field kept: %r" % patient)
    check(recording == RECORDING, "recording field kept (admin code, technician, equipment, "
          "additional): %r" % recording)
    check(pre[:2] == PREFILTER, "prefilters kept: %s" % pre)
    ann = mne.io.read_raw_edf(out, verbose=False).annotations
    texts = [a["description"] for a in ann]
    check(texts == [m[2] for m in MARKS], "annotation texts in order: %s" % texts)
    for a, (onset, dur, text) in zip(ann, MARKS):
        want_dur = 0.0 if dur < 0 else dur
        check(abs(a["onset"] - round(onset, 6)) < 1e-9 and abs(a["duration"] - want_dur) < 1e-9,
              "%s: onset %.7f s duration %.6f s (wanted %.6f, %.6f)" % (text, a["onset"],
                                                                      a["duration"],
                                                                      round(onset, 6), want_dur))
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
