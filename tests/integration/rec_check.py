"""What the recording checks share: a pass/fail line per check, collected in FAILS, and one
`neurodag run --json` of a pipeline on a recording that returns its metrics step's figures, and a
generated recording."""
import os
import json
import subprocess

import numpy as np

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run_metrics(neurodag, pipeline, rec, out):
    """The metrics of `neurodag run --workers 2 PIPELINE REC -o OUT`, or None (a failed run is
    a failed check)."""
    r = subprocess.run([neurodag, "run", "-q", "--json", "--workers", "2", pipeline, rec, "-o",
                        out], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        check(False, "%s on %s: exit %d %s" % (pipeline, rec, r.returncode, r.stderr[-300:]))
        return None
    for v in json.loads(r.stdout)["results"].values():
        if "metrics" in v:
            return v["metrics"]
    return None


def synth_recording(neurodag, d, args, channels=2):
    """`neurodag synth fmri --channels CHANNELS ARGS -o D`; the recording's path (a failed
    generation is a failed check)."""
    r = subprocess.run([neurodag, "synth", "fmri", "--channels", str(channels), *args, "-o", d],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "synth %s %s" % (os.path.basename(d), r.stderr[-300:]))
    return os.path.join(d, "recording.edf")


def edf_channels(path):
    """{label: (physical samples, quantization unit, digital samples)} of an EDF(+) file, from its
    header and 16-bit records (the unit in the file's physical dimension)."""
    b = open(path, "rb").read()
    ns, hl, nrec = int(b[252:256]), int(b[184:192]), int(b[236:244])

    def field(off, w):
        return [b[256 + off * ns + i * w:256 + off * ns + (i + 1) * w].decode().strip()
                for i in range(ns)]
    lab = field(0, 16)
    pmin, pmax, dmin, dmax = ([float(v) for v in field(o, 8)] for o in (104, 112, 120, 128))
    spr = [int(v) for v in field(216, 8)]
    rec = np.frombuffer(b[hl:], dtype="<i2")[:nrec * sum(spr)].reshape(nrec, sum(spr))
    out, o = {}, 0
    for i in range(ns):
        g = (pmax[i] - pmin[i]) / (dmax[i] - dmin[i])
        d = rec[:, o:o + spr[i]].ravel().astype(np.int64)
        if not lab[i].startswith("EDF Annotations"):
            out[lab[i]] = ((d - dmin[i]) * g + pmin[i], g, d)
        o += spr[i]
    return out
