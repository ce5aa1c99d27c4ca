#!/usr/bin/python3
"""Recording formats against MNE, black-box: BrainVision (INT_16 with a resolution per channel,
IEEE_FLOAT_32; multiplexed and vectorized; markers with durations) and EEGLAB (.set + .fdt, and
.set with embedded data) written here from numpy read by neurodag as MNE reads them; BrainVision
written by neurodag read back by MNE sample-exact; and the standard pipeline on a BrainVision copy
of a synthetic recording gives the EDF copy's result within 0.1 dB, its BrainVision output read
by MNE as neurodag reads it. Usage: check-rec-formats.py NEURODAG REC_TOOL EXAMPLES_DIR
Exits 77 (skipped) when MNE is missing."""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import mne
    import numpy as np
    import scipy.io as sio
except ImportError:
    print("mne, numpy or scipy missing: skipped")
    sys.exit(77)

NEURODAG, REC_TOOL, EXAMPLES = sys.argv[1:4]
TMP = tempfile.mkdtemp(prefix="nd-formats-")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def nd_read(path):
    """neurodag's reading: header (JSON) and every channel (volts)."""
    info = json.loads(subprocess.run([REC_TOOL, "info", path], check=True, capture_output=True,
                                     text=True).stdout)
    d = tempfile.mkdtemp(dir=TMP)
    subprocess.run([REC_TOOL, "dump", path, d], check=True)
    data = np.array([np.load(os.path.join(d, "ch%d.npy" % c))
                     for c in range(len(info["channels"]))])
    return info, data


def same_annotations(info, raw, what, skip_segment=False):
    """MNE keeps onsets to the microsecond."""
    ann = [a for a in info["annotations"]
           if not (skip_segment and a["text"].startswith("New Segment/"))]
    mne_ann = [(a["onset"], a["duration"], a["description"]) for a in raw.annotations
               if not (skip_segment and a["description"].startswith("New Segment/"))]
    ok = len(ann) == len(mne_ann) and all(
        abs(a["onset"] - m[0]) < 1e-6 and a["text"] == m[2] and
        (a["duration"] < 0 and m[1] == 0 or abs(a["duration"] - m[1]) < 1e-9)
        for a, m in zip(ann, mne_ann))
    check(ok, "%s: annotations as MNE reads them (%d)" % (what, len(ann)))
    if not ok:
        print("  neurodag: %s" % [(a["onset"], a["duration"], a["text"]) for a in ann[:4]])
        print("  MNE:      %s" % mne_ann[:4])


# ---- BrainVision written here, read by MNE and neurodag ----

def write_bv(stem, data, fs, fmt, orient, res, units, markers):
    """data: channels x samples in the channels' units (µV for volts)."""
    name = os.path.basename(stem)
    dt = {"INT_16": "<i2", "IEEE_FLOAT_32": "<f4"}[fmt]
    raw = np.round(data / res[:, None]) if fmt == "INT_16" else data / res[:, None]
    raw = raw.astype(dt)
    (raw.T if orient == "MULTIPLEXED" else raw).tofile(stem + ".eeg")
    with open(stem + ".vhdr", "w", encoding="utf-8", newline="\r\n") as f:
        f.write("Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n"
                "Codepage=UTF-8\nDataFile=%s.eeg\nMarkerFile=%s.vmrk\nDataFormat=BINARY\n"
                "DataOrientation=%s\nNumberOfChannels=%d\nDataPoints=%d\n"
                "SamplingInterval=%.10g\n\n[Binary Infos]\nBinaryFormat=%s\n\n"
                "[Channel Infos]\n" % (name, name, orient, data.shape[0], data.shape[1],
                                        1e6 / fs, fmt))
        for c in range(data.shape[0]):
            f.write("Ch%d=E%d,,%.10g,%s\n" % (c + 1, c + 1, res[c], units[c]))
        f.write("\n[Comment]\nfree text here\n")
    with open(stem + ".vmrk", "w", encoding="utf-8", newline="\r\n") as f:
        f.write("Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\n"
                "Codepage=UTF-8\nDataFile=%s.eeg\n[Marker Infos]\n" % name)
        f.write("Mk1=New Segment,,1,1,0,20230405060708000000\n")
        for i, (t, d, pos, size) in enumerate(markers):
            f.write("Mk%d=%s,%s,%d,%d,0\n" % (i + 2, t, d, pos, size))


def bv_fixtures():
    rng = np.random.default_rng(5)
    fs, n = 500.0, 1500
    data = np.vstack([rng.normal(0, 30, n), rng.normal(0, 300, n), 1e-3 * rng.normal(0, 2, n),
                      60 + rng.normal(0, 1, n)])
    units = ["\u00b5V", "\u00b5V", "mV", "C"]
    markers = [("Response", "R128", 101, 1), ("Stimulus", "S  1", 400, 25),
               ("Volume", "V", 1500, 1)]
    for fmt in ("INT_16", "IEEE_FLOAT_32"):
        for orient in ("MULTIPLEXED", "VECTORIZED"):
            res = np.array([0.1, 0.5, 1e-4, 0.01]) if fmt == "INT_16" else np.ones(4)
            stem = os.path.join(TMP, "bv-%s-%s" % (fmt, orient))
            write_bv(stem, data, fs, fmt, orient, res, units, markers)
            what = "BrainVision %s %s" % (fmt, orient)
            raw = mne.io.read_raw_brainvision(stem + ".vhdr", preload=True, verbose=False)
            info, x = nd_read(stem + ".vhdr")
            check(info["format"] == "brainvision" and [c["label"] for c in info["channels"]]
                  == raw.ch_names, "%s: channels %s" % (what, raw.ch_names))
            check(all(c["rate"] == raw.info["sfreq"] and c["n"] == raw.n_times
                      for c in info["channels"]), "%s: rate and length" % what)
            got = raw.get_data()
            err = np.max(np.abs(x - got) / np.maximum(np.abs(got), 1e-30))
            check(x.shape == got.shape and err < 1e-12,
                  "%s: samples as MNE reads them (max relative difference %.1e)" % (what, err))
            check(info["start"][:3] == [2023, 4, 5], "%s: start date" % what)
            same_annotations(info, raw, what)


# ---- EEGLAB written here (scipy), read by MNE and neurodag ----

def eeg_struct(data, fs, datafield):
    nc, npnt = data.shape
    chanlocs = np.zeros((1, nc), dtype=[("labels", "O"), ("type", "O")])
    for i in range(nc):
        chanlocs[0, i] = (["Fz", "Cz", "Pz", "ECG"][i], "EEG")
    ev = np.zeros((1, 3), dtype=[("type", "O"), ("latency", "O"), ("duration", "O")])
    ev[0, 0] = ("R128", 101.0, 1.0)
    ev[0, 1] = ("boundary", 250.5, 0.0)
    ev[0, 2] = (7.0, 900.0, 12.0)
    return {"setname": "check", "nbchan": float(nc), "pnts": float(npnt), "trials": 1.0,
            "srate": fs, "xmin": 0.0, "data": datafield, "chanlocs": chanlocs, "event": ev}


def eeglab_fixtures():
    rng = np.random.default_rng(7)
    fs, data = 256.0, rng.normal(0, 20, (4, 1024)).astype(np.float32)
    cases = [("struct-fdt", True, False, True), ("vars-fdt", False, False, False),
             ("struct-embedded", True, True, True), ("vars-embedded", False, True, False)]
    for name, struct, embedded, compress in cases:
        path = os.path.join(TMP, "ee-%s.set" % name)
        eeg = eeg_struct(data, fs, data if embedded else "ee-%s.fdt" % name)
        sio.savemat(path, {"EEG": eeg} if struct else eeg, do_compression=compress)
        if not embedded:
            data.T.astype("<f4").tofile(os.path.join(TMP, "ee-%s.fdt" % name))
        what = "EEGLAB %s" % name
        raw = mne.io.read_raw_eeglab(path, preload=True, verbose=False)
        info, x = nd_read(path)
        check(info["format"] == "eeglab" and [c["label"] for c in info["channels"]]
              == raw.ch_names, "%s: channels %s" % (what, raw.ch_names))
        got = raw.get_data()
        err = np.max(np.abs(x - got) / np.maximum(np.abs(got), 1e-30))
        check(x.shape == got.shape and err < 1e-12,
              "%s: samples as MNE reads them (max relative difference %.1e)" % (what, err))
        same_annotations(info, raw, what)
    # One broken dataset: the error names the file and the field.
    bad = os.path.join(TMP, "ee-bad.set")
    eeg = eeg_struct(data, fs, "ee-struct-fdt.fdt")
    eeg["nbchan"] = 5.0
    sio.savemat(bad, {"EEG": eeg})
    r = subprocess.run([REC_TOOL, "info", bad], capture_output=True, text=True)
    check(r.returncode != 0 and "ee-bad.set" in r.stderr and "EEG.chanlocs" in r.stderr,
          "EEGLAB: a wrong nbchan is refused naming the file and field: %s" % r.stderr.strip())


# ---- neurodag's writer, read back by MNE ----

def writer_roundtrip(src):
    for fmt in ("int16", "float32"):
        for layout in ("multiplexed", "vectorized"):
            out = os.path.join(TMP, "nd-%s-%s.vhdr" % (fmt, layout))
            subprocess.run([REC_TOOL, "to-brainvision", src, out, fmt, layout], check=True)
            what = "neurodag BrainVision %s %s" % (fmt, layout)
            raw = mne.io.read_raw_brainvision(out, preload=True, verbose=False)
            info, x = nd_read(out)
            _, orig = nd_read(src)
            got = raw.get_data()
            err = np.max(np.abs(x - got) / np.maximum(np.abs(got), 1e-30))
            check(x.shape == got.shape and err < 1e-12,
                  "%s: MNE reads what neurodag reads (max relative difference %.1e)"
                  % (what, err))
            step = np.max(np.abs(orig), axis=1) / 32767 if fmt == "int16" else \
                np.max(np.abs(orig), axis=1) * 2 ** -23
            dev = np.max(np.abs(got - orig) / step[:, None])
            check(dev <= 0.5 * 1.0001 if fmt == "int16" else dev <= 1.0,
                  "%s: within half a step of the source (%.3f steps)" % (what, dev))
            same_annotations(info, raw, what)


def metrics_of(report):
    for v in report["results"].values():
        if "metrics" in v:
            return v["metrics"]
    return None


def standard_pipeline():
    syn = os.path.join(TMP, "syn")
    subprocess.run([NEURODAG, "synth", "fmri", "--channels", "4", "--duration", "20",
                    "--seed", "11", "-o", syn], check=True, capture_output=True)
    bv = os.path.join(syn, "recording.vhdr")
    subprocess.run([REC_TOOL, "to-brainvision", os.path.join(syn, "recording.edf"), bv,
                    "float32"], check=True)
    pipeline = os.path.join(EXAMPLES, "fmri-standard.json")
    reports = {}
    for name, inp, out in (("edf", "recording.edf", "corrected.edf"),
                           ("brainvision", "recording.vhdr", "corrected.vhdr")):
        r = subprocess.run([NEURODAG, "run", "-q", "--json", pipeline, os.path.join(syn, inp),
                            "-o", os.path.join(syn, out)], capture_output=True, text=True,
                           timeout=300)
        check(r.returncode == 0, "fmri-standard on the %s copy: exit %d %s"
              % (name, r.returncode, r.stderr.strip()[-300:]))
        if r.returncode != 0:
            return
        reports[name] = metrics_of(json.loads(r.stdout))
    a = reports["edf"]["artifact_reduction_db"]
    b = reports["brainvision"]["artifact_reduction_db"]
    check(abs(a - b) < 0.1, "fmri-standard: %.4f dB on EDF, %.4f dB on BrainVision (|d| = %.2e "
          "dB < 0.1)" % (a, b, abs(a - b)))
    out = os.path.join(syn, "corrected.vhdr")
    raw = mne.io.read_raw_brainvision(out, preload=True, verbose=False)
    info, x = nd_read(out)
    got = raw.get_data()
    check(x.shape == got.shape and np.array_equal(x, got),
          "fmri-standard: MNE reads the BrainVision output sample-exact (%d x %d)" % got.shape)
    same_annotations(info, raw, "fmri-standard output")
    outdir = os.path.join(syn, "outdir")
    os.makedirs(outdir)
    with open(pipeline) as f:
        p = json.load(f)
    p["output"] = {"format": "brainvision", "binary_format": "INT_16", "path": outdir}
    pj = os.path.join(syn, "to-dir.json")
    with open(pj, "w") as f:
        json.dump(p, f)
    r = subprocess.run([NEURODAG, "run", "-q", pj, os.path.join(syn, "recording.edf")],
                       capture_output=True, text=True, timeout=300)
    written = os.path.join(outdir, "recording.vhdr")
    check(r.returncode == 0 and os.path.exists(written),
          "EDF in, output directory with format brainvision: writes recording.vhdr (%s)"
          % r.stderr.strip()[-200:])
    if os.path.exists(written):
        with open(written, encoding="utf-8") as f:
            check("BinaryFormat=INT_16" in f.read(), "output.binary_format INT_16 is written")
    bad_inputs(syn, pipeline)
    edf = mne.io.read_raw_edf(os.path.join(syn, "corrected.edf"), preload=True, verbose=False)
    check(raw.ch_names == edf.ch_names and raw.n_times == edf.n_times,
          "fmri-standard: BrainVision and EDF outputs have the same channels and length")


def bad_inputs(syn, pipeline):
    """Refusals at submission: one line naming the file, the field and the line."""
    r = subprocess.run([NEURODAG, "run", "-q", pipeline, os.path.join(syn, "recording.vhdr"),
                        "-o", os.path.join(syn, "out.set")], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 2 and "EEGLAB files are read, not written" in r.stderr,
          "output .set is refused: exit %d, %s" % (r.returncode, r.stderr.strip()[-200:]))
    cut = os.path.join(syn, "cut")
    os.makedirs(cut)
    for ext in ("vhdr", "vmrk"):
        shutil.copy(os.path.join(syn, "recording." + ext), cut)
    with open(os.path.join(syn, "recording.eeg"), "rb") as f, \
            open(os.path.join(cut, "recording.eeg"), "wb") as g:
        g.write(f.read()[:-6])
    r = subprocess.run([NEURODAG, "run", "-q", pipeline, os.path.join(cut, "recording.vhdr"),
                        "-o", os.path.join(cut, "out.vhdr")], capture_output=True, text=True,
                       timeout=120)
    msg = r.stderr.strip()
    check(r.returncode == 2 and "recording.eeg" in msg and "DataPoints" in msg and
          "line 12" in msg and "truncated" in msg and len(msg.splitlines()) == 1,
          "truncated .eeg: exit %d, one line: %s" % (r.returncode, msg[-300:]))


def main():
    try:
        bv_fixtures()
        eeglab_fixtures()
        writer_roundtrip(os.path.join(TMP, "bv-INT_16-MULTIPLEXED.vhdr"))
        standard_pipeline()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
