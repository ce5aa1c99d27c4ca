#!/usr/bin/python3
"""Where one task's time goes: a trace of one-task jobs through the client, the scheduler and a
worker, hand-off by hand-off.

Starts the same set-up as bench-runtime.py (a standalone scheduler on loopback, 2 workers with
one thread each, a warm-up job) with NEURODAG_TRACE set, so that every process records a
CLOCK_MONOTONIC timestamp at each hand-off (common/trace.h) and appends them to one file when it
exits; then runs --runs one-task jobs with `neurodag submit --wait`, stops the processes and
prints, per segment, the median and the 10th and 90th percentiles over the jobs in
microseconds. All processes share the machine's monotonic clock, so the segments that cross
processes (the wire and nng on both sides) are differences of two processes' readings.
Usage: bench-trace.py [--build DIR] [--runs N] [--workers N] [--keep FILE]
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# (from, to, what): consecutive hand-offs of a one-task job. J: keyed by job, T: by its task.
SEGMENTS = [
    ("cli_start", "cli_authed", "client: start, dial, HELLO/CHALLENGE, AUTH/WELCOME"),
    ("cli_authed", "cli_submit", "client: read the pipeline, build SUBMIT"),
    ("cli_submit", "submit_recv", "SUBMIT: client nng -> wire -> scheduler nng callback"),
    ("submit_recv", "submit_handle", "scheduler: nng callback -> loop thread (inbox, eventfd)"),
    ("submit_handle", "job_ready", "scheduler: decode, validate, build, store insert"),
    ("job_ready", "task_dispatch", "scheduler: rest of the pass until dispatch"),
    ("task_dispatch", "task_send", "scheduler: dispatch -> task handed to nng (commit inside?)"),
    ("task_send", "worker_recv", "task: scheduler nng -> wire -> worker nng -> decoded"),
    ("worker_recv", "worker_start", "worker: queue the task"),
    ("worker_start", "worker_end", "worker: run the no-op"),
    ("worker_end", "worker_send", "worker: post the result, build the next request"),
    ("worker_send", "result_recv", "result: worker nng -> wire -> scheduler nng callback"),
    ("result_recv", "result_handle", "scheduler: nng callback -> loop thread (inbox, eventfd)"),
    ("result_handle", "job_done", "scheduler: decode, record the result, end the job"),
    ("job_done", "status_send", "scheduler: commit, answer the waiting STATUS"),
    ("status_send", "cli_done", "STATUS reply: scheduler nng -> wire -> client"),
    ("cli_done", "cli_exit", "client: print the report, leave"),
]
TOTALS = [
    ("submit_handle", "job_done", "in the scheduler, as bench-runtime.py (c) measures it"),
    ("submit_recv", "job_done", "in the scheduler, from nng's callback of the SUBMIT"),
    ("task_send", "result_recv", "one nng round trip with the no-op, worker side included"),
    ("spawn", "reaped", "whole `neurodag submit --wait` process, as its parent sees it"),
]
TASK_POINTS = {"task_dispatch", "task_send", "worker_recv", "worker_start", "worker_end",
               "worker_send", "result_recv", "result_handle"}


def load_bench_runtime():
    spec = importlib.util.spec_from_file_location("bench_runtime",
                                                  os.path.join(HERE, "bench-runtime.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_trace(path):
    """{(point, key): [t_ns...]} and the scheduler's commit spans [(begin, end)]."""
    points, begins, ends = {}, [], []
    with open(path) as f:
        for line in f:
            role, _pid, point, key, t = line.split()
            if point == "dropped":
                print(f"bench-trace: {role} dropped {key} events", file=sys.stderr)
                continue
            t = int(t)
            if point == "commit_begin":
                begins.append(t)
            elif point == "commit_end":
                ends.append(t)
            else:
                points.setdefault((point, int(key)), []).append(t)
    return points, sorted(zip(sorted(begins), sorted(ends)))


def job_times(points, job, spans):
    """The first reading of each point for one job (the last for cli_done: progress polls)."""
    out = {}
    for (point, key), ts in points.items():
        want = job << 32 if point in TASK_POINTS else job
        if key == want:
            out[point] = max(ts) if point == "cli_done" else min(ts)
    # The commit of the pass that dispatched the task, if it lies before the task's send.
    if "task_dispatch" in out and "task_send" in out:
        for b, e in spans:
            if out["task_dispatch"] <= b and e <= out["task_send"]:
                out["commit_in_dispatch"] = e - b
                break
    return out


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main():
    root = os.path.dirname(os.path.dirname(HERE))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.environ.get("NEURODAG_BUILD", os.path.join(root, "build")))
    ap.add_argument("--runs", type=int, default=41, help="one-task jobs traced")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--keep", metavar="FILE", help="keep the merged raw trace here")
    args = ap.parse_args()
    br = load_bench_runtime()
    tmp = tempfile.mkdtemp(prefix="nd-bench-trace-")
    trace = os.path.join(tmp, "trace.txt")
    os.environ["NEURODAG_TRACE"] = trace
    nd = br.Neurodag(os.path.abspath(args.build), args.workers, tmp)
    jobs, procs = [], {}
    try:
        nd.run(br.nd_noop_pipeline(1000))
        for _ in range(args.runs):
            t0 = time.monotonic_ns()
            _, _, report = nd.run(br.nd_noop_pipeline(1))
            procs[report["id"]] = (t0, time.monotonic_ns())
            jobs.append(report["id"])
    finally:
        nd.close()
        del os.environ["NEURODAG_TRACE"]
    points, spans = read_trace(trace)
    if args.keep:
        os.replace(trace, args.keep)
    per_job = []
    for job in jobs:
        t = job_times(points, job, spans)
        t["spawn"], t["reaped"] = procs[job]
        per_job.append(t)
    load = os.getloadavg()
    print(f"bench-trace: {len(jobs)} one-task jobs, {args.workers} workers, build {args.build}, "
          f"load average {load[0]:.2f}; microseconds, median [p10 p90]")

    def row(a, b, what):
        xs = [(t[b] - t[a]) / 1e3 for t in per_job if a in t and b in t]
        if not xs:
            print(f"  {'-':>8}  {a} -> {b}: {what} (not seen)")
            return
        print(f"  {statistics.median(xs):8.1f}  [{pct(xs, 0.1):7.1f} {pct(xs, 0.9):7.1f}]  "
              f"{a} -> {b}: {what}")
    for a, b, what in SEGMENTS:
        row(a, b, what)
    commits = [t["commit_in_dispatch"] / 1e3 for t in per_job if "commit_in_dispatch" in t]
    if commits:
        print(f"  {statistics.median(commits):8.1f}  [{pct(commits, 0.1):7.1f} "
              f"{pct(commits, 0.9):7.1f}]  of which the commit between dispatch and send "
              f"({len(commits)} of {len(per_job)} jobs)")
    else:
        print("         -  no commit between dispatch and send")
    print("totals:")
    for a, b, what in TOTALS:
        row(a, b, what)


if __name__ == "__main__":
    main()
