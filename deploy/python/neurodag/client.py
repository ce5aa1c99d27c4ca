"""The scheduler's HTTP API from Python: Client (submit, jobs, workers) and Job (status, wait with
a progress bar, result, cancel). Writes carry the scheduler's token as a bearer token; so do
reads, for a scheduler started with --http-auth-read."""
import json
import os
import time
import urllib.error
import urllib.request

from .progress import Progress

DEFAULT_URL = "http://127.0.0.1:8787"
FINISHED = ("done", "failed", "cancelled")


class NeurodagError(Exception):
    """A refusal of the scheduler (HTTP status and its message) or a job that did not finish
    well."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class JobFailed(NeurodagError):
    """Job.result() of a failed or cancelled job."""


def default_token_file():
    state = os.environ.get("NEURODAG_STATE_DIR") or os.path.join(
        os.path.expanduser("~"), ".local", "state", "neurodag")
    return os.path.join(state, "token")


def read_token(token=None, token_file=None):
    """The token given, else the file's, else $NEURODAG_TOKEN, else the default state dir's
    (None when there is none: reads still work on a scheduler that leaves them open)."""
    if token:
        return token.strip()
    if token_file is None and os.environ.get("NEURODAG_TOKEN"):
        return os.environ["NEURODAG_TOKEN"].strip()
    path = token_file or default_token_file()
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        if token_file is not None:
            raise
        return None


def _pipeline_text(pipeline, inputs, output):
    """The pipeline's JSON text and the inputs/output to send. A path is read, and its relative
    input.path / output.path are made absolute against its folder, as the CLI does."""
    if isinstance(pipeline, dict):
        return json.dumps(pipeline, indent=1), inputs, output
    path = os.fspath(pipeline)
    with open(path) as f:
        text = f.read()
    base = os.path.dirname(os.path.abspath(path))
    try:
        doc = json.loads(text)
    except ValueError:
        return text, inputs, output  # the scheduler says where it is wrong

    def located(key):
        v = doc.get(key) if isinstance(doc, dict) else None
        p = v.get("path") if isinstance(v, dict) else None
        return os.path.join(base, p) if isinstance(p, str) and p else None

    if not inputs and located("input") is not None:
        inputs = [located("input")]
    if output is None:
        output = located("output")
    return text, inputs, output


class Client:
    """A scheduler's HTTP endpoint, e.g. Client("http://127.0.0.1:8787")."""

    def __init__(self, url=DEFAULT_URL, token=None, token_file=None, timeout=30):
        self.url = url.rstrip("/")
        if "://" not in self.url:
            self.url = "http://" + self.url
        self.token = read_token(token, token_file)
        self.timeout = timeout

    def __repr__(self):
        return "Client(%r)" % self.url

    def request(self, method, path, body=None):
        """One call: the decoded JSON answer, or NeurodagError with the scheduler's message."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                msg = json.loads(raw).get("error", raw.decode(errors="replace"))
            except ValueError:
                msg = raw.decode(errors="replace").strip() or e.reason
            raise NeurodagError("%s %s: HTTP %d: %s" % (method, path, e.code, msg),
                                e.code) from None
        except urllib.error.URLError as e:
            raise NeurodagError("cannot reach the scheduler at %s: %s" % (self.url, e.reason))
        return json.loads(raw) if raw.strip() else None

    def submit(self, pipeline, inputs=None, output=None, overwrite=False):
        """Submit a pipeline (a dict, or the path of a pipeline file): one job per input.
        inputs: None (the pipeline's own), a path (one Job returned) or a list of paths (a
        list of Jobs). Paths are the scheduler's: absolute, or relative to this process's
        folder (made absolute here)."""
        single = inputs is None or isinstance(inputs, (str, os.PathLike))
        ins = [] if inputs is None else [inputs] if single else list(inputs)
        text, ins, output = _pipeline_text(pipeline, [os.path.abspath(p) for p in ins], output)
        body = {"pipeline": text, "overwrite": bool(overwrite)}
        if ins:
            body["inputs"] = ins
        if output is not None:
            body["output"] = os.path.abspath(output)
        ids = self.request("POST", "/api/jobs", body)["jobs"]
        jobs = [Job(self, i) for i in ids]
        return jobs[0] if single and len(jobs) == 1 else jobs

    def job(self, job_id):
        return Job(self, int(job_id))

    def jobs(self):
        return [Job(self, j["id"]) for j in self.request("GET", "/api/jobs")]

    def workers(self):
        """The registered workers: a list of dicts (host, pid, slots, running ...)."""
        return self.request("GET", "/api/workers")

    def status(self):
        return self.request("GET", "/api/status")


def summary(status):
    """The report of a finished job: state, outputs, the correction report page, the quality
    figures (the metrics step's) and every task's results."""
    results = status.get("results") or {}
    metrics = next((v["metrics"] for v in results.values()
                    if isinstance(v, dict) and isinstance(v.get("metrics"), dict)), None)
    outputs = status.get("outputs") or ([status["output"]] if status.get("output") else [])
    return {"id": status.get("id"), "name": status.get("name"), "state": status.get("state"),
            "input": status.get("input"), "output": status.get("output"), "outputs": outputs,
            "report": status.get("report"), "metrics": metrics,
            "elapsed_s": status.get("elapsed_s"), "results": results,
            "error": status.get("error")}


class Job:
    """A job of a scheduler; its id is the CLI's (`neurodag status ID`)."""

    def __init__(self, client, job_id):
        self.client, self.id = client, int(job_id)
        self._last = None

    def __repr__(self):
        st = self._last["state"] if self._last else "?"
        return "<Job %d %s>" % (self.id, st)

    def status(self):
        self._last = self.client.request("GET", "/api/jobs/%d" % self.id)
        return self._last

    @property
    def state(self):
        return self.status()["state"]

    def wait(self, timeout=None, progress=True, interval=0.25):
        """Follow the job until it finishes, with a progress bar (a notebook widget under
        IPython, a bar on a terminal, a few lines otherwise; progress=False for none).
        Returns the final status; TimeoutError after `timeout` seconds."""
        bar = Progress("job %d" % self.id) if progress else None
        end = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                st = self.status()
                if bar is not None:
                    bar.update(st.get("progress") or 0.0, st.get("done", 0), st.get("tasks", 0),
                               st["state"])
                if st["state"] in FINISHED:
                    return st
                if end is not None and time.monotonic() >= end:
                    raise TimeoutError("job %d still %s after %g s" % (self.id, st["state"],
                                                                       timeout))
                time.sleep(interval)
        finally:
            if bar is not None:
                bar.close()

    def result(self, timeout=None, progress=False):
        """The finished job's report (summary()); waits first. JobFailed when it failed or
        was cancelled, with its error."""
        st = self._last if self._last and self._last["state"] in FINISHED else \
            self.wait(timeout, progress)
        if st["state"] != "done":
            raise JobFailed("job %d %s: %s" % (self.id, st["state"], st.get("error") or ""),
                            None)
        return summary(st)

    def cancel(self):
        """Cancel the job (DELETE /api/jobs/{id}); returns its state after."""
        r = self.client.request("DELETE", "/api/jobs/%d" % self.id)
        self._last = None
        return r["state"]
