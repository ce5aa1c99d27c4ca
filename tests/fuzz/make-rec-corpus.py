#!/usr/bin/python3
"""Writes the seed corpora of the recording-reader fuzz targets: small BrainVision recordings
(header, markers and samples in one input, separated as fuzz-rec-files.h reads them) in every
binary format and orientation, and EEGLAB .set files (one EEG structure or its fields as
variables, compressed or not, samples embedded or in a .fdt). Usage: make-rec-corpus.py [DIR]"""
import io
import os
import sys

import numpy as np
import scipy.io as sio

SEP = b"\n--nd-fuzz-part--\n"
HERE = os.path.dirname(os.path.abspath(__file__))


def vhdr(fmt, orient, nch, points=None, unit="\u00b5V", codepage="UTF-8"):
    lines = ["Brain Vision Data Exchange Header File Version 1.0", "; seed",
             "[Common Infos]", "Codepage=" + codepage, "DataFile=h.eeg", "MarkerFile=h.vmrk",
             "DataFormat=BINARY", "DataOrientation=" + orient, "NumberOfChannels=%d" % nch]
    if points is not None:
        lines.append("DataPoints=%d" % points)
    lines += ["SamplingInterval=2000", "", "[Binary Infos]", "BinaryFormat=" + fmt, "",
              "[Channel Infos]"]
    for c in range(nch):
        lines.append("Ch%d=E%d,,%s,%s" % (c + 1, c + 1, "0.1" if c else "", unit))
    lines += ["", "[Comment]", "free text", "A m p l i f i e r"]
    enc = "utf-8" if codepage == "UTF-8" else "latin-1"
    return "\r\n".join(lines).encode(enc) + b"\r\n"


VMRK = (b"Brain Vision Data Exchange Marker File, Version 1.0\r\n[Common Infos]\r\n"
        b"Codepage=UTF-8\r\nDataFile=h.eeg\r\n[Marker Infos]\r\n"
        b"Mk1=New Segment,,1,1,0,20240102030405000000\r\nMk2=Response,R128,3,1,0\r\n"
        b"Mk3=Stimulus,S\\1 1,5,2,0\r\n")


def brainvision(out):
    os.makedirs(out, exist_ok=True)
    dt = {"INT_16": "<i2", "INT_32": "<i4", "IEEE_FLOAT_32": "<f4"}
    n = 0
    for fmt, t in dt.items():
        for orient in ("MULTIPLEXED", "VECTORIZED"):
            data = (np.arange(3 * 8) - 12).astype(t).tobytes()
            pts = 8 if orient == "VECTORIZED" else None
            blob = vhdr(fmt, orient, 3, pts) + SEP + VMRK + SEP + data
            with open(os.path.join(out, "bv-%s-%s" % (fmt.lower(), orient.lower())), "wb") as f:
                f.write(blob)
            n += 1
    blob = vhdr("INT_16", "MULTIPLEXED", 2, codepage="ANSI") + SEP + VMRK + SEP + bytes(32)
    with open(os.path.join(out, "bv-latin1"), "wb") as f:
        f.write(blob)
    return n + 1


def eeg_struct(nc, npnt, data):
    chanlocs = np.zeros((1, nc), dtype=[("labels", "O"), ("type", "O")])
    for i in range(nc):
        chanlocs[0, i] = ("C%d" % i, "EEG")
    ev = np.zeros((1, 2), dtype=[("type", "O"), ("latency", "O"), ("duration", "O")])
    ev[0, 0] = ("R128", 2.0, 1.0)
    ev[0, 1] = (7.0, 4.5, 0.0)
    return {"setname": "seed", "nbchan": float(nc), "pnts": float(npnt), "trials": 1.0,
            "srate": 250.0, "data": data, "chanlocs": chanlocs, "event": ev}


def eeglab(out):
    os.makedirs(out, exist_ok=True)
    nc, npnt = 2, 6
    samples = (np.arange(nc * npnt, dtype=np.float32) - 5).reshape(nc, npnt)
    n = 0
    for top in (False, True):
        for comp in (False, True):
            for embedded in (False, True):
                eeg = eeg_struct(nc, npnt, samples if embedded else "s.fdt")
                buf = io.BytesIO()
                sio.savemat(buf, eeg if top else {"EEG": eeg}, do_compression=comp)
                blob = buf.getvalue()
                if not embedded:
                    blob += SEP + samples.T.astype("<f4").tobytes()
                name = "set-%s-%s-%s" % ("vars" if top else "struct",
                                         "z" if comp else "raw",
                                         "embedded" if embedded else "fdt")
                with open(os.path.join(out, name), "wb") as f:
                    f.write(blob)
                n += 1
    return n


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else HERE
    print("brainvision: %d seeds" % brainvision(os.path.join(root, "corpus-brainvision")))
    print("eeglab: %d seeds" % eeglab(os.path.join(root, "corpus-eeglab")))
