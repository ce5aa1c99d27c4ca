#!/usr/bin/python3
"""Check that MNE reads EDF files written by neurodag's writer with the same channels, rate,
samples and annotations as neurodag itself. Usage: check-edf-mne.py WRITE_EDF_HELPER.
Exits 77 (skipped) when MNE is not installed."""
import json
import os
import subprocess
import sys
import tempfile

try:
    import mne
    import numpy as np
except ImportError:
    print("mne/numpy not available: skipping")
    sys.exit(77)


def check(edf, sidecar):
    with open(sidecar) as f:
        want = json.load(f)
    raw = mne.io.read_raw_edf(edf, preload=True, verbose=False)
    errors = []
    if raw.ch_names != want["labels"]:
        errors.append("labels %s != %s" % (raw.ch_names, want["labels"]))
    if abs(raw.info["sfreq"] - want["sfreq"]) > 1e-9:
        errors.append("sfreq %g != %g" % (raw.info["sfreq"], want["sfreq"]))
    if raw.n_times != want["n_times"]:
        errors.append("n_times %d != %d" % (raw.n_times, want["n_times"]))
    ann = raw.annotations
    if len(ann) != len(want["onsets"]):
        errors.append("%d annotations != %d" % (len(ann), len(want["onsets"])))
    else:
        d = np.max(np.abs(ann.onset - np.array(want["onsets"]))) if len(ann) else 0
        if d > 1e-6:
            errors.append("annotation onsets differ by up to %g s" % d)
        if list(ann.description) != want["texts"]:
            errors.append("annotation texts differ")
    head = np.array(want["ch0_head"])
    got = raw.get_data(picks=[0])[0][: head.size]
    if np.max(np.abs(got - head)) > 1e-12:
        errors.append("channel 0 samples differ by %g V" % np.max(np.abs(got - head)))
    for e in errors:
        print("%s: %s" % (os.path.basename(edf), e))
    if not errors:
        print("%s: OK (%d channels, %g Hz, %d annotations)"
              % (os.path.basename(edf), len(raw.ch_names), raw.info["sfreq"], len(ann)))
    return not errors


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory(prefix="nd-edf-mne-") as tmp:
        subprocess.run([sys.argv[1], tmp], check=True)
        ok = check(os.path.join(tmp, "synth.edf"), os.path.join(tmp, "synth.json"))
        ok = check(os.path.join(tmp, "many.edf"), os.path.join(tmp, "many.json")) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
