"""Running a pipeline either on this machine (`neurodag run`: an embedded scheduler with local
workers) or on a scheduler given as a Client; both give the same job report (client.summary)."""
import json
import os
import shutil
import subprocess

from .client import JobFailed, NeurodagError, summary


def neurodag_executable():
    """$NEURODAG, else `neurodag` on the PATH."""
    exe = os.environ.get("NEURODAG") or shutil.which("neurodag")
    if exe is None:
        raise NeurodagError("the neurodag command is not on the PATH (set NEURODAG to its "
                            "path, or pass client=Client(url) to use a running scheduler)")
    return exe


def _job_reports(doc):
    if isinstance(doc, dict) and isinstance(doc.get("jobs"), list):
        return doc["jobs"]
    return doc if isinstance(doc, list) else [doc]


def run_local(pipeline, input_path, output_path, workdir, workers=None, timeout=None):
    path = os.path.join(workdir, "pipeline.json")
    with open(path, "w") as f:
        json.dump(pipeline, f, indent=1)
    argv = [neurodag_executable(), "run", "--json", "-q", "--overwrite"]
    if workers:
        argv += ["-n", str(int(workers))]
    argv += [path] + ([input_path] if input_path else []) + ["-o", output_path]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    try:
        reports = _job_reports(json.loads(r.stdout)) if r.stdout.strip() else []
    except ValueError:
        reports = []
    if r.returncode != 0 or not reports:
        raise (JobFailed if r.returncode in (1, 4) else NeurodagError)(
            "neurodag run exited %d: %s" % (r.returncode, r.stderr.strip()[-2000:]),
            r.returncode)
    return summary(reports[0])


def run_pipeline(pipeline, input_path, output_path, workdir, client=None, workers=None,
                 timeout=None, progress=True):
    """Run one job of `pipeline` (a dict) on input_path, writing output_path: the job's
    report. With a client the paths must be visible to its scheduler and workers."""
    if client is None:
        return run_local(pipeline, input_path, output_path, workdir, workers, timeout)
    job = client.submit(pipeline, input_path, output=output_path,
                        overwrite=True)
    job.wait(timeout, progress=progress)
    return job.result()
