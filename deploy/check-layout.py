#!/usr/bin/python3
"""The layout check of the product code (common/, proto/, worker/, scheduler/; not tests/):

1. file cycles: a file (a .c with its .h) depends on another when it calls a function or uses a
   variable the other defines (definitions found by Universal Ctags, uses by scanning each .c for
   identifiers outside comments, strings and struct/enum tags), or when its header includes the
   other's header. No set of files may depend on each other in a circle; shared services go into
   a leaf file.
2. folder cycles: the same dependencies between folders (each folder is one meson library). No
   circle between folders.
3. layers: a folder may depend only on itself and on folders of a lower layer (LAYERS below), and
   never on a FORBIDDEN one (the kernels do no I/O, the readers run no kernels).
4. folder sizes: no folder holds more than MAX_FILES source files (.c and .h).
5. long functions: a function (in a .c, or a static inline one in a header) may have at most
   MAX_LINES lines (from its name to its closing brace, as ctags sees it) unless a comment
   `/* long: why */` stands just above it.

Usage: deploy/check-layout.sh [--root DIR]. Prints a report; exits 1 when a check fails, 2 when
it cannot run (no ctags).
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys

MAX_FILES = 25
MAX_LINES = 80
PRODUCT = ("common", "proto", "worker", "scheduler")

# Layers, lowest first. Derived from the tree: each folder sits above everything it needs.
#   0 common            logging, errors, memory, options: needs nothing of ours
#   1 proto             the wire protocol: common only
#     worker/dsp/core   shared kernels: common only (no I/O, no wire)
#     worker/io         readers and writers: common only
#     worker/ops/spec   what every op is written against: common only
#     worker/report     the correction report's charts (cairo) and page: common only
#   2 worker/dsp/fmri, worker/dsp/pulse, worker/dsp/spectral, worker/dsp/connectivity   domain
#                       kernels on the core kernels
#     worker/io/rec     the recording formats behind one interface, EDF through worker/io
#     worker/synth      generators, which write their recordings through worker/io
#   3 worker/ops/trial/data   trial inputs, a task's block of trials, the runner, the parts
#     worker/ops/rec/data     a recording task's channels, epochs, runner, output reader
#   4 worker/ops/rec, worker/ops/trial       the op families: kernels, readers, synth, report, spec
#   5 worker/ops        registry, plugins, task-run and the input-format table over the families
#   6 worker            the worker process: ops and the wire
#   7 scheduler/graph   pipeline -> task graph, checked with the ops' own parameter checks
#     scheduler/state/store   the SQLite store of jobs and tasks: common only
#   8 scheduler/state   the daemon's state: jobs (built into graphs), tasks, workers, dispatch,
#                       the reply queue, persistence
#   9 scheduler         the daemon's loop, peers and endpoints over that state
#  10 scheduler/ctl     the CLI, which can embed a scheduler and a worker (local mode)
LAYERS = {
    "common": 0,
    "proto": 1, "worker/dsp/core": 1, "worker/io": 1, "worker/ops/spec": 1, "worker/report": 1,
    "worker/dsp/fmri": 2, "worker/dsp/pulse": 2, "worker/dsp/spectral": 2,
    "worker/dsp/connectivity": 2,
    "worker/io/rec": 2, "worker/synth": 2,
    "worker/ops/trial/data": 3, "worker/ops/rec/data": 3,
    "worker/ops/rec": 4, "worker/ops/trial": 4,
    "worker/ops": 5,
    "worker": 6,
    "scheduler/graph": 7, "scheduler/state/store": 7,
    "scheduler/state": 8,
    "scheduler": 9,
    "scheduler/ctl": 10,
}
# (from, to) folder prefixes that never depend on each other whatever their layers.
FORBIDDEN = [
    ("worker/dsp", "worker/io"),
    ("worker/io", "worker/dsp"),
    ("worker/dsp", "worker/ops"),
    ("worker/io", "worker/ops"),
    ("worker/dsp", "worker/report"),
    ("worker/report", "worker/dsp"),
]
# Folders whose findings are listed but do not fail the check, each with why. Remove an entry
# once its folder passes.
WAIVED = {}

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"]+)"', re.M)
IDENT = re.compile(r"[A-Za-z_]\w*")
TAG = re.compile(r"\b(?:struct|union|enum)\s+[A-Za-z_]\w*")  # a tag is not a use of a function


def under(path, prefix):
    return path == prefix or path.startswith(prefix + "/")


def waived(path):
    for folder in WAIVED:
        if os.path.dirname(path) == folder:
            return folder
    return None


def strip_c(text):
    """Comments, strings and character constants blanked, line breaks kept."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', blank, text,
                  flags=re.S)


def source_files(root):
    """The .c and .h files of the product folders: those git knows (tracked or not ignored), or
    every one below them outside a git checkout."""
    r = subprocess.run(["git", "-C", root, "ls-files", "--cached", "--others",
                        "--exclude-standard", "--", "*.c", "*.h"], capture_output=True, text=True)
    if r.returncode == 0:
        out = r.stdout.split()
    else:
        out = [os.path.relpath(os.path.join(d, f), root)
               for top in PRODUCT for d, _, names in os.walk(os.path.join(root, top))
               for f in names if f.endswith((".c", ".h"))]
    return sorted(f for f in set(out)
                  if f.split("/")[0] in PRODUCT and os.path.exists(os.path.join(root, f)))


def ctags(root, files):
    cmd = ["ctags", "--output-format=json", "--languages=C", "--langmap=C:.c.h", "--kinds-C=fvpx",
           "--fields=+neK{file}", "-o", "-"]
    out = subprocess.run(cmd + files, cwd=root, capture_output=True, text=True, check=True)
    return [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]


def module(path):
    return path.rsplit(".", 1)[0]


class Tree:
    def __init__(self, root):
        self.root = root
        self.files = source_files(root)
        self.text = {f: open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
                     for f in self.files}
        self.tags = ctags(root, self.files)
        self.defs = {}  # global symbol -> defining .c
        for t in self.tags:
            if t["kind"] in ("function", "variable") and not t.get("file") and \
                    t["path"].endswith(".c") and t["name"] != "main":
                self.defs.setdefault(t["name"], t["path"])
        # (from module, to module) -> reasons
        self.why = collections.defaultdict(set)
        fileset = set(self.files)
        for f in self.files:
            # A .c's includes are the means of its uses, counted below; a header's includes
            # are a dependency of everything that includes it.
            for h in INCLUDE.findall(self.text[f]) if f.endswith(".h") else ():
                if h in fileset and module(h) != module(f):
                    self.why[(module(f), module(h))].add("includes " + h)
            if f.endswith(".c"):
                for name in set(IDENT.findall(TAG.sub(" ", strip_c(self.text[f])))):
                    d = self.defs.get(name)
                    if d is not None and module(d) != module(f):
                        self.why[(module(f), module(d))].add("uses " + name)


def cycles(nodes, edges):
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index, low, onstack, stack, out, counter = {}, {}, set(), [], [], [0]
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        onstack.add(start)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    onstack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in onstack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        onstack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def summarize(reasons, most=4):
    r = sorted(reasons)
    inc = [x[len("includes "):] for x in r if x.startswith("includes ")]
    use = [x[len("uses "):] for x in r if x.startswith("uses ")]
    parts = []
    if inc:
        parts.append("includes " + ", ".join(inc[:most]) + (" ..." if len(inc) > most else ""))
    if use:
        parts.append("uses " + ", ".join(use[:most]) + (" ..." if len(use) > most else ""))
    return "; ".join(parts)


class Report:
    def __init__(self):
        self.results = []

    def check(self, title, failures, notes):
        """failures/notes: lists of (text, waiver folder or None)."""
        hard = [t for t, w in failures if w is None]
        soft = [(t, w) for t, w in failures if w is not None]
        status = "FAIL" if hard else "ok"
        print("%-52s %s" % (title + " ", status))
        for t in hard:
            print("  " + t)
        for t, w in soft:
            print("  waived (%s): %s" % (w, t))
        for t in notes:
            print("  " + t)
        self.results.append((title, bool(hard), len(soft)))


def check_file_cycles(tree, rep):
    nodes = {module(f) for f in tree.files}
    edges = collections.defaultdict(set)
    for a, b in tree.why:
        edges[a].add(b)
    fails = []
    for comp in cycles(nodes, edges):
        inside = set(comp)
        lines = ["circle: " + " <-> ".join(c.split("/")[-1] for c in comp) +
                 "  (" + os.path.dirname(comp[0]) + ")"]
        for (a, b), why in sorted(tree.why.items()):
            if a in inside and b in inside:
                lines.append("    %s -> %s: %s" % (a.split("/")[-1], b.split("/")[-1],
                                                  summarize(why)))
        w = waived(comp[0] + ".c") if all(waived(c + ".c") for c in comp) else None
        fails.append(("\n".join(lines), w))
    rep.check("1. file cycles (%d files)" % len(nodes), fails, [])


def folder_edges(tree):
    edges = collections.defaultdict(lambda: collections.defaultdict(set))
    for (a, b), why in tree.why.items():
        fa, fb = os.path.dirname(a), os.path.dirname(b)
        if fa != fb:
            edges[fa][fb].add("%s: %s" % (a.split("/")[-1], summarize(why, 2)))
    return edges


def check_folder_cycles(tree, rep):
    edges = folder_edges(tree)
    nodes = {os.path.dirname(f) for f in tree.files}
    fails = []
    for comp in cycles(nodes, {a: set(b) for a, b in edges.items()}):
        inside = set(comp)
        lines = ["circle: " + " <-> ".join(comp)]
        for a in comp:
            for b in sorted(edges[a]):
                if b in inside:
                    lines.append("    %s -> %s (%s)" % (a, b, sorted(edges[a][b])[0]))
        fails.append(("\n".join(lines), None))
    rep.check("2. folder cycles (%d folders)" % len(nodes), fails, [])


def check_layers(tree, rep):
    edges = folder_edges(tree)
    nodes = sorted({os.path.dirname(f) for f in tree.files})
    fails = []
    for f in nodes:
        if f not in LAYERS:
            fails.append(("%s: not in the layer table (add it to LAYERS in %s)" %
                          (f, os.path.relpath(__file__, tree.root)), None))
    for a in sorted(edges):
        for b in sorted(edges[a]):
            bad = None
            for x, y in FORBIDDEN:
                if under(a, x) and under(b, y):
                    bad = "%s never depends on %s" % (x, y)
            if bad is None and a in LAYERS and b in LAYERS and LAYERS[b] >= LAYERS[a]:
                bad = "layer %d depends on layer %d" % (LAYERS[a], LAYERS[b])
            if bad is not None:
                for why in sorted(edges[a][b]):
                    fails.append(("%s -> %s: %s (%s)" % (a, b, bad, why),
                                  WAIVED.get(a) and a))
    notes = ["layers: " + " < ".join(
        ", ".join(sorted(f for f, l in LAYERS.items() if l == k))
        for k in sorted(set(LAYERS.values())))]
    rep.check("3. layers", fails, notes)


def check_sizes(tree, rep):
    count = collections.Counter(os.path.dirname(f) for f in tree.files)
    fails = [("%s: %d source files (at most %d; split it into a subfolder)" % (d, n, MAX_FILES),
              d if d in WAIVED else None) for d, n in sorted(count.items()) if n > MAX_FILES]
    top = ", ".join("%s %d" % (d, n) for d, n in count.most_common(3))
    rep.check("4. folder sizes (at most %d files)" % MAX_FILES, fails, ["largest: " + top])


def long_reason(lines, first):
    """The `long:` reason in the comment lines just above line `first` (0-based), or None."""
    i = first - 1
    while i >= 0 and lines[i].strip() != "" and not lines[i].rstrip().endswith(";") and \
            not lines[i].rstrip().endswith("}"):
        m = re.search(r"/\*\s*long:\s*(.*?)\s*(\*/|$)", lines[i])
        if m:
            return m.group(1) or "?"
        i -= 1
    return None


def check_long(tree, rep):
    fails, allowed = [], []
    for t in tree.tags:
        # every function body, in a .c or a header's static inline one
        if t["kind"] != "function" or "end" not in t:
            continue
        n = t["end"] - t["line"] + 1
        if n <= MAX_LINES:
            continue
        lines = tree.text[t["path"]].split("\n")
        # the return type stands on the line above the name in this tree's style
        first = t["line"] - 2 if t["line"] >= 2 and lines[t["line"] - 2].strip() else t["line"] - 1
        reason = long_reason(lines, first)
        text = "%s:%d %s: %d lines" % (t["path"], t["line"], t["name"], n)
        if reason is not None:
            allowed.append("allowed: %s (long: %s)" % (text, reason))
        else:
            fails.append((text, waived(t["path"])))
    fails.sort()
    rep.check("5. functions over %d lines" % MAX_LINES, fails, sorted(allowed))


def main(argv):
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    if len(argv) >= 2 and argv[0] == "--root":
        root = os.path.abspath(argv[1])
    if shutil.which("ctags") is None or \
            "Universal Ctags" not in subprocess.run(["ctags", "--version"], capture_output=True,
                                                    text=True).stdout:
        print("check-layout: needs Universal Ctags (Debian package universal-ctags)",
              file=sys.stderr)
        return 2
    tree = Tree(root)
    print("layout check of %s: %d files in %d folders" %
          (root, len(tree.files), len({os.path.dirname(f) for f in tree.files})))
    rep = Report()
    check_file_cycles(tree, rep)
    check_folder_cycles(tree, rep)
    check_layers(tree, rep)
    check_sizes(tree, rep)
    check_long(tree, rep)
    failed = [t for t, hard, _ in rep.results if hard]
    nwaived = sum(n for _, _, n in rep.results)
    print("%d of %d checks failed%s" % (len(failed), len(rep.results),
                                        ", %d findings waived" % nwaived if nwaived else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
