#!/usr/bin/python3
"""Connectivity benchmark (not a test): 500 trials x 1000 samples x 32 channels at 1000 Hz (white
noise, `neurodag synth`), the steps of each shipped conn-*.json example end to end with
`neurodag run --workers 2` (reading the .spy input, computing, writing the .crossspectral output)
side by side with the reference toolbox, Syncopy, run sequentially (parallel=False) from its
source tree on the same container: spy.load + the same frontend calls + spy.save, timed inside
its process (Python and Syncopy's import not counted). Neither checks the input's SHA-1 (the
reference's spy.load default; neurodag's input "checksum": false, about 30 ms at submit). The
two alternate run by run; the table gives medians, the ratio and how far neurodag's result is
from Syncopy's (the worst entry as a fraction of |a - b| <= 1e-4 |b| + 1e-6 max|b|). Peak RSS
of each neurodag worker (VmHWM sampled from /proc) is measured at two trial counts (500 and
1000) to show that it does not grow with the trials.

usage: bench-conn.py [--build DIR] [--runs N] [--syncopy-runs N] [--slow-runs N]
                     [--syncopy PYTHONPATH] [--only NAME,...] [--no-memory]
                     [--baseline-build DIR]
--syncopy is the PYTHONPATH that imports Syncopy (its source tree and ACME's; the optional
dask_jobqueue and fooof imports are stubbed here); without it only neurodag runs. ppc, whose
Syncopy run visits every pair of trials (minutes), uses --slow-runs Syncopy runs (default 1).
--baseline-build DIR also runs the neurodag of another build (say, before a change) beside each
run of --build, after it and before it in turn, and prints its medians above the table."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
METHODS = ("conn-coh-direct", "conn-coh", "conn-csd", "conn-corr", "conn-granger",
           "conn-granger-pairs", "conn-ppc")
SLOW = ("conn-ppc",)

SPY_RUN = r"""
import json, sys, time
import syncopy as spy
pl = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
data = spy.load(pl["input"]["path"])
for step in pl["steps"]:
    kw = {k: v for k, v in step.items() if k != "op"}
    data = getattr(spy, step["op"])(data, parallel=False, **kw)
spy.save(data, filename=sys.argv[2], overwrite=True)
print(json.dumps({"seconds": time.perf_counter() - t0, "shape": list(data.data.shape)}))
"""


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def run_neurodag(nd, pipeline):
    """One job; returns (wall s, job s, {worker pid: peak kB})."""
    t0 = time.monotonic()
    p = subprocess.Popen([nd, "run", "-q", "--json", "--workers", "2", "--overwrite", pipeline],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks = {}

    def sample():
        while p.poll() is None:
            for c in children(p.pid):
                peaks[c] = max(peaks.get(c, 0), vm_hwm_kb(c))
            time.sleep(0.005)

    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate()
    wall = time.monotonic() - t0
    th.join()
    if p.returncode != 0:
        sys.exit("neurodag run failed: " + err[-2000:])
    return wall, json.loads(out)["elapsed_s"], peaks


def run_baseline(nd0, pl, r, m, res):
    wall0, job0, _ = run_neurodag(nd0, pl)
    res[m]["base"].append(wall0)
    print(f"run {r + 1} {m}: baseline {wall0:.3f} s (job {job0:.3f} s)", flush=True)


def stubs(tmp):
    """Empty stand-ins for Syncopy's optional imports dask_jobqueue and fooof (unused here)."""
    d = os.path.join(tmp, "stubs")
    os.makedirs(os.path.join(d, "fooof"), exist_ok=True)
    for f, cls in (("dask_jobqueue.py", "SLURMCluster"), ("fooof/__init__.py", "FOOOF")):
        with open(os.path.join(d, f), "w") as fp:
            fp.write(f"class {cls}:\n    def __init__(self, *a, **k):\n"
                     f"        raise RuntimeError('not available in this benchmark')\n")
    return d


def run_syncopy(path, pipeline, out, tmp):
    env = dict(os.environ, PYTHONPATH=path + ":" + stubs(tmp),
               SPYTMPDIR=os.path.join(tmp, "spytmp"), SPYLOGDIR=os.path.join(tmp, "spylog"))
    p = subprocess.run(["/usr/bin/python3", "-c", SPY_RUN, pipeline, out], capture_output=True,
                       text=True, env=env, timeout=7200)
    if p.returncode != 0:
        sys.exit("Syncopy failed: " + p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])["seconds"]


def h5_data(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        d = f["data"][()]
    if d.dtype.names:  # complex64 as written by h5py's compound (r, i)
        d = d["r"] + 1j * d["i"]
    return np.asarray(d)


def agreement(nd_out, spy_file):
    """How far neurodag's result is from Syncopy's on the benchmark input: the worst entry as a
    fraction of the reference vectors' tolerance |a - b| <= 1e-4 |b| + 1e-6 max|b| (or None)."""
    import numpy as np
    base = os.path.basename(nd_out)[:-4]
    try:
        a = h5_data(os.path.join(nd_out, base + ".crossspectral"))
        b = h5_data(spy_file)
    except (OSError, KeyError):
        return None
    if a.shape != b.shape:
        return float("inf")
    bound = 1e-4 * np.abs(b) + 1e-6 * np.max(np.abs(b))
    return float(np.max(np.abs(a - b) / bound))


def pipeline(tmp, name, inp, tag):
    pl = json.load(open(os.path.join(ROOT, "deploy", "examples", name + ".json")))
    # spy.load's default does not verify the container's checksum: neither does neurodag here
    pl["input"] = {"format": "spy", "path": inp, "checksum": False}
    pl["output"] = {"format": "spy", "path": os.path.join(tmp, f"{name}-{tag}-out.spy")}
    path = os.path.join(tmp, f"{name}-{tag}.json")
    json.dump(pl, open(path, "w"))
    return path


def synth(nd, tmp, trials):
    path = os.path.join(tmp, f"wn{trials}.spy")
    subprocess.run([nd, "synth", "white_noise", "--trials", str(trials), "--samples", "1000",
                    "--channels", "32", "--samplerate", "1000", "--seed", "42", "-o", path],
                   check=True, stdout=subprocess.DEVNULL)
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--syncopy-runs", type=int, default=3)
    ap.add_argument("--slow-runs", type=int, default=1)
    ap.add_argument("--syncopy", default=None)
    ap.add_argument("--only", default=None)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--baseline-build", default=None)
    a = ap.parse_args()
    nd = os.path.join(a.build, "scheduler", "ctl", "neurodag")
    nd0 = os.path.join(a.baseline_build, "scheduler", "ctl", "neurodag") if a.baseline_build \
        else None
    methods = a.only.split(",") if a.only else METHODS
    with tempfile.TemporaryDirectory(prefix="neurodag-bench-conn-") as tmp:
        inp = synth(nd, tmp, 500)
        res = {m: {"wall": [], "job": [], "spy": [], "rss": 0, "base": [], "agree": None} for m in methods}
        for r in range(max(a.runs, a.syncopy_runs, a.slow_runs)):
            for m in methods:
                pl = pipeline(tmp, m, inp, "500")
                if r < a.runs and nd0 and r % 2 == 1:  # who runs first alternates
                    run_baseline(nd0, pl, r, m, res)
                if r < a.runs:
                    wall, job, peaks = run_neurodag(nd, pl)
                    res[m]["wall"].append(wall)
                    res[m]["job"].append(job)
                    res[m]["rss"] = max([res[m]["rss"]] + list(peaks.values()))
                    print(f"run {r + 1} {m}: neurodag {wall:.3f} s (job {job:.3f} s)",
                          flush=True)
                if r < a.runs and nd0 and r % 2 == 0:
                    run_baseline(nd0, pl, r, m, res)
                n_spy = a.slow_runs if m in SLOW else a.syncopy_runs
                if a.syncopy and r < n_spy:
                    spy_file = os.path.join(tmp, f"spy-{m}.crossspectral")
                    s = run_syncopy(a.syncopy, pl, spy_file, tmp)
                    res[m]["spy"].append(s)
                    if res[m]["agree"] is None and res[m]["wall"]:
                        res[m]["agree"] = agreement(json.load(open(pl))["output"]["path"],
                                                    spy_file)
                    print(f"run {r + 1} {m}: Syncopy {s:.3f} s (neurodag vs Syncopy: "
                          f"{res[m]['agree']} of the tolerance)", flush=True)
        rss1000 = {}
        if not a.no_memory:
            inp2 = synth(nd, tmp, 1000)
            for m in methods:
                _, _, peaks = run_neurodag(nd, pipeline(tmp, m, inp2, "1000"))
                rss1000[m] = max(peaks.values()) if peaks else 0
        print("\n500 trials x 1000 samples x 32 channels, fs 1000 Hz; host %d cores, load %s"
              % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
        print(f"neurodag: medians of {a.runs} runs of `neurodag run --workers 2`; Syncopy: "
              f"medians of {a.syncopy_runs} sequential runs ({a.slow_runs} for ppc)\n")
        if nd0:
            print("baseline (--baseline-build): " + ", ".join(
                "%s %.3f s" % (m[5:], statistics.median(res[m]["base"])) for m in methods) + "\n")
        print("| method | neurodag wall s | job s | Syncopy s | ratio | worker peak RSS MB "
              "(500 / 1000 trials) | vs Syncopy (of tol.) |")
        print("|---|---|---|---|---|---|---|")
        for m in methods:
            w, j = statistics.median(res[m]["wall"]), statistics.median(res[m]["job"])
            s = statistics.median(res[m]["spy"]) if res[m]["spy"] else None
            g = res[m]["agree"]
            print("| %s | %.3f | %.3f | %s | %s | %.0f / %s | %s |" % (
                m[5:], w, j, "%.2f" % s if s else "-", "%.1fx" % (s / w) if s else "-",
                res[m]["rss"] / 1024, "%.0f" % (rss1000[m] / 1024) if m in rss1000 else "-",
                "%.3f" % g if g is not None else "-"))


if __name__ == "__main__":
    main()
