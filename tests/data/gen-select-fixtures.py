#!/usr/bin/python3
"""Reference arrays for selectdata, the select keyword and timelockanalysis, computed with the
reference toolbox (Syncopy, esi-neuroscience/syncopy a86199ac, run from its source with
parallel=False), for tests/integration/check-select-run.py. Writes into tests/data/select/:
sel_input.npy (float32, 6 trials of unequal length and offset, 4 channels, 100 Hz),
sel_trialdefinition.npy, and for each case <case>_data.npy, <case>_trl.npy, <case>.json (channel
labels, freq, shapes), plus avg/var/cov for the timelock cases.
usage: PYTHONPATH=SYNCOPY_SRC:ACME_SRC:STUBS gen-select-fixtures.py OUTDIR"""
import json
import os
import sys

import numpy as np
import syncopy as spy

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(5)
lens = [300, 260, 320, 300, 280, 340]
offs = [-100, -80, -120, -100, -50, -150]
x = np.concatenate([rng.standard_normal((n, 4)) + 3 * np.sin(np.arange(n) / 7.0)[:, None]
                    for n in lens]).astype(np.float32)
st = np.cumsum([0] + lens)
trl = np.array([[st[i], st[i + 1], offs[i]] for i in range(6)], float)
np.save(f"{out}/sel_input.npy", x)
np.save(f"{out}/sel_trialdefinition.npy", trl)
ad = spy.AnalogData(data=x, samplerate=100.0, trialdefinition=trl)

CASES = {
    "sel_trials_channels_latency": ("selectdata", dict(trials=[4, 1, 1, 3],
                                                       channel=["channel3", "channel1"],
                                                       latency=[-0.5, 1.0])),
    "sel_minperiod": ("selectdata", dict(latency="minperiod")),
    "sel_poststim": ("selectdata", dict(trials=[0, 2, 5], channel=[2], latency="poststim")),
    "sel_channels_unsorted": ("selectdata", dict(channel=[3, 0, 2])),
    "fa_select": ("freqanalysis", dict(method="mtmfft", taper="hann", output="pow",
                                       select={"trials": [1, 3, 5], "latency": [-0.4, 1.4],
                                               "channel": [0, 3]})),
    "tl_cov": ("timelockanalysis", dict(latency=[-0.3, 1.2], covariance=True,
                                        trials=[0, 2, 3, 5])),
    "tl_keeptrials_ddof0": ("timelockanalysis", dict(latency="minperiod", covariance=True,
                                                     keeptrials=True, ddof=0)),
}
# selectdata's frequency on the per-trial spectra of a freqanalysis step (chained: `pre` runs
# first, its keyword arguments stored in the case's "pre")
FA = dict(method="mtmfft", taper="hann", output="pow")
CHAINED = {
    "sel_frequency_range": (FA, dict(frequency=[10.0, 20.0])),
    "sel_frequency_one": (FA, dict(frequency=12.3)),
}
for name, (pre, kw) in CHAINED.items():
    CASES[name] = ("selectdata", kw)
meta = {}
for name, (fn, kw) in CASES.items():
    pre = CHAINED[name][0] if name in CHAINED else None
    src = spy.freqanalysis(ad, parallel=False, **pre) if pre else ad
    res = getattr(spy, fn)(src, parallel=False, **kw)
    np.save(f"{out}/{name}_data.npy", np.asarray(res.data[()]))
    np.save(f"{out}/{name}_trl.npy", np.asarray(res.trialdefinition, dtype=float))
    m = {"op": fn, "kwargs": kw, "shape": list(res.data.shape), "class": type(res).__name__}
    if pre:
        m["pre"] = dict(op="freqanalysis", **pre)
    if hasattr(res, "channel") and not isinstance(res.channel, str):
        m["channel"] = [str(c) for c in res.channel]
    if getattr(res, "freq", None) is not None:
        m["freq"] = np.asarray(res.freq, float).tolist()
    for ds in ("avg", "var", "cov"):
        v = getattr(res, ds, None) if fn == "timelockanalysis" else None
        if v is not None:
            np.save(f"{out}/{name}_{ds}.npy", np.asarray(v[()]))
            m[ds] = list(np.asarray(v[()]).shape)
    meta[name] = m
    print(name, m["shape"])
json.dump(meta, open(f"{out}/select_meta.json", "w"), indent=1)
