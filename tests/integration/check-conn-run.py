#!/usr/bin/python3
"""Connectivity end to end: `neurodag run` on the reference toolbox's ar3 input (three coupled
AR(2) processes) for every ar3 case of tests/data/spectral-methods (coh, corr, granger, csd, ppc;
on time series and after freqanalysis), the outputs opened with h5py and compared with the
reference arrays within each case's tolerance, their axes and .info with what the reference
writes and its loader reads; coh, csd and ppc on the time series against the same arrays (the
reference's implicit mtmfft gives them bit for bit); channelcmb naming some channels; the task
grid and --serial do not change the results; a chosen coupling of `neurodag synth ar2_network`
is found by Granger causality on time series (no reference array: there the reference zeroes
the DC bin of each tapered trial, so its factorisation rests on rounding noise at 0 Hz); bad
steps are refused at submit with an error naming the parameter.
The shipped conn-*.json and select-timelock.json examples run (with fewer trials) and give the
container their method writes.
Usage: check-conn-run.py NEURODAG SPY_FROM_NPY DATA_DIR EXAMPLES_DIR WORKDIR. Exits 77 without
h5py/numpy."""
import hashlib
import json
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError as exc:
    print(f"skip: {exc}")
    sys.exit(77)

NEURODAG, SPY_FROM_NPY, DATA, EXAMPLES, WORK = (os.path.abspath(a) for a in sys.argv[1:6])
failures = []
# What the reference's loader requires in a CrossSpectralData .info (io/utils.py startInfoDict,
# BaseData._infoFileProperties, CrossSpectralData._infoFileProperties).
INFO_KEYS = ("filename", "dataclass", "data_dtype", "data_shape", "data_offset", "trl_dtype",
             "trl_shape", "trl_offset", "file_checksum", "order", "checksum_algorithm",
             "dimord", "_version", "_log", "cfg", "info", "samplerate", "channel_i",
             "channel_j", "freq", "_hdfFileDatasetProperties")


def check(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def run(name, steps, inp, *extra, workers=2, execution=None):
    out = os.path.join(WORK, name + ".spy")
    shutil.rmtree(out, ignore_errors=True)
    pipe = {"name": name, "input": inp, "steps": steps,
            "output": {"format": "spy", "path": out}}
    if execution:
        pipe["execution"] = execution
    path = os.path.join(WORK, name + ".json")
    with open(path, "w") as fp:
        json.dump(pipe, fp)
    mode = ["--workers", str(workers)] if workers else ["--serial"]
    p = subprocess.run([NEURODAG, "run", "-q"] + mode + [path] + list(extra),
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr, out


def load(out):
    base = os.path.basename(out)[:-4]
    h5 = os.path.join(out, base + ".crossspectral")
    with open(h5 + ".info") as fp:
        info = json.load(fp)
    with open(h5, "rb") as fp:
        sha1 = hashlib.sha1(fp.read()).hexdigest()
    with h5py.File(h5, "r") as f:
        data = f["data"][()]
        if data.dtype.names:
            data = data["r"] + 1j * data["i"]
        attrs = {k: f.attrs[k] for k in f.attrs}
        trl = f["trialdefinition"][()]
        resizable = f["trialdefinition"].maxshape[0] is None
    return data, info, sha1, attrs, trl, resizable


def strs(v):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in v]


def worst(got, ref, rel, abs_tol):
    bound = rel * np.abs(ref) + abs_tol * np.max(np.abs(ref))
    return float(np.max(np.abs(got - ref) / bound))


os.makedirs(WORK, exist_ok=True)
meta = json.load(open(os.path.join(DATA, "ar3_meta.json")))
ar3 = os.path.join(WORK, "ar3.spy")
shutil.rmtree(ar3, ignore_errors=True)
subprocess.run([SPY_FROM_NPY, os.path.join(DATA, "ar3_input.npy"), "500", ar3,
                os.path.join(DATA, "ar3_trialdefinition.npy")], check=True)
ar3_in = {"format": "spy", "path": ar3}

# --- every ar3 reference case -----------------------------------------------------------------
results = {}
for case, m in meta.items():
    if case.startswith("_"):
        continue
    rc, err, out = run(case, m["steps"], ar3_in)
    check(rc == 0, f"{case}: neurodag run exit {rc} {err.strip()[-300:] if rc else ''}")
    if rc != 0:
        continue
    data, info, sha1, attrs, trl, resizable = load(out)
    ref = np.load(os.path.join(DATA, m["ref"]))
    results[case] = data
    ok = data.shape == ref.shape and str(data.dtype) == m["dtype"]
    w = worst(data, ref, m["tol"]["rel"], m["tol"]["abs"]) if ok else float("inf")
    check(ok and w <= 1, f"{case}: {data.shape} {data.dtype} within tolerance "
          f"(worst {w:.3f} of it; rel {m['tol']['rel']}, abs {m['tol']['abs']})")
    freq = m.get("freq_of_data", m["freq"])  # pairwise Granger: the data's frequencies
    check(np.allclose(info["freq"], freq, rtol=0, atol=1e-9) and
          np.allclose(attrs["freq"], freq, rtol=0, atol=1e-9),
          f"{case}: freq axis (.info and attribute), {len(freq)} values")
    check(info["channel_i"] == m["channel_i"] and info["channel_j"] == m["channel_j"] and
          strs(attrs["channel_i"]) == m["channel_i"] and strs(attrs["channel_j"]) == m["channel_j"],
          f"{case}: channel_i {info['channel_i']}, channel_j {info['channel_j']}")
    check(np.array_equal(trl, np.asarray(m["trialdefinition"], dtype=float)) and resizable,
          f"{case}: trialdefinition {trl.shape} as the reference's")
    check(strs(attrs["dimord"]) == m["dimord"] == info["dimord"] and
          float(attrs["samplerate"]) == m["samplerate"] == info["samplerate"],
          f"{case}: dimord {info['dimord']}, samplerate {info['samplerate']}")
    check(all(k in info for k in INFO_KEYS) and info["dataclass"] == "CrossSpectralData" and
          info["file_checksum"] == sha1 and info["data_shape"] == list(ref.shape) and
          "_version" in attrs and "_log" in attrs,
          f"{case}: .info has every field the loader reads, its SHA-1 matches the file")
    if "info" in m:
        gi = info["info"]
        check(gi.get("converged") is True and abs(gi["initial cond. num"] -
                                                   m["info"]["initial cond. num"]) < 0.01 and
              gi["reg. factor"] == 0 and gi["max rel. err"] < 5e-6,
              f"{case}: Granger info {gi}")
    check("connectivityanalysis" in info["cfg"], f"{case}: cfg records the step")

# --- coh, csd (kept trials too) and ppc straight on the time series ----------------------------
# The reference's connectivityanalysis on AnalogData runs the same mtmfft as the freqanalysis
# step (demean_taper off for these methods): its results on these cases are bit-identical to the
# chained ones, so the chained case's reference array is the expected one.
for case in ("ar3_coh_pow", "ar3_csd", "ar3_csd_trials", "ar3_ppc"):
    m = meta[case]
    fa, ca = m["steps"]
    step = {k: v for k, v in fa.items() if k not in ("op", "method", "output", "keeptapers")}
    step.update(ca)
    rc, err, out = run(case + "-direct", [step], ar3_in)
    check(rc == 0, f"{case} on time series: exit {rc} {err.strip()[-300:]}")
    if rc != 0:
        continue
    data, info, _, _, trl, _ = load(out)
    ref = np.load(os.path.join(DATA, m["ref"]))
    w = worst(data, ref, m["tol"]["rel"], m["tol"]["abs"]) if data.shape == ref.shape \
        else float("inf")
    check(w <= 1 and str(data.dtype) == m["dtype"] and
          np.allclose(info["freq"], m["freq"], rtol=0, atol=1e-9) and
          np.array_equal(trl, np.asarray(m["trialdefinition"], dtype=float)),
          f"{case} on time series ({json.dumps(step)[:80]}...): {data.shape} {data.dtype}, "
          f"axes and trialdefinition as the chained case, within tolerance (worst {w:.3f})")

# --- channelcmb naming some of the channels: the reference's block of them ---------------------
# The cross spectra then hold only the named channels, so a row or column index among them is
# not the input channel's: channel3 -> channel2 alone, and channel3 x (channel1, channel2).
for case, cmb, sel in (("ar3_granger_dpss_pairs", [[2], [1]], (slice(1, 2), slice(0, 1))),
                       ("ar3_csd", [["channel3"], ["channel1", "channel2"]],
                        (slice(2, 3), slice(0, 2)))):
    m = meta[case]
    steps = [dict(s) for s in m["steps"]]
    steps[-1]["channelcmb"] = cmb
    rc, err, out = run(case + "-cmb", steps, ar3_in, execution={"trials_per_task": 5})
    check(rc == 0, f"{case} with channelcmb {cmb}: exit {rc} {err.strip()[-300:]}")
    if rc != 0:
        continue
    data, info = load(out)[:2]
    ref = np.load(os.path.join(DATA, m["ref"]))[:, :, sel[0], sel[1]]
    w = worst(data, ref, m["tol"]["rel"], m["tol"]["abs"]) if data.shape == ref.shape \
        else float("inf")
    names = [[c if isinstance(c, str) else f"channel{c + 1}" for c in side] for side in cmb]
    check(w <= 1 and info["channel_i"] == names[0] and info["channel_j"] == names[1],
          f"{case} with channelcmb {cmb}: {data.shape}, channels {info['channel_i']} x "
          f"{info['channel_j']}, the reference's block within tolerance (worst {w:.3f})")

# --- the grid and --serial give the same results -----------------------------------------------
for case in ("ar3_coh_pow", "ar3_corr_trials", "ar3_ppc", "ar3_granger"):
    if case not in results:
        continue
    for label, ex, workers in (("1 trial per task", {"trials_per_task": 1}, 2),
                               ("5 trials per task", {"trials_per_task": 5}, 2),
                               ("serial", None, 0)):
        rc, err, out = run(case + "-grid", meta[case]["steps"], ar3_in, workers=workers,
                           execution=ex)
        same = rc == 0 and np.allclose(load(out)[0], results[case], rtol=1e-6, atol=1e-7)
        check(same, f"{case}: {label} gives the same result (exit {rc} {err.strip()[-200:]})")

# --- a chosen coupling found by Granger causality (direct, on time series) ---------------------
syn = os.path.join(WORK, "ar2-chain.spy")
shutil.rmtree(syn, ignore_errors=True)
subprocess.run([NEURODAG, "synth", "ar2_network", "--adjacency", "0,0,0,0;0.35,0,0,0;0,0,0,0.3;0,0,0,0",
                "--trials", "60", "--samples", "600", "--samplerate", "200", "--seed", "5",
                "-o", syn], check=True, capture_output=True)
rc, err, out = run("ar2-granger", [{"op": "connectivityanalysis", "method": "granger",
                                    "tapsmofrq": 3}], {"format": "spy", "path": syn})
check(rc == 0, f"ar2 granger on time series: exit {rc} {err.strip()[-300:]}")
if rc == 0:
    g = load(out)[0][0].mean(axis=0)
    off = [g[i, j] for i in range(4) for j in range(4) if (i, j) not in ((1, 0), (2, 3)) and i != j]
    check(g[1, 0] > 5 * max(off) and g[2, 3] > 5 * max(off),
          f"ar2 granger: couplings 2->1 {g[1, 0]:.3f} and 3->4 {g[2, 3]:.3f} stand out "
          f"(others <= {max(off):.3f})")
rc, err, out = run("ar2-coh", [{"op": "connectivityanalysis", "method": "coh", "output": "abs"}],
                   {"format": "spy", "path": syn})
if rc == 0:
    c = load(out)[0][0]
    diag = np.array([c[:, i, i] for i in range(4)])
    check(np.allclose(diag, 1, atol=1e-6) and np.allclose(c, np.transpose(c, (0, 2, 1)), atol=1e-6)
          and np.all(c <= 1 + 1e-6), "coh abs on synthetic data: unit diagonal, symmetric, <= 1")
else:
    check(False, f"ar2 coh: exit {rc} {err.strip()[-300:]}")

# --- phase-locked trials: PPC 1; independent noise: PPC near 0 ---------------------------------
harm = {"format": "synth", "synth": "harmonic", "trials": 30, "samples": 500, "channels": 3,
        "samplerate": 500, "freq": 50, "amplitude": 1, "sigma": 0.1, "seed": 3}
rc, err, out = run("ppc-harm", [{"op": "freqanalysis", "method": "mtmfft", "output": "fourier",
                                 "foi": [50, 120]}, {"op": "connectivityanalysis", "method": "ppc"}],
                   harm)
if rc == 0:
    p = load(out)[0][0]
    check(p[0, 0, 1] > 0.99 and abs(p[1, 0, 1]) < 0.2,
          f"ppc: {p[0, 0, 1]:.4f} at the common 50 Hz, {p[1, 0, 1]:.4f} in the noise at 120 Hz")
else:
    check(False, f"ppc harmonic: exit {rc} {err.strip()[-300:]}")

# --- refused at submit, naming the parameter ---------------------------------------------------
fa = {"op": "freqanalysis", "method": "mtmfft", "output": "fourier", "keeptapers": True,
      "tapsmofrq": 3}
for label, steps, expect, ex in (
        ("unknown method", [{"op": "connectivityanalysis", "method": "plv"}],
         "steps[0].method", None),
        ("coh keeping trials", [fa, {"op": "connectivityanalysis", "method": "coh",
                                     "keeptrials": True}],
         "trial averaging needed for method coh", None),
        ("channelcmb on time series", [{"op": "connectivityanalysis", "method": "coh",
                                        "channelcmb": [[0], [1]]}], "steps[0].channelcmb", None),
        ("channelcmb with an unknown channel", [fa, {"op": "connectivityanalysis",
                                                     "method": "csd",
                                                     "channelcmb": [["channel1"], ["nope"]]}],
         "steps[1].channelcmb[1][0]", None),
        ("granger with foi on time series", [{"op": "connectivityanalysis", "method": "granger",
                                              "foi": [10, 20]}], "no foi specification", None),
        ("granger after a foilim", [dict(fa, foilim=[1, 100]),
                                    {"op": "connectivityanalysis", "method": "granger"}],
         "without foi or foilim", None),
        ("corr after freqanalysis", [fa, {"op": "connectivityanalysis", "method": "corr"}],
         "AnalogData instance as input for method corr", None),
        ("corr with padding", [{"op": "connectivityanalysis", "method": "corr", "pad": 4}],
         "steps[0].pad", None),
        ("real spectra", [{"op": "freqanalysis", "method": "mtmfft"},
                          {"op": "connectivityanalysis"}], "complex valued spectra", None),
        ("averaged spectra", [dict(fa, keeptrials=False), {"op": "connectivityanalysis"}],
         "multi-trial input data", None),
        ("time-resolved spectra", [{"op": "freqanalysis", "method": "mtmconvol",
                                    "output": "fourier", "t_ftimwin": 0.2, "toi": 0.5},
                                   {"op": "connectivityanalysis"}], "time-resolved spectra",
         None),
        ("coh output", [fa, {"op": "connectivityanalysis", "output": "phase"}],
         "steps[1].output", None),
        ("split channels", [{"op": "connectivityanalysis"}], "execution.chan_per_task",
         {"chan_per_task": 1}),
        ("a step after it", [{"op": "connectivityanalysis"}, {"op": "preprocessing",
                                                               "filter_class": "but",
                                                               "filter_type": "lp", "freq": 20}],
         "steps[1]", None)):
    rc, err, _ = run("bad", steps, ar3_in, execution=ex)
    check(rc == 2 and expect in err and "Segmentation" not in err,
          f"{label}: exit {rc}, error names '{expect}': {err.strip()[:220]}")

# --- the shipped examples, with 40 trials -----------------------------------------------------
import glob  # noqa: E402

shipped = sorted(glob.glob(os.path.join(EXAMPLES, "conn-*.json"))) + \
    [os.path.join(EXAMPLES, "select-timelock.json")]
check(len(shipped) >= 7, f"{len(shipped)} shipped connectivity / selection examples")
for ex in shipped:
    pl = json.load(open(ex))
    pl["input"]["trials"] = 40
    name = "ex-" + os.path.basename(ex)[:-5]
    rc, err, out = run(name, pl["steps"], pl["input"])
    ext = "timelock" if "timelock" in name else "crossspectral"
    base = os.path.basename(out)[:-4]
    ok = rc == 0 and os.path.exists(os.path.join(out, f"{base}.{ext}.info"))
    check(ok, f"example {os.path.basename(ex)}: exit {rc}, writes .{ext} "
          f"{err.strip()[-200:] if rc else ''}")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
