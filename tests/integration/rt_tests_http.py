"""Runtime tests of the HTTP write routes: POST /api/jobs and DELETE /api/jobs/{id} with the
scheduler's bearer token, refusals (401, 403, 400 with line/column, 411, 413) as JSON, and
--http-auth-read."""
import json
import os
import socket

from rt_harness import check, test, wait_for


def token(c):
    with open(c.token_file) as f:
        return f.read().strip()


def call(c, method, path, body=None, auth=None, raw=None, headers_only_length=None):
    """One request on a fresh connection: (status, headers text, JSON or text body)."""
    if raw is None:
        data = b"" if body is None else (body if isinstance(body, bytes) else
                                          json.dumps(body).encode())
        head = "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (method, path)
        if auth is not None:
            head += "Authorization: Bearer %s\r\n" % auth
        if headers_only_length is not None:
            head += "Content-Length: %d\r\n\r\n" % headers_only_length
            data = b""
        elif method != "GET" or body is not None:
            head += "Content-Length: %d\r\n\r\n" % len(data)
        else:
            head += "\r\n"
        raw = head.encode() + data
    with socket.create_connection(("127.0.0.1", c.http_port), timeout=10) as s:
        s.sendall(raw)
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
            hdr, sep, rest = got.partition(b"\r\n\r\n")
            if sep and b"content-length:" in hdr.lower():
                n = int(hdr.lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(rest) >= n:
                    break
    hdr, _, rest = got.partition(b"\r\n\r\n")
    status = int(hdr.split()[1])
    try:
        return status, hdr.decode(), json.loads(rest)
    except ValueError:
        return status, hdr.decode(), rest.decode(errors="replace")


SYNTAX = ('{"name": "x",\n "input": {"format": "tasks", "count": 3},\n "steps": [\n'
          '  {"op": "noop",}\n ]}\n')
PARAM = ('{"name": "x",\n "input": {"format": "tasks", "count": 3},\n "steps": [\n'
         '  {"op": "noop"},\n  {"op": "sleep", "ms": -5}\n ]}\n')


def refusals(c, tok):
    st, hdr, j = call(c, "POST", "/api/jobs", {"pipeline": SYNTAX})
    check(st == 401 and "token" in j["error"] and "WWW-Authenticate: Bearer" in hdr,
          "no token: 401 with a JSON error: %d %s" % (st, j))
    st, _, j = call(c, "POST", "/api/jobs", {"pipeline": SYNTAX}, auth="0" * 64)
    check(st == 403 and "wrong token" in j["error"], "wrong token: 403: %d %s" % (st, j))
    st, _, j = call(c, "DELETE", "/api/jobs/1", auth=tok[:-1])
    check(st == 403, "a token one character short: 403: %d" % st)
    # Refused before any body is read: the declared 64 MiB never has to arrive.
    st, _, j = call(c, "POST", "/api/jobs", auth=None, headers_only_length=64 << 20)
    check(st == 401, "an unauthenticated large body is refused at once: %d" % st)
    st, hdr, j = call(c, "POST", "/api/jobs", auth=tok, headers_only_length=2 << 20)
    check(st == 413 and "over the limit" in j["error"] and "Payload Too Large" in hdr,
          "oversized body: 413: %d %s" % (st, j))
    raw = ("POST /api/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" % tok).encode()
    st, _, j = call(c, "POST", "/api/jobs", raw=raw)
    check(st == 411 and "Content-Length" in j["error"], "chunked body: 411: %d %s" % (st, j))
    st, _, j = call(c, "POST", "/api/jobs", b'{"pipeline": 3', auth=tok)
    check(st == 400 and "not valid JSON" in j["error"] and "line 1, column" in j["error"],
          "a body that is not JSON: 400 with line/column: %d %s" % (st, j))
    st, _, j = call(c, "POST", "/api/jobs", {"pipeline": "{}", "input": ["a"]}, auth=tok)
    check(st == 400 and "unknown field 'input'" in j["error"], "unknown field: %s" % j)
    st, _, j = call(c, "PUT", "/api/jobs", {}, auth=tok)
    check(st == 405, "PUT: 405: %d" % st)


def same_errors_as_cli(c, tok):
    for name, text, where in (("syntax", SYNTAX, r"line 4, column"),
                              ("param", PARAM, "steps[1].ms")):
        path = os.path.join(c.dir, name + ".json")
        with open(path, "w") as f:
            f.write(text)
        r = c.cli("submit", path)
        st, _, j = call(c, "POST", "/api/jobs", {"pipeline": text}, auth=tok)
        check(st == 400 and where in j["error"] and "line" in j["error"],
              "%s: 400 naming where: %d %s" % (name, st, j))
        check(j["error"] in r.stderr, "%s: the CLI gives the same message: %r vs %r"
              % (name, j["error"], r.stderr))
    check("line 5, column 25" in j["error"], "the parameter's line and column: %s" % j)
    check(c.cli_json("jobs") == [], "nothing was accepted")


@test
def http_api(c):
    c.start_scheduler()
    tok = token(c)
    refusals(c, tok)
    same_errors_as_cli(c, tok)
    st, _, j = call(c, "GET", "/api/jobs")
    check(st == 200 and j == [], "reads stay open without --http-auth-read: %d %s" % (st, j))
    c.start_worker(nthreads=2)
    good = {"name": "good", "input": {"format": "tasks", "count": 6}, "steps": [{"op": "noop"}]}
    st, _, j = call(c, "POST", "/api/jobs", {"pipeline": good}, auth=tok)
    check(st == 201 and j == {"jobs": [1]}, "a pipeline object is accepted: %d %s" % (st, j))
    wait_for(lambda: c.http_json("/api/jobs/1")["state"] == "done", 20, "job 1 done")
    slow = json.dumps({"name": "slow", "input": {"format": "tasks", "count": 4},
                       "steps": [{"op": "sleep", "ms": 60000}]}, indent=1)
    st, _, j = call(c, "POST", "/api/jobs", {"pipeline": slow}, auth=tok)
    check(st == 201 and j == {"jobs": [2]}, "pipeline text accepted: %d %s" % (st, j))
    st, _, j = call(c, "DELETE", "/api/jobs/2")
    check(st == 401 and c.http_json("/api/jobs/2")["state"] == "running",
          "DELETE without the token changes nothing: %d" % st)
    st, _, j = call(c, "DELETE", "/api/jobs/2", auth=tok)
    check(st == 200 and j == {"id": 2, "state": "cancelled"}, "DELETE cancels: %d %s" % (st, j))
    check(c.job(2)["state"] == "cancelled", "the CLI sees it cancelled")
    st, _, j = call(c, "DELETE", "/api/jobs/99", auth=tok)
    check(st == 404 and "no job 99" in j["error"], "DELETE of no job: 404: %d %s" % (st, j))
    st, _, j = call(c, "DELETE", "/api/jobs/x1", auth=tok)
    check(st == 400, "DELETE of a bad id: 400: %d" % st)
    check(c.http("/health")[0] == 200 and c.sched.alive(), "the scheduler serves on")


@test
def http_auth_read(c):
    c.start_scheduler(extra=["--http-auth-read"])
    tok = token(c)
    check(c.http("/health")[0] == 200, "/health stays open")
    for path in ("/api/jobs", "/api/status", "/metrics", "/"):
        st, _, _ = call(c, "GET", path)
        check(st == 401, "GET %s without the token: 401, got %d" % (path, st))
        st, _, _ = call(c, "GET", path, auth=tok)
        check(st == 200, "GET %s with the token: 200, got %d" % (path, st))
