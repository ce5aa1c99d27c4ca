"""neurodag.correct: an mne.io.Raw through a correction pipeline and back. The recording is
written as BrainVision (float32 samples, its annotations as markers) into a temporary folder,
the pipeline runs on it (here with `neurodag run`, or on a scheduler given as client=), and the
corrected file is read back with MNE into a Raw that keeps the input's info and annotations."""
import copy
import json
import os
import shutil
import tempfile

from . import brainvision
from .local import run_pipeline

FIFF_UNIT_V = 107
EXTENSIONS = {"edf": ".edf", "bdf": ".bdf", "brainvision": ".vhdr"}


def _load_pipeline(pipeline):
    if isinstance(pipeline, dict):
        return copy.deepcopy(pipeline)
    with open(os.fspath(pipeline)) as f:
        return json.load(f)


def _markers(raw):
    """MNE's annotations as BrainVision markers: "Type/Description" keeps its type (MNE reads
    BrainVision markers that way), any other description becomes a Comment."""
    out = []
    ann = raw.annotations
    if len(ann) == 0:
        return out
    starts = raw.time_as_index(ann.onset, use_rounding=True, origin=ann.orig_time)
    for start, dur, desc in zip(starts, ann.duration, ann.description):
        typ, _, text = desc.partition("/") if "/" in desc else ("Comment", "", desc)
        out.append((typ, text, int(start), int(round(dur * raw.info["sfreq"]))))
    return out


def write_raw(raw, path):
    """raw as BrainVision at path (NAME.vhdr): voltages in µV, other channels as they are."""
    data = raw.get_data()
    units = []
    for i, ch in enumerate(raw.info["chs"]):
        if ch["unit"] == FIFF_UNIT_V:
            data[i] *= 1e6
            units.append("\u00b5V")
        else:
            units.append("a.u.")
    brainvision.write(path, data, raw.info["sfreq"], raw.ch_names, units, _markers(raw))


def _like_input(raw, corrected):
    """The corrected samples in a Raw with the input's info and annotations when the pipeline
    kept its channels and length; the Raw as read otherwise."""
    import mne
    if len(corrected.ch_names) != len(raw.ch_names) or corrected.n_times != raw.n_times or \
            corrected.info["sfreq"] != raw.info["sfreq"]:
        return corrected
    out = mne.io.RawArray(corrected.get_data(), raw.info.copy(), first_samp=raw.first_samp,
                          verbose=False)
    out.set_annotations(raw.annotations)
    return out


def correct(raw, pipeline, client=None, workdir=None, workers=None, timeout=None,
            progress=True, return_report=False, keep_files=False):
    """The corrected copy of an mne.io.Raw. pipeline: a dict or a pipeline file (its input and
    output paths are replaced; a metrics step's ground_truth must be an absolute path).
    client: a neurodag.Client to run on its scheduler (workdir must then be a folder its
    workers can read and write); otherwise `neurodag run` runs here. return_report: also
    return the job's report (quality figures under "metrics")."""
    import mne
    pipe = _load_pipeline(pipeline)
    tmp = tempfile.mkdtemp(prefix="neurodag-correct-", dir=workdir)
    try:
        vhdr = os.path.join(tmp, "recording.vhdr")
        write_raw(raw, vhdr)
        inp = {k: v for k, v in (pipe.get("input") or {}).items() if k not in ("path",)}
        inp.update(format="brainvision", path=vhdr)
        out = dict(pipe.get("output") or {"format": "edf"})
        out.setdefault("format", "edf")
        out["path"] = os.path.join(tmp, "corrected" + EXTENSIONS.get(out["format"], ".edf"))
        pipe["input"], pipe["output"] = inp, out
        report = run_pipeline(pipe, vhdr, out["path"], tmp, client, workers, timeout, progress)
        corrected = mne.io.read_raw(out["path"], preload=True, verbose=False)
        result = _like_input(raw, corrected)
    finally:
        if not keep_files:
            shutil.rmtree(tmp, ignore_errors=True)
    return (result, report) if return_report else result
