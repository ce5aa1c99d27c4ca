"""Black-box runtime tests of what reaches a job's output: never the input, no existing file
replaced without --overwrite, a full output disk failing the job with its reason and no partial
file, and a worker killed (SIGKILL) while it writes the output (an export, or the unit tasks of a
trial job writing the container in place): the output is then either complete or absent, never
a truncated file taken as done, and the temporary files of the killed write are removed; a
.spy container appears whole or not at all. Registered into the shared test table; run through
test-runtime.py."""
import json
import os
import shutil
import signal
import subprocess
import time

from rt_harness import TestFailure, check, check_health, metric, test, wait_for  # noqa: F401
from rt_tests_faults import fill


def digest(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@test
def output_safety(c):
    """An output equal to the input is always refused (by path, symlink or hard link); an
    existing output only with --overwrite or "overwrite": true; in submit, run and run --serial."""
    import json
    import shutil
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "small.edf")
    rec = os.path.join(c.dir, "rec.edf")
    shutil.copy(src, rec)
    os.symlink(rec, os.path.join(c.dir, "link.edf"))
    os.link(rec, os.path.join(c.dir, "hard.edf"))
    before = digest(rec)

    def pipeline(name, out, overwrite=None):
        o = {"format": "edf", "path": out}
        if overwrite is not None:
            o["overwrite"] = overwrite
        path = os.path.join(c.dir, name + ".json")
        with open(path, "w") as f:
            json.dump({"name": name, "input": {"format": "edf", "path": rec},
                       "steps": [{"op": "highpass", "freq": 1.0}], "output": o}, f)
        return path

    c.start_scheduler()
    c.start_worker()
    same = pipeline("same", rec)
    for args, conn in ((["submit", same], True), (["run", "--serial", same], False),
                       (["run", "-n", "1", same], False),
                       (["run", "--serial", same, "--overwrite"], False),
                       (["submit", same, "-o", "link.edf"], True),
                       (["run", "--serial", same, "-o", "hard.edf"], False),
                       (["submit", pipeline("ow", rec, True)], True)):
        r = c.cli(*args, conn=conn)
        check(r.returncode == 2 and "is the input" in r.stderr,
              "%s: output == input is refused: %d %r" % (args, r.returncode, r.stderr))
    check(digest(rec) == before, "the input is untouched")
    out = os.path.join(c.dir, "out.edf")
    p = pipeline("out", out)
    r = c.cli("run", "--serial", p, conn=False)
    check(r.returncode == 0 and os.path.exists(out), "a new output is written: %s" % r.stderr)
    first = os.stat(out).st_mtime_ns
    for args, conn in ((["run", "--serial", p], False), (["submit", p], True),
                       (["run", "-n", "1", p], False)):
        r = c.cli(*args, conn=conn)
        check(r.returncode == 2 and "exists" in r.stderr and "--overwrite" in r.stderr,
              "%s: an existing output is refused: %d %r" % (args, r.returncode, r.stderr))
    check(os.stat(out).st_mtime_ns == first, "the existing output is untouched")
    r = c.cli("submit", "--wait", "--overwrite", p)
    check(r.returncode == 0, "submit --overwrite replaces it: %s" % r.stderr)
    r = c.cli("run", "--serial", pipeline("ow2", out, True), conn=False)
    check(r.returncode == 0, "\"overwrite\": true replaces it: %s" % r.stderr)
    r = c.cli("run", "--serial", pipeline("bad", out, "yes"), conn=False)
    check(r.returncode == 2 and "output.overwrite" in r.stderr, "overwrite must be a boolean")
    # Two inputs of one submission may not write one file.
    r = c.cli("submit", p, rec, os.path.join(c.dir, "hard.edf"), "-o", out, "--overwrite")
    check(r.returncode == 2 and "another input" in r.stderr, "one output for two jobs: %r" %
          r.stderr)


@test
def disk_full_output(c):
    """The output's disk is full: the export fails with the system's reason (ENOSPC), leaves no
    partial or temporary file, the job fails with that error at its first attempt (a full
    output disk does not heal by running the export again on another worker), the scheduler
    and workers carry on, and the same job succeeds once there is space."""
    import json
    import shutil
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "small.edf")
    rec = os.path.join(c.dir, "rec.edf")
    shutil.copy(src, rec)
    fs = c.tmpfs("outfs", 1 << 20)
    out = os.path.join(fs, "corrected.edf")
    p = os.path.join(c.dir, "p.json")
    with open(p, "w") as f:
        json.dump({"name": "full-out", "input": {"format": "edf", "path": rec},
                   "steps": [{"op": "highpass", "freq": 1.0}],
                   "output": {"format": "edf", "path": out}}, f)
    c.start_scheduler()
    w = c.start_worker()
    filler = fill(fs)
    probe = c.probe_health()
    r = c.cli("submit", "--wait", p, timeout=60)
    check(r.returncode == 1, "the job fails: %d %s" % (r.returncode, r.stderr))
    jid = int(r.stdout.split()[0])
    err = c.job(jid)["error"]
    check("No space left on device" in err and out in err,
          "the error names the output and the reason: %r" % err)
    check("not retried" in err and "attempts" not in err, "it is not retried: %r" % err)
    m = c.metrics()
    check(metric(m, "neurodag_tasks_retried_total") == 0 and
          metric(m, "neurodag_tasks_failed_total") == 1,
          "one attempt: %s retried, %s failed" % (metric(m, "neurodag_tasks_retried_total"),
                                                  metric(m, "neurodag_tasks_failed_total")))
    check(not [f for f in os.listdir(fs) if f.startswith(".") or f.startswith("corrected.edf")],
          "no partial or temporary output: %s" % os.listdir(fs))
    # The BrainVision writer too (one rate: a generated recording): the system's reason for
    # its .eeg, one attempt.
    bv = os.path.join(c.dir, "bv.json")
    with open(bv, "w") as f:
        json.dump({"name": "full-bv", "input": {"format": "edf",
                                                "path": synth_recording(c, 4, 10)},
                   "steps": [{"op": "highpass", "freq": 1.0}],
                   "output": {"format": "brainvision", "path": os.path.join(fs, "bv.vhdr"),
                              "report": False}}, f)
    r = c.cli("submit", "--wait", bv, timeout=60)
    err = c.job(int(r.stdout.split()[0]))["error"]
    check(r.returncode == 1 and "No space left on device" in err and
          os.path.join(fs, "bv.eeg") in err and "not retried" in err,
          "BrainVision: the .eeg and the reason, not retried: %r" % err)
    check(metric(c.metrics(), "neurodag_tasks_retried_total") == 0, "nothing retried")
    check(not [f for f in os.listdir(fs) if f.startswith(".") or f.startswith("bv.")],
          "no partial or temporary BrainVision file: %s" % os.listdir(fs))
    check(c.sched.alive() and w.alive(), "scheduler and worker carry on")
    os.unlink(filler)
    # A worker killed while exporting leaves its temporary file; the job's end removes it.
    stale = os.path.join(fs, ".corrected.edf.tmp99999.edf")
    with open(stale, "wb") as f:
        f.write(b"0" * 1000)
    r = c.cli("submit", "--wait", p, timeout=60)
    check(r.returncode == 0 and os.path.getsize(out) > 0, "with space it works: %s" % r.stderr)
    check(not os.path.exists(stale), "the stale temporary file is gone: %s" % os.listdir(fs))
    check_health(probe.stop(), "a full output disk")


def synth_recording(c, channels, seconds):
    """A generated EEG-fMRI recording (neurodag synth fmri) in c.dir/syn; its path."""
    d = os.path.join(c.dir, "syn")
    r = subprocess.run([c.bins["neurodag"], "synth", "fmri", "--channels", str(channels),
                        "--duration", str(seconds), "-o", d], capture_output=True, text=True,
                       timeout=120, env=c.env())
    check(r.returncode == 0, "synth: %s" % r.stderr)
    return os.path.join(d, "recording.edf")


def synth_white_noise(c, trials, samples, channels, seed):
    """Generated trials of white noise sampled at `samples` Hz (neurodag synth white_noise) in
    c.dir/wn.spy; its path."""
    inp = os.path.join(c.dir, "wn.spy")
    r = subprocess.run([c.bins["neurodag"], "synth", "white_noise", "--trials", str(trials),
                        "--samples", str(samples), "--channels", str(channels), "--samplerate",
                        str(samples), "--seed", str(seed), "-o", inp], capture_output=True,
                       text=True, timeout=120, env=c.env())
    check(r.returncode == 0, "synth: %s" % r.stderr)
    return inp


def output_files(path):
    """The files an output is made of: a BrainVision header's three, else the file."""
    if path.endswith(".vhdr"):
        return [path[:-5] + ext for ext in (".eeg", ".vmrk", ".vhdr")]
    return [path]


def kill_during_export(c, pipeline, out, worker):
    """Follow the output's folder until the export's temporary file is being written, then
    kill the worker writing it (its PID is in the name) with SIGKILL. Returns the temporary
    files seen then and whether any of the output's own files existed."""
    folder, base = os.path.split(out)
    stem = base[:-5] if base.endswith(".vhdr") else base
    end = time.monotonic() + 60
    while time.monotonic() < end:
        temps = [f for f in os.listdir(folder) if f.startswith(".") and ".tmp" in f and
                 f[1:].startswith(stem)]
        sizes = [os.path.getsize(os.path.join(folder, f)) for f in temps
                 if os.path.exists(os.path.join(folder, f))]
        if temps and any(sizes):
            check(all("tmp%d" % worker.pid in f for f in temps),
                  "the temporary files are the worker's: %s (pid %d)" % (temps, worker.pid))
            worker.signal(signal.SIGKILL)
            present = [f for f in output_files(out) if os.path.exists(f)]
            return temps, present
        time.sleep(0.002)
    check(False, "no export was seen writing in %s: %s" % (folder, os.listdir(folder)))


@test
def worker_killed_exporting(c):
    """A worker killed (SIGKILL) while it writes a job's output, as EDF and as BrainVision: at
    that moment none of the output's files exist (it is written under hidden temporary names,
    renamed when complete; the BrainVision header last); the export is run again on another
    worker and the output is byte for byte that of an undisturbed run; the killed export's
    temporary files are gone once the job ends; and the job is done only once."""
    rec = synth_recording(c, 16, 120)  # 8 MB: its export takes tens of ms
    c.start_scheduler()
    for fmt, name in (("edf", "corrected.edf"), ("brainvision", "corrected.vhdr")):
        ref_dir = os.path.join(c.dir, "ref-" + fmt)
        out_dir = os.path.join(c.dir, "out-" + fmt)
        os.makedirs(ref_dir)
        os.makedirs(out_dir)
        p = os.path.join(c.dir, "p-%s.json" % fmt)
        with open(p, "w") as f:
            json.dump({"name": "kx-" + fmt, "input": {"format": "edf", "path": rec},
                       "steps": [{"op": "highpass", "freq": 1.0}],
                       "output": {"format": fmt, "path": os.path.join(out_dir, name),
                                  "report": False}}, f)
        r = c.cli("run", "--serial", "-q", "--output", os.path.join(ref_dir, name), p,
                  conn=False, timeout=120)
        check(r.returncode == 0, "the undisturbed run: %s" % r.stderr)
        w = c.start_worker()
        [jid] = c.submit(p)
        temps, present = kill_during_export(c, p, os.path.join(out_dir, name), w)
        check(present == [], "%s: none of the output's files exist mid-export: %s" %
              (fmt, present))
        w2 = c.start_worker()
        wait_for(lambda: c.job(jid)["state"] in ("done", "failed"), 90, "the job to end")
        c.stop(w2)
        j = c.job(jid)
        check(j["state"] == "done", "%s: the job is done after the kill: %s" % (fmt, j))
        out = os.path.join(out_dir, name)
        for f in output_files(out):
            ref = os.path.join(ref_dir, os.path.basename(f))
            check(digest(f) == digest(ref), "%s: %s is that of an undisturbed run" % (fmt, f))
        left = sorted(os.listdir(out_dir))
        check(left == sorted(os.path.basename(f) for f in output_files(out)),
              "%s: only the output is left (the killed export's %s removed): %s" %
              (fmt, temps, left))
        print("%s: killed pid %d writing %s; output identical, temporaries removed" %
              (fmt, w.pid, temps))


@test
def worker_killed_writing_trials(c):
    """A worker killed (SIGKILL) while the unit tasks of a trial job write their rows into the
    output container in place: the container exists then only under its temporary name beside
    the output; the killed task runs again on another worker, the container is byte for byte
    that of an undisturbed run, its .info checksum is the file's, and no temporary file is
    left once the job ends."""
    import hashlib
    inp = synth_white_noise(c, trials=400, samples=1000, channels=8, seed=3)
    # about a second of work on one worker, in 20 tasks
    steps = [{"op": "freqanalysis", "method": "wavelet", "wavelet": "Morlet",
              "foi": list(range(5, 105, 5)), "toi": [0.01 + 0.02 * i for i in range(49)],
              "output": "pow"}]
    ref, out = os.path.join(c.dir, "ref.spy"), os.path.join(c.dir, "out.spy")
    for name, path in (("ref", ref), ("kt", out)):
        with open(os.path.join(c.dir, name + ".json"), "w") as f:
            json.dump({"name": name, "input": {"format": "spy", "path": inp}, "steps": steps,
                       "output": {"format": "spy", "path": path},
                       "execution": {"trials_per_task": 20}}, f)
    r = c.cli("run", "--serial", "-q", os.path.join(c.dir, "ref.json"), conn=False,
              timeout=120)
    check(r.returncode == 0, "the undisturbed run: %s" % r.stderr)
    c.start_scheduler()
    w = c.start_worker()
    [jid] = c.submit(os.path.join(c.dir, "kt.json"))
    end, temps = time.monotonic() + 60, []
    while time.monotonic() < end and not temps:
        temps = [f for f in os.listdir(c.dir) if f.startswith(".out.spy.tmp")]
        time.sleep(0.002)
    check(temps != [], "the container appeared under a temporary name: %s" % os.listdir(c.dir))
    time.sleep(0.2)  # some tasks wrote, others are still to run
    w.signal(signal.SIGKILL)
    check(not os.path.exists(os.path.join(out, "out.spectral")),
          "the output's own file does not exist mid-job")
    w2 = c.start_worker()
    wait_for(lambda: c.job(jid)["state"] in ("done", "failed"), 90, "the job to end")
    c.stop(w2)
    j = c.job(jid)
    check(j["state"] == "done", "the job is done after the kill: %s" % j)
    got, want = os.path.join(out, "out.spectral"), os.path.join(ref, "ref.spectral")
    check(digest(got) == digest(want), "the container is that of an undisturbed run")
    with open(got + ".info") as f:
        info = json.load(f)
    with open(got, "rb") as f:
        sha1 = hashlib.sha1(f.read()).hexdigest()
    check(info["file_checksum"] == sha1, "its .info checksum is the file's")
    left = [f for f in os.listdir(c.dir) if ".tmp" in f]
    check(left == [], "no temporary file left (killed pid %d, saw %s): %s" %
          (w.pid, temps, left))


def tree_digests(path):
    """{name: sha256} of the files in the directory path."""
    return {f: digest(os.path.join(path, f)) for f in sorted(os.listdir(path))}


@test
def trial_output_atomic(c):
    """A .spy container appears whole or not at all: a trial job that fails (its output disk
    full) leaves no NAME.spy and no temporary directory, both when the unit tasks write the
    container in place and when the final task writes it; an existing container is untouched
    by a job refused for it (no --overwrite) and by a failing job with --overwrite, and is
    replaced as a whole by one that succeeds."""
    import hashlib
    inp = synth_white_noise(c, trials=40, samples=500, channels=4, seed=5)
    fs = c.tmpfs("outfs", 4 << 20)
    kinds = {  # in place: every trial kept; written by the final task: the trial average
        "inplace": {"keeptrials": True}, "final": {"keeptrials": False}}

    def pipeline(kind, foi):
        p = os.path.join(c.dir, kind + ".json")
        with open(p, "w") as f:
            json.dump({"name": kind, "input": {"format": "spy", "path": inp},
                       "steps": [dict({"op": "freqanalysis", "method": "mtmfft",
                                       "taper": "hann", "foi": foi, "output": "pow"},
                                      **kinds[kind])],
                       "output": {"format": "spy", "path": os.path.join(fs, kind + ".spy")},
                       "execution": {"trials_per_task": 10}}, f)
        return p

    def temporaries():
        """The hidden temporaries in fs, once the tasks still running of a job that failed
        (another task's failure ended it) are through."""
        try:
            wait_for(lambda: not [f for f in os.listdir(fs) if f.startswith(".")], 10,
                     "the temporaries to go")
        except TestFailure:
            pass
        return [f for f in os.listdir(fs) if f.startswith(".")]

    c.start_scheduler()
    c.start_worker()
    filler = fill(fs)
    for kind in kinds:
        r = c.cli("submit", "--wait", pipeline(kind, [10, 20]), timeout=90)
        check(r.returncode == 1, "%s: the job fails on a full disk: %d %s" %
              (kind, r.returncode, r.stderr))
        check(not os.path.exists(os.path.join(fs, kind + ".spy")),
              "%s: no container is left behind: %s" % (kind, os.listdir(fs)))
        check(temporaries() == [], "%s: no temporary left: %s" % (kind, temporaries()))
    os.unlink(filler)
    for kind in kinds:
        out = os.path.join(fs, kind + ".spy")
        r = c.cli("submit", "--wait", pipeline(kind, [10, 20]), timeout=90)
        check(r.returncode == 0, "%s: with space it works: %s" % (kind, r.stderr))
        before = tree_digests(out)
        r = c.cli("submit", pipeline(kind, [30]))
        check(r.returncode == 2 and "exists" in r.stderr, "%s: an existing container is "
              "refused without --overwrite: %d %r" % (kind, r.returncode, r.stderr))
        filler = fill(fs)
        r = c.cli("submit", "--wait", "--overwrite", pipeline(kind, [30]), timeout=90)
        check(r.returncode == 1, "%s: --overwrite on a full disk fails" % kind)
        check(tree_digests(out) == before, "%s: the existing container is untouched" % kind)
        check(temporaries() == [], "%s: no temporary left: %s" % (kind, temporaries()))
        os.unlink(filler)
        r = c.cli("submit", "--wait", "--overwrite", pipeline(kind, [30]), timeout=90)
        check(r.returncode == 0, "%s: --overwrite replaces it: %s" % (kind, r.stderr))
        after = tree_digests(out)
        check(sorted(after) == sorted(before) and after != before,
              "%s: the new container's files, whole: %s" % (kind, sorted(after)))
        data = os.path.join(out, kind + ".spectral")
        with open(data + ".info") as f:
            info = json.load(f)
        with open(data, "rb") as f:
            check(info["file_checksum"] == hashlib.sha1(f.read()).hexdigest(),
                  "%s: its .info checksum is the file's" % kind)
        check(temporaries() == [], "%s: the old container is gone: %s" % (kind, temporaries()))
        print("%s: failed jobs left nothing; %s replaced whole" % (kind, sorted(after)))
