"""What the recording checks share: a pass/fail line per check, collected in FAILS, and one
`neurodag run --json` of a pipeline on a recording that returns its metrics step's figures."""
import json
import subprocess

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run_metrics(neurodag, pipeline, rec, out):
    """The metrics of `neurodag run --workers 2 PIPELINE REC -o OUT`, or None (a failed run is
    a failed check)."""
    r = subprocess.run([neurodag, "run", "-q", "--json", "--workers", "2", pipeline, rec, "-o",
                        out], capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        check(False, "%s on %s: exit %d %s" % (pipeline, rec, r.returncode, r.stderr[-300:]))
        return None
    for v in json.loads(r.stdout)["results"].values():
        if "metrics" in v:
            return v["metrics"]
    return None
