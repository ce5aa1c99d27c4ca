"""Black-box runtime tests of big submissions: the task budgets, the largest pipelines and the
submissions of thousands of recordings a scheduler takes, with /health answering and the loop's
passes short throughout, and the cost of checking a submission's outputs against every
unfinished job's. Registered into the shared test table; run through test-runtime.py."""
import os
import time

from rt_harness import check, check_health, test, wait_for  # noqa: F401


@test
def graph_budget(c):
    """A pipeline of 1e8 tasks is refused at once with a clear error naming the budget; one of
    4e6 tasks (under the budget) is built in slices while /health keeps answering; a scheduler
    whose total budget is taken refuses the next job; cancelling returns the memory."""
    def rss():
        with open("/proc/%d/status" % c.sched.pid) as f:
            return int(next(ln for ln in f if ln.startswith("VmRSS:")).split()[1]) << 10

    c.start_scheduler(extra=["--max-tasks", "6000000"], perturb=False)
    base = rss()
    t0 = time.monotonic()
    r = c.cli("submit", c.pipeline("huge", [{"op": "noop"}], count=100000000))
    dt = time.monotonic() - t0
    check(r.returncode == 2 and "100000000 tasks" in r.stderr and "--max-job-tasks" in r.stderr,
          "1e8 tasks are refused: %d %r" % (r.returncode, r.stderr))
    print("1e8-task submit refused in %.3f s, scheduler RSS %.1f MiB" % (dt, rss() / 2**20))
    check(rss() - base < 64 << 20, "nothing was allocated for it")
    # 43 staged stages of 1e8 tasks are 4.3e9, past 32-bit task numbers (they wrapped to 5e6).
    r = c.cli("submit", c.pipeline("wraps", [{"op": "noop"}] * 43, count=100000000,
                                   execution={"mode": "staged"}))
    check(r.returncode == 2 and "4300000000 tasks" in r.stderr,
          "4.3e9 tasks are refused: %d %r" % (r.returncode, r.stderr))
    probe = c.probe_health(interval=0.01)
    time.sleep(0.5)
    [big] = c.submit(c.pipeline("big", [{"op": "noop"}, {"op": "reduce"}], count=4000000))
    wait_for(lambda: c.job(big)["tasks_by_state"]["ready"] == 4000000, 60,
             "the big job's tasks to be queued")
    time.sleep(0.5)
    stats = probe.stop()
    peak = rss()
    r = c.cli("submit", c.pipeline("over", [{"op": "noop"}], count=3000000))
    check(r.returncode == 2 and "--max-tasks" in r.stderr,
          "the scheduler's budget is enforced: %d %r" % (r.returncode, r.stderr))
    check(c.cli("cancel", big).returncode == 0, "cancel the big job")
    time.sleep(0.5)
    after = rss()
    print("4M-task job: RSS %.1f MiB queued, %.1f MiB after cancel (%.1f before)" %
          (peak / 2**20, after / 2**20, base / 2**20))
    check(after - base < (peak - base) / 2, "cancelling returns the memory")
    check_health(stats, "building a 4M-task graph")


@test
def submit_at_budget(c):
    """The largest submits a default scheduler takes keep its loop answering: a pipeline of the
    most steps a pipeline may have (1000, staged: 1000 stages) making as many tasks as one job
    may have (--max-job-tasks, 10 million), while /health is probed every 10 ms. One step more
    is refused at once (a pipeline of 200,000 steps used to hold the loop for 47 s)."""
    c.start_scheduler(perturb=False)
    probe = c.probe_health(interval=0.01)
    time.sleep(0.5)
    r = c.cli("submit", c.pipeline("steps", [{"op": "noop"}] * 1001, count=1))
    check(r.returncode == 2 and "1001 steps" in r.stderr and "(1000)" in r.stderr,
          "a pipeline of 1001 steps is refused: %d %r" % (r.returncode, r.stderr))
    r = c.cli("submit", c.pipeline("tasks", [{"op": "noop"}], count=10000001))
    check(r.returncode == 2 and "--max-job-tasks" in r.stderr,
          "a job of 10000001 tasks is refused: %d %r" % (r.returncode, r.stderr))
    t0 = time.monotonic()
    [big] = c.submit(c.pipeline("budget", [{"op": "noop"}] * 1000, count=10000,
                                execution={"mode": "staged"}))
    dt = time.monotonic() - t0
    wait_for(lambda: c.job(big)["tasks_by_state"]["ready"] == 10000, 60,
             "the first stage to be queued")
    j = c.job(big)
    check(j["tasks"] == 10000000, "10 million tasks: %s" % j["tasks"])
    time.sleep(0.5)
    check(c.cli("cancel", big).returncode == 0, "cancel it")
    time.sleep(0.5)
    stats = probe.stop()
    print("a submit at the budget (1000 stages, 10M tasks) accepted in %.2f s" % dt)
    check_health(stats, "a submit of 1000 steps and 10 million tasks, and its cancel")


@test
def submit_many_inputs(c):
    """A submission of 2000 recordings (each header read, each pipeline of 15 steps built) is
    built input by input across loop passes: /health keeps answering and the loop's longest
    pass stays short (it used to build them all in one pass: 2.4 s of wall and 0.7 s of CPU
    time); it stays all or nothing (one bad input refuses it, nothing accepted), and the job ids
    of a refused submission are given back."""
    import json
    import shutil
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "small.edf")
    ind, outd = os.path.join(c.dir, "in"), os.path.join(c.dir, "out")
    os.makedirs(ind)
    os.makedirs(outd)
    first = os.path.join(ind, "r00000.edf")
    shutil.copy(src, first)
    inputs = [first]
    for i in range(1, 2000):
        inputs.append(os.path.join(ind, "r%05d.edf" % i))
        os.link(first, inputs[-1])
    p = os.path.join(c.dir, "many.json")
    with open(p, "w") as f:
        json.dump({"name": "many", "input": {"format": "edf"},
                   "steps": [{"op": "highpass", "freq": 1.0}] * 15,
                   "output": {"format": "edf", "path": outd + "/"}}, f)
    c.start_scheduler()
    probe = c.probe_health(interval=0.01)
    bad = os.path.join(ind, "zz-missing.edf")
    r = c.cli("submit", p, *(inputs[:1500] + [bad] + inputs[1500:]), timeout=120)
    check(r.returncode == 2 and bad in r.stderr, "one missing input refuses the submission: %d %r"
          % (r.returncode, r.stderr[-300:]))
    check(c.cli_json("jobs") == [], "nothing of it was accepted")
    t0 = time.monotonic()
    r = c.cli("submit", p, *inputs, timeout=120)
    dt = time.monotonic() - t0
    check(r.returncode == 0, "2000 inputs are taken: %d %r" % (r.returncode, r.stderr[-300:]))
    ids = [int(x) for x in r.stdout.split()]
    check(ids == list(range(1, 2001)), "2000 jobs, the ids of the refused one given back: %s..."
          % ids[:3])
    print("2000 inputs submitted in %.1f s" % dt)
    check_health(probe.stop(), "a submission of 2000 recordings")


def cpu_s(pid):
    """User and system CPU time a process has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def linked_inputs(c, folder, n):
    """n hard links of the small EDF fixture in c.dir/folder (cheap: one file)."""
    import shutil
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "small.edf")
    d = os.path.join(c.dir, folder)
    os.makedirs(d, exist_ok=True)
    first = os.path.join(d, "r00000.edf")
    shutil.copy(src, first)
    paths = [first]
    for i in range(1, n):
        paths.append(os.path.join(d, "r%05d.edf" % i))
        os.link(first, paths[-1])
    return paths


@test
def submit_outputs_scale(c):
    """No two unfinished jobs may write one output: a new job's output is looked up among the
    unfinished jobs' (and its own submission's) by canonical name, in log n. A submission of
    5000 recordings while 5000 others are unfinished (no worker: they wait) costs the scheduler
    little CPU; each output used to be compared with every unfinished job's by stat and
    realpath, and with every earlier input's of its submission (25 million comparisons, minutes
    of CPU). Collisions are still refused: an output an unfinished job writes, spelled another
    way, and two inputs of one submission with one output."""
    import json
    n = int(os.environ.get("ND_OUTPUTS_N", "5000"))
    inputs = linked_inputs(c, "in", 2 * n)
    outd = os.path.join(c.dir, "out")
    os.makedirs(outd)
    p = os.path.join(c.dir, "p.json")
    with open(p, "w") as f:
        json.dump({"name": "o", "input": {"format": "edf"},
                   "steps": [{"op": "highpass", "freq": 1.0}],
                   "output": {"format": "edf", "path": outd + "/", "report": False}}, f)
    c.start_scheduler(wait_timeout=600, perturb=False)
    probe = c.probe_health(interval=0.02)
    figures = []
    for k in range(2):
        cpu0, t0 = cpu_s(c.sched.pid), time.monotonic()
        r = c.cli("submit", p, *inputs[k * n:(k + 1) * n], timeout=600)
        figures.append((time.monotonic() - t0, cpu_s(c.sched.pid) - cpu0))
        check(r.returncode == 0, "submission %d of %d inputs is taken: %d %r" %
              (k + 1, n, r.returncode, r.stderr[-300:]))
    print("%d inputs: %.2f s (%.2f s of scheduler CPU); %d more while those are unfinished: "
          "%.2f s (%.2f s of CPU)" % (n, figures[0][0], figures[0][1], n, figures[1][0],
                                      figures[1][1]))
    check(figures[1][1] < max(10.0, 3 * figures[0][1]),
          "the second submission costs about what the first did: %s" % figures)
    again = os.path.join(c.dir, "in", "..", "out", "")
    r = c.cli("submit", p, "--output", again, inputs[n + 7], timeout=60)
    check(r.returncode == 2 and "still running" in r.stderr and
          "r%05d.edf" % (n + 7) in r.stderr, "an unfinished job's output, spelled otherwise, "
          "is refused: %d %r" % (r.returncode, r.stderr[-300:]))
    other = linked_inputs(c, "in2", 1)[0]
    fresh = os.path.join(c.dir, "in3")
    os.makedirs(fresh)
    twin = os.path.join(fresh, "r00000.edf")
    os.link(other, twin)
    os.makedirs(os.path.join(c.dir, "out2"))
    r = c.cli("submit", p, "--output", os.path.join(c.dir, "out2") + "/", other, twin,
              timeout=60)
    check(r.returncode == 2 and "another input of this submission" in r.stderr,
          "two inputs with one output are refused: %d %r" % (r.returncode, r.stderr[-300:]))
    check_health(probe.stop(), "two submissions of %d recordings" % n)
