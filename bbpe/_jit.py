"""What every compiled kernel module takes from numba: the ``kernel`` decorator, the no-reference-counting
option, and a compile-time fix.

**One cache stamp for all kernel files.** numba caches a compiled function on disk and reuses it
while the function's own file is unchanged, but a compiled function contains the code of the kernels
it calls from other files.  ``kernel`` (``numba.njit(cache=True, ...)``) stamps every cache with the
sizes and times of all of bbpe's kernel files (``KERNEL_FILES``), so a change to any of them makes
every cached kernel compile again.

**The fix.** When numba inlines a function (``inline="always"``) it deep-copies the function's IR
for every call site.  Every IR node has a source location, and a location that once formatted an
error message (numba does that while it tries constant inference, and catches the error) keeps the
lines of its whole source file; ``ir.Global`` copies its location without the copy memo, so each
copy copied the file's lines again: 7.7 million ``deepcopy`` calls and about half of the compile
time of the scanner (``scripts/bench_cold_start.py``).  A location's attributes are never changed
in place, so a shallow copy is an exact copy: that is what this module installs as
``ir.Loc.__deepcopy__``, unless numba defines one itself.

Importing this module raises ImportError when numba is not installed.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from numba import njit
from numba.core import ir

# Every module that compiles kernels (tests/test_jit.py checks the list against the package).
KERNEL_FILES = (
    "bpe/_kernels.py",
    "encoding/_kernels.py",
    "pretokenize/_scan_kernels.py",
    "training/loops/_kernels.py",
    "training/loops/_pair_state.py",
    "training/loops/_tables.py",
    "training/loops/_tokens.py",
    "training/methods/_parity_kernels.py",
)

# numba's (private) target option ``_nrt``: compile a kernel without reference counting.  For
# kernels that only read and write arrays their caller holds; with reference counting, every call
# (and every inlined helper) taking an array adds atomic updates that cost more than the work.
NO_REFCOUNT: dict[str, Any] = {"_nrt": False}


def _shallow_copy(location: ir.Loc, memo: dict[int, Any]) -> ir.Loc:
    return copy.copy(location)


def share_source_lines() -> bool:
    """Install the shallow ``ir.Loc.__deepcopy__``; False if numba has its own (then nothing changes)."""
    current = vars(ir.Loc).get("__deepcopy__")
    if current is not None and current is not _shallow_copy:
        return False
    ir.Loc.__deepcopy__ = _shallow_copy  # type: ignore[attr-defined]
    return True


@cache
def family_stamp() -> tuple[tuple[str, float, int], ...]:
    """(file, modification time, size) of every kernel file: numba's cache is valid while this is unchanged."""
    root = Path(__file__).parent
    return tuple((name, stat.st_mtime, stat.st_size) for name in KERNEL_FILES for stat in [os.stat(root / name)])


def kernel(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(cache=True, **options)``, its cache stamped with ``family_stamp()`` (a numba dispatcher: untyped)."""
    stamp = family_stamp()

    def decorate(function: Callable[..., Any]) -> Any:
        dispatcher = njit(cache=True, **options)(function)
        try:
            dispatcher._cache._cache_file._source_stamp = stamp
        except AttributeError:  # another numba layout: its own per-file stamp stays in use
            pass
        return dispatcher

    return decorate


def is_cached(dispatcher: Any) -> bool:
    """Whether numba's cache holds ``dispatcher`` compiled for these kernel files (its first call then loads
    machine code instead of compiling).  True when it cannot tell (another numba layout): say nothing then."""
    try:
        return bool(dispatcher._cache._cache_file._load_index())
    except Exception:  # a private numba structure that may change
        return True


_ANNOUNCED: set[str] = set()

# Input size from which "auto" compiles kernels that are not in numba's cache yet.  Below it the paths
# that need no compiling (the ``regex`` counter, the reference merge loop, tiktoken's encoder: same
# results) finish in about the time a compile takes (30-60 s on 2 cores, scripts/bench_cold_start.py),
# so a user's first small run does not wait; from it on, compiling pays back within a run or two.
COMPILE_PAYS_FROM = 32 * 2**20


def is_ready(dispatcher: Any) -> bool:
    """Whether ``dispatcher`` runs without compiling: compiled in this process already, or in numba's cache."""
    return bool(getattr(dispatcher, "overloads", None)) or is_cached(dispatcher)


def worth_compiling(dispatchers: Iterable[Any], size: int | None, pays_from: int | None = None) -> bool:
    """Whether "auto" runs ``dispatchers``: yes when they are ready (loading from numba's cache takes a
    second), or when the work's ``size`` (``None``: unknown) is at least ``pays_from`` (default
    ``COMPILE_PAYS_FROM`` bytes); else a run without them is quicker, and a note says once how to compile
    them ahead (``bbpe warmup``)."""
    pays_from = COMPILE_PAYS_FROM if pays_from is None else pays_from
    if size is not None and size >= pays_from:
        return True
    if all(is_ready(d) for d in dispatchers):
        return True
    if "warmup" not in _ANNOUNCED and (size or 0) >= pays_from // 8:
        _ANNOUNCED.add("warmup")
        logging.getLogger("bbpe").warning(
            "running without compiled kernels (not compiled on this machine yet, and compiling them would take "
            "longer than this run); 'bbpe warmup' compiles them once, in about a minute"
        )
    return False


def announce_compile(dispatchers: Iterable[Any], what: str, seconds: str) -> None:
    """Tell the user once (the ``bbpe`` logger, a warning: the CLI prints it on stderr) that ``what`` is being
    compiled for this machine, when any of ``dispatchers`` is not in numba's cache."""
    if what in _ANNOUNCED or all(is_ready(d) for d in dispatchers):
        return
    _ANNOUNCED.add(what)
    logging.getLogger("bbpe").warning(
        "compiling %s for this machine (once, about %s); later runs load it from numba's cache", what, seconds
    )


share_source_lines()

__all__ = [
    "KERNEL_FILES",
    "NO_REFCOUNT",
    "announce_compile",
    "family_stamp",
    "is_cached",
    "kernel",
    "share_source_lines",
]
