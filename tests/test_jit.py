"""bbpe._jit: every kernel file is stamped into every kernel's cache, and numba's IR copies share source lines."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest

numba = pytest.importorskip("numba")

from bbpe import _jit  # noqa: E402
from bbpe.pretokenize import _scan_kernels  # noqa: E402

PACKAGE = Path(_jit.__file__).parent


def test_kernel_files_are_exactly_the_modules_that_compile_kernels():
    defines = re.compile(r"^from bbpe\._jit import .*\bkernel\b", re.MULTILINE)  # modules that compile kernels
    users = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if defines.search(path.read_text(encoding="utf-8"))
    }
    assert users == set(_jit.KERNEL_FILES)


def test_every_kernel_cache_carries_the_stamp_of_all_kernel_files():
    stamp = _scan_kernels.classify._cache._cache_file._source_stamp
    assert stamp == _jit.family_stamp()
    assert {name for name, _, _ in stamp} == set(_jit.KERNEL_FILES)


def test_a_changed_kernel_file_changes_the_stamp(tmp_path, monkeypatch):
    for name in _jit.KERNEL_FILES:
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x = 1\n")
    monkeypatch.setattr(_jit, "__file__", str(tmp_path / "_jit.py"))
    _jit.family_stamp.cache_clear()
    try:
        before = _jit.family_stamp()
        (tmp_path / _jit.KERNEL_FILES[-1]).write_text("x = 22\n")
        _jit.family_stamp.cache_clear()
        assert _jit.family_stamp() != before
    finally:
        monkeypatch.undo()
        _jit.family_stamp.cache_clear()


def test_ir_locations_share_their_source_lines_when_copied():
    location = numba.core.ir.Loc("file.py", 3)
    location.lines = ["a\n"] * 1000
    copied = copy.deepcopy(location)
    assert copied == location and copied is not location
    assert copied.lines is location.lines
    assert _jit.share_source_lines()


class _FakeDispatcher:
    """A dispatcher whose cache index holds ``entries`` overloads."""

    def __init__(self, entries: int) -> None:
        index = dict.fromkeys(range(entries))
        self._cache = type("Cache", (), {"_cache_file": type("File", (), {"_load_index": lambda self: index})()})()


def test_a_compile_is_announced_once_and_only_when_something_is_not_cached(caplog, monkeypatch):
    monkeypatch.setattr(_jit, "_ANNOUNCED", set())
    with caplog.at_level("WARNING", logger="bbpe"):
        _jit.announce_compile([_FakeDispatcher(1)], "the cached thing", "1 s")
        _jit.announce_compile([_FakeDispatcher(1), _FakeDispatcher(0)], "the new thing", "2 s")
        _jit.announce_compile([_FakeDispatcher(0)], "the new thing", "2 s")
    assert [r.getMessage() for r in caplog.records] == [
        "compiling the new thing for this machine (once, about 2 s); later runs load it from numba's cache"
    ]


def test_a_kernel_that_ran_is_cached():
    import numpy as np

    from bbpe.pretokenize.unicode_tables import class_tables

    data = np.frombuffer(b"ab", np.uint8)
    _scan_kernels.classify(data, 0, 2, *class_tables(), np.empty(2, np.uint8))
    assert _jit.is_cached(_scan_kernels.classify)
