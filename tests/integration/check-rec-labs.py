"""EEG-fMRI recordings as labs have them, through the real CLI on recordings from
`neurodag synth fmri`: an ECG channel recorded alone with volume triggers only, slice marks
missing (completed and annotated), channels and time chosen with pick/drop_channels and crop,
the acquisition window passed through, the pulse artifact (R peaks against the truth and MNE,
pulse_obs against the plain 21-beat average, the gradient-then-pulse pipeline), and clear errors.
Usage: check-rec-labs.py NEURODAG EXAMPLES_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import mne
    import numpy as np
    from scipy import signal
except ImportError:
    print("mne, numpy or scipy missing: skipped")
    sys.exit(77)

NEURODAG, EXAMPLES = sys.argv[1:3]
TMP = tempfile.mkdtemp(prefix="nd-labs-")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(args, timeout=300):
    r = subprocess.run([NEURODAG] + args, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def synth(name, args):
    d = os.path.join(TMP, name)
    rc, _, err = run(["synth", "fmri"] + args + ["-o", d])
    check(rc == 0, "synth %s %s" % (name, err[-200:]))
    return d


def shipped(name, edit=None):
    with open(os.path.join(EXAMPLES, name + ".json")) as f:
        p = json.load(f)
    p["output"]["report"] = False
    if edit is not None:
        edit(p)
    path = os.path.join(TMP, "%s-%d.json" % (name, len(os.listdir(TMP))))
    with open(path, "w") as f:
        json.dump(p, f)
    return path


def correct(pipe, d, out="out.edf", extra=("--workers", "2")):
    rc, out_s, err = run(["run", "-q", "--json"] + list(extra) +
                         [pipe, os.path.join(d, "recording.edf"), "-o", os.path.join(d, out)])
    check(rc == 0, "%s on %s runs (exit %d) %s" % (os.path.basename(pipe), os.path.basename(d),
                                                   rc, err[-400:] if rc else ""))
    return list(json.loads(out_s)["results"].values()) if rc == 0 else []


def first(results, key):
    return next((v[key] for v in results if key in v), None)


def read(path):
    raw = mne.io.read_raw_edf(path, preload=True, verbose=False)
    return raw.ch_names, raw.get_data(), raw.info["sfreq"], raw.annotations


def quantum(x):
    return (x.max() - x.min()) / 65535 * 1.05


def ecg_alone():
    """An ECG recorded alone at 1 kHz, marked once per volume: its slice triggers come from the
    artifact's periodicity and give the output of the recording marked at every slice."""
    args = ["--channels", "0", "--rate", "1000", "--pulse", "--tr", "2", "--slices", "20",
            "--duration", "50", "--lead-in", "8", "--seed", "3"]
    dv = synth("ecg-vol", args + ["--volume-triggers"])
    ds = synth("ecg-slice", args)
    truth = json.load(open(os.path.join(dv, "truth.json")))
    std = shipped("fmri-standard")
    rv = correct(std, dv)
    rs = correct(std, ds)
    st = first(rv, "slice_triggers")
    check(st is not None and st["volumes"] and st["slices"] == 20,
          "volume marks: 20 slices per volume found (%s)" % st)
    spacing = (2.0 - 10 / 2048) / 20
    check(st is not None and abs(st["spacing_s"] - spacing) * 20 * 1000 < 1,
          "slice spacing %.6f s (true %.6f s) within a sample over a volume" %
          (st["spacing_s"] if st else 0, spacing))
    nv = len(truth["marked"])
    trig = first(rv, "triggers")
    tr = [v["triggers"] for v in rv if "triggers" in v and v.get("slice_triggers")]
    check(tr and tr[0]["count"] == 20 * nv, "%d volumes give %d slice triggers" % (nv, 20 * nv))
    check(first(rs, "slice_triggers") is not None and not first(rs, "slice_triggers")["volumes"],
          "slice marks are recognised as slice triggers (left as they are)")
    names, a, fs, _ = read(os.path.join(dv, "out.edf"))
    _, b, _, _ = read(os.path.join(ds, "out.edf"))
    _, x, _, _ = read(os.path.join(dv, "recording.edf"))
    check(names == ["ECG"], "the ECG channel alone is corrected and written (%s)" % names)
    rel = np.max(np.abs(a - b)) / np.max(np.abs(b))
    check(rel < 1e-3, "volume-marked and slice-marked recordings give the same output (%.2g)" % rel)
    m = first(rv, "metrics")
    check(m is not None and m["channels"] == 1 and "ECG" in m["per_channel"],
          "metrics measure the ECG of a recording without EEG")
    check(m is not None and m["artifact_reduction_db"] > 20,
          "the ECG's gradient artifact is removed (%.1f dB)" % (m["artifact_reduction_db"]
                                                                if m else 0))
    t0, t1 = truth["triggers"][0], truth["triggers"][-1] + truth["artifact_length"]
    lo, hi = int(t0 - 0.005 * fs - 0.1 * fs - 0.5 * fs), int(t1 + 0.1 * fs + 0.5 * fs)
    d = np.abs(a[0] - x[0])
    check(d[:lo].max() <= quantum(x[0]) and d[hi:].max() <= quantum(x[0]),
          "outside the acquisition window the ECG is the input (%.3g, %.3g uV)" %
          (d[:lo].max() * 1e6, d[hi:].max() * 1e6))
    check(d[t0:t1].max() > 100e-6, "inside it the ECG is corrected")


def missing_marks():
    """2 % of the slice marks missing: completed from the data, annotated, and the result
    within 0.5 dB of the complete recording's."""
    args = ["--channels", "4", "--duration", "40", "--seed", "9"]
    dfull = synth("full", args)
    ddrop = synth("drop", args + ["--drop-triggers", "2"])
    truth = json.load(open(os.path.join(ddrop, "truth.json")))
    std = shipped("fmri-standard")
    rf, rd = correct(std, dfull), correct(std, ddrop)
    mf, md = first(rf, "metrics"), first(rd, "metrics")
    ct = first(rd, "completed_triggers")
    check(ct is not None and ct["count"] == len(truth["missing"]),
          "the %d missing triggers are completed (%s)" % (len(truth["missing"]),
                                                         ct and ct["count"]))
    if mf and md:
        diff = md["artifact_reduction_db"] - mf["artifact_reduction_db"]
        check(abs(diff) <= 0.5, "2 %% missing: %.2f dB against %.2f dB with every mark" %
              (md["artifact_reduction_db"], mf["artifact_reduction_db"]))
    _, _, fs, ann = read(os.path.join(ddrop, "out.edf"))
    got = sorted(o for o, t in zip(ann.onset, ann.description) if t == "completed_trigger")
    want = sorted(s / fs for s in truth["missing"])
    check(len(got) == len(want) and np.allclose(got, want, atol=1.5 / fs),
          "each completed trigger is an annotation of the output at its slice")
    old = shipped("fmri-standard", lambda p: p.update(
        steps=[s for s in p["steps"] if s["op"] != "complete_triggers"]))
    ro = correct(old, ddrop, "old.edf")
    mo = first(ro, "metrics")
    check(mo is not None and md is not None and
          mo["artifact_reduction_db"] < md["artifact_reduction_db"] - 3,
          "without complete_triggers the gaps stay (%.1f dB)" % (mo["artifact_reduction_db"]
                                                                 if mo else 0))


def channels_and_time():
    """drop_channels leaves channels as they are; crop limits the correction to a time span."""
    d = synth("pick", ["--channels", "4", "--duration", "40", "--seed", "5"])

    def edit(p):
        p["steps"].insert(1, {"op": "crop", "tmin": 10, "tmax": 30})
        p["steps"].insert(1, {"op": "drop_channels", "channels": ["F7", "EMG"]})

    res = correct(shipped("fmri-standard", edit), d)
    names, a, fs, _ = read(os.path.join(d, "out.edf"))
    _, x, _, _ = read(os.path.join(d, "recording.edf"))
    for c, n in enumerate(names):
        diff = np.abs(a[c] - x[c])
        outside = max(diff[:int(9.3 * fs)].max(), diff[int(30.7 * fs):].max())
        if n in ("F7", "EMG"):
            check(diff.max() <= quantum(x[c]), "dropped channel %s is the input" % n)
        else:
            check(outside <= quantum(x[c]) and diff[int(11 * fs):int(29 * fs)].max() > 1e-4,
                  "%s is corrected inside [10, 30) s only" % n)
    m = first(res, "metrics")
    check(m is not None and sorted(m["per_channel"]) == ["F3", "Fp1", "Fp2"],
          "metrics measure the corrected EEG channels (%s)" % (m and sorted(m["per_channel"])))
    pk = shipped("fmri-standard", lambda p: p["steps"].insert(
        1, {"op": "pick_channels", "channels": ["Fp2", "ECG"]}))
    correct(pk, d, "pick.edf")
    names, a, _, _ = read(os.path.join(d, "pick.edf"))
    changed = [n for c, n in enumerate(names) if np.abs(a[c] - x[c]).max() > quantum(x[c])]
    check(changed == ["Fp2", "ECG"], "pick_channels corrects only Fp2 and ECG (%s)" % changed)


def band(x, fs):
    b = signal.firwin(int(3.3 * fs) | 1, [1, 40], pass_zero=False, fs=fs)
    return signal.fftconvolve(x, b, mode="same")


def removed_db(rec, corr, clean, fs, eeg):
    k = int(2 * fs)
    return float(np.median([20 * np.log10(np.std(band(rec[i] - clean[i], fs)[k:-k]) /
                                          np.std(band(corr[i] - clean[i], fs)[k:-k]))
                            for i in eeg]))


def pulse():
    """R peaks against the truth and MNE; pulse_obs against the plain 21-beat average."""
    d = synth("pulse", ["--pulse", "--amplitude", "0", "--channels", "6", "--duration", "120",
                        "--rate", "1000", "--seed", "12"])
    truth = json.load(open(os.path.join(d, "truth.json")))
    res = correct(shipped("fmri-pulse"), d, "obs.edf")
    plain = shipped("fmri-pulse", lambda p: p["steps"].__setitem__(
        1, {"op": "pulse_aas", "window": 21}))
    correct(plain, d, "plain.edf")
    rp = first(res, "r_peaks")
    names, rec, fs, _ = read(os.path.join(d, "recording.edf"))
    true = np.array([t for t in truth["rpeaks"] if 0.04 * fs < t < len(rec[0]) - 0.04 * fs])
    got = np.array(rp["samples"]) if rp else np.zeros(0)
    hit = sum(np.min(np.abs(got - t)) <= 0.005 * fs for t in true) if len(got) else 0
    check(rp is not None and rp["channel"] == "ECG" and hit == len(true) and
          len(got) == len(true), "R peaks: %d of %d true beats within 5 ms, %d found" %
          (hit, len(true), len(got)))
    raw = mne.io.read_raw_edf(os.path.join(d, "recording.edf"), preload=True, verbose=False)
    ev, _, _ = mne.preprocessing.find_ecg_events(raw, ch_name="ECG", verbose=False)
    agree = sum(np.min(np.abs(got - e)) <= 0.02 * fs for e in ev[:, 0]) if len(got) else 0
    check(agree >= 0.98 * len(ev), "MNE's find_ecg_events: %d of its %d beats are ours" %
          (agree, len(ev)))
    _, clean, _, _ = read(os.path.join(d, "clean.edf"))
    _, obs, _, _ = read(os.path.join(d, "obs.edf"))
    _, pl, _, _ = read(os.path.join(d, "plain.edf"))
    eeg = [i for i, n in enumerate(names) if n not in ("EMG", "ECG")]
    g_obs, g_plain = removed_db(rec, obs, clean, fs, eeg), removed_db(rec, pl, clean, fs, eeg)
    check(g_obs >= g_plain + 1, "pulse_obs removes %.2f dB, the plain 21-beat average %.2f dB "
          "(1-40 Hz, medians over EEG channels)" % (g_obs, g_plain))
    ecg = names.index("ECG")
    check(np.array_equal(obs[ecg], rec[ecg]) or np.abs(obs[ecg] - rec[ecg]).max() <=
          quantum(rec[ecg]), "the ECG channel is not pulse-corrected")
    # Gradient then pulse on a recording with both artifacts.
    d2 = synth("grad-pulse", ["--pulse", "--channels", "4", "--duration", "60", "--seed", "13"])
    r2 = correct(shipped("fmri-gradient-pulse"), d2)
    r1 = correct(shipped("fmri-standard"), d2, "std.edf")
    m2, m1 = first(r2, "metrics"), first(r1, "metrics")
    check(m2 is not None and m1 is not None and
          m2["artifact_reduction_db"] > m1["artifact_reduction_db"] + 1,
          "gradient then pulse: %.1f dB against %.1f dB for the gradient alone" %
          (m2["artifact_reduction_db"] if m2 else 0, m1["artifact_reduction_db"] if m1 else 0))


def errors():
    d = os.path.join(TMP, "pulse")
    cases = [
        ("pulse_obs without R peaks", [{"op": "pulse_obs"}], 1, ["no R peaks", "detect_rpeaks"]),
        ("no such ECG channel", [{"op": "detect_rpeaks", "channel": "EKG9"}], 1,
         ["steps[0].channel", "EKG9"]),
        ("no such channel to pick", [{"op": "pick_channels", "channels": ["Qz"]}], 1,
         ["steps[0].channels", "'Qz'"]),
        ("crop backwards", [{"op": "crop", "tmin": 20, "tmax": 10}], 2,
         ["steps[0].tmax", "line"]),
        ("one slice per volume", [{"op": "detect_triggers", "regex": "1"},
                                  {"op": "slice_triggers", "slices": 1}], 2,
         ["steps[1].slices"]),
        ("bad n_components", [{"op": "detect_rpeaks"}, {"op": "pulse_obs", "n_components": -2}],
         2, ["steps[1].n_components"]),
    ]
    for what, steps, want, needles in cases:
        p = os.path.join(TMP, "err-%d.json" % len(os.listdir(TMP)))
        with open(p, "w") as f:
            json.dump({"input": {"format": "edf", "path": os.path.join(d, "recording.edf")},
                       "steps": steps}, f, indent=1)
        rc, _, err = run(["run", "-q", "--workers", "1", p], timeout=120)
        ok = rc == want and all(n in err for n in needles)
        check(ok, "%s: exit %d, error names %s%s" % (what, rc, needles,
                                                     "" if ok else "\n     got: " + err[-400:]))


def main():
    ecg_alone()
    missing_marks()
    channels_and_time()
    pulse()
    errors()
    shutil.rmtree(TMP, ignore_errors=True)
    print("%d failures" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
