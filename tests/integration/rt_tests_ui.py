"""What users look at: /metrics as Prometheus's own checker reads it (per-worker and per-op
series, process and build figures) and the dashboard as headless Chromium renders it."""
import os
import shutil
import subprocess

from rt_harness import Skip, check, metric, test, wait_for


def promtool_check(text):
    """`promtool check metrics` on a scrape; exit 0 and no lint complaint."""
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI"):
            check(False, "promtool is missing (deploy/setup.sh --test installs prometheus)")
        raise Skip("promtool not installed (Debian package prometheus)")
    r = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True,
                       timeout=60)
    check(r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(),
          "promtool check metrics: exit %d: %s%s" % (r.returncode, r.stdout, r.stderr))
    print("promtool check metrics: accepted (%d lines)" % len(text.splitlines()))


@test
def metrics_promtool(c):
    c.start_scheduler()
    w1 = c.start_worker(nthreads=2)
    w2 = c.start_worker(nthreads=1)
    wait_for(lambda: c.workers_connected() == 2, 10, "two workers")
    p = c.pipeline("two-ops", [{"op": "sleep", "ms": 30}, {"op": "reduce"}], count=12)
    check(c.cli("submit", "--wait", p).returncode == 0, "the job runs")
    bad = c.pipeline("fails", [{"op": "fail", "message": "broken on purpose"}], count=1)
    c.cli("submit", "--wait", bad)
    # Heartbeats carry the workers' memory and CPU: wait for one from each.
    wait_for(lambda: all("rss_bytes" in w for w in c.http_json("/api/workers")), 10,
             "heartbeats with memory and CPU")
    st, ctype, text = c.http("/metrics")
    check(st == 200, "GET /metrics")
    promtool_check(text)
    m = c.metrics()
    ws = {w["pid"]: w for w in c.http_json("/api/workers")}
    for pid, slots in ((w1.pid, 2), (w2.pid, 1)):
        w = ws[pid]
        lab = {"worker": str(w["id"]), "host": w["host"]}
        check(metric(m, "neurodag_worker_slots", **lab) == slots, "slots of worker %s" % lab)
        check(metric(m, "neurodag_worker_running_tasks", **lab) == 0, "running of %s" % lab)
        rss = metric(m, "neurodag_worker_resident_memory_bytes", **lab)
        check(rss is not None and 1 << 20 < rss < 8 << 30, "RSS of %s: %s" % (lab, rss))
        cpu = metric(m, "neurodag_worker_cpu_seconds_total", **lab)
        check(cpu is not None and cpu > 0, "CPU of %s: %s" % (lab, cpu))
    ops = {dict(k[1])["op"]: v for k, v in m.items() if k[0] == "neurodag_task_run_seconds_count"}
    check(ops.get("sleep") == 12 and ops.get("reduce") == 1 and ops.get("fail", 0) >= 1,
          "run-time histogram per op: %s" % ops)
    slept = metric(m, "neurodag_task_run_seconds_sum", op="sleep")
    check(slept is not None and 12 * 0.03 <= slept < 12 * 0.03 + 5, "12 sleeps of 30 ms: %s" %
          slept)
    edges = sorted(float(dict(k[1])["le"]) for k in m if k[0] ==
                   "neurodag_task_queue_wait_seconds_bucket")
    check(edges[-2] >= 3600, "queue-wait buckets reach hours: %s" % edges)
    check(metric(m, "neurodag_task_queue_wait_seconds_count") >= 14, "queue waits counted")
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                 "process_open_fds", "process_start_time_seconds"):
        check((metric(m, name) or 0) > 0, "%s: %s" % (name, metric(m, name)))
    info = [dict(k[1]) for k in m if k[0] == "neurodag_build_info"]
    check(len(info) == 1 and info[0].get("version"), "build info: %s" % info)
    print("per-worker series for %d workers, per-op series for %s" % (len(ws), sorted(ops)))
