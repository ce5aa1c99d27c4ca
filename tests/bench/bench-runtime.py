#!/usr/bin/python3
"""Runtime benchmark: neurodag's scheduler and workers side by side with Dask distributed.

Measures, in one run, on the same machine: (a) no-op task throughput for 10k and 100k
independent tasks on 2 local workers; (b) a staged DAG of 64 channels x 50 trials (a 4-step chain
per cell, a reduction per channel, a final reduction); (c) the round-trip latency of one task;
(d) the scheduler's peak memory per task for 1M tasks. Prints every run, then a table of medians
and the ratio. See tests/bench/README.md for what each number means.

neurodag runs a standalone scheduler (`neurodag-scheduler`) and 2 workers that are already
registered before anything is timed; times come from the scheduler's own job timestamps
(submitted -> finished, from `neurodag submit --wait --json`), so process start-up is excluded.
Dask runs a LocalCluster of 2 single-threaded worker processes, also started before timing.
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

GRID_CHANNELS, GRID_TRIALS, GRID_STEPS = 64, 50, 4


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_kib(pid, field):
    """VmHWM (peak resident set) or VmRSS of a process, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} for pid {pid}")


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def stop_pid(proc, timeout=10):
    """Stop one process we started, by its pid: SIGTERM, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------------------------
# neurodag


def nd_noop_pipeline(count):
    return {"name": f"noop-{count}", "input": {"format": "tasks", "count": count},
            "steps": [{"op": "noop"}]}


def nd_dag_pipeline():
    steps = [{"op": "noop"} for _ in range(GRID_STEPS)]
    steps += [{"op": "reduce", "over": "trials"}, {"op": "reduce", "over": "all"}]
    return {"name": "dag", "input": {"format": "grid", "channels": GRID_CHANNELS,
                                     "trials": GRID_TRIALS},
            "steps": steps, "execution": {"mode": "staged"}}


class Neurodag:
    """A standalone scheduler on loopback with a private state dir, and local workers."""

    def __init__(self, build, nworkers, tmp):
        self.build = build
        self.dir = tempfile.mkdtemp(prefix="nd-bench-", dir=tmp)
        self.url = f"tcp://127.0.0.1:{free_port()}"
        self.http = f"127.0.0.1:{free_port()}"
        self.state = os.path.join(self.dir, "state")
        self.token = os.path.join(self.state, "token")
        self.log = open(os.path.join(self.dir, "bench.log"), "ab")
        self.workers = []
        self.sched = subprocess.Popen(
            [self.bin("scheduler/neurodag-scheduler"), "--listen", self.url, "--http",
             self.http, "--state-dir", self.state],
            stdout=self.log, stderr=self.log)
        self.wait_for(lambda: os.path.exists(self.token) and self.api("/api/status") is not None,
                      "the scheduler to listen")
        for _ in range(nworkers):
            self.workers.append(subprocess.Popen(
                [self.bin("worker/neurodag-worker"), "--scheduler", self.url, "--token-file",
                 self.token, "--nthreads", "1"], stdout=self.log, stderr=self.log))
        self.wait_for(lambda: len(self.api("/api/workers") or []) == nworkers,
                      f"{nworkers} workers to register")
        self.njobs = 0

    def bin(self, rel):
        path = os.path.join(self.build, rel)
        if not os.access(path, os.X_OK):
            sys.exit(f"bench-runtime: {path} is missing; build first (ninja -C {self.build})")
        return path

    def api(self, path):
        try:
            with urllib.request.urlopen(f"http://{self.http}{path}", timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def wait_for(self, cond, what, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.sched.poll() is not None:
                self.close()
                sys.exit(f"bench-runtime: the scheduler exited; see {self.log.name}")
            if cond():
                return
            time.sleep(0.05)
        self.close()
        sys.exit(f"bench-runtime: timed out waiting for {what}; see {self.log.name}")

    def run(self, pipeline):
        """Submit and wait; returns (scheduler seconds submitted->finished, client seconds,
        the job report)."""
        self.njobs += 1
        path = os.path.join(self.dir, f"pipeline-{self.njobs}.json")
        with open(path, "w") as f:
            json.dump(pipeline, f)
        t0 = time.perf_counter()
        out = subprocess.run(
            [self.bin("scheduler/ctl/neurodag"), "submit", "--scheduler", self.url, "--token-file",
             self.token, "--wait", "--json", path],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False, text=True)
        client_s = time.perf_counter() - t0
        dec, text, reports = json.JSONDecoder(), out.stdout, []
        pos = 0
        while pos < len(text):
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            obj, pos = dec.raw_decode(text, pos)
            reports.append(obj)
        report = reports[-1] if reports else {}
        if out.returncode != 0 or report.get("state") != "done":
            sys.exit(f"bench-runtime: neurodag job failed (exit {out.returncode}): {report}")
        return report["finished"] - report["submitted"], client_s, report

    def sched_hwm_kib(self):
        return vm_kib(self.sched.pid, "VmHWM")

    def close(self):
        for w in self.workers:
            stop_pid(w)
        stop_pid(self.sched)
        self.log.close()


# --------------------------------------------------------------------------------------------
# Dask


def dask_noop(*args):
    return None


def dask_story_span(dask_scheduler, key):
    """Seconds from the first to the last transition of `key` on the scheduler."""
    ts = [t[-1] for t in dask_scheduler.story(key)]
    return max(ts) - min(ts) if ts else float("nan")


class Dask:
    def __init__(self):
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                    dashboard_address=None)
        self.client = Client(self.cluster)

    def settle(self):
        """Wait until the scheduler has forgotten the last run's tasks."""
        end = time.monotonic() + 120
        while time.monotonic() < end:
            if self.client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0:
                return
            time.sleep(0.1)

    def throughput(self, n):
        from distributed import wait

        self.settle()
        t0 = time.perf_counter()
        futures = self.client.map(dask_noop, range(n), pure=False)
        wait(futures)
        dt = time.perf_counter() - t0
        del futures
        return dt

    def dag(self):
        dsk = {}
        for c in range(GRID_CHANNELS):
            for t in range(GRID_TRIALS):
                prev = None
                for s in range(GRID_STEPS):
                    key = f"s{s}-{c}-{t}"
                    dsk[key] = (dask_noop,) if prev is None else (dask_noop, prev)
                    prev = key
            dsk[f"chan-{c}"] = (dask_noop,) + tuple(f"s{GRID_STEPS - 1}-{c}-{t}"
                                                   for t in range(GRID_TRIALS))
        dsk["final"] = (dask_noop,) + tuple(f"chan-{c}" for c in range(GRID_CHANNELS))
        self.settle()
        t0 = time.perf_counter()
        self.client.get(dsk, "final", sync=True)
        return time.perf_counter() - t0, len(dsk)

    def latency(self, i):
        """(scheduler seconds from the task's first to last transition, client round trip)."""
        t0 = time.perf_counter()
        fut = self.client.submit(dask_noop, i, pure=False)
        fut.result()
        client_s = time.perf_counter() - t0
        sched_s = self.client.run_on_scheduler(dask_story_span, key=fut.key)
        del fut
        return sched_s, client_s

    def close(self):
        self.client.close()
        self.cluster.close()


def dask_memory(ntasks, tmp):
    """Peak RSS growth of a standalone `dask scheduler` process holding `ntasks` independent
    tasks submitted by a client; no workers, so the tasks wait and are never run."""
    import dask
    from distributed import Client

    # The scheduler is busy for minutes taking the graph in: allow slow handshakes.
    dask.config.set({"distributed.comm.timeouts.connect": "120s",
                     "distributed.comm.timeouts.tcp": "300s"})
    port = free_port()
    log = open(os.path.join(tmp, "dask-scheduler.log"), "ab")
    sched = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host",
                              "127.0.0.1", "--port", str(port), "--no-dashboard"],
                             stdout=log, stderr=log)
    client = None
    try:
        end = time.monotonic() + 60
        while True:
            try:
                client = Client(f"tcp://127.0.0.1:{port}")
                break
            except OSError:
                if time.monotonic() > end or sched.poll() is not None:
                    raise
                time.sleep(0.2)
        before = vm_kib(sched.pid, "VmHWM")
        t0 = time.perf_counter()
        futures = client.map(dask_noop, range(ntasks), pure=False)
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) < ntasks:
            time.sleep(2)
        dt = time.perf_counter() - t0
        after = vm_kib(sched.pid, "VmHWM")
        del futures
        return before, after, dt
    finally:
        try:
            if client is not None:
                client.close()
        finally:
            stop_pid(sched)
            log.close()


# --------------------------------------------------------------------------------------------


def fmt(v, unit):
    if v != v:
        return "-"
    if unit == "tasks/s":
        return f"{v:,.0f}"
    if unit in ("s",):
        return f"{v:.3f}"
    if unit == "ms":
        return f"{v:.3f}"
    if unit == "B/task":
        return f"{v:,.0f}"
    return f"{v:g}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("NEURODAG_BUILD", os.path.join(root, "build")),
                    help="meson build dir with the neurodag binaries (default: $NEURODAG_BUILD "
                    "or ./build)")
    ap.add_argument("--runs", type=int, default=5, help="neurodag runs per measurement (median)")
    ap.add_argument("--dask-runs", type=int, default=3,
                    help="Dask runs per measurement except 100k (median)")
    ap.add_argument("--dask-runs-100k", type=int, default=1,
                    help="Dask runs of the 100k no-op batch (about 4 min each on 2 cores)")
    ap.add_argument("--latency-runs", type=int, default=21, help="single-task round trips")
    ap.add_argument("--mem-tasks", type=int, default=1000000, help="neurodag tasks for (d)")
    ap.add_argument("--dask-mem-tasks", type=int, default=1000000,
                    help="Dask tasks for (d) (held, not run)")
    ap.add_argument("--no-dask", action="store_true", help="neurodag only; no ratios")
    ap.add_argument("--only", default="abcd", help="which measurements, e.g. 'ac'")
    ap.add_argument("--json", metavar="FILE", help="also write every run as JSON")
    args = ap.parse_args()
    build = os.path.abspath(args.build)

    tmp = tempfile.mkdtemp(prefix="nd-bench-runtime-")
    rows, raw = [], {}
    print(f"bench-runtime: {os.cpu_count()} cores, build {build}, "
          f"{args.runs} neurodag runs and {args.dask_runs} Dask runs per measurement",
          flush=True)

    def record(key, label, unit, nd_vals, dk_vals, higher_better, note=""):
        nd, dk = median(nd_vals), median(dk_vals)
        if dk_vals and nd_vals:
            ratio = nd / dk if higher_better else dk / nd
        else:
            ratio = float("nan")
        raw[key] = {"neurodag": nd_vals, "dask": dk_vals, "unit": unit}
        rows.append((label, unit, nd, dk, ratio, note))
        print(f"  {label}: neurodag {[fmt(v, unit) for v in nd_vals]}, "
              f"dask {[fmt(v, unit) for v in dk_vals]} [{unit}]", flush=True)

    # neurodag first, then Dask, so neither system's idle processes run during the other's
    # measurements; each is started and warmed up before anything is timed.
    sizes = ((10000, args.dask_runs), (100000, args.dask_runs_100k))
    nd_res, dk_res = {}, {}
    nd = Neurodag(build, 2, tmp)
    try:
        nd.run(nd_noop_pipeline(1000))  # warm-up: page in the binaries, first connections
        if "a" in args.only:
            for n, _ in sizes:
                runs = [nd.run(nd_noop_pipeline(n)) for _ in range(args.runs)]
                nd_res[f"a{n}"] = [n / r[0] for r in runs]
                nd_res[f"a{n}_client"] = [n / r[1] for r in runs]
        if "b" in args.only:
            runs = [nd.run(nd_dag_pipeline()) for _ in range(args.runs)]
            nd_res["b"] = [r[0] for r in runs]
            nd_res["b_tasks"] = runs[0][2]["tasks"]
        if "c" in args.only:
            runs = [nd.run(nd_noop_pipeline(1)) for _ in range(args.latency_runs)]
            nd_res["c"] = [r[0] * 1e3 for r in runs]
            nd_res["c_client"] = [r[1] * 1e3 for r in runs]
    finally:
        nd.close()
    print("  neurodag done", flush=True)

    if not args.no_dask and any(c in args.only for c in "abc"):
        dk = Dask()
        try:
            dk.client.submit(dask_noop, 0, pure=False).result()  # warm-up
            if "a" in args.only:
                for n, dask_runs in sizes:
                    dk_res[f"a{n}"] = [n / dk.throughput(n) for _ in range(dask_runs)]
            if "b" in args.only:
                runs = [dk.dag() for _ in range(args.dask_runs)]
                dk_res["b"] = [r[0] for r in runs]
                dk_res["b_tasks"] = runs[0][1] if runs else 0
            if "c" in args.only:
                dk.settle()
                runs = [dk.latency(i) for i in range(args.latency_runs)]
                dk_res["c"] = [r[0] * 1e3 for r in runs]
                dk_res["c_client"] = [r[1] * 1e3 for r in runs]
        finally:
            dk.close()
        print("  Dask done", flush=True)

    if "a" in args.only:
        for n, _ in sizes:
            record(f"a{n}", f"(a) {n // 1000}k no-op tasks", "tasks/s", nd_res[f"a{n}"],
                   dk_res.get(f"a{n}", []), True)
            print(f"    neurodag incl. the CLI's submit and polling: "
                  f"{fmt(median(nd_res[f'a{n}_client']), 'tasks/s')} tasks/s", flush=True)
    if "b" in args.only:
        record("b", f"(b) DAG {GRID_CHANNELS}x{GRID_TRIALS}, {nd_res['b_tasks']} tasks", "s",
               nd_res["b"], dk_res.get("b", []), False)
        if dk_res.get("b_tasks") and dk_res["b_tasks"] != nd_res["b_tasks"]:
            print(f"    note: the Dask graph has {dk_res['b_tasks']} tasks", flush=True)
    if "c" in args.only:
        record("c", "(c) one-task latency, in the scheduler", "ms", nd_res["c"],
               dk_res.get("c", []), False)
        record("c_client", "(c) one task, client wall time", "ms", nd_res["c_client"],
               dk_res.get("c_client", []), False, "neurodag: the CLI's `submit --wait`, its "
               "process start included; Dask: submit().result() in a running client")

    if "d" in args.only:
        # A fresh scheduler, so the peak before is its start-up peak, not an earlier job's.
        nd = Neurodag(build, 2, tmp)
        try:
            before = nd.sched_hwm_kib()
            s, _, _ = nd.run(nd_noop_pipeline(args.mem_tasks))
            after = nd.sched_hwm_kib()
        finally:
            nd.close()
        nd_b = (after - before) * 1024 / args.mem_tasks
        print(f"  (d) neurodag scheduler VmHWM {before} KiB -> {after} KiB over a "
              f"{args.mem_tasks}-task job ({args.mem_tasks / s:,.0f} tasks/s)", flush=True)
        dk_b = []
        if not args.no_dask:
            try:
                dbefore, dafter, dt = dask_memory(args.dask_mem_tasks, tmp)
                dk_b = [(dafter - dbefore) * 1024 / args.dask_mem_tasks]
                print(f"  (d) dask scheduler VmHWM {dbefore} KiB -> {dafter} KiB holding "
                      f"{args.dask_mem_tasks} tasks (registered in {dt:.1f} s)", flush=True)
            except Exception as e:  # report the rest of the run rather than lose it
                print(f"  (d) dask: failed: {type(e).__name__}: {e}", flush=True)
        note = ("Dask: standalone scheduler, %dk tasks held, not run" %
                (args.dask_mem_tasks // 1000)) if dk_b else ""
        record("d", f"(d) scheduler peak RSS, {args.mem_tasks // 1000}k tasks", "B/task",
               [nd_b], dk_b, False, note)

    print()
    w = max(len(r[0]) for r in rows) + 2
    print(f"{'measurement':<{w}}{'unit':>8}{'neurodag':>14}{'dask':>12}{'ratio':>9}")
    print("-" * (w + 43))
    for label, unit, ndv, dkv, ratio, _ in rows:
        r = f"{ratio:,.0f}x" if ratio == ratio and ratio >= 10 else (
            f"{ratio:.1f}x" if ratio == ratio else "-")
        print(f"{label:<{w}}{unit:>8}{fmt(ndv, unit):>14}{fmt(dkv, unit):>12}{r:>9}")
    print("ratio: how many times neurodag is better (faster, or less memory); medians of runs")
    for label, _, _, _, _, note in rows:
        if note:
            print(f"note {label}: {note}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
