"""The Unicode class tables: generated from regex, cached per regex version, regenerated when the cache is bad."""

from __future__ import annotations

import numpy as np
import regex

from bbpe.pretokenize import unicode_tables as ut


def test_tables_are_cached_and_a_broken_cache_is_regenerated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(ut, "_TABLES", None)
    stage1, stage2 = ut.class_tables()
    path = ut.cache_path()
    assert path.parent == tmp_path / "bbpe" and regex.__version__ in path.name and path.exists()
    monkeypatch.setattr(ut, "_TABLES", None)
    again = ut.class_tables()
    assert np.array_equal(again[0], stage1) and np.array_equal(again[1], stage2)
    path.write_bytes(b"not an npz file")
    monkeypatch.setattr(ut, "_TABLES", None)
    rebuilt = ut.class_tables()
    assert np.array_equal(rebuilt[1], stage2)


def test_two_level_table_is_lossless_and_latin1_is_block_zero():
    bits = ut.generate_classes()
    stage1, stage2 = ut.two_level(bits)
    cps = np.arange(ut.N_CODE_POINTS)
    assert np.array_equal(stage2[stage1[cps >> 8].astype(np.int64) * ut.BLOCK + (cps & 0xFF)], bits)
    assert np.array_equal(stage2[:256], bits[:256])
    assert bits[ord("ſ")] & ut.FOLD_S and bits[ord("ſ")] & ut.FOLD_SDMT and not bits[0x1C] & ut.SPACE
