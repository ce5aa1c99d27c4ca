#!/usr/bin/python3
"""EEG-fMRI recordings as labs have them (not a test; takes several minutes): missing slice
triggers, an ECG channel recorded alone with volume triggers only, and the pulse artifact.
Every figure comes from the real CLI on recordings made by `neurodag synth fmri` (several rates,
shapes and seeds) and, for missing triggers, on the shared Niazy-like recording with marks left
out by tests/integration/edf-marks-helper.

  missing  the shipped standard pipeline (slice_triggers and complete_triggers in it) with 2 %
           of the slice marks missing (runs of 3 and singles) against the same recording with
           every mark; and the pipeline without completion. Rule: within 0.5 dB.
  ecg      a single ECG channel at 1 kHz, volume triggers only (TR and slices varied): the
           standard pipeline's harmonics_vs_reference.slice (metrics step; dB of the corrected
           acquisition over the artifact-free data at slice harmonics 1-5). Rule: within 3 dB.
           --ecg-shift / --ecg-upsample N also run them with aas shift on / upsample and
           downsample factor N (not the rule).
  pulse    pulse-only recordings (no gradient artifact): fmri-pulse.json (pulse_obs) against the
           plain 21-beat average (pulse_aas), median over EEG channels of
           20 log10(RMS(recording - truth) / RMS(corrected - truth)) in 1-40 Hz. Rule: the
           shipped pipeline removes >= 1 dB more. Also the R peaks against the true beats.

usage: bench-fmri-labs.py [--build DIR] [--work DIR] [--only missing,ecg,pulse] [--json FILE]
                         [--ecg-shift] [--ecg-upsample N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "deploy", "examples")
NIAZY = os.path.join(ROOT, "..", "shared", "data", "fmri-niazy-like")

MISSING = [
    ("grad-2k", ["--seed", "21"]),
    ("ind-2k", ["--model", "induced", "--seed", "22"]),
    ("ind-5k-uneven", ["--model", "induced", "--rate", "5000", "--spacing-jitter", "3",
                       "--epi-active", "0.6", "--seed", "23"]),
    ("ind-1k-tr2-gap", ["--model", "induced", "--rate", "1000", "--slices", "16", "--tr", "2",
                        "--volume-gap", "0.1", "--seed", "24"]),
    ("grad-5k-pause", ["--rate", "5000", "--slices", "40", "--tr", "3.2", "--volume-gap", "0.2",
                       "--seed", "25"]),
    ("ind-2.5k-30sl", ["--model", "induced", "--rate", "2500", "--slices", "30", "--tr", "2.5",
                       "--seed", "26"]),
]
ECG = [  # TR, slices, seed, model
    (2.0, 30, 31, "gradient"), (2.0, 20, 32, "gradient"), (2.5, 35, 33, "gradient"),
    (1.5, 24, 34, "gradient"), (3.0, 40, 35, "gradient"),
    (2.0, 30, 36, "induced"), (2.5, 35, 37, "induced"), (1.5, 24, 38, "induced"),
]
PULSE = [  # rate, heart rate, pulse amplitude uV, seed
    (2048, 66, 100, 41), (1000, 80, 60, 42), (5000, 55, 150, 43), (2048, 90, 40, 44),
    (1000, 60, 120, 45), (500, 100, 80, 46), (2048, 72, 200, 47), (2500, 50, 80, 48),
]


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d\n%s" % (" ".join(cmd), r.returncode, r.stderr[-2000:]))
    return r.stdout


def pipeline(name, work, mutate=None, report=False):
    with open(os.path.join(EXAMPLES, name + ".json")) as f:
        p = json.load(f)
    p["output"]["report"] = report
    if mutate is not None:
        mutate(p)
    path = os.path.join(work, "%s-%d.json" % (name, abs(hash(json.dumps(p))) % 10**8))
    with open(path, "w") as f:
        json.dump(p, f)
    return path


def correct(nd, pipe, rec, out):
    rep = json.loads(run([nd, "run", "--json", "-q", "--overwrite", "--workers", "2", pipe, rec,
                                  "-o", out]))
    results = list(rep["results"].values())
    return rep, results


def metrics(results):
    return next(v["metrics"] for v in results if "metrics" in v)


def synth(nd, work, name, args):
    d = os.path.join(work, name)
    if not os.path.exists(os.path.join(d, "recording.edf")):
        run([nd, "synth", "fmri", "--channels", "8", "--duration", "60"] + args + ["-o", d])
    return d


def bench_missing(nd, helper, work, rows):
    full = pipeline("fmri-standard", work)
    old = pipeline("fmri-standard", work, lambda p: p.update(steps=[
        s for s in p["steps"]
        if s["op"] not in ("slice_triggers", "complete_triggers", "paste_window")]))
    cases = [("niazy-like", None, s) for s in (1, 2, 3)]
    cases += [(name, args, None) for name, args in MISSING]
    print("\n== missing slice triggers: 2 % of the marks left out (runs of 3 and singles)")
    print("%-16s %9s %9s %9s %9s %7s" % ("recording", "full dB", "2% dB", "diff", "no-fill",
                                         "filled"))
    for name, args, seed in cases:
        if args is None:
            d = os.path.join(work, "niazy-%d" % seed)
            os.makedirs(d, exist_ok=True)
            if not os.path.exists(os.path.join(d, "clean.edf")):
                os.symlink(os.path.join(NIAZY, "clean.edf"), os.path.join(d, "clean.edf"))
            run([helper, os.path.join(NIAZY, "recording.edf"), os.path.join(d, "recording.edf"),
                 "--drop", "2", "--seed", str(seed)])
            full_rec = os.path.join(NIAZY, "recording.edf")
            drop_rec = os.path.join(d, "recording.edf")
            label = "niazy-like/%d" % seed
        else:
            full_rec = os.path.join(synth(nd, work, name, args), "recording.edf")
            drop_rec = os.path.join(synth(nd, work, name + "-drop", args + ["--drop-triggers",
                                                                            "2"]),
                                    "recording.edf")
            label = name
        _, r_full = correct(nd, full, full_rec, os.path.join(work, "out-full.edf"))
        _, r_drop = correct(nd, full, drop_rec, os.path.join(work, "out-drop.edf"))
        _, r_old = correct(nd, old, drop_rec, os.path.join(work, "out-old.edf"))
        a, b, c = (metrics(r)["artifact_reduction_db"] for r in (r_full, r_drop, r_old))
        filled = sum(v["completed_triggers"]["count"] for v in r_drop if "completed_triggers" in v)
        print("%-16s %9.2f %9.2f %9.2f %9.2f %7d" % (label, a, b, b - a, c, filled))
        rows.append({"part": "missing", "recording": label, "full_db": a, "drop_db": b,
                     "no_fill_db": c, "filled": filled, "ok": abs(b - a) <= 0.5})


def variant(factor, shift):
    def mutate(p):
        for s in p["steps"]:
            if s["op"] in ("upsample", "downsample") and factor:
                s["factor"] = factor
            if s["op"] == "aas" and shift:
                s["shift"] = True
    return mutate


def bench_ecg(nd, work, rows, factor=None, shift=False):
    std = pipeline("fmri-standard", work)
    fine = pipeline("fmri-standard", work, variant(factor, shift)) if factor or shift else None
    label = " ".join(x for x in ("shift" if shift else "", "x%d" % factor if factor else "") if x)
    print("\n== a single ECG channel at 1 kHz, volume triggers only")
    print("%-22s %5s %6s  %-38s %6s" % ("recording", "S", "found", "harmonics_vs_reference "
                                        "(dB, 1-5)", "dB"))
    for tr, slices, seed, model in ECG:
        name = "ecg-%s-tr%g-s%d" % (model, tr, slices)
        d = os.path.join(work, name)
        if not os.path.exists(os.path.join(d, "recording.edf")):
            run([nd, "synth", "fmri", "--channels", "0", "--rate", "1000", "--volume-triggers",
                 "--pulse", "--model", model, "--tr", str(tr), "--slices", str(slices),
                 "--seed", str(seed), "--lead-in", "20", "--duration", "120", "-o", d])
        _, res = correct(nd, std, os.path.join(d, "recording.edf"), os.path.join(d, "out.edf"))
        m = metrics(res)
        st = next(v["slice_triggers"] for v in res if "slice_triggers" in v)
        h = m["harmonics_vs_reference"]["slice"]
        worst = max(abs(x) for x in h)
        print("%-22s %5d %6d  %-38s %6.2f" % (name, slices, st["slices"],
                                               " ".join("%+6.2f" % x for x in h),
                                               m["artifact_reduction_db"]))
        row = {"part": "ecg", "recording": name, "slices": slices,
               "slices_found": st["slices"], "harmonics": h, "worst": worst,
               "db": m["artifact_reduction_db"], "ok": worst <= 3}
        if fine:
            _, res = correct(nd, fine, os.path.join(d, "recording.edf"),
                             os.path.join(d, "out-fine.edf"))
            mf = metrics(res)
            hf = mf["harmonics_vs_reference"]["slice"]
            print("%-22s %5s %6s  %-38s %6.2f" % ("  " + label, "", "",
                                                   " ".join("%+6.2f" % x for x in hf),
                                                   mf["artifact_reduction_db"]))
            row.update(harmonics_fine=hf, db_fine=mf["artifact_reduction_db"],
                       ok_fine=max(abs(x) for x in hf) <= 3)
        rows.append(row)


def edf_data(path):
    import mne
    raw = mne.io.read_raw_edf(path, preload=True, verbose=False)
    return raw.ch_names, raw.get_data(), raw.info["sfreq"]


def band_db(rec, corr, truth, fs):
    b = signal.firwin(int(3.3 * fs / 1.0) | 1, [1, 40], pass_zero=False, fs=fs)
    e0 = signal.fftconvolve(rec - truth, b, mode="same")
    e1 = signal.fftconvolve(corr - truth, b, mode="same")
    k = int(2 * fs)
    return 20 * np.log10(np.std(e0[k:-k]) / np.std(e1[k:-k]))


def bench_pulse(nd, work, rows):
    obs = pipeline("fmri-pulse", work)
    plain = pipeline("fmri-pulse", work, lambda p: p["steps"].__setitem__(
        1, {"op": "pulse_aas", "window": 21}))
    print("\n== pulse artifact (no gradient artifact), 1-40 Hz against the truth, medians over "
          "EEG channels")
    print("%-28s %8s %8s %7s %12s" % ("recording", "plain dB", "obs dB", "gain", "R peaks"))
    for fs, hr, uv, seed in PULSE:
        name = "pulse-%d-hr%d-%duv" % (fs, hr, uv)
        d = os.path.join(work, name)
        if not os.path.exists(os.path.join(d, "recording.edf")):
            run([nd, "synth", "fmri", "--pulse", "--amplitude", "0", "--channels", "8",
                 "--duration", "180", "--rate", str(fs), "--heart-rate", str(hr),
                 "--pulse-amplitude", str(uv), "--seed", str(seed), "-o", d])
        truth = json.load(open(os.path.join(d, "truth.json")))
        names, rec, fs_ = edf_data(os.path.join(d, "recording.edf"))
        _, clean, _ = edf_data(os.path.join(d, "clean.edf"))
        out = {}
        for label, pipe in (("plain", plain), ("obs", obs)):
            _, res = correct(nd, pipe, os.path.join(d, "recording.edf"),
                             os.path.join(d, "out-%s.edf" % label))
            _, corr, _ = edf_data(os.path.join(d, "out-%s.edf" % label))
            eeg = [i for i, n in enumerate(names) if n not in ("EMG", "ECG")]
            out[label] = float(np.median([band_db(rec[i], corr[i], clean[i], fs_) for i in eeg]))
            rp = next(v["r_peaks"] for v in res if "r_peaks" in v)
        true = np.asarray(truth["rpeaks"])
        got = np.asarray(rp["samples"])
        hit = sum(np.min(np.abs(got - t)) <= 0.005 * fs_ for t in true[(true > 0.04 * fs_) & (
            true < len(rec[0]) - 0.04 * fs_)])
        gain = out["obs"] - out["plain"]
        print("%-28s %8.2f %8.2f %7.2f %5d/%-6d" % (name, out["plain"], out["obs"], gain, hit,
                                                   len(true)))
        rows.append({"part": "pulse", "recording": name, "plain_db": out["plain"],
                     "obs_db": out["obs"], "gain": gain, "rpeaks_hit": int(hit),
                     "rpeaks_true": len(true), "ok": gain >= 1})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--work")
    ap.add_argument("--only", default="missing,ecg,pulse")
    ap.add_argument("--json")
    ap.add_argument("--ecg-upsample", type=int, default=0,
                    help="also run the ECG recordings with this upsampling factor")
    ap.add_argument("--ecg-shift", action="store_true",
                    help="also run the ECG recordings with aas shift on")
    a = ap.parse_args()
    nd = os.path.join(a.build, "scheduler", "ctl", "neurodag")
    helper = os.path.join(a.build, "tests", "integration", "edf-marks-helper")
    work = a.work or tempfile.mkdtemp(prefix="nd-labs-")
    os.makedirs(work, exist_ok=True)
    rows = []
    parts = a.only.split(",")
    if "missing" in parts:
        bench_missing(nd, helper, work, rows)
    if "ecg" in parts:
        bench_ecg(nd, work, rows, a.ecg_upsample, a.ecg_shift)
    if "pulse" in parts:
        bench_pulse(nd, work, rows)
    print("\nrules:")
    for part in ("missing", "ecg", "pulse"):
        sel = [r for r in rows if r["part"] == part]
        if sel:
            print("  %-8s %d of %d recordings meet the rule" % (part, sum(r["ok"] for r in sel),
                                                               len(sel)))
        if part == "ecg" and sel and "ok_fine" in sel[0]:
            print("  %-8s %d of %d with aas shift %s, upsampling x%d" % (
                "", sum(r["ok_fine"] for r in sel), len(sel), "on" if a.ecg_shift else "off",
                a.ecg_upsample or 10))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    if a.work is None:
        shutil.rmtree(work)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
