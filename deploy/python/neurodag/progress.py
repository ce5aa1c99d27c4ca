"""A job's progress shown where the user looks: an HTML bar updated in place in a Jupyter
notebook (IPython.display), a one-line bar redrawn on a terminal, or a line per tenth done
(and at the end) when the output is a file or a pipe."""
import sys
import time


def _notebook():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


class Progress:
    def __init__(self, label, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()
        self.handle = None
        self.last_tenth = -1
        self.last_state = None
        self.mode = "notebook" if _notebook() else \
            "tty" if getattr(self.stream, "isatty", lambda: False)() else "plain"

    def _text(self, frac, done, total, state):
        return "%s: %3.0f%% %d/%d tasks, %s, %.1f s" % (self.label, 100 * frac, done, total,
                                                        state, time.monotonic() - self.t0)

    def update(self, frac, done, total, state):
        frac = min(max(float(frac), 0.0), 1.0)
        if self.mode == "notebook":
            self._notebook(frac, done, total, state)
        elif self.mode == "tty":
            width = 30
            fill = int(round(frac * width))
            self.stream.write("\r[%s%s] %s" % ("#" * fill, "." * (width - fill),
                                              self._text(frac, done, total, state)))
            self.stream.flush()
        else:
            tenth = int(frac * 10)
            if tenth != self.last_tenth or state != self.last_state:
                print(self._text(frac, done, total, state), file=self.stream, flush=True)
        self.last_tenth, self.last_state = int(frac * 10), state

    def _notebook(self, frac, done, total, state):
        from IPython.display import HTML, display
        html = HTML('<div><progress value="%.4f" max="1" style="width:20em"></progress> '
                    '<code>%s</code></div>' % (frac, self._text(frac, done, total, state)))
        if self.handle is None:
            self.handle = display(html, display_id=True)
        else:
            self.handle.update(html)

    def close(self):
        if self.mode == "tty":
            self.stream.write("\n")
            self.stream.flush()
