"""The CLI as a user meets it: the summary and absolute output paths at the end of `run` and
`submit --wait`, --json as one document and --json-lines, the worker's scheduler address in the
forms Dask users type, errors that say what is wrong at submit (a generated-input pipeline given
a file, a missing output folder), failures that retrying cannot fix failing at once, and the
scheduler's foreground default."""
import json
import os
import re
import shutil
import subprocess

from rt_harness import check, metric, test, wait_for

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "deploy",
                        "examples")
SPECTRAL = {"name": "spec", "input": {"format": "synth", "synth": "white_noise", "trials": 6,
                                      "samples": 200, "channels": 3, "samplerate": 200,
                                      "seed": 3},
            "steps": [{"op": "freqanalysis", "method": "mtmfft", "taper": "hann",
                       "output": "pow", "keeptrials": True}],
            "output": {"format": "spy", "path": "../results/spec.spy"}}


def synth_recording(c):
    syn = os.path.join(c.dir, "syn")
    r = c.cli("synth", "fmri", "--channels", "3", "--duration", "20", "--seed", "5", "-o", syn,
              conn=False)
    check(r.returncode == 0, "synth: %s" % r.stderr)
    return os.path.join(syn, "recording.edf")


def spectral_pipeline(c):
    """A pipeline in ./pipelines whose output is ../results/spec.spy."""
    for d in ("pipelines", "results"):
        os.makedirs(os.path.join(c.dir, d), exist_ok=True)
    path = os.path.join(c.dir, "pipelines", "spec.json")
    with open(path, "w") as f:
        json.dump(SPECTRAL, f)
    return path


def check_correction_summary(out, rec, what):
    m = re.search(r"^recording\.edf: artifact reduction (\d+\.\d+) dB, residual (\d+\.\d+) \u00b5V"
                  r" \(medians over 3 channels\); reference-free: RMS uncorrected/corrected "
                  r"\d+\.\d+, median artifact \d+\.\d+\u00d7", out, re.M)
    check(m and float(m.group(1)) > 10, "%s: the correction's summary line: %r" % (what, out))
    outs = re.findall(r"^output: (.*)$", out, re.M)
    check(outs == [os.path.join(os.path.dirname(rec), "corrected-%s.edf" % what)],
          "%s: the absolute output path: %s" % (what, outs))


@test
def cli_results(c):
    rec = synth_recording(c)
    pipeline = os.path.join(EXAMPLES, "fmri-standard.json")
    # run: the summary, then the absolute paths, with -o relative to the working directory.
    r = c.cli("run", "-q", "-n", "1", pipeline, rec, "-o",
              os.path.relpath(os.path.join(c.dir, "syn", "corrected-run.edf"), c.dir),
              conn=False, timeout=300)
    check(r.returncode == 0, "run: %s" % r.stderr[-500:])
    check_correction_summary(r.stdout, rec, "run")
    spec = spectral_pipeline(c)
    r = c.cli("run", "-q", "-n", "1", spec, conn=False, timeout=120)
    check(r.returncode == 0, "run spectral: %s" % r.stderr[-300:])
    check("spec: SpectralData of shape 6 \u00d7 1 \u00d7 101 \u00d7 3" in r.stdout,
          "the spectral job's output shape: %r" % r.stdout)
    check(("output: %s\n" % os.path.join(c.dir, "results", "spec.spy")) in r.stdout,
          "the output path is absolute, not relative to the pipeline: %r" % r.stdout)

    c.start_scheduler()
    c.start_worker(nthreads=2)
    r = c.cli("submit", "--wait", pipeline, rec, "-o",
              os.path.join(c.dir, "syn", "corrected-submit.edf"), timeout=300)
    check(r.returncode == 0, "submit --wait: %s" % r.stderr[-500:])
    check_correction_summary(r.stdout, rec, "submit")

    # --json is one document; --json-lines one object a line.
    two = [c.pipeline("a", [{"op": "noop"}], count=2), c.pipeline("b", [{"op": "noop"}], count=3)]
    tasks = c.pipeline("t", [{"op": "noop"}], count=2)
    rec2 = os.path.join(c.dir, "syn", "second.edf")
    shutil.copy(rec, rec2)
    outdir = os.path.join(c.dir, "two-out")
    os.makedirs(outdir)
    r = c.cli("submit", "--json", pipeline, rec, rec2, "-o", outdir)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = {}
    check(r.returncode == 0 and list(doc) == ["jobs"] and len(doc["jobs"]) == 2,
          "submit --json with two inputs prints one JSON document: %r" % r.stdout)
    check(c.cli("wait", *doc["jobs"], timeout=300).returncode == 0, "both jobs run")
    serial = os.path.join(c.dir, "serial-out")
    os.makedirs(serial)
    r = c.cli("run", "--serial", "--json", pipeline, rec, rec2, "-o", serial, conn=False,
              timeout=300)
    try:
        reps = json.loads(r.stdout)
    except ValueError:
        reps = None
    check(r.returncode == 0 and isinstance(reps, list) and len(reps) == 2,
          "run --serial --json with two inputs: one array: %r" % r.stdout[:200])
    r = c.cli("submit", "--wait", "--json", tasks)
    doc = json.loads(r.stdout) if r.returncode == 0 else {}
    check(doc.get("state") == "done" and doc.get("name") == "t",
          "submit --wait --json prints the report alone: %r" % r.stdout[:200])
    ids = []
    for p in two:
        r = c.cli("submit", "--json-lines", p)
        lines = r.stdout.splitlines()
        check(r.returncode == 0 and len(lines) == 1 and set(json.loads(lines[0])) == {"id"},
              "submit --json-lines: one object a job: %r" % r.stdout)
        ids.append(json.loads(lines[0])["id"])
    r = c.cli("wait", *ids, "--json-lines")
    objs = [json.loads(ln) for ln in r.stdout.splitlines()]
    check(r.returncode == 0 and [o["id"] for o in objs] == ids and
          all(o["state"] == "done" for o in objs), "wait --json-lines: %r" % r.stdout[:300])
    r = c.cli("wait", *ids, "--json")
    check(r.returncode == 0 and [o["id"] for o in json.loads(r.stdout)] == ids,
          "wait --json with two jobs: one array")

    # Errors at submit, saying what.
    r = c.cli("submit", spec, rec)
    check(r.returncode == 2 and "makes its own input" in r.stderr and "(null)" not in r.stderr,
          "a file given to a synth pipeline: %r" % r.stderr)
    jobs_before = len(c.http_json("/api/jobs"))
    missing = os.path.join(c.dir, "no-such-folder", "x.edf")
    r = c.cli("submit", pipeline, rec, "-o", missing)
    check(r.returncode == 2 and "No such file or directory" in r.stderr and
          os.path.dirname(missing) in r.stderr, "a missing output folder at submit: %r" %
          r.stderr)
    check(len(c.http_json("/api/jobs")) == jobs_before, "no job was made")


@test
def task_failure_classes(c):
    """Only failures that may pass are retried: a bad parameter, a missing input or an
    unwritable output fail at the first attempt with the reason."""
    c.start_scheduler()
    w = c.start_worker(nthreads=2)
    for code in ("EINVAL", "ENOENT", "EACCES"):
        r = c.cli("submit", "--wait", c.pipeline(
            "perm-" + code, [{"op": "fail", "errno": code, "message": "bad " + code}], count=1))
        j = c.http_json("/api/jobs")[-1]
        check(r.returncode == 1 and "not retried" in j["error"] and "(attempt 1)" in j["error"],
              "%s fails at once (exit %d): %s" % (code, r.returncode, j.get("error")))
    m = c.metrics()
    check(metric(m, "neurodag_tasks_retried_total") == 0, "nothing was retried")
    r = c.cli("submit", "--wait", c.pipeline("transient", [{"op": "fail", "message": "flaky"}],
                                             count=1))
    j = c.http_json("/api/jobs")[-1]
    check(r.returncode == 1 and "after 3 attempts" in j["error"],
          "an I/O error is retried: %s" % j["error"])
    check(metric(c.metrics(), "neurodag_tasks_retried_total") == 2, "two retries")
    # A full disk outside the user's outputs (a task's work files) may be freed: retried.
    r = c.cli("submit", "--wait", c.pipeline("work-full", [{"op": "fail", "errno": "ENOSPC",
                                                            "message": "work dir full"}],
                                             count=1))
    j = c.http_json("/api/jobs")[-1]
    check(r.returncode == 1 and "after 3 attempts" in j["error"],
          "ENOSPC of a work file is retried: %s" % j["error"])
    check(metric(c.metrics(), "neurodag_tasks_retried_total") == 4, "two more retries")
    # A real export: its folder goes away after the submit, while no worker is there.
    c.stop(w)
    wait_for(lambda: c.workers_connected() == 0, 10, "no worker")
    rec = synth_recording(c)
    gone = os.path.join(c.dir, "gone")
    os.makedirs(gone)
    [jid] = c.submit(os.path.join(EXAMPLES, "fmri-standard.json"), rec, "-o",
                     os.path.join(gone, "x.edf"))
    shutil.rmtree(gone)
    c.start_worker()
    r = c.cli("wait", jid, timeout=120)
    j = c.job(jid)
    check(r.returncode == 1 and "export_edf" in j["error"] and "not retried" in j["error"],
          "an unwritable output fails the job at once: %s" % j.get("error"))


@test
def cli_worker_address(c):
    c.start_scheduler()
    port = c.url.rsplit(":", 1)[1]
    for i, addr in enumerate((c.url, "127.0.0.1:" + port)):
        pr = c.spawn("worker-pos-%d" % i, [c.bins["worker"], addr, "--token-file",
                                           c.token_file, "--connect-timeout", "10"])
        wait_for(lambda: any(w["pid"] == pr.pid for w in c.http_json("/api/workers")), 10,
                 "a worker given %s registers" % addr)
    for bad in ("localhost", "http://127.0.0.1:" + port, "tcp://127.0.0.1:0", "127.0.0.1:x"):
        r = subprocess.run([c.bins["worker"], bad, "--token-file", c.token_file],
                           capture_output=True, text=True, timeout=10)
        check(r.returncode == 2 and "expected tcp://HOST:PORT, HOST:PORT" in r.stderr and
              bad in r.stderr, "%s is refused naming the forms: %r" % (bad, r.stderr))
    r = subprocess.run([c.bins["worker"], c.url, "--scheduler", c.url], capture_output=True,
                       text=True, timeout=10)
    check(r.returncode == 2 and "twice" in r.stderr, "an address given twice: %r" % r.stderr)
    r = c.cli("status", "--scheduler", "127.0.0.1:" + port, conn=False, env=dict(
        c.env(), NEURODAG_TOKEN=open(c.token_file).read().strip()))
    check(r.returncode == 0, "the CLI takes HOST:PORT too: %s" % r.stderr)
    # The scheduler runs in the foreground unless --detach; -d no longer means "foreground".
    r = subprocess.run([c.bins["scheduler"], "-d", "--check"], capture_output=True, text=True,
                       timeout=10)
    check(r.returncode == 2 and "--detach" in r.stderr, "-d: %r" % r.stderr)
    r = subprocess.run([c.bins["scheduler"], "--help"], capture_output=True, text=True,
                       timeout=10)
    check("--detach" in r.stdout and "-d," not in r.stdout, "--help: %s" % r.stdout[-800:])
    check(c.sched.alive(), "the scheduler started without a flag stays in the foreground")
