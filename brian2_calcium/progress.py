"""A minimal progress bar on stderr for long runs (no dependency beyond the stdlib)."""

import sys
import time

__all__ = ["ProgressBar"]


class ProgressBar:
    """Report ``done/total`` work units on one updating stderr line.

    Parameters
    ----------
    total : int
        Units of work.
    label : str
        Text shown before the bar.
    enabled : bool or None
        ``None`` shows the bar only when stderr is a terminal.
    """

    def __init__(self, total, label="", enabled=None, stream=None):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        self.enabled = self.stream.isatty() if enabled is None else bool(enabled)
        self.done = 0
        self._start = time.perf_counter()

    def update(self, n=1):
        self.done = min(self.done + n, self.total)
        if self.enabled:
            frac = self.done / self.total
            bar = "#" * int(30 * frac)
            elapsed = time.perf_counter() - self._start
            self.stream.write(f"\r{self.label} [{bar:<30s}] {100 * frac:5.1f}% {elapsed:6.1f} s")
            self.stream.flush()

    def close(self):
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
