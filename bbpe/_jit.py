"""What every compiled kernel module takes from numba: ``njit``, the no-reference-counting option, and a
compile-time fix.

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
from typing import Any

from numba import njit
from numba.core import ir

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


share_source_lines()

__all__ = ["NO_REFCOUNT", "njit", "share_source_lines"]
