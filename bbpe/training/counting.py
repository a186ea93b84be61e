"""Counting pre-tokens: stream lines, pre-tokenize each line, count unique pre-tokens.

Work is cut into batches of whole lines and spread over worker processes
(``concurrent.futures.ProcessPoolExecutor``: a killed worker raises instead of hanging).
Because every line is pre-tokenized on its own, the counts are the same for any number of
workers and any batch size.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import regex

from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import compile_pattern, validate_pattern

BATCH_BYTES = 1 << 20
_PR_SET_PDEATHSIG = 1
_WATCHDOG_SECONDS = 0.5


def count_pretokens(
    lines: Iterable[str],
    pattern: str,
    *,
    special_tokens: Iterable[str] = (),
    workers: int | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Count the pre-tokens of every line; special-token text is cut out and not counted.

    ``on_batch(bytes_done)`` is called after each batch (for progress reports).

    >>> sorted(count_pretokens(["a a\\n", "a b\\n"], r" ?\\w+|\\s+|.", workers=1).items())
    [('\\n', 2), (' a', 1), (' b', 1), ('a', 2)]
    """
    validate_pattern(pattern)
    specials = tuple(sorted(set(special_tokens)))
    if "" in specials:
        raise ValueError("a special token cannot be empty")
    workers = max(1, workers or os.cpu_count() or 1)
    totals: Counter[str] = Counter()
    done = 0
    if workers == 1:
        for batch, size in _batches(lines):
            totals.update(_count_batch(batch, pattern, specials))
            done += size
            if on_batch:
                on_batch(done)
        return totals
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_die_with_parent, initargs=(os.getpid(),))
    pending: list[tuple[Future[Counter[str]], int]] = []
    try:
        for batch, size in _batches(lines):
            pending.append((pool.submit(_count_batch, batch, pattern, specials), size))
            while len(pending) >= 2 * workers:
                done += _collect(pending.pop(0), totals)
                if on_batch:
                    on_batch(done)
        while pending:
            done += _collect(pending.pop(0), totals)
            if on_batch:
                on_batch(done)
    except BrokenProcessPool:
        raise BBPEError("a counting worker died (killed or out of memory); try fewer --workers") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return totals


def _die_with_parent(parent: int) -> None:
    """Worker start-up: exit when the main process dies, however it dies (killed, out of memory).

    Linux kills the worker when its parent ends (prctl PR_SET_PDEATHSIG); elsewhere, and as a
    fallback, a watchdog thread exits when the parent process id changes.  SIGTERM and SIGHUP get
    their default action back (the main process may have made them raise).
    """
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="bbpe-watchdog", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(_WATCHDOG_SECONDS)
    os._exit(1)


def _collect(item: tuple[Future[Counter[str]], int], totals: Counter[str]) -> int:
    future, size = item
    totals.update(future.result())
    return size


def _batches(lines: Iterable[str]) -> Iterator[tuple[list[str], int]]:
    batch: list[str] = []
    size = 0
    for line in lines:
        batch.append(line)
        size += len(line)
        if size >= BATCH_BYTES:
            yield batch, size
            batch, size = [], 0
    if batch:
        yield batch, size


_COMPILED: dict[tuple[str, tuple[str, ...]], tuple[regex.Pattern[str], regex.Pattern[str] | None]] = {}


def _count_batch(lines: list[str], pattern: str, specials: tuple[str, ...]) -> Counter[str]:
    key = (pattern, specials)
    if key not in _COMPILED:
        splitter = regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True))) if specials else None
        _COMPILED[key] = (compile_pattern(pattern), splitter)
    compiled, splitter = _COMPILED[key]
    counts: Counter[str] = Counter()
    findall = compiled.findall
    for line in lines:
        if splitter is None:
            counts.update(findall(line))
        else:
            for part in splitter.split(line):
                counts.update(findall(part))
    return counts
