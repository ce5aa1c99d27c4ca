"""Black-box runtime tests of what a long-lived scheduler must survive: retention of finished
jobs and their work dirs, full disks, hostile peers, restarts under followers. Registered into
the shared test table; run through test-runtime.py."""
import os
import time

from rt_harness import check, metric, test, wait_for  # noqa: F401


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
    m = c.metrics()
    check(metric(m, "neurodag_work_dirs_removed_total") == 3, "removals are counted: %s" %
          metric(m, "neurodag_work_dirs_removed_total"))
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
