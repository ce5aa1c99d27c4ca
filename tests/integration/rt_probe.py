"""A /health prober that runs in its own process, so that an attack driven from the test process
does not slow the measurement through Python's GIL.

usage: rt_probe.py PORT OUT.json [INTERVAL_S]
Opens a new connection for every GET /health, every INTERVAL_S (default 0.02 s), until SIGTERM
(OUT.json.done, once SIGTERM is handled, holds how many probes are done);
then writes {"n", "failures", "max_s", "p50_s", "p99_s", "over_promise" (probes over 100 ms),
"worst": [[t, latency_s or error]...]} to OUT.json."""
import http.client
import json
import signal
import sys
import time

stop = False


def on_term(signum, frame):
    global stop
    stop = True


def progress(out, done):
    """OUT.json.done: how many probes are done; it exists once SIGTERM is handled."""
    with open(out + ".done", "w") as f:
        f.write(str(done))


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    interval = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
    signal.signal(signal.SIGTERM, on_term)
    lat, failures, worst = [], 0, []
    progress(out, 0)
    t_start = time.monotonic()
    while not stop:
        t0 = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            ok = r.status == 200 and body.startswith(b"ok")
            dt = time.monotonic() - t0
            if ok:
                lat.append(dt)
                worst.append((round(t0 - t_start, 3), dt))
            else:
                failures += 1
                worst.append((round(t0 - t_start, 3), "HTTP %d" % r.status))
        except (OSError, http.client.HTTPException) as e:
            failures += 1
            worst.append((round(t0 - t_start, 3), "%s: %s" % (type(e).__name__, e)))
        progress(out, len(lat) + failures)
        worst.sort(key=lambda w: -1 if isinstance(w[1], str) else -w[1])
        del worst[8:]
        rest = interval - (time.monotonic() - t0)
        if rest > 0 and not stop:
            time.sleep(rest)
    lat.sort()
    n = len(lat)
    res = {"n": n, "failures": failures,
           "max_s": lat[-1] if n else None,
           "p50_s": lat[n // 2] if n else None,
           "p99_s": lat[min(n - 1, (99 * n) // 100)] if n else None,
           "over_promise": sum(1 for x in lat if x > 0.1),
           "worst": worst}
    with open(out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
