"""The shipped standard pipeline against AAS alone on a few small synthetic recordings of other
shapes (the quick subset of tests/bench/bench-fmri-general.py): on each the standard is at least
as good against the ground truth (within 0.05 dB), better on the median, its choices are in the
report per channel, and the reference-free metrics are there; with aas `shift` on, the standard
is at least as good as without it (within 0.05 dB) and reports its shifts. Usage:
check-rec-general.py NEURODAG EXAMPLES_DIR"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from rec_check import FAILS, check, run_metrics

NEURODAG, EXAMPLES = sys.argv[1:3]
TMP = tempfile.mkdtemp(prefix="nd-general-")
# Small: 3 EEG channels, 24-30 s; a 2 kHz recording of each artifact model and a 5 kHz one
# with uneven slice spacing and a short EPI slice.
RECS = {
    "induced-2k": ["--model", "induced", "--seed", "41"],
    "gradient-2k": ["--seed", "42"],
    "induced-5k-uneven": ["--model", "induced", "--rate", "5000", "--spacing-jitter", "3",
                          "--epi-active", "0.6", "--duration", "24", "--seed", "43"],
}


def shift_pipeline():
    """fmri-standard.json with aas shift on, in TMP (its input path is the command line's)."""
    with open(os.path.join(EXAMPLES, "fmri-standard.json")) as f:
        p = json.load(f)
    for s in p["steps"]:
        if s["op"] == "aas":
            s["shift"] = True
    path = os.path.join(TMP, "fmri-standard-shift.json")
    with open(path, "w") as f:
        json.dump(p, f)
    return path


diffs = []
try:
    shifted = shift_pipeline()
    for name, args in RECS.items():
        d = os.path.join(TMP, name)
        r = subprocess.run([NEURODAG, "synth", "fmri", "--channels", "3", "--duration", "30",
                            *args, "-o", d], capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "synth %s" % name)
        rec = os.path.join(d, "recording.edf")
        std = run_metrics(NEURODAG, os.path.join(EXAMPLES, "fmri-standard.json"), rec,
                          os.path.join(d, "s.edf"))
        aas = run_metrics(NEURODAG, os.path.join(EXAMPLES, "fmri-aas-only.json"), rec,
                          os.path.join(d, "a.edf"))
        if std is None or aas is None:
            continue
        d_db = std["artifact_reduction_db"] - aas["artifact_reduction_db"]
        diffs.append(d_db)
        print("%-18s standard %.2f dB %.3f uV, aas-only %.2f dB %.3f uV" % (
            name, std["artifact_reduction_db"], std["residual_uv"],
            aas["artifact_reduction_db"], aas["residual_uv"]))
        check(d_db >= -0.05, "%s: standard at least as good as AAS alone (%+.2f dB)" % (name, d_db))
        per = std["per_channel"]
        check(all("aas" in c.get("choices", {}) and "anc" in c["choices"] for c in per.values()),
              "%s: every channel reports its aas and anc choices" % name)
        check(std["choices"]["aas"]["weighting"] is not None and
              "on" in std["choices"]["anc"], "%s: the choices are summed up" % name)
        h = std["harmonics_vs_reference"]["slice"]
        check(len(h) == 5 and all(x is None or abs(x) < 20 for x in h),
              "%s: harmonics against the reference, 5 values" % name)
        check(std["median_artifact_reference"] > 0 and std["rms_ratio"] > 1,
              "%s: median artifact reference and rms ratio" % name)
        sh = run_metrics(NEURODAG, shifted, rec, os.path.join(d, "sh.edf"))
        if sh is None:
            continue
        d_sh = sh["artifact_reduction_db"] - std["artifact_reduction_db"]
        print("%-18s with aas shift %.2f dB %.3f uV" % (name, sh["artifact_reduction_db"],
                                                       sh["residual_uv"]))
        check(d_sh >= -0.05, "%s: shift at least as good as without (%+.2f dB)" % (name, d_sh))
        a = sh["choices"]["aas"]
        check("shift_weight" in a and "shifted" in a, "%s: the shifts are reported" % name)
    check(len(diffs) == len(RECS) and statistics.median(diffs) > 0,
          "standard better than AAS alone on the median (%s)" %
          ", ".join("%+.2f" % x for x in diffs))
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if FAILS else 0)
