#!/usr/bin/python3
"""The correction report, black-box: the standard pipeline on a synthetic recording writes an
HTML page beside its output and `neurodag run` prints where; the page names its figures, which
are PNG files; headless Chromium loads the page (served on loopback, in a same-origin frame of a
check page) with every image decoded at its size and no console message; through a scheduler on
loopback, `submit --wait` prints the path, the dashboard links the report and serves it with its
figures, and nothing else. Without Chromium the files are checked and the rendering skipped.
Usage: check-report.py NEURODAG SCHEDULER WORKER EXAMPLES_DIR"""
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

NEURODAG, SCHEDULER, WORKER, EXAMPLES = (os.path.abspath(a) for a in sys.argv[1:5])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rt_harness  # noqa: E402
TMP = tempfile.mkdtemp(prefix="nd-report-")
FAILS = []

HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>check</title></head>
<body><pre id="result">pending</pre><iframe id="f" src="%s" width="1000" height="800"></iframe>
<script>
const f = document.getElementById('f');
f.addEventListener('load', () => {
  const imgs = Array.from(f.contentDocument.images);
  const done = () => imgs.every(i => i.complete);
  const report = () => { document.getElementById('result').textContent = JSON.stringify(
    imgs.map(i => ({src: i.getAttribute('src'), w: i.naturalWidth, h: i.naturalHeight}))); };
  const wait = () => done() ? report() : setTimeout(wait, 50);
  wait();
});
</script></body></html>
"""


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    handler = functools.partial(Quiet, directory=root)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def chromium_path():
    return next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                 if os.path.exists(p)), None)


def fetch(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read()


def through_scheduler(syn):
    """submit --wait prints the report; the dashboard links it; the scheduler serves it."""
    bins = {"neurodag": NEURODAG, "scheduler": SCHEDULER,
            "worker": WORKER}
    with rt_harness.Cluster(bins, "report") as c:
        c.start_scheduler()
        c.start_worker()
        r = c.cli("submit", "--wait", os.path.join(EXAMPLES, "fmri-standard.json"),
                  os.path.join(syn, "recording.edf"), "-o", os.path.join(syn, "sub.edf"),
                  timeout=300)
        page = os.path.join(syn, "sub.report.html")
        check(r.returncode == 0 and ("report: %s" % page) in r.stdout.splitlines(),
              "submit --wait prints the report's path: %r %s" % (r.stdout, r.stderr[-300:]))
        jobs = c.http_json("/api/jobs")
        check(jobs and jobs[-1].get("report") == page, "/api/jobs names the report")
        jid = jobs[-1]["id"] if jobs else 0
        st, ctype, body = fetch(c.http_port, "/api/jobs/%d/report" % jid)
        check(st == 200 and ctype.startswith("text/html") and b"sub.report/epoch.png" in body,
              "/api/jobs/%d/report serves the page (HTTP %d)" % (jid, st))
        st, ctype, body = fetch(c.http_port, "/api/jobs/%d/sub.report/epoch.png" % jid)
        check(st == 200 and ctype == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n",
              "the page's figures are served beside it (HTTP %d, %s)" % (st, ctype))
        for bad in ("sub.report/../sub.edf", "sub.report/", "other/epoch.png", "sub.edf"):
            st, _, _ = fetch(c.http_port, "/api/jobs/%d/%s" % (jid, bad))
            check(st == 404, "/api/jobs/%d/%s is refused (HTTP %d)" % (jid, bad, st))
        chromium = chromium_path()
        if chromium is not None:
            dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                                  "--disable-background-networking", "--no-first-run",
                                  "--user-data-dir=" + os.path.join(TMP, "chromium-dash"),
                                  "--virtual-time-budget=3000", "--dump-dom",
                                  "http://127.0.0.1:%d/" % c.http_port],
                                 capture_output=True, text=True, timeout=60)
            check('href="/api/jobs/%d/report"' % jid in dom.stdout,
                  "the rendered dashboard links the job's report")


def render(page):
    chromium = chromium_path()
    if chromium is None:
        print("chromium not installed: the report was checked, not rendered")
        return
    root = os.path.dirname(page)
    with open(os.path.join(root, "harness.html"), "w") as f:
        f.write(HARNESS % os.path.basename(page))
    srv = serve(root)
    try:
        r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            "--disable-background-networking", "--no-first-run",
                            "--user-data-dir=" + os.path.join(TMP, "chromium"),
                            "--enable-logging=stderr", "--v=0",
                            "--virtual-time-budget=10000", "--dump-dom",
                            "http://127.0.0.1:%d/harness.html" % srv.server_address[1]],
                           capture_output=True, text=True, timeout=120)
    finally:
        srv.shutdown()
    check(r.returncode == 0, "chromium --dump-dom: exit %d" % r.returncode)
    m = re.search(r'<pre id="result">(.*?)</pre>', r.stdout, re.S)
    imgs = json.loads(m.group(1)) if m and m.group(1).startswith("[") else None
    check(imgs is not None and len(imgs) >= 5,
          "chromium shows the page's images: %s" % (imgs if imgs else r.stdout[-300:]))
    for i in imgs or []:
        check(i["w"] == 900 and i["h"] == 420, "image %s decoded at 900 x 420 (%d x %d)"
              % (i["src"], i["w"], i["h"]))
    console = [ln for ln in r.stderr.splitlines() if "CONSOLE" in ln or
               "Failed to load resource" in ln or "Uncaught" in ln]
    check(not console, "no console messages while loading the report: %s" % console[:3])


def pulse(syn):
    """R peaks from a file (one beat every 0.83 s): the pulse-locked figure; a missing file
    is refused naming the step and the file."""
    with open(os.path.join(EXAMPLES, "fmri-standard.json")) as f:
        p = json.load(f)
    p["steps"].append({"op": "report", "r_peaks": "peaks.json"})
    pj = os.path.join(syn, "with-peaks.json")
    with open(pj, "w") as f:
        json.dump(p, f)
    fs = 2048.0
    with open(os.path.join(syn, "peaks.json"), "w") as f:
        json.dump({"fs": fs, "samples": [int(fs * (0.5 + 0.83 * k)) for k in range(22)]}, f)
    r = subprocess.run([NEURODAG, "run", "-q", pj, os.path.join(syn, "recording.edf"), "-o",
                        os.path.join(syn, "pulse.edf")], capture_output=True, text=True,
                       timeout=300)
    shot = os.path.join(syn, "pulse.report", "pulse.png")
    check(r.returncode == 0 and png_size(shot) == (900, 420),
          "R peaks from the step's r_peaks file: the pulse-locked figure (%s)"
          % r.stderr.strip()[-200:])
    os.unlink(os.path.join(syn, "peaks.json"))
    r = subprocess.run([NEURODAG, "run", "-q", pj, os.path.join(syn, "recording.edf"), "-o",
                        os.path.join(syn, "pulse2.edf")], capture_output=True, text=True,
                       timeout=300)
    check(r.returncode != 0 and "r_peaks: peaks.json" in r.stderr,
          "a missing r_peaks file fails naming it: %s" % r.stderr.strip()[-200:])


def main():
    try:
        syn = os.path.join(TMP, "syn")
        subprocess.run([NEURODAG, "synth", "fmri", "--channels", "4", "--duration", "20",
                        "--seed", "4", "-o", syn], check=True, capture_output=True)
        out = os.path.join(syn, "corrected.edf")
        r = subprocess.run([NEURODAG, "run", "-q", os.path.join(EXAMPLES, "fmri-standard.json"),
                            os.path.join(syn, "recording.edf"), "-o", out],
                           capture_output=True, text=True, timeout=300)
        page = os.path.join(syn, "corrected.report.html")
        check(r.returncode == 0 and ("report: %s" % page) in r.stdout.splitlines(),
              "neurodag run prints the report's path: %r %s" % (r.stdout, r.stderr[-200:]))
        check(os.path.exists(page), "the report is beside the output")
        with open(page, encoding="utf-8") as f:
            html = f.read()
        srcs = re.findall(r'<img src="([^"]+)"', html)
        check(len(srcs) >= 5 and all(s.startswith("corrected.report/") for s in srcs),
              "the page names its figures in corrected.report/: %s" % srcs)
        for s in srcs:
            check(png_size(os.path.join(syn, s)) == (900, 420), "%s is a 900 x 420 PNG" % s)
        check("<td>" in html and "median artifact reduction" in html,
              "the page has the per-channel table and the summary")
        r = subprocess.run([NEURODAG, "run", "-q", "--json",
                            os.path.join(EXAMPLES, "fmri-standard.json"),
                            os.path.join(syn, "recording.edf"), "-o",
                            os.path.join(syn, "again.edf")],
                           capture_output=True, text=True, timeout=300)
        rep = json.loads(r.stdout) if r.returncode == 0 else {}
        check(rep.get("report") == os.path.join(syn, "again.report.html"),
              "the job's JSON report names the page: %s" % rep.get("report"))
        pulse(syn)
        render(page)
        through_scheduler(syn)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
