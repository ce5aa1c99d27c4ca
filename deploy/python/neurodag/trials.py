"""Trial methods on numpy arrays: the trials are written as a Syncopy AnalogData container
(.spy, through h5py), one step of the named method runs on them (`neurodag run` here, or on a
scheduler given as client=), and the container it writes is read back into a LabeledArray: the
values with their dimension names, the labels of each axis and the trial definition."""
import hashlib
import json
import os
import shutil
import tempfile

from .local import run_pipeline

CLASS_EXT = (".spectral", ".crossspectral", ".timelock", ".analog")


class LabeledArray:
    """values (numpy array), dims (names of its axes, Syncopy's dimord), coords (labels per
    axis: freq in Hz, channel names, taper names, time in s), trialdefinition (rows of start,
    stop, offset in samples, over the "time" axis), samplerate and the job's report."""

    def __init__(self, values, dims, coords, trialdefinition, samplerate, report=None):
        self.values, self.dims, self.coords = values, tuple(dims), coords
        self.trialdefinition, self.samplerate, self.report = trialdefinition, samplerate, report

    def __array__(self, dtype=None):
        return self.values if dtype is None else self.values.astype(dtype)

    @property
    def shape(self):
        return self.values.shape

    def __getattr__(self, name):
        coords = self.__dict__.get("coords") or {}
        if name in coords:
            return coords[name]
        raise AttributeError(name)

    def trials(self):
        """The values split along "time" by the trial definition: one array per trial."""
        return [self.values[int(a):int(b)] for a, b in self.trialdefinition[:, :2]]

    def __repr__(self):
        return "LabeledArray(%s, dims=%s)" % ("×".join(map(str, self.shape)), self.dims)


def _need():
    try:
        import h5py
        import numpy as np
    except ImportError as e:
        raise ImportError("neurodag's trial methods need numpy and h5py (%s)" % e) from None
    return np, h5py


def _trials(data, offsets, np):
    """(trials × channels × samples) array, or a list of (channels × samples) trials of any
    lengths: the concatenated (time × channel) data and its trial definition."""
    if hasattr(data, "ndim") and data.ndim == 2:
        data = data[None]
    trials = [np.asarray(t, dtype=np.float64) for t in data]
    if not trials or any(t.ndim != 2 or t.shape[0] != trials[0].shape[0] for t in trials):
        raise ValueError("data: trials × channels × samples, or a list of channels × samples "
                         "arrays with the same channels")
    lens = [t.shape[1] for t in trials]
    stops = np.cumsum(lens)
    offs = np.zeros(len(trials)) if offsets is None else np.asarray(offsets, dtype=np.float64)
    if offs.shape != (len(trials),):
        raise ValueError("offsets: one per trial (samples of the trigger before the start)")
    trl = np.column_stack([stops - lens, stops, offs]).astype(np.float64)
    return np.concatenate([t.T for t in trials], axis=0), trl


def write_analog(path, x, trl, fsample, channels):
    """An AnalogData container at path (NAME.spy) as Syncopy writes one."""
    np, h5py = _need()
    os.makedirs(path, exist_ok=True)
    stem = os.path.basename(path)[:-4]
    h5 = os.path.join(path, stem + ".analog")
    with h5py.File(h5, "w") as f:
        f.create_dataset("data", data=x)
        f.create_dataset("trialdefinition", data=trl, maxshape=(None, trl.shape[1]))
        f.attrs["dimord"] = ["time", "channel"]
        f.attrs["samplerate"] = float(fsample)
        f.attrs["channel"] = list(channels)
    with open(h5, "rb") as f:
        sha = hashlib.sha1(f.read()).hexdigest()
    info = {"filename": stem + ".analog", "dataclass": "AnalogData",
            "data_dtype": str(x.dtype), "data_shape": list(x.shape), "data_offset": None,
            "trl_dtype": "float64", "trl_shape": list(trl.shape), "trl_offset": None,
            "file_checksum": sha, "checksum_algorithm": "openssl_sha1", "order": "C",
            "dimord": ["time", "channel"], "_version": "2023.07", "_log": "", "cfg": {},
            "info": {}, "samplerate": float(fsample), "channel": list(channels),
            "_hdfFileDatasetProperties": ["data"]}
    with open(h5 + ".info", "w") as f:
        json.dump(info, f)


def read_container(path, report=None):
    """The data file of a container written by neurodag, as a LabeledArray."""
    np, h5py = _need()
    stem = os.path.basename(path.rstrip("/"))[:-4]
    h5 = next((os.path.join(path, stem + e) for e in CLASS_EXT
               if os.path.exists(os.path.join(path, stem + e))), None)
    if h5 is None:
        raise FileNotFoundError("%s holds no %s file" % (path, "/".join(CLASS_EXT)))
    with h5py.File(h5, "r") as f:
        values = f["data"][()]
        trl = f["trialdefinition"][()]
        attrs = {k: f.attrs[k] for k in f.attrs}
    if values.dtype.names and "r" in values.dtype.names:
        values = values["r"] + 1j * values["i"]
    dims = [d.decode() if isinstance(d, bytes) else str(d) for d in attrs.get("dimord", [])]
    fs = float(attrs.get("samplerate", 0.0))
    coords = {}
    for d in dims:
        key = d if d in attrs else "channel" if d.startswith("channel") and "channel" in attrs \
            else None
        if key is not None:
            a = np.atleast_1d(attrs[key])
            coords[d] = np.array([x.decode() if isinstance(x, bytes) else x for x in a])
    if "time" in dims and fs > 0:
        coords["time"] = np.concatenate([(np.arange(int(b - a)) + off) / fs
                                         for a, b, off in trl[:, :3]]) if len(trl) else \
            np.zeros(0)
    return LabeledArray(values, dims, coords, trl, fs, report)


def run_method(op, data, fsample, channels=None, offsets=None, client=None, workdir=None,
               workers=None, timeout=None, progress=True, keep_files=False, **cfg):
    """One step of trial method `op` with parameters cfg on data (see _trials)."""
    np, _ = _need()
    x, trl = _trials(data, offsets, np)
    chans = list(channels) if channels is not None else \
        ["channel%d" % (i + 1) for i in range(x.shape[1])]
    if len(chans) != x.shape[1]:
        raise ValueError("channels: %d names for %d channels" % (len(chans), x.shape[1]))
    tmp = tempfile.mkdtemp(prefix="neurodag-%s-" % op, dir=workdir)
    try:
        src, dst = os.path.join(tmp, "input.spy"), os.path.join(tmp, "result.spy")
        write_analog(src, x, trl, fsample, chans)
        step = dict(cfg, op=op)
        pipe = {"name": op, "input": {"format": "spy", "path": src}, "steps": [step],
                "output": {"format": "spy", "path": dst}}
        report = run_pipeline(pipe, src, dst, tmp, client, workers, timeout, progress)
        return read_container(dst, report)
    finally:
        if not keep_files:
            shutil.rmtree(tmp, ignore_errors=True)


def freqanalysis(data, fsample, **kwargs):
    """Spectral analysis (Syncopy's freqanalysis parameters: method, taper, foilim, output,
    keeptrials, tapsmofrq ...). dims (time, taper, freq, channel)."""
    return run_method("freqanalysis", data, fsample, **kwargs)


def connectivityanalysis(data, fsample, **kwargs):
    """Connectivity (method coh, csd, corr, granger, ppc ...). dims (time, freq, channel_i,
    channel_j)."""
    return run_method("connectivityanalysis", data, fsample, **kwargs)


def preprocessing(data, fsample, **kwargs):
    """Filtering and the other preprocessing steps. dims (time, channel)."""
    return run_method("preprocessing", data, fsample, **kwargs)


def resampledata(data, fsample, **kwargs):
    return run_method("resampledata", data, fsample, **kwargs)
