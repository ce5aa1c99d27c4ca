"""Black-box runtime tests of what a long-lived scheduler must survive: retention of finished
jobs and their work dirs, full disks, hostile peers, restarts under followers. Registered into
the shared test table; run through test-runtime.py."""
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


class FakeScheduler:
    """A REP peer on loopback that records what it is sent and answers HELLO with a CHALLENGE
    whose proof it cannot have made (it does not know the token)."""

    def __init__(self, c):
        import socket
        import threading
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(8)
        self.srv.settimeout(0.2)
        self.url = "tcp://127.0.0.1:%d" % self.srv.getsockname()[1]
        self.received, self.handshakes, self.stop = [], [], False
        self.t = threading.Thread(target=self.serve, daemon=True)
        self.t.start()

    def serve(self):
        import socket
        while not self.stop:
            try:
                conn, _ = self.srv.accept()
            except socket.timeout:
                continue
            conn.settimeout(0.2)
            try:
                self.talk(conn)
            except OSError:
                pass
            conn.close()

    def read(self, conn, n):
        import socket
        buf = b""
        while len(buf) < n and not self.stop:
            try:
                chunk = conn.recv(n - len(buf))
            except socket.timeout:
                continue
            if not chunk:
                raise OSError("closed")
            buf += chunk
        return buf

    def talk(self, conn):
        import msgpack
        import struct
        self.handshakes.append(self.read(conn, 8))
        conn.sendall(b"\x00SP\x00" + struct.pack(">H", 0x31) + b"\x00\x00")
        while not self.stop:
            n = struct.unpack(">Q", self.read(conn, 8))[0]
            body = self.read(conn, n)
            self.received.append(body)
            msg = msgpack.unpackb(body[4:], raw=False)
            if msg[1] == 100:  # HELLO: a challenge with a proof made without the token
                reply = [2, 105, msg[2], {"nonce": os.urandom(32).hex(),
                                          "proof": os.urandom(32).hex()}]
            else:
                reply = [2, 103, msg[2], {"status": 5, "message": "no"}]
            out = body[:4] + msgpack.packb(reply)
            conn.sendall(struct.pack(">Q", len(out)) + out)

    def messages(self):
        import msgpack
        return [msgpack.unpackb(b[4:], raw=False) for b in self.received]

    def close(self):
        self.stop = True
        self.t.join(5)
        self.srv.close()


@test
def token_secrecy(c):
    """A worker and the CLI never send the token: a fake scheduler that records everything gets
    a HELLO with a nonce only, cannot prove it knows the token, and is refused; no peer sends
    its own proof to it."""
    os.makedirs(c.state, mode=0o700)
    token = os.urandom(32).hex()
    with open(c.token_file, "w") as f:
        f.write(token + "\n")
    os.chmod(c.token_file, 0o600)
    fake = FakeScheduler(c)
    try:
        url = c.url
        c.url = fake.url
        w = c.start_worker(extra=["--connect-timeout", "5"])
        rc = w.wait(20)
        r = c.cli("status")
        c.url = url
        wire = b"".join(fake.received)
        msgs = fake.messages()
    finally:
        fake.close()
    check(token.encode() not in wire and bytes.fromhex(token) not in wire,
          "the token never goes on the wire")
    hellos = [m for m in msgs if m[1] == 100]
    check(len(hellos) >= 2 and all("token" not in m[3] and len(m[3]["nonce"]) == 64
                                   for m in hellos), "HELLOs carry a nonce only: %s" % hellos)
    check(not [m for m in msgs if m[1] == 106], "no peer proves itself to a fake scheduler")
    check(rc != 0 and "does not match this token" in w.text(),
          "the worker refuses the fake scheduler: %d %s" % (rc, w.text()[-500:]))
    check(r.returncode == 3 and "not the scheduler" in r.stderr,
          "the CLI refuses it: %d %r" % (r.returncode, r.stderr))
    # Plain TCP beyond loopback is warned about loudly (checked without listening).
    r = __import__("subprocess").run(
        [c.bins["scheduler"], "--check", "--state-dir", c.state, "--listen",
         "tcp://0.0.0.0:%d" % c.port, "--http", "0.0.0.0:%d" % c.http_port],
        capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and "WARNING: --listen" in r.stderr and "tls+tcp://" in r.stderr and
          "WARNING: --http" in r.stderr, "off-loopback warnings: %r" % r.stderr)
    r = __import__("subprocess").run([c.bins["scheduler"], "--check", "--state-dir", c.state],
                                     capture_output=True, text=True, timeout=30)
    check("WARNING" not in r.stderr, "no warning on loopback: %r" % r.stderr)


def raise_own_nofile():
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def sp_open(port, n, stop_after=None):
    """Open n connections that finish the SP handshake as REQ peers and then say nothing."""
    import socket
    import struct
    socks = []
    for i in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"\x00SP\x00" + struct.pack(">H", 0x30) + b"\x00\x00")
            socks.append(s)
        except OSError:
            break
    return socks


@test
def fd_exhaustion(c):
    """Thousands of connections that finish the SP handshake and then stay silent, against a
    scheduler with 512 descriptors: the oldest unauthenticated ones are closed to make room and
    every one at the HELLO deadline, while /health, the CLI and a new worker keep working."""
    hard = raise_own_nofile()
    n = min(3000, hard - 200)
    c.start_scheduler(nofile=512, extra=["--hello-timeout", "3"])
    probe = c.probe_health()
    socks = sp_open(c.port, n)
    check(len(socks) == n, "opened %d of %d connections" % (len(socks), n))
    time.sleep(0.5)
    r = c.cli("status", timeout=20)
    check(r.returncode == 0, "the CLI is served under the flood: %d %s" % (r.returncode,
                                                                        r.stderr))
    w = c.start_worker()
    wait_for(lambda: c.workers_connected() == 1, 10, "a new worker to register")
    more = sp_open(c.port, n)  # a second wave while the worker works
    r = c.cli("submit", "--wait", c.pipeline("under-flood", [{"op": "noop"}], count=20),
              timeout=30)
    check(r.returncode == 0, "a job runs under the flood: %s" % r.stderr)
    m = c.metrics()
    unauth = metric(m, "neurodag_pipes", state="unauthenticated")
    closing = metric(m, "neurodag_pipes", state="closing")
    evicted = metric(m, "neurodag_pipes_closed_total", reason="evicted")
    print("%d silent connections: %d held, %d closed to make room (%d of them not yet freed "
          "by nng)" % (2 * n, unauth, evicted, closing))
    check(unauth <= 128, "unauthenticated pipes are capped: %s" % unauth)
    check(evicted >= n, "the oldest were closed to make room: %s" % evicted)
    wait_for(lambda: metric(c.metrics(), "neurodag_pipes", state="unauthenticated") == 0, 10,
             "the silent connections to be closed at the HELLO deadline")
    check_health(probe.stop(), "%d silent connections" % (2 * n))
    check(c.sched.alive() and w.alive(), "scheduler and worker alive")
    for s in socks + more:
        s.close()


def recv_n(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


@test
def log_flood(c):
    """Garbage from unauthenticated peers (three messages per connection, each answered), with
    the log on a small disk: the log gets a bounded number of lines, every message is counted,
    and the scheduler goes on taking jobs and stops cleanly after. (Peers that hang up without
    waiting for the replies can hang nng 1.5.2's reaper: see proto-nng.c.)"""
    import socket
    import struct
    import threading
    fs = c.tmpfs("logfs", 2 << 20)
    log = os.path.join(fs, "scheduler.log")
    c.start_scheduler(extra=["--log-file", log])
    probe = c.probe_health()
    sent = [0] * 8
    end = time.monotonic() + 4

    def flood(k):
        while time.monotonic() < end:
            try:
                s = socket.create_connection(("127.0.0.1", c.port), timeout=5)
                s.sendall(b"\x00SP\x00" + struct.pack(">H", 0x30) + b"\x00\x00")
                recv_n(s, 8)
                for i in range(3):
                    body = struct.pack(">I", 0x80000000 | i) + os.urandom(120)
                    s.sendall(struct.pack(">Q", len(body)) + body)
                    recv_n(s, struct.unpack(">Q", recv_n(s, 8))[0])
                    sent[k] += 1
                s.close()
            except (OSError, struct.error):
                pass
    threads = [threading.Thread(target=flood, args=(k,)) for k in range(len(sent))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(sent)
    wait_for(lambda: metric(c.metrics(), "neurodag_messages_rejected_total",
                            reason="malformed") >= total * 0.9, 20, "the rejections to be counted")
    wait_for(lambda: "were not logged" in open(log).read(), 15, "the summary of held lines")
    size = os.path.getsize(log)
    print("%d garbage messages on %d pipes in 4 s: log %d bytes" % (total, total // 3, size))
    check(total >= 3000, "the flood sent %d messages" % total)
    check(metric(c.metrics(), "neurodag_pipes_stuck") == 0, "nng freed every connection")
    check(size < 32 << 10, "the log stays small: %d bytes" % size)
    c.start_worker()
    r = c.cli("submit", "--wait", c.pipeline("after-flood", [{"op": "noop"}], count=5))
    check(r.returncode == 0, "jobs are taken after the flood: %s" % r.stderr)
    check_health(probe.stop(), "a flood of garbage")


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


class FakeWorker:
    """An authenticated peer speaking the protocol by hand (msgpack, HMAC-SHA256 proofs)."""

    def __init__(self, c):
        from rt_tests_peers import sp_connect
        self.s, self.c, self.rid = sp_connect(c.port), c, 0
        with open(c.token_file) as f:
            self.token = f.read().strip().encode()

    def call(self, typ, body):
        import msgpack
        from rt_tests_peers import sp_call
        self.rid += 1
        return msgpack.unpackb(sp_call(self.s, msgpack.packb([2, typ, self.rid, body]),
                                       self.rid), raw=False)

    def proof(self, label, first, second):
        import hashlib
        import hmac
        msg = ("%s\nworker\n%s\n%s" % (label, first, second)).encode()
        return hmac.new(self.token, msg, hashlib.sha256).hexdigest()

    def register(self):
        nonce = os.urandom(32).hex()
        ch = self.call(100, {"role": "worker", "nonce": nonce, "version": "fake",
                             "host": "fake", "pid": 1, "slots": 1})
        check(ch[1] == 105, "CHALLENGE: %s" % ch)
        check(ch[3]["proof"] == self.proof("neurodag-scheduler", nonce, ch[3]["nonce"]),
              "the scheduler's proof is the documented HMAC")
        wel = self.call(106, {"proof": self.proof("neurodag-peer", ch[3]["nonce"], nonce)})
        check(wel[1] == 101, "WELCOME: %s" % wel)
        self.wid = wel[3]["worker_id"]
        return self.wid

    def task(self, results=()):
        for _ in range(50):
            rep = self.call(300, {"worker_id": self.wid, "free_slots": 1,
                                  "results": list(results)})
            results = ()
            if rep[1] == 301:
                return rep[3]["tasks"][0]
            check(rep[1] == 302, "IDLE or ASSIGN: %s" % rep)
        raise AssertionError("no task came")


@test
def result_limits(c):
    """A token holder's worker cannot store oversized or non-JSON results: each fails its attempt
    (retried, then the job fails saying why), nothing of it is stored; and a second registration
    on one connection replaces the first instead of adding workers."""
    import sqlite3
    c.start_scheduler(extra=["--max-result-size", "64"])
    fw = FakeWorker(c)
    first = fw.register()
    second = fw.register()
    ws = c.http_json("/api/workers")
    check([w["id"] for w in ws] == [second] and first != second,
          "one worker per connection: %s" % ws)
    [jid] = c.submit(c.pipeline("abuse", [{"op": "reduce"}], count=1))
    big = "[" + ",".join(["1"] * (40 << 10)) + "]"  # 80 KiB of valid JSON

    def report(t, result):
        return [{"task": t["task"], "attempt": t["attempt"], "ok": True, "result": result,
                 "elapsed_us": 1}]
    t = fw.task()
    t = fw.task(report(t, big))           # attempt 1: too big, so attempt 2 comes
    check(t["attempt"] == 2, "retried: %s" % t)
    t = fw.task(report(t, "{not json"))   # attempt 2: not JSON, so attempt 3 comes
    check(t["attempt"] == 3, "retried: %s" % t)
    fw.call(300, {"worker_id": fw.wid, "free_slots": 0, "results": report(t, big)})
    check("not valid JSON" in c.sched.text(), "the scheduler says the result was not JSON")
    wait_for(lambda: c.job(jid)["state"] == "failed", 10, "the job to fail")
    err = c.job(jid)["error"]
    check("--max-result-size" in err and "after 3 attempts" in err, "why: %r" % err)
    db = sqlite3.connect("file:%s/state.db?mode=ro" % c.state, uri=True)
    try:
        biggest = db.execute("SELECT max(length(result)) FROM tasks").fetchone()[0] or 0
    finally:
        db.close()
    check(biggest < 64 << 10, "no oversized result was stored (%d bytes)" % biggest)


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


@test
def slow_loris(c):
    """Hundreds of HTTP connections that send their request a byte at a time: the status
    endpoint, served asynchronously, keeps answering everyone else, and so does the CLI."""
    import socket
    raise_own_nofile()
    c.start_scheduler()
    probe = c.probe_health()
    socks = []
    for i in range(800):
        s = socket.create_connection(("127.0.0.1", c.http_port), timeout=5)
        s.sendall(b"GET /api/status HTTP/1.1\r\n")
        socks.append(s)
    end = time.monotonic() + 6
    k = 0
    while time.monotonic() < end:
        for s in socks:
            try:
                s.sendall(b"X-%d: %s\r\n" % (k, b"y" * 8))
            except OSError:
                pass
        k += 1
        time.sleep(0.5)
    st = c.http_json("/api/status")
    check(st["version"], "/api/status is served during the attack")
    check(c.cli("status").returncode == 0, "the CLI is served")
    check_health(probe.stop(), "800 slow-loris HTTP connections")
    for s in socks:
        s.close()
