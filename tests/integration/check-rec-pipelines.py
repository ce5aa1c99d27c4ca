"""EEG-fMRI correction pipelines end to end through the real CLI on a small synthetic recording
from `neurodag synth fmri`: fused, staged and --serial runs give the same EDF (within 1e-9
relative), MNE reads it with the input's channels, rate and annotations, the correction removes
most of the artifact, a plugin op runs inside a pipeline, and every bad input fails with one
clear error and a non-zero exit. Usage: check-rec-pipelines.py NEURODAG ZSCORE_SO EXAMPLES_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import mne
    import numpy as np
except ImportError:
    print("mne or numpy missing: skipped")
    sys.exit(77)

NEURODAG, ZSCORE, EXAMPLES = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="nd-rec-")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(args, timeout=300):
    r = subprocess.run([NEURODAG] + args, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def pipeline(name, steps, mode="fused", cpt=1, inp=None, out=None):
    p = {
        "name": name,
        "input": {"format": "edf", "path": inp or os.path.join(TMP, "syn", "recording.edf")},
        "steps": steps,
        "output": {"format": "edf", "path": out or os.path.join(TMP, name + ".edf")},
        "execution": {"mode": mode, "chan_per_task": cpt},
    }
    path = os.path.join(TMP, name + ".json")
    with open(path, "w") as f:
        json.dump(p, f)
    return path


def read(path):
    return mne.io.read_raw_edf(path, preload=True, verbose=False)


def metrics_of(report):
    for v in report["results"].values():
        if "metrics" in v:
            return v["metrics"]
    return None


def main():
    rc, out, err = run(["synth", "fmri", "--channels", "3", "--duration", "20", "--seed", "7",
                        "-o", os.path.join(TMP, "syn")])
    check(rc == 0, "synth fmri writes recording.edf and clean.edf")
    with open(os.path.join(EXAMPLES, "fmri-standard.json")) as f:
        steps = json.load(f)["steps"]

    # The same graph in three execution modes (and two channels per task).
    runs = {
        "fused": (pipeline("fused", steps), ["--workers", "2"]),
        "staged": (pipeline("staged", steps, mode="staged"), ["--workers", "2"]),
        "serial": (pipeline("serial", steps), ["--serial"]),
        "cpt2": (pipeline("cpt2", steps, cpt=2), ["--workers", "2"]),
    }
    reports = {}
    for name, (p, extra) in runs.items():
        rc, out, err = run(["run", "-q", "--json"] + extra + [p])
        check(rc == 0, "%s run succeeds (exit %d) %s" % (name, rc, err[-300:] if rc else ""))
        reports[name] = json.loads(out) if rc == 0 else None
    if all(reports.values()):
        ref = read(os.path.join(TMP, "fused.edf"))
        a = ref.get_data()
        for name in ("staged", "serial", "cpt2"):
            b = read(os.path.join(TMP, name + ".edf")).get_data()
            rel = np.max(np.abs(a - b)) / np.max(np.abs(a))
            check(a.shape == b.shape and rel <= 1e-9,
                  "%s output equals fused within 1e-9 relative (%.3g)" % (name, rel))
            ma, mb = metrics_of(reports["fused"]), metrics_of(reports[name])
            check(abs(ma["artifact_reduction_db"] - mb["artifact_reduction_db"]) <= 1e-9 *
                  abs(ma["artifact_reduction_db"]), "%s metrics equal fused" % name)
        inp = read(os.path.join(TMP, "syn", "recording.edf"))
        check(ref.ch_names == inp.ch_names, "output keeps every channel (EMG, ECG too)")
        check(ref.info["sfreq"] == inp.info["sfreq"], "output keeps the rate")
        check(len(ref.annotations) == len(inp.annotations) and
              np.allclose(ref.annotations.onset, inp.annotations.onset, atol=1e-3),
              "output keeps all %d annotations" % len(inp.annotations))
        m = metrics_of(reports["fused"])
        check(m is not None and m["artifact_reduction_db"] > 20,
              "the correction removes the artifact (%.1f dB > 20 dB)" %
              (m["artifact_reduction_db"] if m else float("nan")))
        for k in ("snr", "rms_ratio", "rms_residual", "median_artifact", "fft_allen",
                  "fft_niazy", "per_channel", "residual_uv"):
            check(m is not None and k in m, "the report has metric %s" % k)
        trig = reports["fused"]["results"]["0"]["triggers"]
        check(trig["count"] == len(inp.annotations), "the report holds the detected triggers")
        timing = [v for v in reports["fused"]["results"].values() if "timing_s" in v]
        check(timing and "aas" in timing[0]["timing_s"], "the report has per-op timings")

    # A plugin op inside a pipeline.
    p = pipeline("zscore", [{"op": "highpass", "freq": 1.0}, {"op": "zscore"}])
    rc, out, err = run(["run", "-q", "--workers", "1", "--plugin", ZSCORE, p])
    check(rc == 0, "pipeline with the zscore plugin runs (exit %d) %s" % (rc, err[-300:]))
    if rc == 0:
        d = read(os.path.join(TMP, "zscore.edf")).get_data()
        # EDF stores µV: a z-scored channel (std 1 "volt") reads back as std 1.
        check(np.allclose(d[:3].std(axis=1), 1.0, atol=1e-3) and
              np.allclose(d[:3].mean(axis=1), 0.0, atol=1e-3),
              "zscore plugin: EEG channels have mean 0 and std 1")
    rc, out, err = run(["run", "-q", "--serial", p])
    check(rc == 2 and "unknown op 'zscore'" in err, "without --plugin the op is unknown")
    bad = pipeline("zbad", [{"op": "zscore", "scale": 2}])
    rc, out, err = run(["run", "-q", "--serial", "--plugin", ZSCORE, bad])
    check(rc == 2 and "steps[0]" in err and "no parameters" in err,
          "plugin validation error names the step")

    # Bad inputs: one clear error, non-zero exit, no crash.
    notedf = os.path.join(TMP, "not.edf")
    with open(notedf, "w") as f:
        f.write("this is not an EDF file\n" * 100)
    trunc = os.path.join(TMP, "trunc.edf")
    with open(os.path.join(TMP, "syn", "recording.edf"), "rb") as f:
        data = f.read()
    with open(trunc, "wb") as f:
        f.write(data[: len(data) // 2])
    hp = [{"op": "highpass", "freq": 1.0}]
    cases = [
        ("missing file", pipeline("b1", hp, inp="/nonexistent/rec.edf"), 2,
         ["input.path", "/nonexistent/rec.edf"]),
        ("not an EDF", pipeline("b2", hp, inp=notedf), 2, ["input.path", notedf]),
        ("truncated EDF", pipeline("b3", hp, inp=trunc), 2, ["input.path", trunc]),
        ("no trigger matches", pipeline("b4", [{"op": "detect_triggers", "regex": "^R128$"}]),
         1, ["steps[0].regex", "^R128$", "'1'"]),
        ("unknown op", pipeline("b5", [{"op": "frobnicate"}]), 2,
         ["steps[0].op", "frobnicate", "highpass", "export_edf"]),
        ("wrong type", pipeline("b6", [{"op": "highpass", "freq": "high"}]), 2,
         ["steps[0].freq", "must be a number"]),
        ("out of range", pipeline("b7", [{"op": "detect_triggers", "regex": "1"},
                                         {"op": "aas", "threshold": 2}]), 2,
         ["steps[1].threshold", "out of range"]),
        # refused at submit (the input's rates are known), not failed on a worker
        ("above Nyquist", pipeline("b8", [{"op": "lowpass", "freq": 5000}]), 2,
         ["steps[0].freq", "Nyquist"]),
        ("above Nyquist after a rate change",
         pipeline("b8b", [{"op": "downsample", "factor": 4}, {"op": "highpass", "freq": 400}]),
         2, ["steps[1].freq", "Nyquist"]),
        ("upsampling beyond memory", pipeline("b9", [{"op": "upsample", "factor": 100000}]), 2,
         ["steps[0].factor", "GB"]),
        ("bad regex", pipeline("b10", [{"op": "detect_triggers", "regex": "(["}]), 2,
         ["steps[0].regex"]),
    ]
    for what, p, want_rc, needles in cases:
        for mode in (["--workers", "1"], ["--serial"]):
            rc, out, err = run(["run", "-q"] + mode + [p], timeout=120)
            ok = rc == want_rc and all(n in err for n in needles)
            check(ok, "%s (%s): exit %d, error names %s%s" %
                  (what, mode[0], rc, needles, "" if ok else "\n     got: " + err[-500:]))

    shutil.rmtree(TMP, ignore_errors=True)
    print("%d failures" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
