"""Black-box runtime tests of what peers see: refused pipelines and tokens, garbage on the
socket, many clients at once, the HTTP status endpoint and dashboard, and the CLI's commands.
Registered into the shared test table; run through test-runtime.py."""
import json
import os
import random
import re
import socket
import struct
import subprocess

from rt_harness import (MARK_REDUCE, check, expected_mark_reduce, metric,  # noqa: F401
                        running_on, test, wait_for)


@test
def bad_pipeline(c):
    c.start_scheduler()
    path = os.path.join(c.dir, "syntax.json")
    with open(path, "w") as f:
        f.write('{"name": "x",\n "input": {"format": "tasks", "count": 3},\n "steps": [\n'
                '  {"op": "noop",}\n ]}\n')
    r = c.cli("submit", path)
    check(r.returncode == 2, "a syntax error exits 2, got %d" % r.returncode)
    check(re.search(r"line 4, column \d+", r.stderr), "names line/column: %r" % r.stderr)
    path = os.path.join(c.dir, "param.json")
    with open(path, "w") as f:
        f.write('{"name": "x",\n "input": {"format": "tasks", "count": 3},\n "steps": [\n'
                '  {"op": "noop"},\n  {"op": "sleep", "ms": -5}\n ]}\n')
    for cmd in (["submit"], ["run", "-n", "1"]):
        r = c.cli(*cmd, path, conn=cmd[0] == "submit")
        check(r.returncode == 2, "%s: a bad parameter exits 2, got %d" % (cmd[0], r.returncode))
        check("steps[1].ms" in r.stderr and "line 5, column 25" in r.stderr,
              "%s names the JSON path and line/column: %r" % (cmd[0], r.stderr))
    r = c.cli("submit", c.pipeline("unk", [{"op": "nosuchop"}], count=1))
    check(r.returncode == 2 and "steps[0]" in r.stderr, "unknown op: %r" % r.stderr)
    check(c.cli_json("jobs") == [], "nothing was accepted")


@test
def wrong_token(c):
    c.start_scheduler()
    bad = os.path.join(c.dir, "bad-token")
    with open(bad, "w") as f:
        f.write("0" * 64 + "\n")
    os.chmod(bad, 0o600)
    p = c.pipeline("t", [{"op": "noop"}], count=1)
    r = c.cli("submit", p, token_file=bad)
    check(r.returncode == 3, "a wrong token exits 3, got %d: %s" % (r.returncode, r.stderr))
    check("token" in r.stderr, "says it is the token: %r" % r.stderr)
    r = c.cli("status", token_file=bad)
    check(r.returncode == 3, "status with a wrong token exits 3")
    w = c.start_worker(token_file=bad)
    rc = w.wait(10)
    check(rc != 0 and "cannot authenticate" in w.text() and "token" in w.text(),
          "the worker gives up: %d" % rc)
    # The peer finds the scheduler's proof wrong and never sends its own: the scheduler sees a
    # HELLO without AUTH.
    check("never proved the token" in c.sched.text(), "the scheduler logs the refusal")
    check(metric(c.metrics(), "neurodag_messages_rejected_total", reason="auth") >= 3,
          "/metrics counts the refusals")
    check(c.cli_json("jobs") == [], "nothing was accepted")


def sp_connect(port, proto=0x30):
    """A raw TCP connection that completes nng's SP handshake as a REQ peer (0x30)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"\x00SP\x00" + struct.pack(">H", proto) + b"\x00\x00")
    hdr = recv_exact(s, 8)
    check(hdr[:4] == b"\x00SP\x00" and struct.unpack(">H", hdr[4:6])[0] == 0x31,
          "SP handshake from the scheduler: %r" % hdr)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return buf
        buf += chunk
    return buf


def sp_call(s, payload, req_id):
    s.sendall(struct.pack(">Q", 4 + len(payload)) + struct.pack(">I", 0x80000000 | req_id) +
              payload)
    n = struct.unpack(">Q", recv_exact(s, 8))[0]
    body = recv_exact(s, n)
    check(body[:4] == struct.pack(">I", 0x80000000 | req_id), "reply matches the request")
    return body[4:]


@test
def garbage(c):
    c.start_scheduler()
    w = c.start_worker()
    rng = random.Random(1234)
    # Raw bytes that are not even an SP handshake.
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", c.port), timeout=5)
        try:
            s.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))))
        except OSError:
            pass
        s.close()
    # Framed garbage after a proper handshake: each gets an error reply, the pipe stays usable.
    payloads = [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 2000))) for _ in range(30)]
    payloads += [b"\x94\x02\xcd\x01\x2c\x05\x80",       # [2, 300 (SUBMIT), 5, {}] before HELLO
                 b"\x94\x07\x64\x01\x80",               # wrong version
                 b"\x94\x02\xcd\x03\xe7\x01\x80",       # unknown type 999
                 b"\x94\x02\x64\x01\xdf\xff\xff\xff\xff",  # a map claiming 4G entries
                 b"\x94\x02\x64\x01\x81\xa1t\xdb\x7f\xff\xff\xff"]  # a string claiming 2 GiB
    s = sp_connect(c.port)
    for i, pl in enumerate(payloads, 1):
        reply = sp_call(s, pl, i)
        check(len(reply) > 0 and reply[0] == 0x94, "error reply %d is a msgpack array" % i)
    s.close()
    # An oversized frame: the scheduler drops that connection only.
    s = sp_connect(c.port)
    s.sendall(struct.pack(">Q", 64 << 20) + b"\x80\x00\x00\x01" + b"x" * 65536)
    s.settimeout(5)
    try:
        gone = s.recv(1) == b""
    except ConnectionResetError:
        gone = True
    check(gone, "the scheduler closes a connection that announces an oversized message")
    s.close()
    # A message just over the limit, really sent.
    s = sp_connect(c.port)
    try:
        s.sendall(struct.pack(">Q", (16 << 20) + 1) + b"\x80\x00\x00\x01" + b"\x00" * (16 << 20))
    except OSError:
        pass
    s.close()
    check(c.sched.alive(), "the scheduler survived")
    p = c.pipeline("after", [{"op": "noop"}], count=10)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 0, "other clients are still served: %s" % r.stderr)
    check(w.alive() and c.workers_connected() == 1, "the worker is still registered")
    m = c.metrics()
    check(metric(m, "neurodag_messages_rejected_total", reason="malformed") >= 30,
          "malformed messages are counted")
    check(metric(m, "neurodag_messages_rejected_total", reason="version") >= 1,
          "a wrong version is counted")


@test
def concurrent_clients(c):
    c.start_scheduler()
    c.start_worker(nthreads=2)
    c.start_worker(nthreads=2)
    p = c.pipeline("many", MARK_REDUCE, count=20)
    procs = [subprocess.Popen([c.bins["neurodag"], "submit", "--wait", p, "--scheduler", c.url,
                               "--token-file", c.token_file], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=c.env())
             for _ in range(20)]
    ids = []
    try:
        for pr in procs:
            out, err = pr.communicate(timeout=60)
            check(pr.returncode == 0, "a concurrent submit exited %d: %s" % (pr.returncode, err))
            ids.append(int(out.split()[0]))
    finally:
        for pr in procs:
            if pr.poll() is None:
                pr.kill()
                pr.wait()
    check(sorted(ids) == list(range(1, 21)), "20 distinct jobs: %s" % sorted(ids))
    for jid in ids:
        j = c.job(jid)
        check(j["state"] == "done" and j["results"] == expected_mark_reduce(20), "job %s" % j)
        check(sorted(t for t, _, _ in c.marks(jid)) == sorted(list(range(20)) +
                                                              list(range(21, 41))),
              "job %d: every task exactly once" % jid)


def check_timings(j):
    for k in ("submitted", "started", "finished"):
        check(isinstance(j[k], float) and j[k] > 1e9, "%s is a wall time: %s" % (k, j[k]))
    check(j["submitted"] <= j["started"] <= j["finished"], "timings are ordered: %s" % j)
    check(j["elapsed_s"] >= 0, "elapsed_s")


@test
def http_status(c):
    c.start_scheduler()
    w = c.start_worker(nthreads=3)
    st, ctype, body = c.http("/health")
    check(st == 200 and body.strip() == "ok", "/health: %d %r" % (st, body))
    p = c.pipeline("good", [{"op": "noop"}], count=30)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 0, "submit")
    p = c.pipeline("bad", [{"op": "fail", "message": "kaputt"}], count=2)
    r = c.cli("submit", "--wait", p)
    check(r.returncode == 1, "failing job")
    p = c.pipeline("slow", [{"op": "sleep", "ms": 3000}], count=4)
    [slow] = c.submit(p)
    wait_for(lambda: running_on(c, w.pid), 10, "a running task")

    s = c.http_json("/api/status")
    for k in ("version", "uptime_s", "workers", "jobs", "tasks", "waiting", "listen"):
        check(k in s, "/api/status has %s" % k)
    check(s["workers"] == 1 and s["jobs"]["done"] == 1 and s["jobs"]["failed"] == 1 and
          s["jobs"]["running"] == 1, "/api/status: %s" % s)
    jobs = c.http_json("/api/jobs")
    check([j["id"] for j in jobs] == [1, 2, 3], "/api/jobs lists the jobs: %s" % jobs)
    j = c.http_json("/api/jobs/1")
    check(j["state"] == "done" and j["progress"] == 1.0 and j["tasks_by_state"]["done"] == 30,
          "/api/jobs/1: %s" % j)
    check_timings(j)
    j = c.http_json("/api/jobs/2")
    check(j["state"] == "failed" and "kaputt" in j["error"], "/api/jobs/2 has the error: %s" % j)
    j = c.http_json("/api/jobs/3")
    tbs = j["tasks_by_state"]
    check(j["state"] == "running" and tbs["assigned"] >= 3 and tbs["assigned"] + tbs["ready"] == 4
          and 0 <= j["progress"] < 1, "running job: %s" % j)
    ws = c.http_json("/api/workers")
    check(len(ws) == 1, "one worker")
    wk = ws[0]
    for k in ("id", "host", "pid", "slots", "running", "last_heartbeat_s_ago"):
        check(k in wk, "/api/workers has %s" % k)
    check(wk["pid"] == w.pid and wk["slots"] == 3 and wk["running"] == tbs["assigned"] and
          wk["host"] == socket.gethostname() and wk["last_heartbeat_s_ago"] < 1.0,
          "/api/workers: %s" % wk)
    st, _, body = c.http("/api/jobs/77")
    check(st == 404, "unknown job: 404")
    st, _, _ = c.http("/nope")
    check(st == 404, "unknown path: 404")
    st, _, _ = c.http("/api/jobs", method="POST")
    check(st == 401, "POST without the token is refused: %d" % st)
    st, _, _ = c.http("/api/status", method="PUT")
    check(st == 405, "PUT is no method of the endpoint: %d" % st)

    m = c.metrics()
    check(metric(m, "neurodag_jobs", state="done") == 1 and
          metric(m, "neurodag_jobs", state="failed") == 1, "jobs by state")
    check(metric(m, "neurodag_tasks", state="assigned") == tbs["assigned"], "tasks by state")
    check(metric(m, "neurodag_workers_connected") == 1, "workers connected")
    check(metric(m, "neurodag_tasks_done_total") >= 30, "tasks done")
    buckets = sorted(((float(dict(k[1])["le"]), v) for k, v in m.items()
                      if k[0] == "neurodag_task_queue_wait_seconds_bucket"))
    check(len(buckets) >= 5 and buckets[-1][0] == float("inf"), "queue-wait histogram buckets")
    check(all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "buckets are cumulative")
    check(buckets[-1][1] == metric(m, "neurodag_task_queue_wait_seconds_count") >= 33,
          "+Inf bucket equals the count")
    for reason in ("malformed", "auth", "too_big", "version"):
        check(metric(m, "neurodag_messages_rejected_total", reason=reason) is not None,
              "rejections by reason: %s" % reason)

    st, ctype, page = c.http("/")
    check(st == 200 and ctype.startswith("text/html") and "<html" in page and
          "/api/workers" in page and "/api/jobs" in page, "dashboard page")
    c.sched_worker_pid = w.pid
    render_dashboard(c)
    c.cli("cancel", slow)


def get_with_host(c, path, host):
    """GET path with exactly this Host header (None: no Host header at all)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", c.http_port, timeout=5)
    try:
        conn.putrequest("GET", path, skip_host=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


@test
def http_host(c):
    """DNS rebinding: a page from a name the attacker owns, pointed at 127.0.0.1, would read the
    status endpoint with its own name in the Host header. Only IP addresses, localhost, the
    --http host and the names given with --http-host are answered; other names get 421 and no
    data, on every path."""
    c.start_scheduler(extra=["--http-host", "status.lab.example"])
    c.start_worker()
    r = c.cli("submit", "--wait", c.pipeline("h", [{"op": "noop"}], count=2))
    check(r.returncode == 0, "a job to report on")
    port = c.http_port
    for host in ("127.0.0.1:%d" % port, "127.0.0.1", "localhost:%d" % port, "LocalHost.",
                 "[::1]:%d" % port, "10.1.2.3:%d" % port, "status.lab.example:%d" % port,
                 "STATUS.lab.example."):
        st, body = get_with_host(c, "/api/jobs/1", host)
        check(st == 200 and '"state"' in body, "Host %r is answered: %d %r" % (host, st, body))
    for host in ("evil.example:%d" % port, "evil.example", "127.0.0.1.evil.example",
                 "localhost.evil.example:%d" % port, "lab.example", "localhost:80:80",
                 "[::1", "localhost:http", "", None):
        for path in ("/api/jobs/1", "/api/status", "/metrics", "/", "/health"):
            st, body = get_with_host(c, path, host)
            # nng itself answers 400 to a request without Host
            check(st == (400 if host is None else 421) and '"state"' not in body and
                  "neurodag_" not in body and "/api/workers" not in body, "Host %r on %s is refused: %d %r" % (host, path, st,
                                                                            body[:200]))
    check(c.health() and c.http_json("/api/status")["version"], "the endpoint still answers")


def render_dashboard(c):
    chromium = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser")
                     if os.path.exists(p)), None)
    if chromium is None:
        print("chromium not installed: the dashboard was fetched, not rendered")
        return
    shot = os.path.join(c.dir, "dashboard.png")
    dom = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                          "--virtual-time-budget=3000", "--dump-dom",
                          "http://127.0.0.1:%d/" % c.http_port],
                         capture_output=True, text=True, timeout=60)
    check(dom.returncode == 0, "chromium --dump-dom: %s" % dom.stderr[-500:])
    body = dom.stdout.split("<script", 1)[0]
    check(">slow<" in body and "kaputt" in body and "unreachable" not in body and
          re.search(r">%d<" % c.sched_worker_pid, body),
          "the rendered dashboard shows the jobs, errors and workers: %s" % body[-3000:])
    r = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        "--hide-scrollbars", "--window-size=1200,800",
                        "--virtual-time-budget=3000", "--screenshot=%s" % shot,
                        "http://127.0.0.1:%d/" % c.http_port],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and os.path.getsize(shot) > 10000, "dashboard screenshot")
    keep = os.environ.get("ND_DASHBOARD_SHOT")
    if keep:
        with open(shot, "rb") as src, open(keep, "wb") as dst:
            dst.write(src.read())
    print("dashboard rendered by chromium (%d bytes)" % os.path.getsize(shot))


def help_aligned(text, args):
    """Each command or option is listed once, and every description starts in one column."""
    rows = list(re.finditer(r"^(  +\S(?:[^ \n]| [^ \n])*)  +(\S.*)$", text, re.M))
    names = [m.group(1).strip() for m in rows]
    check(rows and len(names) == len(set(names)), "%s lists each entry once: %s" % (args, names))
    cols = {m.start(2) - m.start(0) for m in rows}
    check(len(cols) == 1, "%s: descriptions start in one column, not %s" % (args, sorted(cols)))


@test
def cli(c):
    for args in (["--help"], ["run", "--help"], ["submit", "--help"], ["wait", "--help"],
                 ["status", "--help"], ["cancel", "--help"]):
        r = c.cli(*args, conn=False)
        check(r.returncode == 0 and "exit codes: 0 success" in r.stdout and
              "3 scheduler unreachable" in r.stdout, "%s lists the exit codes" % args)
        help_aligned(r.stdout, args)
    r = subprocess.run([c.bins["scheduler"], "--check", "--state-dir", c.state],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stdout.strip() == "configuration OK", "--check: %r" % r.stdout)
    r = subprocess.run([c.bins["scheduler"], "--check", "--state-dir", c.state,
                        "--heartbeat-interval", "5", "--worker-ttl", "1"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode != 0 and "--worker-ttl" in r.stderr, "--check refuses a bad config")
    r = c.cli("status")
    check(r.returncode == 3, "no scheduler: exit 3, got %d" % r.returncode)

    c.start_scheduler()
    w = c.start_worker(nthreads=2)
    p = c.pipeline("j", [{"op": "noop"}], count=7)
    [jid] = c.submit(p)
    check(c.cli("wait", jid).returncode == 0, "wait")
    s = c.cli_json("status")
    check(s["jobs"]["done"] == 1, "status --json: %s" % s)
    j = c.cli_json("status", jid)
    check(j["id"] == jid and j["state"] == "done", "status JOB --json: %s" % j)
    js = c.cli_json("jobs")
    check([x["id"] for x in js] == [jid], "jobs --json: %s" % js)
    ws = c.cli_json("workers")
    check(len(ws) == 1 and ws[0]["pid"] == w.pid, "workers --json: %s" % ws)
    j = c.cli_json("wait", jid)
    check(j["state"] == "done", "wait --json: %s" % j)
    r = c.cli("submit", "--wait", "--json", p)
    check(r.returncode == 0, "submit --wait --json")
    check(json.loads(r.stdout)["state"] == "done", "submit --wait --json: one JSON document")
    r = c.cli("jobs")
    check(re.search(r"^%d\s+j\s+done\s+7/7" % jid, r.stdout, re.M), "jobs table: %r" % r.stdout)
    r = c.cli("workers")
    check(str(w.pid) in r.stdout, "workers table: %r" % r.stdout)
    r = c.cli("status", 12345)
    check(r.returncode == 1 and "no job 12345" in r.stderr, "status of an unknown job")
