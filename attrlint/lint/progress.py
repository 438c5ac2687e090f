"""A progress bar on stderr for long runs, only when stderr is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

MIN_FILES = 200  # shorter runs finish before a bar would help
INTERVAL = 0.1  # seconds between redraws


class Progress:
    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.done = 0
        self.started = self.drawn = time.monotonic()
        self.shown = False

    @classmethod
    def for_stderr(cls, total: int) -> Progress | None:
        stream = sys.stderr
        if total < MIN_FILES or not getattr(stream, "isatty", lambda: False)():
            return None
        return cls(total, stream)

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.drawn >= INTERVAL or self.done == self.total:
            self.drawn = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        width = 30
        filled = width * self.done // max(1, self.total)
        rate = self.done / max(now - self.started, 1e-6)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} files"
                          f" {rate:,.0f}/s ")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
