#!/usr/bin/python3
"""The Python package, as a user installs and uses it: `pip install deploy/python` (no network,
no build isolation) into a virtual environment of Debian's python3 that sees the system's MNE,
numpy and h5py; then, against a real scheduler and worker on loopback, a notebook-style script
(notebook-client.py) corrects an mne.io.Raw of a synthetic EEG-fMRI recording and computes a
spectrum of numpy trials. Skipped (77) without MNE, h5py, pip or venv.
Usage: check-python-client.py NEURODAG SCHEDULER WORKER PACKAGE_DIR EXAMPLES_DIR"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import rt_harness  # noqa: E402

NEURODAG, SCHEDULER, WORKER, PACKAGE, EXAMPLES = (os.path.abspath(a) for a in sys.argv[1:6])


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


def sh(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 300),
                       stdin=subprocess.DEVNULL, **kw)
    if r.returncode != 0:
        print("FAIL: %s exited %d:\n%s\n%s" % (" ".join(argv), r.returncode, r.stdout[-3000:],
                                              r.stderr[-3000:]))
        sys.exit(1)
    return r


def install(tmp):
    """A venv of /usr/bin/python3 with the system's packages, and the package installed into it
    from a copy of its folder (pip builds in the source tree)."""
    for mod in ("mne", "h5py", "numpy", "pip", "venv", "setuptools"):
        if subprocess.run(["/usr/bin/python3", "-c", "import " + mod],
                          capture_output=True).returncode != 0:
            skip("/usr/bin/python3 has no %s (deploy/setup.sh --test installs it)" % mod)
    src = os.path.join(tmp, "src")
    shutil.copytree(PACKAGE, src, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                "__pycache__"))
    venv = os.path.join(tmp, "venv")
    sh(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv])
    py = os.path.join(venv, "bin", "python")
    r = sh([py, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index", src])
    print("pip install: " + r.stdout.strip().splitlines()[-1])
    where = sh([py, "-c", "import neurodag; print(neurodag.__file__)"], cwd=tmp).stdout.strip()
    if not where.startswith(venv):
        print("FAIL: neurodag imported from %s, not the venv" % where)
        sys.exit(1)
    return py


def main():
    tmp = tempfile.mkdtemp(prefix="nd-python-")
    py = install(tmp)
    syn = os.path.join(tmp, "syn")
    sh([NEURODAG, "synth", "fmri", "--channels", "4", "--duration", "16", "--rate", "1024",
        "-o", syn])
    bins = {"neurodag": NEURODAG, "scheduler": SCHEDULER, "worker": WORKER}
    try:
        with rt_harness.Cluster(bins, "python") as c:
            c.start_scheduler()
            c.start_worker(nthreads=2)
            rt_harness.wait_for(lambda: c.workers_connected() == 1, 10, "the worker")
            work = os.path.join(tmp, "work")
            os.makedirs(work)
            r = subprocess.run(
                [py, os.path.join(HERE, "notebook-client.py"), "http://127.0.0.1:%d" %
                 c.http_port, c.token_file, os.path.join(syn, "recording.edf"),
                 os.path.join(syn, "clean.edf"), os.path.join(EXAMPLES, "fmri-standard.json"),
                 work], capture_output=True, text=True, timeout=240, cwd=tmp,
                stdin=subprocess.DEVNULL, env=dict(c.env(), PYTHONDONTWRITEBYTECODE="1"))
            sys.stderr.write(r.stderr[-6000:])
            rt_harness.check(r.returncode == 0, "the notebook script exited %d" % r.returncode)
            figures = json.loads(r.stdout.strip().splitlines()[-1])
            print("figures: " + json.dumps(figures))
    except rt_harness.TestFailure as e:
        print("FAIL: %s (files kept in %s)" % (e, tmp))
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print("ok python-client")
    return 0


if __name__ == "__main__":
    sys.exit(main())
