"""bbpe._jit: every kernel file is stamped into every kernel's cache, and numba's IR copies share source lines."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

numba = pytest.importorskip("numba")

from bbpe import _jit  # noqa: E402
from bbpe.pretokenize import _scan_kernels  # noqa: E402

PACKAGE = Path(_jit.__file__).parent


def test_kernel_files_are_exactly_the_modules_that_compile_kernels():
    users = {
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "from bbpe._jit import" in path.read_text(encoding="utf-8")
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
