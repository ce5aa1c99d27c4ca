"""What a notebook user does with the installed neurodag package, against a running scheduler:
correct an mne.io.Raw, compute a spectrum of numpy trials, follow and cancel jobs, and meet the
API's refusals. Run by check-python-client.py with the package's own interpreter; prints one
JSON document of figures and exits non-zero on the first failed expectation.
Usage: notebook-client.py URL TOKEN_FILE RECORDING.edf CLEAN.edf PIPELINE.json WORKDIR"""
import io
import json
import sys

import mne
import numpy as np

import neurodag

URL, TOKEN_FILE, RECORDING, CLEAN, PIPELINE, WORK = sys.argv[1:7]
figures = {"package": neurodag.__file__}


def expect(cond, what):
    if not cond:
        print("FAIL " + what, file=sys.stderr)
        sys.exit(1)
    print("ok   " + what, file=sys.stderr)


client = neurodag.Client(URL, token_file=TOKEN_FILE)
workers = client.workers()
expect(len(workers) == 1 and workers[0]["slots"] >= 1, "Client.workers(): %s" % workers)

# --- correction of an mne.io.Raw ----------------------------------------------------------------
raw = mne.io.read_raw_edf(RECORDING, preload=True, verbose=False)
with open(PIPELINE) as f:
    pipe = json.load(f)
for step in pipe["steps"]:
    if step["op"] == "metrics":
        step["ground_truth"] = CLEAN
corrected, report = neurodag.correct(raw, pipe, client=client, workdir=WORK, progress=False,
                                     return_report=True)
expect(isinstance(corrected, mne.io.BaseRaw) and corrected.ch_names == raw.ch_names and
       corrected.n_times == raw.n_times and corrected.info["sfreq"] == raw.info["sfreq"],
       "correct() returns a Raw like its input")
expect(len(corrected.annotations) == len(raw.annotations), "the annotations are kept")
m = report["metrics"]
figures["artifact_reduction_db"] = m["artifact_reduction_db"]
figures["residual_uv"] = m["residual_uv"]
expect(m["artifact_reduction_db"] > 20, "artifact reduced by %.1f dB" % m["artifact_reduction_db"])
truth = mne.io.read_raw_edf(CLEAN, preload=True, verbose=False).get_data()
eeg = [i for i, n in enumerate(raw.ch_names) if n not in ("EMG", "ECG")]
before = np.sqrt(np.mean((raw.get_data()[eeg] - truth[eeg]) ** 2)) * 1e6
after = np.sqrt(np.mean((corrected.get_data()[eeg] - truth[eeg]) ** 2)) * 1e6
figures["rms_error_uv_before"], figures["rms_error_uv_after"] = before, after
expect(after < before / 10, "error against the clean signal %.1f -> %.1f uV" % (before, after))

# --- a spectrum of numpy trials -----------------------------------------------------------------
fs, n, ntr = 500.0, 400, 12
rng = np.random.default_rng(7)
t = np.arange(n) / fs
x = rng.standard_normal((ntr, 3, n)) + 3 * np.sin(2 * np.pi * 40 * t)
offsets = -np.arange(ntr) * 10.0 - 100
spec = neurodag.freqanalysis(x, fs, method="mtmfft", taper="hann", output="pow",
                             keeptrials=True, foilim=[1, 100], offsets=offsets,
                             channels=["Fz", "Cz", "Pz"], client=client, workdir=WORK,
                             progress=False)
expect(spec.dims == ("time", "taper", "freq", "channel") and spec.shape[0] == ntr and
       list(spec.channel) == ["Fz", "Cz", "Pz"], "spectrum dims and labels: %r" % spec)
expect(np.allclose(np.diff(spec.freq), fs / n) and spec.freq[0] >= 1 and spec.freq[-1] <= 100,
       "frequency axis in Hz, within foilim")
peak = spec.freq[np.argmax(np.asarray(spec)[:, 0].mean(axis=(0, 2)))]
figures["spectrum_peak_hz"] = float(peak)
expect(abs(peak - 40) < 1e-9, "the 40 Hz line is the peak: %g" % peak)
win = np.hanning(n)
xd = x - x.mean(axis=-1, keepdims=True)
ref = np.abs(np.fft.rfft(xd * win, axis=-1)) ** 2 * 2 / (n * np.sum(win ** 2))
f = np.fft.rfftfreq(n, 1 / fs)
ref = ref[..., (f >= 1) & (f <= 100)].transpose(0, 2, 1)
rel = np.max(np.abs(spec.values[:, 0] - ref)) / np.max(ref)
figures["spectrum_max_rel_error"] = float(rel)
expect(rel < 1e-5, "the spectrum equals numpy's Hann periodogram (max rel. error %.2g)" % rel)
expect(np.array_equal(spec.trialdefinition[:, 2], offsets),
       "the SpectralData keeps each trial's offset: %s" % spec.trialdefinition[:3, 2])

# --- jobs: progress, cancel, refusals -----------------------------------------------------------
tasks = {"name": "quick", "input": {"format": "tasks", "count": 8}, "steps": [{"op": "noop"}]}
job = client.submit(tasks)
buf = io.StringIO()
from neurodag import progress as progress_mod  # noqa: E402
bar = progress_mod.Progress("job %d" % job.id, stream=buf)
bar.update(1.0, 8, 8, "done")
st = job.wait(timeout=30, progress=True)
expect(st["state"] == "done" and job.result()["state"] == "done", "Job.wait() and result()")
expect("100%" in buf.getvalue(), "the plain progress line: %r" % buf.getvalue())
slow = client.submit({"name": "slow", "input": {"format": "tasks", "count": 2},
                      "steps": [{"op": "sleep", "ms": 60000}]})
expect(slow.cancel() == "cancelled", "Job.cancel()")
try:
    slow.result(timeout=5)
    expect(False, "result() of a cancelled job raises")
except neurodag.JobFailed as e:
    expect("cancelled" in str(e), "result() of a cancelled job raises JobFailed: %s" % e)
for token, status in ((None, 401), ("0" * 64, 403)):
    anon = neurodag.Client(URL, token=token)
    anon.token = token
    try:
        anon.submit(tasks)
        expect(False, "a submission without the right token is refused")
    except neurodag.NeurodagError as e:
        expect(e.status == status, "token %s: HTTP %s (%s)" % (token and "wrong", e.status, e))
bad = WORK + "/bad.json"
with open(bad, "w") as f:
    f.write('{"name": "x",\n "input": {"format": "tasks", "count": 3},\n "steps": [\n'
            '  {"op": "noop",}\n ]}\n')
try:
    client.submit(bad)
    expect(False, "a bad pipeline is refused")
except neurodag.NeurodagError as e:
    expect(e.status == 400 and "line 4, column" in str(e), "bad pipeline: 400 with line/column: "
           "%s" % e)
print(json.dumps(figures))
