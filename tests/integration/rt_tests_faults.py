"""Black-box runtime tests of what a long-lived scheduler must survive: retention of finished
jobs and their work dirs, full disks, restarts under followers, hanging tasks, a damaged state
database. Hostile peers are in rt_tests_faults_peers.py. Registered into the shared test table;
run through test-runtime.py."""
import os
import time

from rt_harness import check, check_health, metric, test, wait_for  # noqa: F401


def workdir(c, jid, state=None):
    return os.path.join(state or c.state, "work", str(jid))


@test
def retention(c):
    c.start_scheduler(keep_work=False, extra=["--job-retention", "3"])
    w = c.start_worker(nthreads=2)
    # Done, failed and cancelled jobs all lose their work dirs as they finish.
    [done] = c.submit(c.pipeline("done", [{"op": "mark"}], count=4))
    check(c.cli("wait", done, "--timeout", 20).returncode == 0, "the job completes")
    [failed] = c.submit(c.pipeline("failed", [{"op": "mark"}, {"op": "reduce"},
                                              {"op": "fail", "message": "on purpose"}],
                                   count=3))
    check(c.cli("wait", failed, "--timeout", 20).returncode == 1, "the job fails")
    [cancelled] = c.submit(c.pipeline("long", [{"op": "mark"}, {"op": "reduce"},
                                               {"op": "sleep", "ms": 20000}], count=2))
    wait_for(lambda: c.job(cancelled)["done"] >= 3, 20, "the first stages to be done")
    check(os.path.isdir(workdir(c, cancelled)), "a running job has its work dir")
    check(c.cli("cancel", cancelled).returncode == 0, "cancel")
    for jid in (done, failed, cancelled):
        wait_for(lambda: not os.path.exists(workdir(c, jid)), 10,
                 "job %d's work dir to be removed" % jid)
    # A tree is removed off the loop; the loop counts it once the removal has reported back,
    # which can come just after the directory is gone.
    wait_for(lambda: metric(c.metrics(), "neurodag_work_dirs_removed_total") == 3, 10,
             "the three removals to be counted")
    m = c.metrics()
    check(metric(m, "neurodag_state_dir_free_bytes") > 0 and
          metric(m, "neurodag_state_dir_bytes", part="database") > 0,
          "/metrics has the state dir's size and free space")
    check(c.http_json("/api/status")["state_dir"]["free_bytes"] > 0, "/api/status too")
    # Records go after --job-retention; ids are never reused.
    wait_for(lambda: c.cli_json("jobs") == [], 15, "the finished jobs to be forgotten")
    check(metric(c.metrics(), "neurodag_jobs_pruned_total") == 3, "pruning is counted")
    check(c.cli("status", done).returncode == 1, "a forgotten job is unknown")
    c.stop(c.sched)
    c.start_scheduler(keep_work=True, extra=["--job-retention", "0"])
    wait_for(lambda: c.workers_connected() == 1, 15, "the worker to reconnect")
    [kept] = c.submit(c.pipeline("kept", [{"op": "mark"}], count=2))
    check(kept == cancelled + 1, "job ids are not reused after pruning: %d" % kept)
    check(c.cli("wait", kept, "--timeout", 20).returncode == 0, "the job completes")
    check(os.path.isdir(workdir(c, kept)), "--keep-work-dirs keeps it")
    # `neurodag gc` forgets finished jobs at once and sweeps what no unfinished job owns.
    orphan = workdir(c, 999)
    os.makedirs(orphan)
    with open(os.path.join(orphan, "x.npy"), "wb") as f:
        f.write(b"\0" * 4096)
    r = c.cli("gc", "--older-than", "0", "--json")
    check(r.returncode == 0, "gc exited %d: %s" % (r.returncode, r.stderr))
    rep = __import__("json").loads(r.stdout)
    check(rep["jobs_pruned"] == 1 and rep["work_dirs_removed"] == 2, "gc report: %s" % rep)
    wait_for(lambda: not os.path.exists(orphan) and not os.path.exists(workdir(c, kept)), 10,
             "gc to remove the work dirs")
    check(c.cli_json("jobs") == [], "gc forgot the job")
    check(w.alive(), "the worker is still serving")


def fill(path):
    """Fill the filesystem holding `path` with one file; returns the file's path."""
    filler = os.path.join(path, "filler")
    with open(filler, "wb", buffering=0) as f:
        chunk = b"\xff" * (256 << 10)
        try:
            while True:
                f.write(chunk)
        except OSError:
            pass
        try:
            while True:
                f.write(b"\xff" * 4096)
        except OSError:
            pass
    return filler


SLOW_REDUCE = [{"op": "sleep", "ms": 30}, {"op": "reduce"}, {"op": "sleep", "ms": 30},
               {"op": "reduce"}]


@test
def disk_full_state(c):
    """The state dir's disk fills up mid-job: new jobs are refused with a clear error, status is
    served, /health answers; a restart while full comes up; when space returns, the job
    finishes with every task exactly once and new jobs are taken again."""
    fs = c.tmpfs("statefs", 8 << 20)
    c.state = os.path.join(fs, "state")
    n = 120
    c.start_scheduler(extra=["--min-free-space", "0"])
    c.start_worker(nthreads=2)
    c.start_worker(nthreads=2)
    probe = c.probe_health()
    [jid] = c.submit(c.pipeline("full", SLOW_REDUCE, count=n))
    wait_for(lambda: c.job(jid)["done"] >= 20, 20, "the job to make progress")
    filler = fill(fs)
    wait_for(lambda: not c.http_json("/api/status")["state_dir"]["writable"], 20,
             "the scheduler to notice that its disk is full")
    check(c.sched.alive(), "the scheduler survives a full disk")
    st = c.http_json("/api/status")["state_dir"]
    check("ENOSPC" in st["error"], "/api/status says why: %s" % st)
    r = c.cli("submit", c.pipeline("refused", [{"op": "noop"}], count=2))
    check(r.returncode == 3 and "ENOSPC" in r.stderr and "state dir full" in r.stderr,
          "a new job is refused with a clear error: %d %r" % (r.returncode, r.stderr))
    j = c.job(jid)
    check(j["state"] == "running", "status is served while full: %s" % j)
    check(metric(c.metrics(), "neurodag_state_writable") == 0, "/metrics shows it")
    time.sleep(1.5)  # retries fail while the disk stays full
    check(c.sched.alive(), "the scheduler keeps running while the disk stays full")
    check_health(probe.stop(), "a full state disk")
    # A restart while the disk is still full comes up and serves status.
    first = c.sched
    c.sched.signal(__import__("signal").SIGKILL)
    c.sched.wait(5)
    c.start_scheduler(extra=["--min-free-space", "0"])
    probe = c.probe_health()
    check(c.job(jid)["state"] == "running", "the job is back after a restart on a full disk")
    os.unlink(filler)
    r = c.cli("wait", jid, "--timeout", 60)
    check(r.returncode == 0, "the job finishes once space returns: %d %s" % (r.returncode,
                                                                             r.stderr))
    j = c.job(jid)
    check(j["done"] == j["tasks"] == 2 * n + 2 and
          j["results"] == {str(n): {"inputs": 0}, str(2 * n + 1): {"inputs": 1}},
          "every task done once, results intact: %s" % {k: j[k] for k in ("done", "tasks")})
    check(c.http_json("/api/status")["state_dir"]["writable"], "writable again")
    r = c.cli("submit", "--wait", c.pipeline("after", [{"op": "noop"}], count=4))
    check(r.returncode == 0, "new jobs are taken again: %s" % r.stderr)
    check_health(probe.stop(), "a restart on a full state disk and the recovery")
    check("state dir full (ENOSPC)" in first.text(), "the log says why")
    check("state dir full" not in c.sched.text() or "writable again" in c.sched.text(),
          "and when it recovered")


@test
def edf_range(c):
    """An EDF whose physical range gives no finite scale is refused at submit and by run
    --serial, naming the file and the channel, before any task runs."""
    import json
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "small.edf")
    with open(src, "rb") as f:
        data = bytearray(f.read())
    ns = int(data[252:256].decode())
    data[256 + ns * 104:256 + ns * 104 + 8] = b"-1e308  "
    data[256 + ns * 112:256 + ns * 112 + 8] = b"1e308   "
    bad = os.path.join(c.dir, "huge-range.edf")
    with open(bad, "wb") as f:
        f.write(data)
    p = os.path.join(c.dir, "p.json")
    with open(p, "w") as f:
        json.dump({"name": "r", "input": {"format": "edf", "path": bad},
                   "steps": [{"op": "highpass", "freq": 1.0}],
                   "output": {"format": "edf", "path": os.path.join(c.dir, "o.edf")}}, f)
    c.start_scheduler()
    for args, conn in ((["submit", p], True), (["run", "--serial", p], False)):
        r = c.cli(*args, conn=conn)
        check(r.returncode == 2 and bad in r.stderr and "channel 1" in r.stderr and
              "physical range" in r.stderr, "%s: refused: %d %r" % (args, r.returncode,
                                                                   r.stderr))
    check(not os.path.exists(os.path.join(c.dir, "o.edf")), "nothing was written")
    # A file that is no recording is refused without quoting what it holds: the scheduler can
    # read files its clients cannot.
    secret = "SECRET-%s" % os.urandom(6).hex()
    for ext in ("edf", "bdf", "vhdr", "set"):
        other = os.path.join(c.dir, "private." + ext)
        with open(other, "w") as f:
            f.write((secret + " line\n") * 40)
        with open(p, "w") as f:
            json.dump({"name": "r", "input": {"path": other},
                       "steps": [{"op": "highpass", "freq": 1.0}],
                       "output": {"format": "edf", "path": os.path.join(c.dir, "o.edf")}}, f)
        r = c.cli("submit", p)
        check(r.returncode == 2 and other in r.stderr and "SECRET" not in r.stderr,
              ".%s: refused without its bytes: %d %r" % (ext, r.returncode, r.stderr))


@test
def restart_under_followers(c):
    """`neurodag wait` and `submit --wait` follow their jobs across a scheduler killed with
    SIGKILL and one stopped with SIGTERM: they re-dial, authenticate again and exit 0 when the
    jobs finish; the results are those of an undisturbed run."""
    import signal
    import subprocess
    n = 60
    c.start_scheduler()
    c.start_worker(nthreads=2)
    c.start_worker(nthreads=2)
    p = c.pipeline("followed", [{"op": "mark", "ms": 40}, {"op": "reduce"},
                                {"op": "mark", "ms": 40}, {"op": "reduce"}], count=n)
    [jid] = c.submit(p)
    conn = ["--scheduler", c.url, "--token-file", c.token_file]
    followers = [subprocess.Popen([c.bins["neurodag"], "wait", str(jid)] + conn,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=c.env()),
                 subprocess.Popen([c.bins["neurodag"], "submit", "--wait", p] + conn,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=c.env())]
    try:
        for how in (signal.SIGKILL, signal.SIGTERM):
            wait_for(lambda: c.job(jid)["done"] >= (10 if how == signal.SIGKILL else n + 10),
                     30, "progress before the %s" % how.name)
            c.sched.signal(how)
            c.sched.wait(10)
            time.sleep(1.5)
            check(all(f.poll() is None for f in followers),
                  "the followers are still waiting after the %s" % how.name)
            c.start_scheduler()
        outs = [f.communicate(timeout=60) for f in followers]
    finally:
        for f in followers:
            if f.poll() is None:
                f.kill()
                f.wait()
    for f, (out, err) in zip(followers, outs):
        check(f.returncode == 0, "a follower exited %d: %s" % (f.returncode, err[-800:]))
        check("reconnected" in err, "it says it reconnected: %r" % err[-800:])
    j = c.job(jid)
    check(j["state"] == "done" and j["results"] == {str(n): {"inputs": 0},
                                                     str(2 * n + 1): {"inputs": 1}},
          "the followed job: %s" % j)
    second = int(outs[1][0].split()[0])
    check(c.job(second)["state"] == "done", "the job submitted with --wait is done")
    ran = set(t for t, _, _ in c.marks(jid))
    check(ran == set(range(n)) | set(range(n + 1, 2 * n + 1)), "every unit task ran")
    # A follower told not to re-dial gives up at once, as before.
    r = c.cli("wait", jid, "--reconnect-timeout", "0")
    check(r.returncode == 0, "wait on a done job")


@test
def soak(c):
    """A bounded soak (ND_SOAK_SECONDS, default 60): jobs keep arriving while workers are killed
    with SIGKILL or frozen with SIGSTOP (some past the TTL) at random moments, and the scheduler
    is killed and restarted twice. Every job finishes with the results of an undisturbed run,
    every unit task ran, and /health answers throughout (between the scheduler restarts)."""
    import random
    import signal
    from rt_harness import expected_mark_reduce
    rng = random.Random(int(os.environ.get("ND_SOAK_SEED", "15")))
    seconds = float(os.environ.get("ND_SOAK_SECONDS", "60"))
    n = 30
    c.start_scheduler(wait_timeout=120)
    workers = [c.start_worker(nthreads=2) for _ in range(3)]
    pipeline = c.pipeline("soak", [{"op": "mark", "ms": 15}, {"op": "reduce"},
                                   {"op": "mark", "ms": 15}, {"op": "reduce"}], count=n)
    jobs, stats, probes = [], {"kill": 0, "stop": 0, "sched": 0}, [c.probe_health()]
    restarts = sorted(rng.uniform(0.25, 0.75) * seconds for _ in range(2))
    t0 = time.monotonic()
    frozen = []
    while time.monotonic() - t0 < seconds:
        now = time.monotonic() - t0
        for pid, until in list(frozen):
            if now >= until:
                os.kill(pid, signal.SIGCONT)
                frozen.remove((pid, until))
        try:
            running = [j for j in jobs if c.job(j)["state"] in ("running", "waiting")]
            if len(running) < 3:
                jobs += c.submit(pipeline)
        except Exception as e:  # the scheduler may be down for a moment
            print("status/submit during chaos: %s" % e)
        if restarts and now >= restarts[0]:
            restarts.pop(0)
            probes[-1].stop()
            c.sched.signal(signal.SIGKILL)
            c.sched.wait(5)
            c.start_scheduler(wait_timeout=120)
            probes.append(c.probe_health())
            stats["sched"] += 1
        alive = [w for w in workers if w.alive() and all(w.pid != p for p, _ in frozen)]
        if alive and rng.random() < 0.5:
            w = rng.choice(alive)
            if rng.random() < 0.5:
                w.signal(signal.SIGKILL)
                w.wait(5)
                workers.append(c.start_worker(nthreads=2))
                stats["kill"] += 1
            else:
                os.kill(w.pid, signal.SIGSTOP)
                frozen.append((w.pid, now + rng.uniform(0.3, 2.5)))
                stats["stop"] += 1
        time.sleep(rng.uniform(0.3, 1.2))
    for pid, _ in frozen:
        os.kill(pid, signal.SIGCONT)
    for jid in jobs:
        r = c.cli("wait", jid, "--timeout", 120, timeout=150)
        check(r.returncode == 0, "job %d finishes: %d %s" % (jid, r.returncode, r.stderr))
    for jid in jobs:
        j = c.job(jid)
        check(j["state"] == "done" and j["done"] == j["tasks"] == 2 * n + 2 and
              j["results"] == expected_mark_reduce(n),
              "job %d: nothing lost or duplicated: %s" % (jid, {k: j[k] for k in (
                  "state", "done", "tasks", "results")}))
        ran = set(t for t, _, _ in c.marks(jid))
        check(ran == set(range(n)) | set(range(n + 1, 2 * n + 1)),
              "job %d: every unit task ran" % jid)
    print("soak of %.0f s: %d jobs, %d worker kills, %d freezes, %d scheduler kills" %
          (seconds, len(jobs), stats["kill"], stats["stop"], stats["sched"]))
    check(len(jobs) >= 5 and stats["kill"] + stats["stop"] >= 5, "the soak did something")
    for i, pr in enumerate(probes):
        check_health(pr.stop(), "the soak (scheduler %d)" % (i + 1))


@test
def task_timeout(c):
    """A task that hangs while its worker keeps sending heartbeats is given up after its job's
    execution.task_timeout and retried; after the last attempt the job fails saying so, and the
    worker, told to stop it, takes the next job."""
    c.start_scheduler()
    w = c.start_worker(nthreads=2)
    p = c.pipeline("hangs", [{"op": "sleep", "ms": 60000}], count=2,
                   execution={"task_timeout": 1})
    t0 = time.monotonic()
    r = c.cli("submit", "--wait", p, timeout=60)
    dt = time.monotonic() - t0
    check(r.returncode == 1, "the job fails: %d %s" % (r.returncode, r.stderr))
    jid = int(r.stdout.split()[0])
    err = c.job(jid)["error"]
    check("timed out" in err and "after 3 attempts" in err, "it says why: %r" % err)
    check(dt < 20, "three attempts of 1 s, not 60 s sleeps (%.1f s)" % dt)
    check(w.alive(), "the worker is alive")
    r = c.cli("submit", "--wait", c.pipeline("next", [{"op": "noop"}], count=4), timeout=30)
    check(r.returncode == 0, "the worker takes the next job: %s" % r.stderr)
    r = c.cli("submit", c.pipeline("bad", [{"op": "noop"}], count=1,
                                   execution={"task_timeout": -1}))
    check(r.returncode == 2 and "execution.task_timeout" in r.stderr, "a bad limit is refused")


@test
def check_state(c):
    """`neurodag-scheduler --check` says OK on a sound state database and refuses a damaged one,
    naming it (it used to say OK)."""
    import subprocess
    c.start_scheduler()
    w = c.start_worker()
    check(c.cli("submit", "--wait", c.pipeline("j", [{"op": "noop"}], count=3)).returncode == 0,
          "a job")
    c.stop(w)
    c.stop(c.sched)
    argv = [c.bins["scheduler"], "--check", "--state-dir", c.state]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "configuration OK" in r.stdout, "sound: %r" % r.stderr)
    db = os.path.join(c.state, "state.db")
    with open(db, "r+b") as f:
        f.seek(100)
        f.write(os.urandom(2000))
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "state.db" in r.stderr and "configuration OK" not in r.stdout,
          "damaged: %d %r %r" % (r.returncode, r.stdout, r.stderr))
