"""The standard pipeline with its working-rate steps in windows (upsample `window_mb`, forced
small so that short recordings run in windows) against the same pipeline on whole channels
(window_mb 0), on four channels of the shipped recording when it is there and on generated ones
of other rates, volume gaps, spacing jitter, missing slice marks and head motion: the corrected
EDFs agree to within 2 units of each channel's 16-bit quantization (a unit is 0.001 to 0.003 uV
on EEG), the artifact reduction against the ground truth within 0.01 dB and the residual within
0.001 uV. Below the threshold (4 x window_mb) the default
pipeline is the whole-channel one, byte for byte. Usage: check-rec-windows.py NEURODAG EXAMPLES_DIR
[SHARED_DIR]"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

from rec_check import FAILS, check, edf_channels, run_metrics, synth_recording

NEURODAG, EXAMPLES = sys.argv[1:3]
SHARED = sys.argv[3] if len(sys.argv) > 3 else None
TMP = tempfile.mkdtemp(prefix="nd-windows-")
RECS = {
    "2k": ["--duration", "60", "--seed", "71"],
    "1k-jitter": ["--rate", "1000", "--spacing-jitter", "2", "--duration", "60", "--seed", "72"],
    "5k-gaps": ["--rate", "5000", "--volume-gap", "0.05", "--duration", "30", "--seed", "73"],
    "2k-missing-marks": ["--drop-triggers", "2", "--duration", "60", "--seed", "74"],
    "2k-motion": ["--motion", "3", "--duration", "60", "--seed", "75"],
}
TOL_LSB, TOL_DB, TOL_RES = 2, 0.01, 0.001


def pipeline(std, window_mb, truth, pick=None):
    p = json.loads(json.dumps(std))
    if pick:
        p["steps"].insert(0, {"op": "pick_channels", "channels": pick})
    for s in p["steps"]:
        if s["op"] == "upsample" and window_mb is not None:
            s["window_mb"] = window_mb
        if s["op"] == "metrics":
            s["ground_truth"] = truth
    path = os.path.join(TMP, "p-%s-%s.json" % (window_mb, abs(hash(truth))))
    json.dump(p, open(path, "w"))
    return path


def compare(name, rec, truth, std, window_mb, pick=None):
    d = os.path.dirname(rec) if name != "shipped" else TMP
    mw = run_metrics(NEURODAG, pipeline(std, 0, truth, pick), rec,
                     os.path.join(d, name + "-whole.edf"))
    mb = run_metrics(NEURODAG, pipeline(std, window_mb, truth, pick), rec,
                     os.path.join(d, name + "-win.edf"))
    if mw is None or mb is None:
        return
    a = edf_channels(os.path.join(d, name + "-whole.edf"))
    b = edf_channels(os.path.join(d, name + "-win.edf"))
    lsb = {k: int(np.max(np.abs(a[k][2] - b[k][2]))) for k in pick or a}
    uv = max(lsb[k] * a[k][1] for k in lsb)
    ddb = mb["artifact_reduction_db"] - mw["artifact_reduction_db"]
    dres = mb["residual_uv"] - mw["residual_uv"]
    print("%-17s whole %.3f dB %.4f uV; windows %+.4f dB %+.5f uV; largest difference %d units "
          "(%.4f uV; per channel %s)" % (name, mw["artifact_reduction_db"], mw["residual_uv"],
                                         ddb, dres, max(lsb.values()), uv,
                                         " ".join("%s:%d" % kv for kv in lsb.items())))
    check(max(lsb.values()) <= TOL_LSB,
          "%s: outputs within %d quantization units (%d)" % (name, TOL_LSB, max(lsb.values())))
    check(abs(ddb) <= TOL_DB, "%s: artifact reduction within %.2f dB (%+.4f)" % (name, TOL_DB, ddb))
    check(abs(dres) <= TOL_RES, "%s: residual within %.3f uV (%+.5f)" % (name, TOL_RES, dres))


try:
    std = json.load(open(os.path.join(EXAMPLES, "fmri-standard.json")))
    for name, args in RECS.items():
        d = os.path.join(TMP, name)
        rec = synth_recording(NEURODAG, d, args)
        # 60 s at 2048 Hz x 10 is 9.8 MB a channel: 1 MB windows run it in windows.
        compare(name, rec, "clean.edf", std, 1)
    # Below the threshold the default is the whole-channel path, byte for byte.
    d = os.path.join(TMP, "2k")
    rec = os.path.join(d, "recording.edf")
    if run_metrics(NEURODAG, pipeline(std, None, "clean.edf"), rec,
                   os.path.join(d, "default.edf")) is not None:
        same = open(os.path.join(d, "default.edf"), "rb").read() == \
            open(os.path.join(d, "2k-whole.edf"), "rb").read()
        check(same, "2k: the default pipeline below the window threshold is the whole-channel one")
    shipped = os.path.join(SHARED or "", "data", "fmri-niazy-like")
    if SHARED and os.path.exists(os.path.join(shipped, "recording.edf")):
        # 162 s at 2048 Hz x 10 is 26.5 MB a channel: below the default threshold (32 MB),
        # in windows with 2 MB. The reference channel and three that differed most with
        # shorter margins.
        compare("shipped", os.path.join(shipped, "recording.edf"),
                os.path.join(shipped, "clean.edf"), std, 2, ["Fp1", "T4", "O1", "F4"])
    else:
        print("skip shipped recording: not found")
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if FAILS else 0)
