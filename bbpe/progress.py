"""Progress events from long work, and a stderr reporter for the CLI.

The library never prints: it calls ``on_progress(ProgressEvent)``; the CLI passes a
``StderrProgress`` (silenced by ``--quiet``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class ProgressEvent:
    """``stage`` is "count" (done = bytes read), "tasks" (done / total counting tasks, ``bytes`` read),
    "merge" (done = tokens added, total = target) or "tokenize" (done / total bytes read, ``tokens`` written)."""

    stage: str
    done: int
    total: int | None
    elapsed: float
    bytes: int = 0
    tokens: int = 0


ProgressCallback = Callable[[ProgressEvent], None]


class StderrProgress:
    """Prints at most a few progress lines per second: amount, rate and ETA."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.5) -> None:
        self._stream = stream or sys.stderr
        self._interval = interval
        self._last = 0.0
        self._open_line = False

    def __call__(self, event: ProgressEvent) -> None:
        now = time.monotonic()
        finished = event.total is not None and event.done >= event.total
        if now - self._last < self._interval and not finished:
            return
        self._last = now
        rate = event.done / event.elapsed if event.elapsed > 0 else 0.0
        if event.stage == "count":
            text = f"counting: {event.done / 1e6:,.1f} MB read, {rate / 1e6:,.1f} MB/s"
        elif event.stage == "tasks":
            eta = event.elapsed / event.done * ((event.total or 0) - event.done) if event.done else 0.0
            text = (
                f"counting: {event.done:,}/{event.total:,} tasks, {event.bytes / 1e6:,.1f} MB, "
                f"{event.bytes / max(event.elapsed, 1e-9) / 1e6:,.1f} MB/s, ETA {_clock(eta)}"
            )
        elif event.stage == "tokenize":
            left = f", ETA {_clock((event.total - event.done) / rate)}" if rate and event.total else ""
            text = (
                f"tokenizing: {event.done / 1e6:,.1f}{'' if event.total is None else f'/{event.total / 1e6:,.1f}'} MB, "
                f"{event.tokens:,} tokens, {rate / 1e6:,.1f} MB/s{left}"
            )
        else:
            eta = (event.total - event.done) / rate if rate and event.total else 0.0
            text = f"merging: {event.done:,}/{event.total:,} tokens, {rate:,.0f} merges/s, ETA {_clock(eta)}"
        end = "\n" if not self._stream.isatty() else ""
        self._stream.write(("\r" if self._stream.isatty() else "") + text.ljust(70) + end)
        self._stream.flush()
        self._open_line = self._stream.isatty()

    def close(self) -> None:
        if self._open_line:
            self._stream.write("\n")
            self._open_line = False


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def peak_memory_mb() -> float:
    """Peak resident memory so far, in MB: this process or its largest finished child (counting workers)."""
    import resource

    peaks = (resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return max(peaks) / 1024  # ru_maxrss is in KiB on Linux
