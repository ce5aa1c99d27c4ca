"""Black-box runtime tests of hostile peers against a long-lived scheduler: a fake scheduler
that must not learn the token, floods of silent or garbage connections, a token holder's
oversized results, slow-loris HTTP clients. Registered into the shared test table; run through
test-runtime.py."""
import os
import time

from rt_harness import check, check_health, metric, test, wait_for  # noqa: F401


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
