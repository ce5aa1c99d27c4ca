"""Trigger detection on the shipped Niazy-like recording (840 slice triggers annotated "1",
L = 293 samples, 21 slices per volume) through `neurodag run --serial`. Skipped (77) when the
shared data directory is absent. Usage: check-rec-shipped.py NEURODAG SHARED_DIR"""
import json
import os
import subprocess
import sys
import tempfile

NEURODAG, SHARED = sys.argv[1:3]
REC = os.path.join(SHARED, "data", "fmri-niazy-like", "recording.edf")
if not os.path.exists(REC):
    print("%s absent: skipped" % REC)
    sys.exit(77)

with tempfile.TemporaryDirectory(prefix="nd-shipped-") as tmp:
    p = os.path.join(tmp, "detect.json")
    with open(p, "w") as f:
        json.dump({"name": "detect", "input": {"format": "edf", "path": REC},
                   "steps": [{"op": "detect_triggers", "regex": "\\b1\\b"}]}, f)
    r = subprocess.run([NEURODAG, "run", "--serial", "--json", p], capture_output=True,
                       text=True, timeout=120)
    if r.returncode != 0:
        print("FAIL run: exit %d: %s" % (r.returncode, r.stderr))
        sys.exit(1)
    t = json.loads(r.stdout)["results"]["0"]["triggers"]
    want = {"count": 840, "L": 293, "slices_per_volume": 21, "volume_gaps": True}
    got = {k: t[k] for k in want}
    print("triggers:", got)
    sys.exit(0 if got == want and len(t["samples"]) == 840 else 1)
