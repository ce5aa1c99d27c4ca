#!/usr/bin/python3
"""selectdata, the select keyword and timelockanalysis end to end: `neurodag run` on six trials of
unequal length and offset (tests/data/select, made with the reference toolbox by
tests/data/gen-select-fixtures.py; frequency on the per-trial spectra of a freqanalysis step),
each case's output opened with h5py and compared with the reference toolbox's (selected
samples, trial definitions, channel labels exactly; spectra, avg, var and cov within
|x - ref| <= 1e-4 |ref| + 1e-6 max|ref|), across task grids, and the refusals at submit.
Usage: check-select-run.py NEURODAG SPY_FROM_NPY DATA_DIR WORKDIR."""
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

NEURODAG, SPY_FROM_NPY, DATA, WORK = (os.path.abspath(a) for a in sys.argv[1:5])
failures = []


def check(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def close(x, ref):
    tol = 1e-4 * np.abs(ref) + 1e-6 * np.max(np.abs(ref))
    return x.shape == ref.shape and bool(np.all(np.abs(x - ref) <= tol))


def run(name, steps, execution=None):
    out = os.path.join(WORK, name + ".spy")
    shutil.rmtree(out, ignore_errors=True)
    pipe = {"name": name, "input": {"format": "spy", "path": INPUT}, "steps": steps,
            "output": {"format": "spy", "path": out}}
    if execution:
        pipe["execution"] = execution
    path = os.path.join(WORK, name + ".json")
    json.dump(pipe, open(path, "w"))
    p = subprocess.run([NEURODAG, "run", "-q", "--workers", "2", path], capture_output=True,
                       text=True, timeout=300)
    return p.returncode, p.stderr, out


def container(out, ext):
    base = os.path.basename(out)[:-4]
    h5 = os.path.join(out, f"{base}.{ext}")
    return h5py.File(h5, "r"), json.load(open(h5 + ".info"))


os.makedirs(WORK, exist_ok=True)
meta = json.load(open(os.path.join(DATA, "select_meta.json")))
INPUT = os.path.join(WORK, "sel.spy")
shutil.rmtree(INPUT, ignore_errors=True)
subprocess.run([SPY_FROM_NPY, os.path.join(DATA, "sel_input.npy"), "100", INPUT,
                os.path.join(DATA, "sel_trialdefinition.npy")], check=True)

for case, m in meta.items():
    kw = dict(m["kwargs"])
    ref = np.load(os.path.join(DATA, case + "_data.npy"))
    reftrl = np.load(os.path.join(DATA, case + "_trl.npy"))
    # an unsorted or repeating trial list needs all trials in one task (refused below)
    sorted_trials = sorted(set(kw.get("trials", [0]))) == list(kw.get("trials", [0]))
    grids = [None, {"trials_per_task": 1}] if case.startswith("sel_") and sorted_trials else [None]
    if case == "sel_poststim":
        grids.append({"trials_per_task": 2, "chan_per_task": 1})
    for grid in grids:
        label = f"{case}{' ' + json.dumps(grid) if grid else ''}"
        steps = ([m["pre"]] if "pre" in m else []) + [dict(op=m["op"], **kw)]
        rc, err, out = run(case, steps, grid)
        check(rc == 0, f"{label}: exit {rc} {err.strip()[-300:] if rc else ''}")
        if rc != 0:
            continue
        ext = {"AnalogData": "analog", "SpectralData": "spectral",
               "TimeLockData": "timelock"}[m["class"]]
        f, info = container(out, ext)
        data = f["data"][()]
        exact = case.startswith("sel_") and "pre" not in m  # samples picked, not computed
        same = np.array_equal(data, ref) if exact else close(data, ref)
        check(same, f"{label}: data {data.shape} as the reference's {ref.shape}")
        trl = f["trialdefinition"][()]
        check(trl.shape == reftrl.shape and np.allclose(trl, reftrl),
              f"{label}: trialdefinition {trl[:3].tolist()} (reference {reftrl[:3].tolist()})")
        if "channel" in m:
            check(info["channel"] == m["channel"], f"{label}: channels {info['channel']}")
        if "freq" in m:
            check(np.allclose(info["freq"], m["freq"]), f"{label}: {len(info['freq'])} freqs")
        for ds in ("avg", "var", "cov"):
            if ds in m:
                got = f[ds][()] if ds in f else None
                want = np.load(os.path.join(DATA, f"{case}_{ds}.npy"))
                check(got is not None and close(got, want),
                      f"{label}: {ds} {None if got is None else got.shape} within tolerance")
        if ext == "timelock":
            check(info["dataclass"] == "TimeLockData" and
                  info["_hdfFileDatasetProperties"][:3] == ["data", "avg", "var"] and
                  info["data_shape"] == list(ref.shape),
                  f"{label}: .info lists data, avg, var{', cov' if 'cov' in m else ''}")
        f.close()

# select on connectivityanalysis: the same as a selectdata step before it
rc1, err1, o1 = run("sel-coh-select", [{"op": "connectivityanalysis", "method": "coh",
                                        "select": {"latency": [-0.4, 1.4], "channel": [0, 1, 3]}}])
rc2, err2, o2 = run("sel-coh-step", [{"op": "selectdata", "latency": [-0.4, 1.4],
                                      "channel": [0, 1, 3]},
                                     {"op": "connectivityanalysis", "method": "coh"}])
if rc1 == 0 and rc2 == 0:
    a, ia = container(o1, "crossspectral")
    b, ib = container(o2, "crossspectral")
    check(np.array_equal(a["data"][()], b["data"][()]) and ia["channel_i"] ==
          ["channel1", "channel2", "channel4"], "select on a step equals a selectdata step")
else:
    check(False, f"select keyword: exit {rc1}/{rc2} {err1.strip()[-200:]} {err2.strip()[-200:]}")

for label, steps, expect, ex in (
        ("unknown channel", [{"op": "selectdata", "channel": ["nope"]}], "steps[0].channel[0]",
         None),
        ("channel index out of range", [{"op": "selectdata", "channel": [1, 99]}],
         "steps[0].channel[1]", None),
        ("trial out of range", [{"op": "selectdata", "trials": [9]}], "steps[0].trials", None),
        ("trial given by name", [{"op": "selectdata", "trials": ["channel1"]}],
         "steps[0].trials", None),
        ("latency nobody covers", [{"op": "selectdata", "latency": "maxperiod"}],
         "at least one trial covering the latency window", None),
        ("frequency on time series", [{"op": "selectdata", "frequency": [1, 5]}],
         "steps[0].frequency", None),
        ("select of a step", [{"op": "freqanalysis", "select": {"trials": [0], "colour": 1}}],
         "steps[0].select", None),
        ("unsorted trials with a trial grid", [{"op": "selectdata", "trials": [3, 1]}],
         "execution.trials_per_task", {"trials_per_task": 2}),
        ("timelock of unequal trials", [{"op": "timelockanalysis", "latency": "maxperiod"}],
         "steps[0].latency", None),
        ("ddof", [{"op": "timelockanalysis", "ddof": -1}], "steps[0].ddof", None)):
    rc, err, _ = run("bad", steps, ex)
    check(rc == 2 and expect in err and "Segmentation" not in err,
          f"{label}: exit {rc}, error names '{expect}': {err.strip()[:200]}")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
