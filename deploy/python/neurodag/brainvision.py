"""Writing a recording as BrainVision (the .vhdr header, .vmrk markers and multiplexed
IEEE_FLOAT_32 samples in µV), the form neurodag reads without losing precision: float32 keeps
24 bits of each sample, where EDF would quantise to 16."""
import os


def _field(text):
    """BrainVision writes a comma inside a marker field as \\1."""
    return str(text).replace(",", "\\1").replace("\r", " ").replace("\n", " ")


def write(path, data, sfreq, ch_names, units, markers=()):
    """path: NAME.vhdr. data: channels × samples (numpy) in each channel's unit (µV for
    voltages). markers: (type, description, sample index from 0, length in samples)."""
    import numpy as np
    base = os.path.splitext(os.path.basename(path))[0]
    folder = os.path.dirname(os.path.abspath(path))
    eeg, vmrk = base + ".eeg", base + ".vmrk"
    data = np.ascontiguousarray(np.asarray(data, dtype="<f4").T)
    data.tofile(os.path.join(folder, eeg))
    lines = ["Brain Vision Data Exchange Header File Version 1.0",
             "; written by the neurodag Python package", "",
             "[Common Infos]", "Codepage=UTF-8", "DataFile=" + eeg, "MarkerFile=" + vmrk,
             "DataFormat=BINARY", "DataOrientation=MULTIPLEXED", "DataType=TIMEDOMAIN",
             "NumberOfChannels=%d" % len(ch_names),
             "SamplingInterval=%.17g" % (1e6 / float(sfreq)), "",
             "[Binary Infos]", "BinaryFormat=IEEE_FLOAT_32", "", "[Channel Infos]"]
    lines += ["Ch%d=%s,,1,%s" % (i + 1, _field(n), _field(u))
              for i, (n, u) in enumerate(zip(ch_names, units))]
    with open(path, "w", encoding="utf-8", newline="\r\n") as f:
        f.write("\n".join(lines) + "\n")
    mk = ["Brain Vision Data Exchange Marker File, Version 1.0", "", "[Common Infos]",
          "Codepage=UTF-8", "DataFile=" + eeg, "", "[Marker Infos]",
          "Mk1=New Segment,,1,1,0"]
    for i, (typ, desc, pos, size) in enumerate(markers):
        mk.append("Mk%d=%s,%s,%d,%d,0" % (i + 2, _field(typ), _field(desc), int(pos) + 1,
                                         max(int(size), 1)))
    with open(os.path.join(folder, vmrk), "w", encoding="utf-8", newline="\r\n") as f:
        f.write("\n".join(mk) + "\n")
