#!/usr/bin/python3
"""The layout checker itself: on small trees that break one rule each it fails and names the
files, folders and functions; on a tree that keeps the rules it passes.
Usage: check-layout-rules.py CHECK_LAYOUT_SH"""
import os
import shutil
import subprocess
import sys
import tempfile

checker = sys.argv[1]
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def write(root, path, text):
    os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
    with open(os.path.join(root, path), "w") as f:
        f.write(text)


def unit(root, path, body="", includes=(), uses=()):
    """path without extension: a .h declaring NAME_f and a .c defining it (calling `uses`)."""
    name = os.path.basename(path).replace("-", "_")
    write(root, path + ".h", "".join('#include "%s"\n' % i for i in includes if i.endswith(".h"))
          + "int %s_f(void);\n" % name)
    calls = "".join("\t%s();\n" % u for u in uses)
    write(root, path + ".c", '#include "%s.h"\n\nint\n%s_f(void)\n{\n%s\treturn 0;\n}\n%s'
          % (path, name, calls, body))


def run(files):
    root = tempfile.mkdtemp(prefix="nd-layout-")
    try:
        subprocess.run(["git", "init", "-q", root], check=True)
        for f in files:
            f(root)
        r = subprocess.run([checker, "--root", root], capture_output=True, text=True,
                           timeout=120)
        return r.returncode, r.stdout + r.stderr
    finally:
        shutil.rmtree(root)


def clean(root):
    unit(root, "common/log")
    unit(root, "common/error", uses=["log_f"])
    unit(root, "worker/io/io-npy", uses=["error_f"])
    unit(root, "worker/dsp/core/dsp-filter", uses=["log_f"])
    write(root, "worker/dsp/core/dsp-long.c",
          "/* long: one table */\nint\ndsp_long(void)\n{\n" + "\tint a = 0;\n" * 90 + "\treturn 0;\n}\n")


rc, out = run([clean])
check(rc == 0, "a tree that keeps the rules passes: %d\n%s" % (rc, out))
check("allowed: worker/dsp/core/dsp-long.c" in out and "long: one table" in out,
      "a long function with its reason is listed as allowed:\n" + out)


def circle(root):
    clean(root)
    unit(root, "common/token", uses=["paths_f"])
    unit(root, "common/paths", uses=["token_f"])


rc, out = run([circle])
check(rc == 1 and "circle: paths <-> token" in out and "uses token_f" in out,
      "two files that call each other fail, with the call named:\n" + out)


def header_circle(root):
    clean(root)
    unit(root, "proto/proto-a", includes=["proto/proto-b.h"])
    unit(root, "proto/proto-b", includes=["proto/proto-a.h"])


rc, out = run([header_circle])
check(rc == 1 and "proto-a <-> proto-b" in out and "includes proto/proto-b.h" in out,
      "two headers that include each other fail:\n" + out)


def kernels_read(root):
    clean(root)
    unit(root, "worker/dsp/core/dsp-read", uses=["io_npy_f"],
         includes=["worker/io/io-npy.h"])


rc, out = run([kernels_read])
check(rc == 1 and "worker/dsp/core -> worker/io: worker/dsp never depends on worker/io" in out,
      "a kernel that calls a reader fails:\n" + out)


def upward(root):
    clean(root)
    unit(root, "common/xmalloc", uses=["error_f", "dsp_filter_f"])


rc, out = run([upward])
check(rc == 1 and "common -> worker/dsp/core: layer 0 depends on layer 1" in out,
      "a lower folder that uses a higher one fails:\n" + out)


def folder_circle(root):
    clean(root)
    unit(root, "worker/io/io-kern", uses=["dsp_back_f"])
    unit(root, "worker/dsp/core/dsp-back", uses=["io_kern_f"])


rc, out = run([folder_circle])
check(rc == 1 and "circle: worker/dsp/core <-> worker/io" in out,
      "two folders that use each other fail:\n" + out)


def crowded(root):
    clean(root)
    for i in range(13):
        unit(root, "worker/synth/synth-%02d" % i)


rc, out = run([crowded])
check(rc == 1 and "worker/synth: 26 source files (at most 25" in out,
      "a folder of 26 files fails:\n" + out)


def unknown(root):
    clean(root)
    unit(root, "worker/dsp/wavelets/dsp-wavelet")


rc, out = run([unknown])
check(rc == 1 and "worker/dsp/wavelets: not in the layer table" in out,
      "a folder outside the layer table fails:\n" + out)


def long_fn(root):
    clean(root)
    write(root, "common/big.c", "int\nbig(void)\n{\n" + "\tint a = 0;\n" * 79 + "\treturn 0;\n}\n"
          + "\nint\nfits(void)\n{\n" + "\tint a = 0;\n" * 76 + "\treturn 0;\n}\n")


rc, out = run([long_fn])
check(rc == 1 and "common/big.c:2 big: 83 lines" in out and "fits" not in out,
      "a function of 83 lines (from its name to its brace) fails, one of 80 passes:\n" + out)


def long_inline(root):
    clean(root)
    write(root, "common/big.h", "static inline int\nbig_inline(void)\n{\n" +
          "\tint a = 0;\n" * 85 + "\treturn 0;\n}\n")


rc, out = run([long_inline])
check(rc == 1 and "common/big.h:2 big_inline: 89 lines" in out,
      "a long static inline function in a header fails too:\n" + out)

print("%d failures" % failures)
sys.exit(1 if failures else 0)
