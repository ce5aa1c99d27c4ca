"""The standard pipeline with upsample and downsample in blocks (block_s) against the same
pipeline resampling each channel whole, on generated recordings of other rates, volume gaps,
missing slice marks and seeds: the corrected EDFs agree within 0.02 uV (measured up to
0.013 uV, at most 4 units of the channel's 16-bit quantization), the artifact reduction against
the ground truth within 0.01 dB and the residual within 0.001 uV. Usage: check-rec-blocks.py NEURODAG EXAMPLES_DIR"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np

from rec_check import FAILS, check, edf_channels, run_metrics, synth_recording

NEURODAG, EXAMPLES = sys.argv[1:3]
TMP = tempfile.mkdtemp(prefix="nd-blocks-")
RECS = {
    "2k": ["--duration", "40", "--seed", "61"],
    "5k-gaps": ["--rate", "5000", "--volume-gap", "0.05", "--spacing-jitter", "2",
                "--duration", "30", "--seed", "62"],
    "2k-missing-marks": ["--drop-triggers", "2", "--duration", "40", "--seed", "63"],
}
TOL_UV, TOL_DB, TOL_RES = 0.02, 0.01, 0.001


try:
    std = json.load(open(os.path.join(EXAMPLES, "fmri-standard.json")))
    whole_pl = os.path.join(TMP, "whole.json")
    json.dump(std, open(whole_pl, "w"))
    for s in std["steps"]:
        if s["op"] in ("upsample", "downsample"):
            s["block_s"] = 10
    block_pl = os.path.join(TMP, "blocks.json")
    json.dump(std, open(block_pl, "w"))
    for name, args in RECS.items():
        d = os.path.join(TMP, name)
        rec = synth_recording(NEURODAG, d, args)
        mw = run_metrics(NEURODAG, whole_pl, rec, os.path.join(d, "whole.edf"))
        mb = run_metrics(NEURODAG, block_pl, rec, os.path.join(d, "blocks.edf"))
        if mw is None or mb is None:
            continue
        a, b = edf_channels(os.path.join(d, "whole.edf")), edf_channels(os.path.join(d, "blocks.edf"))
        worst = max(float(np.max(np.abs(a[k][0] - b[k][0]))) for k in a)
        lsb = max(float(np.max(np.abs(a[k][0] - b[k][0]))) / a[k][1] for k in a)
        ddb = mb["artifact_reduction_db"] - mw["artifact_reduction_db"]
        dres = mb["residual_uv"] - mw["residual_uv"]
        print("%-17s whole %.3f dB %.4f uV; blocks %+.4f dB %+.5f uV; largest difference %.4f uV "
              "(%.0f quantization units)" % (name, mw["artifact_reduction_db"], mw["residual_uv"],
                                            ddb, dres, worst, lsb))
        check(worst <= TOL_UV, "%s: outputs within %.2f uV (%.4f)" % (name, TOL_UV, worst))
        check(abs(ddb) <= TOL_DB, "%s: artifact reduction within %.2f dB (%+.4f)" % (name, TOL_DB, ddb))
        check(abs(dres) <= TOL_RES, "%s: residual within %.3f uV (%+.5f)" % (name, TOL_RES, dres))
finally:
    shutil.rmtree(TMP, ignore_errors=True)
sys.exit(1 if FAILS else 0)
