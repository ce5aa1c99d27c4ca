"""Black-box tests of the distributed runtime: real neurodag-scheduler and neurodag-worker
processes on loopback, driven by the real `neurodag` CLI and the HTTP status endpoint.

usage: test-runtime.py TEST NEURODAG NEURODAG-SCHEDULER NEURODAG-WORKER
Each TEST is one function below; meson registers one test per name."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rt_harness import (MARK_REDUCE, TESTS, Cluster, Skip, TestFailure, check,  # noqa: E402
                        expected_mark_reduce, metric, running_on, test, wait_for)
import rt_tests_faults  # noqa: E402,F401  (registers its tests)
import rt_tests_faults_peers  # noqa: E402,F401
import rt_tests_http  # noqa: E402,F401
import rt_tests_peers  # noqa: E402,F401
import rt_tests_cli  # noqa: E402,F401
import rt_tests_ui  # noqa: E402,F401
import rt_tests_submit  # noqa: E402,F401
import rt_tests_outputs  # noqa: E402,F401


def serial_results(c, pipeline):
    r = c.cli("run", "--serial", "--json", pipeline, conn=False)
    check(r.returncode == 0, "run --serial exited %d: %s" % (r.returncode, r.stderr))
    return json.loads(r.stdout)["results"]


@test
def submit_complete(c):
    c.start_scheduler()
    c.start_worker(nthreads=2)
    c.start_worker(nthreads=1)
    p = c.pipeline("mr", MARK_REDUCE, count=50)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 0, "submit --wait exited %d: %s" % (r.returncode, r.stderr))
    jid = int(r.stdout.split()[0])
    j = c.job(jid)
    check(j["state"] == "done" and j["done"] == j["tasks"] == 102, "job: %s" % j)
    check(j["results"] == expected_mark_reduce(50), "results: %s" % j["results"])
    check(j["results"] == serial_results(c, p), "distributed and serial results differ")
    runs = sorted(t for t, _, _ in c.marks(jid))
    check(runs == sorted(list(range(50)) + list(range(51, 101))),
          "each mark task runs exactly once: %s" % runs)
    # A task that fails once is retried; one that always fails fails the job with its error.
    p = c.pipeline("retry", [{"op": "fail", "attempts": 1}], count=3)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 0, "a task failing once is retried: %d %s" % (r.returncode, r.stderr))
    p = c.pipeline("fails", [{"op": "fail", "message": "broken on purpose"}], count=2)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 1, "a failing job exits 1, got %d" % r.returncode)
    jid = int(r.stdout.split()[0])
    j = c.job(jid)
    check(j["state"] == "failed" and "broken on purpose" in j["error"] and
          "after 3 attempts" in j["error"], "failed job: %s" % j)


@test
def late_worker(c):
    c.start_scheduler(wait_timeout=60)
    p = c.pipeline("late", [{"op": "mark"}], count=20)
    [jid] = c.submit(p)
    j = c.job(jid)
    check(j["state"] == "waiting", "job waits without workers: %s" % j)
    msg = "waiting for at least 1 workers (0 connected), timeout after 60 s"
    check(j.get("waiting") == msg, "waiting message: %r" % j.get("waiting"))
    r = c.cli("status")
    check(msg in r.stdout, "`neurodag status` shows the waiting message: %r" % r.stdout)
    check(msg in c.sched.text(), "the scheduler logs the waiting message")
    w = subprocess.Popen([c.bins["neurodag"], "wait", str(jid), "--scheduler", c.url,
                          "--token-file", c.token_file], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=c.env())
    try:
        time.sleep(1.6)  # its first plain line comes after a second
        check(w.poll() is None, "wait returned before any worker came")
        c.start_worker()
        out, err = w.communicate(timeout=30)
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()
    check(w.returncode == 0, "wait exited %d: %s" % (w.returncode, err))
    lines = err.splitlines()
    check(any(re.match(r"job %d: 0/20 tasks done.*; %s" % (jid, re.escape(msg)), ln)
              for ln in lines), "wait shows the waiting message: %r" % err)
    check(any(re.match(r"job %d: 20/20 tasks done" % jid, ln) for ln in lines),
          "wait prints plain progress lines: %r" % err)
    check("\r" not in err and "\033" not in err, "no terminal control codes when not a tty")
    check(re.search(r"job %d \(late\): done in" % jid, err), "final line: %r" % err)
    check(c.job(jid)["state"] == "done", "the job finished once a worker came")


@test
def wait_timeout(c):
    c.start_scheduler(wait_timeout=1)
    p = c.pipeline("lonely", [{"op": "noop"}], count=3)
    r = c.cli("submit", "--wait", p, timeout=30)
    check(r.returncode == 1, "submit --wait exits 1 when no worker comes, got %d" % r.returncode)
    jid = int(r.stdout.split()[0])
    check("no worker registered within 1 s" in r.stderr, "wait says why: %r" % r.stderr)
    r = c.cli("status", jid)
    check(r.returncode == 0 and "failed" in r.stdout and
          "no worker registered within 1 s" in r.stdout, "status: %r" % r.stdout)
    check(c.job(jid)["state"] == "failed", "the job failed")
    check("no worker registered within 1 s" in c.sched.text(), "the scheduler logs it")
    r = c.cli("wait", jid)
    check(r.returncode == 1, "wait on a failed job exits 1, got %d" % r.returncode)


@test
def wait_pushed(c):
    """`wait` learns of a job's end from a held STATUS, not by polling: a job of 1.5 s costs a
    handful of requests (polling from 1 ms and backing off to 20 ms would take about 80)."""
    c.start_scheduler(hb=1.0, ttl=3.0)
    c.start_worker()
    [jid] = c.submit(c.pipeline("slow", [{"op": "sleep", "ms": 1500}], count=1))
    m0 = metric(c.metrics(), "neurodag_messages_total")
    r = c.cli("wait", jid, "--json", timeout=30)
    sent = metric(c.metrics(), "neurodag_messages_total") - m0
    check(r.returncode == 0, "wait exited %d: %s" % (r.returncode, r.stderr))
    j = json.loads(r.stdout)
    check(j["id"] == jid and j["state"] == "done" and j["done"] == 1, "the report: %s" % j)
    print("messages while waiting 1.5 s: %d" % sent)
    # HELLO, AUTH, two or three STATUS; the worker's result and a few heartbeats.
    check(sent <= 15, "wait sent few requests (%d messages reached the scheduler)" % sent)
    # A hold ends at its deadline with the progress so far: --timeout still applies.
    [jid] = c.submit(c.pipeline("slower", [{"op": "sleep", "ms": 4000}], count=1))
    r = c.cli("wait", jid, "--timeout", "1.5", timeout=30)
    check(r.returncode != 0 and "gave up waiting after 1.5 s" in r.stderr,
          "wait --timeout gives up: %d %r" % (r.returncode, r.stderr))
    check(re.search(r"job %d: 0/1 tasks done" % jid, r.stderr), "progress lines: %r" % r.stderr)


@test
def worker_killed(c):
    c.start_scheduler()
    # Short tasks make the worker prefetch a local queue; the kill loses those too.
    a = c.start_worker(nthreads=2)
    p = c.pipeline("victim", [{"op": "mark", "ms": 30}], count=200)
    [jid] = c.submit(p)
    wait_for(lambda: len(c.marks(jid)) >= 40, 20, "the first worker to run 40 tasks")
    a.signal(signal.SIGKILL)
    a.wait(5)
    killed_at = time.time()
    b = c.start_worker(nthreads=2)
    r = c.cli("wait", jid, "--timeout", 60)
    check(r.returncode == 0, "the job completes on another worker: %d %s" % (r.returncode,
                                                                               r.stderr))
    runs = c.marks(jid)
    check(sorted(set(t for t, _, _ in runs)) == list(range(200)), "every task ran")
    rerun = [t for t, at, ts in runs if at > 1]
    check(len(rerun) > 0, "the killed worker's tasks ran again with a higher attempt")
    m = c.metrics()
    check(metric(m, "neurodag_workers_lost_total") >= 1, "workers_lost_total counts the loss")
    check(metric(m, "neurodag_tasks_retried_total") >= len(rerun) - 0, "retries counted")
    check(all(ts > killed_at - 1 for t, at, ts in runs if at > 1), "reruns happen after the kill")
    check(b.alive(), "the second worker is still serving")


@test
def worker_stalled(c):
    """A frozen worker is expired after the TTL and its tasks run elsewhere; when it wakes, its
    late results are refused as stale and it registers again."""
    c.start_scheduler(hb=0.2, ttl=1.0)
    a = c.start_worker(nthreads=2)
    [jid] = c.submit(c.pipeline("stall", [{"op": "mark", "ms": 1500}], count=4))
    wait_for(lambda: running_on(c, a.pid) and running_on(c, a.pid)["running"] == 2, 10,
             "the worker to run two tasks")
    a.signal(signal.SIGSTOP)
    try:
        wait_for(lambda: "no heartbeat within the TTL" in c.sched.text(), 10, "the TTL expiry")
        b = c.start_worker(nthreads=2)
        wait_for(lambda: running_on(c, b.pid), 10, "the other worker to take the tasks")
    finally:
        os.kill(a.pid, signal.SIGCONT)
    r = c.cli("wait", jid, "--timeout", 30)
    check(r.returncode == 0, "the job completes: %s" % r.stderr)
    wait_for(lambda: "registering again" in a.text(), 10, "the woken worker to notice")
    wait_for(lambda: c.workers_connected() == 2, 10, "the woken worker to register again")
    j = c.job(jid)
    check(j["done"] == j["tasks"] == 4, "job: %s" % j)
    m = c.metrics()
    check(metric(m, "neurodag_tasks_done_total") == 4, "stale results were not counted: %s" %
          metric(m, "neurodag_tasks_done_total"))
    check(metric(m, "neurodag_workers_lost_total") == 1, "one worker lost")
    check(sorted(set(t for t, _, _ in c.marks(jid))) == [0, 1, 2, 3], "every task ran")
    [j2] = c.submit(c.pipeline("after", [{"op": "mark"}], count=8))
    check(c.cli("wait", j2, "--timeout", 20).returncode == 0, "both workers serve again")


def store_done_tasks(c, jid):
    """Tasks the store has as done: rows of `tasks` (those with a result) and the index ranges
    of `done_ranges` (tasks that finished without a result are written as ranges)."""
    db = sqlite3.connect("file:%s/state.db?mode=ro" % c.state, uri=True)
    try:
        done = {t for (t,) in db.execute("SELECT task FROM tasks WHERE job = ? AND ok = 1",
                                         (jid,))}
        for first, count in db.execute("SELECT first, count FROM done_ranges WHERE job = ?",
                                       (jid,)):
            done.update(range(first, first + count))
        return done
    finally:
        db.close()


@test
def scheduler_restart(c):
    n = 60
    sched = c.start_scheduler()
    c.start_worker(nthreads=2)
    c.start_worker(nthreads=1)
    p = c.pipeline("durable", [{"op": "mark", "ms": 40}, {"op": "reduce"},
                               {"op": "mark", "ms": 40}, {"op": "reduce"}], count=n)
    [jid] = c.submit(p)
    # Kill it once the first reduction is done and the second unit stage is under way.
    wait_for(lambda: c.job(jid)["done"] >= n + 10, 30, "the job to be half done")
    sched.signal(signal.SIGKILL)
    sched.wait(5)
    done_before = store_done_tasks(c, jid)
    marks_before = len(c.marks(jid))
    check(n in done_before, "the first reduction was committed before the kill")
    check(len(done_before) < 2 * n + 2, "the job was not finished before the kill")
    time.sleep(0.5)  # the workers notice and retry in the background
    c.start_scheduler()
    wait_for(lambda: c.workers_connected() == 2, 15, "both workers to reconnect by themselves")
    r = c.cli("wait", jid, "--timeout", 60)
    check(r.returncode == 0, "the resumed job completes: %d %s" % (r.returncode, r.stderr))
    j = c.job(jid)
    check(j["state"] == "done" and j["done"] == j["tasks"] == 2 * n + 2, "job: %s" % j)
    check(j["results"] == expected_mark_reduce(n), "results after restart: %s" % j["results"])
    check(j["results"] == serial_results(c, p), "restarted and serial results differ")
    after = [t for t, _, _ in c.marks(jid)[marks_before:]]
    again = sorted(set(after) & done_before)
    check(not again, "tasks done before the kill ran again: %s" % again)
    ran = set(t for t, _, _ in c.marks(jid))
    check(ran == set(range(n)) | set(range(n + 1, 2 * n + 1)), "every unit task ran")
    check("resumed: %d of %d tasks already done" % (len(done_before), 2 * n + 2) in c.sched.text(),
          "the scheduler logs the resume")
    # A finished job keeps its state and inline results across another restart.
    check(c.stop(c.sched) == 0, "clean stop")
    c.start_scheduler()
    j2 = c.job(jid)
    check(j2["state"] == "done" and j2["results"] == j["results"] and j2["done"] == j["done"],
          "the finished job after a restart: %s" % j2)


@test
def cancel(c):
    c.start_scheduler(wait_timeout=60)
    p = c.pipeline("idle", [{"op": "noop"}], count=5)
    [waiting] = c.submit(p)
    r = c.cli("cancel", waiting)
    check(r.returncode == 0, "cancel a waiting job: %d %s" % (r.returncode, r.stderr))
    check(c.job(waiting)["state"] == "cancelled", "the waiting job is cancelled")
    r = c.cli("wait", waiting)
    check(r.returncode == 4, "wait on a cancelled job exits 4, got %d" % r.returncode)

    w = c.start_worker(nthreads=2)
    p = c.pipeline("long", [{"op": "mark", "ms": 10000}], count=6)
    [running] = c.submit(p)
    wait_for(lambda: running_on(c, w.pid) and running_on(c, w.pid)["running"] == 2, 10,
             "the worker to run two tasks")
    t0 = time.monotonic()
    r = c.cli("cancel", running)
    check(r.returncode == 0 and "cancelled" in r.stdout, "cancel a running job: %r" % r.stdout)
    j = c.job(running)
    check(j["state"] == "cancelled" and j["tasks_by_state"]["cancelled"] == 6, "job: %s" % j)
    # The worker hears it in a heartbeat reply and stops its running tasks.
    p = c.pipeline("after", [{"op": "mark"}], count=4)
    r = c.cli("submit", "--wait", p, timeout=30)
    check(r.returncode == 0, "the worker runs the next job: %s" % r.stderr)
    check(time.monotonic() - t0 < 5, "cancelled tasks stopped early (took %.1f s)" %
          (time.monotonic() - t0))
    check(c.marks(running) == [], "cancelled tasks did not finish")

    finished = int(r.stdout.split()[0])
    r = c.cli("cancel", finished)
    check(r.returncode == 0 and "already done" in r.stdout,
          "cancel of a finished job is a no-op: %d %r" % (r.returncode, r.stdout))
    check(c.job(finished)["state"] == "done", "the finished job stays done")
    r = c.cli("cancel", 999)
    check(r.returncode == 1 and "no job 999" in r.stderr, "cancel of an unknown job: %r" %
          r.stderr)


@test
def worker_drain(c):
    c.start_scheduler()
    # An idle worker leaves at once, though its task request is parked on the scheduler.
    idle = c.start_worker()
    wait_for(lambda: c.workers_connected() == 1, 10, "the worker to register")
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = c.stop(idle)
    idle_s = time.monotonic() - t0
    check(rc == 0, "an idle worker exits 0 on SIGTERM, got %d" % rc)
    check(idle_s < 0.5, "an idle worker drains in %.3f s (want < 0.5 s)" % idle_s)
    print("idle worker drain latency: %.3f s" % idle_s)
    check("said BYE" in c.sched.text(), "the scheduler hears BYE")
    wait_for(lambda: c.workers_connected() == 0, 5, "the worker to be gone")
    # A busy worker finishes its running tasks, takes no more, says BYE and exits 0.
    w = c.start_worker(nthreads=2)
    p = c.pipeline("drain", [{"op": "mark", "ms": 1500}], count=6)
    [jid] = c.submit(p)
    wait_for(lambda: running_on(c, w.pid) and running_on(c, w.pid)["running"] == 2, 10,
             "the worker to run two tasks")
    time.sleep(0.2)
    t0 = time.monotonic()
    rc = c.stop(w, timeout=10)
    busy_s = time.monotonic() - t0
    check(rc == 0, "a draining worker exits 0, got %d" % rc)
    check(0.8 < busy_s < 2.5, "it waited for its running tasks (%.2f s)" % busy_s)
    print("busy worker drain: %.3f s (tasks of 1.5 s)" % busy_s)
    check("drained: said BYE" in w.text(), "the worker says BYE")
    runs = c.marks(jid)
    check(len(runs) == 2, "it finished the two running tasks and took no more: %s" % runs)
    j = c.job(jid)
    check(j["done"] == 2 and j["tasks_by_state"]["ready"] == 4, "job after the drain: %s" % j)
    c.start_worker(nthreads=2)
    r = c.cli("wait", jid, "--timeout", 30)
    check(r.returncode == 0, "another worker finishes the job")
    check(sorted(t for t, _, _ in c.marks(jid)) == list(range(6)), "no task ran twice")


@test
def busy_poll(c):
    """A worker with a free slot but nothing to take does not flood the scheduler with polls."""
    c.start_scheduler(hb=0.4, ttl=0.9)
    w = c.start_worker(nthreads=3)
    [jid] = c.submit(c.pipeline("one", [{"op": "sleep", "ms": 2500}], count=1))
    wait_for(lambda: running_on(c, w.pid), 10, "the task to run")
    time.sleep(0.3)
    m0 = metric(c.metrics(), "neurodag_messages_total")
    time.sleep(1.0)
    rate = metric(c.metrics(), "neurodag_messages_total") - m0
    print("messages in 1 s while one of three slots is busy: %d" % rate)
    check(rate <= 20, "a busy worker asks at most a few times a second (%d/s)" % rate)
    check(c.cli("wait", jid, "--timeout", 20).returncode == 0, "the job completes")
    # An idle worker with a TTL shorter than the default long-poll hold stays registered.
    time.sleep(2.5)
    ws = c.http_json("/api/workers")
    check(len(ws) == 1 and ws[0]["pid"] == w.pid, "the idle worker is still registered: %s" % ws)
    check("no heartbeat within the TTL" not in c.sched.text(), "no worker expired")


@test
def scheduler_sigterm(c):
    sched = c.start_scheduler()
    w = c.start_worker()
    p = c.pipeline("cut", [{"op": "mark", "ms": 200}], count=20)
    [jid] = c.submit(p)
    wait_for(lambda: c.job(jid)["done"] >= 2, 10, "some progress")
    t0 = time.monotonic()
    rc = c.stop(sched, timeout=10)
    check(rc == 0, "the scheduler exits 0 on SIGTERM, got %d" % rc)
    check(time.monotonic() - t0 < 2, "it stops promptly (%.2f s)" % (time.monotonic() - t0))
    check("received SIGTERM, shutting down" in sched.text() and "stopped" in sched.text(),
          "it logs the shutdown")
    check(w.alive(), "the worker keeps trying to reconnect")
    c.start_scheduler()
    r = c.cli("wait", jid, "--timeout", 30)
    check(r.returncode == 0, "the job resumes after a clean restart: %s" % r.stderr)
    check(sorted(set(t for t, _, _ in c.marks(jid))) == list(range(20)), "every task ran")
    # A worker whose scheduler is gone still drains promptly, even with results to report.
    [j2] = c.submit(c.pipeline("orphan", [{"op": "mark", "ms": 800}], count=4))
    wait_for(lambda: running_on(c, w.pid), 10, "a running task")
    check(c.stop(c.sched) == 0, "the scheduler stops")
    t0 = time.monotonic()
    check(c.stop(w, timeout=10) == 0, "the orphaned worker exits 0")
    print("orphaned busy worker drained in %.2f s" % (time.monotonic() - t0))
    check(time.monotonic() - t0 < 5, "promptly (%.2f s)" % (time.monotonic() - t0))


@test
def run_local(c):
    p = c.pipeline("loc", MARK_REDUCE, count=30)
    t0 = time.monotonic()
    r = c.cli("run", "-n", "2", "--json", p, conn=False)
    elapsed = time.monotonic() - t0
    check(r.returncode == 0, "run exited %d: %s" % (r.returncode, r.stderr))
    res = json.loads(r.stdout)
    check(res["state"] == "done" and res["results"] == expected_mark_reduce(30), "run: %s" % res)
    check(res["results"] == serial_results(c, p), "run and run --serial agree")
    check(not re.search(r"\binfo:", r.stderr), "no info lines without -v: %r" % r.stderr)
    print("neurodag run of 62 tiny tasks on 2 workers: %.2f s" % elapsed)
    check(elapsed < 3, "local mode starts and tears down quickly (%.2f s)" % elapsed)
    r = c.cli("run", "-n", "1", "-v", c.pipeline("v", [{"op": "noop"}], count=2), conn=False)
    check(r.returncode == 0 and "registered" in r.stderr, "-v shows the workers' log")
    r = c.cli("run", "-n", "1", c.pipeline("f", [{"op": "fail"}], count=2), conn=False)
    check(r.returncode == 1 and "failed after 3 attempts" in r.stderr,
          "run exits 1 when the job fails: %d %s" % (r.returncode, r.stderr))
    r = c.cli("run", "--serial", c.pipeline("f2", [{"op": "fail"}], count=2), conn=False)
    check(r.returncode == 1, "run --serial exits 1 when the job fails")
    state = os.path.join(c.dir, "kept")
    r = c.cli("run", "-n", "1", "--state-dir", state, c.pipeline("k", [{"op": "mark"}], count=3),
              conn=False)
    check(r.returncode == 0 and os.path.exists(os.path.join(state, "state.db")),
          "--state-dir keeps the state")


@test
def fairness(c):
    c.start_scheduler()
    lo1 = c.submit(c.pipeline("lo1", [{"op": "mark", "ms": 20}], count=30))[0]
    hi = c.submit(c.pipeline("hi", [{"op": "mark", "ms": 20}], count=10,
                             execution={"priority": 5}))[0]
    lo2 = c.submit(c.pipeline("lo2", [{"op": "mark", "ms": 20}], count=30))[0]
    c.start_worker(nthreads=1)
    for jid in (lo1, hi, lo2):
        check(c.cli("wait", jid, "--timeout", 30).returncode == 0, "job %d done" % jid)
    runs = sorted([(ts, "lo1") for _, _, ts in c.marks(lo1)] +
                  [(ts, "hi") for _, _, ts in c.marks(hi)] +
                  [(ts, "lo2") for _, _, ts in c.marks(lo2)])
    order = [name for _, name in runs]
    last_hi = max(i for i, n in enumerate(order) if n == "hi")
    check(last_hi < 10 + 4, "the high-priority job runs first: %s" % order[:20])
    rest = order[last_hi + 1:last_hi + 21]
    check(rest.count("lo1") >= 5 and rest.count("lo2") >= 5,
          "jobs of equal priority interleave: %s" % rest)


@test
def memory(c):
    """Scheduler memory per task: VmRSS growth for a job of 1M no-op tasks, then running them."""
    sched = c.start_scheduler(wait_timeout=600)

    def rss():
        with open("/proc/%d/status" % sched.pid) as f:
            for line in f:
                if line.startswith("VmRSS:") or line.startswith("VmHWM:"):
                    pass
            f.seek(0)
            d = dict(ln.split(":", 1) for ln in f.read().splitlines())
        return int(d["VmRSS"].split()[0]) * 1024, int(d["VmHWM"].split()[0]) * 1024

    c.submit(c.pipeline("warm", [{"op": "noop"}], count=10))
    time.sleep(0.3)
    base, _ = rss()
    n = 1000000
    [jid] = c.submit(c.pipeline("million", [{"op": "noop"}], count=n))
    time.sleep(0.3)
    after, peak = rss()
    per_task = (after - base) / n
    print("scheduler RSS: %.1f MiB before, %.1f MiB with 1M queued tasks: %.1f bytes/task "
          "(peak %.1f MiB)" % (base / 2**20, after / 2**20, per_task, peak / 2**20))
    check(per_task <= 1024, "at most 1 KiB per queued task (%.1f)" % per_task)
    if os.environ.get("ND_MEMORY_RUN"):
        c.start_worker(nthreads=1)
        c.start_worker(nthreads=1)
        t0 = time.monotonic()
        r = c.cli("wait", jid, "--timeout", 600, timeout=700)
        check(r.returncode == 0, "the million tasks ran")
        dt = time.monotonic() - t0
        _, peak = rss()
        print("ran 1M no-op tasks in %.1f s (%.0f tasks/s); peak RSS %.1f MiB = %.1f bytes/task"
              % (dt, n / dt, peak / 2**20, (peak - base) / n))
        check((peak - base) / n <= 1024, "peak stays under 1 KiB per task")


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in TESTS:
        print(__doc__ + "\ntests: " + " ".join(sorted(TESTS)), file=sys.stderr)
        return 2
    name = sys.argv[1]
    bins = {"neurodag": os.path.abspath(sys.argv[2]), "scheduler": os.path.abspath(sys.argv[3]),
            "worker": os.path.abspath(sys.argv[4])}
    t0 = time.monotonic()
    try:
        with Cluster(bins, name) as c:
            TESTS[name](c)
    except TestFailure as e:
        print("FAIL %s: %s" % (name, e), file=sys.stderr)
        return 1
    except Skip as e:
        print("SKIP %s: %s" % (name, e))
        return 77
    print("ok %s (%.1f s)" % (name, time.monotonic() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
