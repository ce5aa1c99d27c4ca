"""What users look at: /metrics as Prometheus's own checker reads it (per-worker and per-op
series, process and build figures) and the dashboard as headless Chromium renders it."""
import os
import re
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


EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                        "examples")
LONG_ERROR = ("channel C3: the template fit diverged after 40 iterations; " * 6 +
              "the end of the message")


def chromium(c, url, *args, timeout=90):
    """Headless Chromium on url; its console messages (errors included) go to stderr."""
    exe = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                if os.path.exists(p)), None)
    if exe is None:
        if os.environ.get("CI"):
            check(False, "chromium is missing (deploy/setup.sh --test installs it)")
        raise Skip("chromium not installed")
    r = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--hide-scrollbars",
                        "--user-data-dir=" + os.path.join(c.dir, "chromium"),
                        "--enable-logging=stderr", "--v=0", "--virtual-time-budget=4000"] +
                       list(args) + ["http://127.0.0.1:%d/%s" % (c.http_port, url)],
                       capture_output=True, text=True, timeout=timeout)
    check(r.returncode == 0, "chromium %s: exit %d: %s" % (url, r.returncode, r.stderr[-500:]))
    console = [ln for ln in r.stderr.splitlines()
               if "CONSOLE" in ln or "Uncaught" in ln or "Failed to load resource" in ln]
    check(not console, "no console message on %s: %s" % (url or "/", console[:3]))
    return r.stdout


def screenshots(c, url, name):
    """The page at a desktop and a phone width, kept in the test output."""
    out = os.environ.get("ND_DASHBOARD_SHOTS", os.path.join(os.getcwd(), "dashboard-shots"))
    os.makedirs(out, exist_ok=True)
    for width, height in ((1280, 1400), (420, 2400)):
        path = os.path.join(out, "%s-%d.png" % (name, width))
        chromium(c, url, "--window-size=%d,%d" % (width, height), "--screenshot=" + path)
        check(os.path.getsize(path) > 10000, "screenshot %s" % path)
        print("screenshot: %s" % path)


@test
def dashboard(c):
    c.start_scheduler()
    w1 = c.start_worker(nthreads=2)
    w2 = c.start_worker(nthreads=1)
    wait_for(lambda: c.workers_connected() == 2, 10, "two workers")
    syn = os.path.join(c.dir, "syn")
    r = c.cli("synth", "fmri", "--channels", "4", "--duration", "20", "--seed", "4", "-o", syn,
              conn=False)
    check(r.returncode == 0, "synth: %s" % r.stderr)
    r = c.cli("submit", "--wait", os.path.join(EXAMPLES, "fmri-standard.json"),
              os.path.join(syn, "recording.edf"), "-o", os.path.join(syn, "corrected.edf"),
              timeout=300)
    check(r.returncode == 0, "the correction runs: %s" % r.stderr[-500:])
    corr = c.http_json("/api/jobs")[-1]
    check(corr.get("report"), "the correction wrote a report: %s" % corr)
    r = c.cli("submit", "--wait", c.pipeline("broken", [{"op": "fail", "message": LONG_ERROR}],
                                             count=1))
    check(r.returncode == 1, "the failing job fails")
    failed = c.http_json("/api/jobs")[-1]["id"]
    check(c.cli("submit", "--wait", c.pipeline("many", [{"op": "sleep", "ms": 40}],
                                               count=30)).returncode == 0, "a job of 30 tasks")
    [slow] = c.submit(c.pipeline("slow", [{"op": "sleep", "ms": 8000}, {"op": "reduce"}],
                                 count=4))
    wait_for(lambda: c.job(slow)["tasks_by_state"]["assigned"] == 3, 10, "the slow job runs")
    wait_for(lambda: all("rss_bytes" in w for w in c.http_json("/api/workers")), 10,
             "the workers' memory")

    dom = chromium(c, "", "--dump-dom").split("<script", 1)[0]
    for w in c.http_json("/api/workers"):
        check(dom.count('data-worker="%d"' % w["id"]) >= 3,
              "the task stream has worker %d's tasks" % w["id"])
    check('class="task running"' in dom and 'class="task failed"' in dom,
          "the stream shows running and failed tasks")
    check(re.search(r">sleep</span>", dom) and re.search(r">%d</a></td><td>sleep<" % slow, dom),
          "progress by op names the slow job's op")
    check(len(re.findall(r'class="num mem">\d+(\.\d)? MiB<', dom)) == 2, "workers' memory")
    check(LONG_ERROR in dom and '<tr class="err">' in dom,
          "the failed job's error is in the jobs table, in full text")
    check('href="/api/jobs/%d/report"' % corr["id"] in dom, "the jobs table links the report")
    for pid in (w1.pid, w2.pid):
        check(">%d<" % pid in dom, "worker pid %d listed" % pid)

    page = chromium(c, "#job/%d" % corr["id"], "--dump-dom").split("<script", 1)[0]
    figs = re.findall(r'<img src="/api/jobs/%d/([^"]+)"[^>]*data-loaded="1"' % corr["id"], page)
    check(len(figs) >= 5, "the job page shows the report's figures, loaded: %s" % figs)
    check("median artifact reduction" in page and re.search(r"RMS ratio.*?\d+\.\d\d", page) and
          page.count("\u00b5V") >= 4, "the job page has the quality figures")
    for st in corr["stages"] if "stages" in corr else c.job(corr["id"])["stages"]:
        check(">%s<" % st["label"] in page, "the graph shows stage %s" % st["label"])
    page = chromium(c, "#job/%d" % failed, "--dump-dom").split("<script", 1)[0]
    m = re.search(r'<pre class="error" id="job-error">(.*?)</pre>', page, re.S)
    check(m and LONG_ERROR in m.group(1), "the failed job's page shows its error in full")

    screenshots(c, "", "dashboard")
    screenshots(c, "#job/%d" % corr["id"], "job-correction")
    screenshots(c, "#job/%d" % failed, "job-failed")
    c.cli("cancel", slow)
