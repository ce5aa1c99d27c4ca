#!/usr/bin/python3
"""Time-frequency benchmark (not a test): 500 trials x 1000 samples x 32 channels at 1000 Hz
(white noise, `neurodag synth`), each shipped tfr-*.json example's step end to end with
`neurodag run --workers 2` (reading the .spy input, computing, writing the .spy output) side by
side with the reference toolbox, Syncopy, run sequentially (parallel=False) from its source tree
on the same container: spy.load + freqanalysis + spy.save, timed inside its process (Python and
Syncopy's import not counted). Neither checks the input's SHA-1 (the reference's spy.load
default; neurodag's input "checksum": false). The two alternate run by run; the table gives
medians and the ratio, and the run time of the job's last task, write_spy (from its kept state),
which seals, stitches or averages the output. Peak RSS of each neurodag worker (VmHWM sampled from /proc) is measured at two trial
counts (500 and 1000) to show that it does not grow with the number of trials. The FFTW-only
floor of the sliding-window methods (bench-fftw-floor tfr: only their transforms, one thread) is
printed under the table.

usage: bench-tfr.py [--build DIR] [--runs N] [--syncopy-runs N] [--slow-runs N]
                    [--syncopy PYTHONPATH] [--only NAME,...] [--no-memory]
                    [--baseline-build DIR]
--syncopy is the PYTHONPATH that imports Syncopy (its source tree and ACME's; the optional
dask_jobqueue and fooof imports are stubbed here); without it only neurodag runs. Methods whose Syncopy
run takes minutes (superlet) use --slow-runs Syncopy runs (default 1).
--baseline-build DIR also runs the neurodag of another build (say, before a change) beside each
run of --build, after it and before it in turn, and prints its medians above the table."""
import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
METHODS = ("tfr-mtmconvol-hann", "tfr-mtmconvol-dpss", "tfr-welch", "tfr-wavelet",
           "tfr-superlet")
SLOW = ("tfr-superlet",)

SPY_RUN = r"""
import json, sys, time
import syncopy as spy
pl = json.load(open(sys.argv[1]))
t0 = time.perf_counter()
data = spy.load(pl["input"]["path"])
kw = {k: v for k, v in pl["steps"][0].items() if k != "op"}
res = spy.freqanalysis(data, parallel=False, **kw)
spy.save(res, sys.argv[2], overwrite=True)
print(json.dumps({"seconds": time.perf_counter() - t0, "shape": list(res.data.shape)}))
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


def final_task_s(state):
    """The run time of the job's last task (write_spy), from the kept state (its highest task
    number; tasks with a result of their own have a row in `tasks`)."""
    db = sqlite3.connect(os.path.join(state, "state.db"))
    try:
        row = db.execute("SELECT elapsed_us FROM tasks ORDER BY task DESC LIMIT 1").fetchone()
    finally:
        db.close()
    return row[0] / 1e6 if row else float("nan")


def run_neurodag(nd, pipeline):
    """One job; returns (wall s, job s, {worker pid: peak kB}, write_spy s)."""
    state = tempfile.mkdtemp(prefix="neurodag-bench-state-")
    t0 = time.monotonic()
    p = subprocess.Popen([nd, "run", "-q", "--json", "--workers", "2", "--state-dir",
                          os.path.join(state, "s"), pipeline],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks = {}

    def sample():
        while p.poll() is None:
            for c in children(p.pid):
                peaks[c] = max(peaks.get(c, 0), vm_hwm_kb(c))
            time.sleep(0.01)

    th = threading.Thread(target=sample)
    th.start()
    out, err = p.communicate()
    wall = time.monotonic() - t0
    th.join()
    if p.returncode != 0:
        sys.exit("neurodag run failed: " + err[-2000:])
    final = final_task_s(os.path.join(state, "s"))
    shutil.rmtree(state, ignore_errors=True)
    return wall, json.loads(out)["elapsed_s"], peaks, final


def run_baseline(nd0, pl, r, m, res):
    wall0, job0, _, fin0 = run_neurodag(nd0, pl)
    res[m]["base"].append(wall0)
    res[m]["base_final"].append(fin0)
    print(f"run {r + 1} {m}: baseline {wall0:.3f} s (job {job0:.3f} s, write_spy {fin0:.3f} s)",
          flush=True)


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
               SPYTMPDIR=os.path.join(tmp, "spytmp"))
    p = subprocess.run(["/usr/bin/python3", "-c", SPY_RUN, pipeline, out], capture_output=True,
                       text=True, env=env, timeout=3600)
    if p.returncode != 0:
        sys.exit("Syncopy failed: " + p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])["seconds"]


def pipeline(tmp, name, inp, tag):
    pl = json.load(open(os.path.join(ROOT, "deploy", "examples", name + ".json")))
    # spy.load's default does not verify the container's checksum: neither does neurodag here
    pl["input"] = {"format": "spy", "path": inp, "checksum": False}
    pl["output"] = {"format": "spy", "path": os.path.join(tmp, f"{name}-{tag}-out.spy"),
                    "overwrite": True}
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
    with tempfile.TemporaryDirectory(prefix="neurodag-bench-tfr-") as tmp:
        inp = synth(nd, tmp, 500)
        res = {m: {"wall": [], "job": [], "spy": [], "rss": 0, "base": [],
                 "final": [], "base_final": []} for m in methods}
        for r in range(max(a.runs, a.syncopy_runs, a.slow_runs)):
            for m in methods:
                pl = pipeline(tmp, m, inp, "500")
                if r < a.runs and nd0 and r % 2 == 1:  # who runs first alternates
                    run_baseline(nd0, pl, r, m, res)
                if r < a.runs:
                    wall, job, peaks, fin = run_neurodag(nd, pl)
                    res[m]["wall"].append(wall)
                    res[m]["job"].append(job)
                    res[m]["final"].append(fin)
                    res[m]["rss"] = max([res[m]["rss"]] + list(peaks.values()))
                    print(f"run {r + 1} {m}: neurodag {wall:.3f} s (job {job:.3f} s, "
                          f"write_spy {fin:.3f} s)", flush=True)
                if r < a.runs and nd0 and r % 2 == 0:
                    run_baseline(nd0, pl, r, m, res)
                n_spy = a.slow_runs if m in SLOW else a.syncopy_runs
                if a.syncopy and r < n_spy:
                    s = run_syncopy(a.syncopy, pl, os.path.join(tmp, "spy-out.spy"), tmp)
                    res[m]["spy"].append(s)
                    print(f"run {r + 1} {m}: Syncopy {s:.3f} s", flush=True)
        rss1000 = {}
        if not a.no_memory:
            inp2 = synth(nd, tmp, 1000)
            for m in methods:
                _, _, peaks, _ = run_neurodag(nd, pipeline(tmp, m, inp2, "1000"))
                rss1000[m] = max(peaks.values()) if peaks else 0
        print("\n500 trials x 1000 samples x 32 channels, fs 1000 Hz; host %d cores, load %s"
              % (os.cpu_count(), open("/proc/loadavg").read().split()[:3]))
        print(f"neurodag: medians of {a.runs} runs of `neurodag run --workers 2`; Syncopy: "
              f"medians of {a.syncopy_runs} sequential runs ({a.slow_runs} for superlet)\n")
        if nd0:
            print("baseline (--baseline-build): " + ", ".join(
                "%s %.3f s (write_spy %.3f s)" % (m[4:], statistics.median(res[m]["base"]),
                                                 statistics.median(res[m]["base_final"]))
                for m in methods) + "\n")
        print("| method | neurodag wall s | job s | write_spy s | Syncopy s | ratio | worker peak "
              "RSS MB (500 / 1000 trials) |")
        print("|---|---|---|---|---|---|---|")
        for m in methods:
            w, j = statistics.median(res[m]["wall"]), statistics.median(res[m]["job"])
            s = statistics.median(res[m]["spy"]) if res[m]["spy"] else None
            print("| %s | %.3f | %.3f | %.3f | %s | %s | %.0f / %s |" % (
                m[4:], w, j, statistics.median(res[m]["final"]), "%.2f" % s if s else "-", "%.1fx" % (s / w) if s else "-",
                res[m]["rss"] / 1024, "%.0f" % (rss1000[m] / 1024) if m in rss1000 else "-"))
        floor = os.path.join(a.build, "tests", "bench", "bench-fftw-floor")
        if os.path.exists(floor):
            out = subprocess.run([floor, "tfr"], capture_output=True, text=True).stdout
            print("\nFFTW only (the transforms of the example, CPU s of one thread; half of "
                  "it on 2 workers): " + ", ".join(" ".join(l.split()) + " s"
                                                    for l in out.splitlines()))


if __name__ == "__main__":
    main()
