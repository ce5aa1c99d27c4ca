#!/usr/bin/python3
"""End-to-end time-frequency analyses with the real CLI: `neurodag run --workers 2` on each of the
reference toolbox's time-frequency cases (tests/data/spectral-methods: the steps run unchanged on
the tfmix input written as an AnalogData container), the outputs compared with the reference
arrays within the stated tolerance and with the reference's attributes; every shipped tfr-*.json
example run on a small input; and every output opened as the reference toolbox's loader opens it:
with Syncopy itself when ND_SYNCOPY_PATH names an importable source tree (spy.load with checksum),
else with h5py, checking every field and attribute that loader reads.
Usage: check-trial-tfr.py NEURODAG DATA_DIR EXAMPLES_DIR WORKDIR. Exits 77 without h5py/numpy."""
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys

try:
    import h5py
    import numpy as np
except ImportError as exc:
    print(f"skip: {exc}")
    sys.exit(77)

NEURODAG, DATA, EXAMPLES, WORK = (os.path.abspath(a) for a in sys.argv[1:5])
failures = []
INFO_FIELDS = ("filename", "dataclass", "data_dtype", "data_shape", "data_offset", "trl_dtype",
               "trl_shape", "trl_offset", "file_checksum", "order", "checksum_algorithm",
               "dimord", "_version", "_log", "cfg", "info", "samplerate", "channel", "taper",
               "freq")


def check(cond, msg):
    print(("ok:   " if cond else "FAIL: ") + msg)
    if not cond:
        failures.append(msg)


def write_analog(path, x, trl, fs):
    """An AnalogData container as the reference toolbox writes one."""
    os.makedirs(path, exist_ok=True)
    stem = os.path.basename(path)[:-4]
    h5 = os.path.join(path, stem + ".analog")
    chan = [f"channel{i + 1}" for i in range(x.shape[1])]
    with h5py.File(h5, "w") as f:
        f.create_dataset("data", data=x)
        f.create_dataset("trialdefinition", data=trl, maxshape=(None, trl.shape[1]))
        f.attrs["dimord"] = ["time", "channel"]
        f.attrs["samplerate"] = fs
        f.attrs["channel"] = chan
        f.attrs["_version"] = "2023.09"
        f.attrs["_log"] = ""
    sha = hashlib.sha1(open(h5, "rb").read()).hexdigest()
    info = {"filename": stem + ".analog", "dataclass": "AnalogData", "data_dtype": str(x.dtype),
            "data_shape": list(x.shape), "data_offset": 0, "trl_dtype": "float64",
            "trl_shape": list(trl.shape), "trl_offset": 0, "file_checksum": sha,
            "checksum_algorithm": "openssl_sha1", "order": "C", "dimord": ["time", "channel"],
            "_version": "2023.09", "_log": "", "cfg": {}, "info": {}, "samplerate": fs,
            "channel": chan, "_hdfFileDatasetProperties": ["data"]}
    json.dump(info, open(h5 + ".info", "w"))


def run(name, pipe, *args):
    path = os.path.join(WORK, name + ".json")
    json.dump(pipe, open(path, "w"))
    cmd = [NEURODAG, "run", "-q", "--workers", "2", path, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr


def spectral_file(container):
    stem = os.path.basename(container)[:-4]
    return os.path.join(container, stem + ".spectral")


def loader_fields(container):
    """What Syncopy's load_spy_container reads, checked with h5py; returns the data."""
    h5 = spectral_file(container)
    info = json.load(open(h5 + ".info"))
    name = os.path.basename(container)
    missing = [k for k in INFO_FIELDS if k not in info]
    check(not missing, f"{name}: .info has every field the loader requires {missing or ''}")
    check(info.get("dataclass") == "SpectralData", f"{name}: dataclass SpectralData")
    check(info.get("file_checksum") == hashlib.sha1(open(h5, "rb").read()).hexdigest(),
          f"{name}: .info SHA-1 matches the HDF5 file")
    with h5py.File(h5, "r") as f:
        d, trl = f["data"], f["trialdefinition"][()]
        check(list(d.shape) == info["data_shape"] and d.ndim == 4, f"{name}: data shape")
        check(list(f.attrs["dimord"]) == ["time", "taper", "freq", "channel"] ==
              info["dimord"], f"{name}: dimord")
        check(trl.ndim == 2 and trl.shape[1] >= 3 and list(trl.shape) == info["trl_shape"],
              f"{name}: trialdefinition of >= 3 columns")
        check(trl[0, 0] == 0 and np.all(trl[1:, 0] == trl[:-1, 1]) and trl[-1, 1] == d.shape[0],
              f"{name}: trial rows tile axis 0")
        for key in ("samplerate", "channel", "freq", "taper"):
            a = f.attrs[key]
            a = [x.decode() if isinstance(x, bytes) else x for x in np.atleast_1d(a)]
            b = np.atleast_1d(info[key]).tolist()
            check(a == b or np.allclose(np.array(a, float), np.array(b, float)),
                  f"{name}: attribute {key} equals the .info's")
        check(len(f.attrs["freq"]) == d.shape[2] and len(f.attrs["taper"]) == d.shape[1] and
              len(f.attrs["channel"]) == d.shape[3], f"{name}: axis labels fit the shape")
        data = d[()]
    if data.dtype.names:
        data = data["r"] + 1j * data["i"]
    return data


SYNCOPY = {}


def syncopy_path():
    """The PYTHONPATH that imports Syncopy (ND_SYNCOPY_PATH, or an installed one), with stubs of
    its optional imports dask_jobqueue and fooof; None when it does not import."""
    if "path" in SYNCOPY:
        return SYNCOPY["path"]
    stubs = os.path.join(WORK, "stubs")
    os.makedirs(os.path.join(stubs, "fooof"), exist_ok=True)
    for f, cls in (("dask_jobqueue.py", "SLURMCluster"), ("fooof/__init__.py", "FOOOF")):
        with open(os.path.join(stubs, f), "w") as fp:
            fp.write(f"class {cls}:\n    pass\n")
    path = ":".join(p for p in (os.environ.get("ND_SYNCOPY_PATH"), stubs) if p)
    env = dict(os.environ, PYTHONPATH=path, SPYTMPDIR=os.path.join(WORK, "spytmp"))
    p = subprocess.run(["/usr/bin/python3", "-c", "import syncopy"], capture_output=True,
                       env=env, timeout=300)
    SYNCOPY["path"] = path if p.returncode == 0 else None
    print("Syncopy " + ("imports: outputs are loaded with spy.load" if p.returncode == 0 else
                        "does not import: outputs are checked with h5py only"))
    return SYNCOPY["path"]


def syncopy_load(container):
    """spy.load(checksum=True) in a subprocess; None when Syncopy does not import."""
    path = syncopy_path()
    if not path:
        return None
    code = ("import sys, json, numpy as np, syncopy as spy\n"
            "d = spy.load(sys.argv[1], checksum=True)\n"
            "print(json.dumps({'shape': list(d.data.shape), 'trials': len(d.trials),"
            " 'samplerate': float(d.samplerate), 'freq': list(map(float, d.freq)),"
            " 'sum': float(np.abs(d.data[()]).sum())}))\n")
    env = dict(os.environ, PYTHONPATH=path, SPYTMPDIR=os.path.join(WORK, "spytmp"))
    p = subprocess.run(["/usr/bin/python3", "-c", code, container], capture_output=True,
                       text=True, env=env, timeout=300)
    if p.returncode != 0:
        return {"error": p.stderr[-800:]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def check_container(container, data):
    r = syncopy_load(container)
    if r is None:
        return
    name = os.path.basename(container)
    check("error" not in r, f"{name}: Syncopy loads it (checksum checked) {r.get('error', '')}")
    if "error" not in r:
        check(r["shape"] == list(data.shape), f"{name}: Syncopy sees shape {r['shape']}")
        check(abs(r["sum"] - float(np.abs(data).sum())) <= 1e-6 * r["sum"],
              f"{name}: Syncopy reads the same values")


def reference_cases():
    meta = json.load(open(os.path.join(DATA, "tf_meta.json")))
    x = np.load(os.path.join(DATA, "tfmix_input.npy"))
    trl = np.load(os.path.join(DATA, "tfmix_trialdefinition.npy"))
    inp = os.path.join(WORK, "tfmix.spy")
    write_analog(inp, x, trl, 500.0)
    for case, c in meta.items():
        if case.startswith("_"):
            continue
        out = os.path.join(WORK, case + ".spy")
        pipe = {"name": case, "input": {"format": "spy", "path": inp}, "steps": c["steps"],
                "output": {"format": "spy", "path": out},
                "execution": {"trials_per_task": 4, "chan_per_task": 2}}
        rc, err = run(case, pipe)
        check(rc == 0, f"{case}: neurodag run --workers 2 exits 0 {err[-300:] if rc else ''}")
        if rc != 0:
            continue
        got = loader_fields(out)
        ref = np.load(os.path.join(DATA, c["ref"]))
        tol = c["tol"]["rel"] * np.abs(ref) + c["tol"]["abs"] * np.abs(ref).max()
        ok = got.shape == ref.shape and bool(np.all(np.abs(got - ref) <= tol))
        worst = float(np.max(np.abs(got - ref) / tol)) if got.shape == ref.shape else float("inf")
        check(ok, f"{case}: equals the reference within its tolerance (worst {worst:.3g})")
        with h5py.File(spectral_file(out), "r") as f:
            check(np.allclose(f["trialdefinition"][()], np.array(c["trialdefinition"]),
                              rtol=1e-12, atol=1e-12), f"{case}: trial definition")
            check(abs(float(f.attrs["samplerate"]) - c["samplerate"]) <= 1e-12 * c["samplerate"],
                  f"{case}: samplerate {float(f.attrs['samplerate'])}")
        check_container(out, got)


def shipped_examples():
    """Each shipped tfr-*.json with its input replaced by a small container."""
    rng = np.random.default_rng(5)
    fs, n, ntr, nc = 1000.0, 1000, 6, 4
    t = np.arange(n) / fs
    x = np.concatenate([np.sin(2 * np.pi * 40 * t)[:, None] + 0.3 * rng.standard_normal((n, nc))
                        for _ in range(ntr)]).astype(np.float32)
    trl = np.array([[k * n, (k + 1) * n, 0] for k in range(ntr)], dtype=float)
    inp = os.path.join(WORK, "small.spy")
    write_analog(inp, x, trl, fs)
    examples = sorted(glob.glob(os.path.join(EXAMPLES, "tfr-*.json")))
    check(len(examples) >= 4, f"{len(examples)} shipped time-frequency examples")
    for ex in examples:
        name = os.path.basename(ex)[:-5]
        out = os.path.join(WORK, name + "-small.spy")
        pipe = json.load(open(ex))
        pipe["input"] = {"format": "spy", "path": inp}  # the shipped steps, a small input
        pipe["output"]["path"] = out
        rc, err = run(name + "-small", pipe)
        check(rc == 0, f"example {name}: runs {err[-300:] if rc else ''}")
        if rc == 0:
            data = loader_fields(out)
            check(np.all(np.isfinite(data)) and np.abs(data).max() > 0,
                  f"example {name}: finite, non-zero output {data.shape}")
            check_container(out, data)


def mtmfft_axis():
    """mtmfft outputs keep each trial's offset (rows [i, i + 1, offset], the reference's), the
    average is [[0, 1, 0]], and DPSS taper labels are dpss0, dpss1, ..."""
    inp = os.path.join(WORK, "tfmix.spy")
    for label, kw, want, tapers in (
            ("trials", {"foilim": [2, 50]}, [[i, i + 1, -200] for i in range(12)], ["hann"]),
            ("average", {"tapsmofrq": 4, "keeptrials": False}, [[0, 1, 0]], ["dpss0"]),
            ("tapers", {"tapsmofrq": 2, "keeptapers": True, "output": "fourier"},
             [[i, i + 1, -200] for i in range(12)], ["dpss%d" % k for k in range(5)])):
        out = os.path.join(WORK, "mtmfft-" + label + ".spy")
        pipe = {"input": {"format": "spy", "path": inp},
                "steps": [dict(op="freqanalysis", method="mtmfft", **kw)],
                "output": {"path": out}, "execution": {"trials_per_task": 5}}
        rc, err = run("mtmfft-" + label, pipe)
        check(rc == 0, f"mtmfft {label}: runs {err[-300:] if rc else ''}")
        if rc != 0:
            continue
        loader_fields(out)
        with h5py.File(spectral_file(out), "r") as f:
            trl = f["trialdefinition"][()]
            tap = [t.decode() if isinstance(t, bytes) else t for t in f.attrs["taper"]]
        check(trl.tolist() == want, f"mtmfft {label}: trial definition {trl[:2].tolist()}...")
        check(tap == tapers, f"mtmfft {label}: taper labels {tap}")


def errors():
    inp = os.path.join(WORK, "tfmix.spy")
    for label, step, key in (
            ("mtmconvol without t_ftimwin", {"method": "mtmconvol", "toi": 0.5}, "t_ftimwin"),
            ("window longer than the trials", {"method": "mtmconvol", "t_ftimwin": 2.0,
                                               "toi": 0.5}, "t_ftimwin"),
            ("welch with toi all", {"method": "welch", "t_ftimwin": 0.2}, "toi"),
            ("wavelet with a toi fraction", {"method": "wavelet", "toi": 0.5}, "toi"),
            ("Paul of order 3", {"method": "wavelet", "wavelet": "Paul", "order": 3}, "order"),
            ("superlet without order_max", {"method": "superlet"}, "order_max"),
            ("unknown method", {"method": "stft"}, "method")):
        pipe = {"input": {"format": "spy", "path": inp},
                "steps": [dict(op="freqanalysis", **step)],
                "output": {"path": os.path.join(WORK, "bad.spy")}}
        rc, err = run("bad", pipe)
        check(rc == 2 and f"steps[0].{key}" in err, f"{label}: exit {rc}, names steps[0].{key}"
              f": {err.strip()[-200:]}")


def direct_writes():
    """Tasks holding every channel write their rows straight into the output container; the
    container must be the one the stitched parts give (channel-split tasks, staged mode) byte
    for byte, with its .info checksum, and no temporary file may stay beside it."""
    meta = json.load(open(os.path.join(DATA, "tf_meta.json")))
    inp = os.path.join(WORK, "tfmix.spy")
    for label, steps in (
            ("complex64 spectra", meta["mtmconvol_hamming_fourier"]["steps"]),
            ("float32 time series", [{"op": "preprocessing", "filter_class": "but",
                                      "filter_type": "lp", "freq": 40}])):
        digests = {}
        for mode, ex in (("direct", {"trials_per_task": 3}),
                         ("channel parts", {"trials_per_task": 3, "chan_per_task": 2}),
                         ("staged parts", {"trials_per_task": 3, "mode": "staged"})):
            name = "direct-" + label.split()[0] + "-" + mode.split()[0]
            out = os.path.join(WORK, name + ".spy")
            pipe = {"input": {"format": "spy", "path": inp}, "steps": steps,
                    "output": {"path": out}, "execution": ex}
            rc, err = run(name, pipe, "-v")
            check(rc == 0, f"{label}, {mode}: runs {err[-300:] if rc else ''}")
            if rc != 0:
                continue
            check(("written by the unit tasks in place" in err) == (mode == "direct"),
                  f"{label}, {mode}: the tasks wrote " +
                  ("the container in place" if mode == "direct" else "parts"))
            h5 = [f for f in glob.glob(os.path.join(out, "*")) if not f.endswith(".info")]
            raw = open(h5[0], "rb").read()
            info = json.load(open(h5[0] + ".info"))
            check(info["file_checksum"] == hashlib.sha1(raw).hexdigest(),
                  f"{label}, {mode}: the .info checksum is the file's")
            left = glob.glob(os.path.join(WORK, "." + name + ".spy.tmp*"))
            check(not left, f"{label}, {mode}: no temporary file left {left}")
            digests[mode] = hashlib.sha1(raw).hexdigest()
            if mode == "direct" and h5[0].endswith(".spectral"):
                check_container(out, loader_fields(out))
        check(len(set(digests.values())) == 1 and len(digests) == 3,
              f"{label}: written directly, the container is the stitched one byte for byte")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
reference_cases()
mtmfft_axis()
direct_writes()
shipped_examples()
errors()
print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
