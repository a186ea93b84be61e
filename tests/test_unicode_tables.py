"""The Unicode class tables: generated from regex, cached per regex version, regenerated when the cache is bad."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import regex

from bbpe.cli import main
from bbpe.pretokenize import array_cache
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


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty user cache; the tables are generated once into it (the tests then damage the file)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(ut, "_TABLES", None)
    good = ut.class_tables()
    monkeypatch.setattr(ut, "_TABLES", None)
    return ut.cache_path(), good


def _tamper(path, *, forge_checksum: bool) -> None:
    """Clear the letter bit of "a" in a well-formed table; optionally store a matching checksum."""
    with np.load(path) as saved:
        arrays = {"stage1": saved["stage1"], "stage2": saved["stage2"].copy()}
    arrays["stage2"][ord("a")] &= ~np.uint32(ut.LETTER)
    if forge_checksum:
        array_cache.store(path, ut._KEY, arrays)
    else:
        np.savez(path, **arrays, sha256=np.array("0" * 64))


@pytest.mark.parametrize("damage", ["truncated", "tampered", "forged", "foreign"])
def test_a_damaged_or_wrong_cache_is_rebuilt_not_used(cache, caplog, monkeypatch, damage):
    path, (stage1, stage2) = cache
    whole = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "foreign":  # a well-formed file made from other class definitions
        with np.load(path) as saved:
            array_cache.store(path, ut._KEY + " (other classes)", {k: saved[k] for k in ("stage1", "stage2")})
    else:
        _tamper(path, forge_checksum=damage == "forged")
    with caplog.at_level(logging.WARNING, logger="bbpe"):
        rebuilt = ut.class_tables()
    assert np.array_equal(rebuilt[0], stage1) and np.array_equal(rebuilt[1], stage2)
    assert "rebuilding it" in caplog.text
    assert path.read_bytes() == whole  # rewritten as generated: the next load is silent
    monkeypatch.setattr(ut, "_TABLES", None)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bbpe"):
        again = ut.class_tables()
    assert np.array_equal(again[1], stage2) and caplog.text == ""


def test_counting_after_a_truncated_cache_works(cache, capsys, tmp_path):
    path, _ = cache
    path.write_bytes(path.read_bytes()[:100])
    corpus = tmp_path / "c.txt"
    corpus.write_text("alpha beta gamma 123\n" * 40)
    assert main(["train", str(corpus), "--vocab", "260", "-o", str(tmp_path / "v.json"), "-q", "--workers", "1"]) == 0


def test_the_load_check_reads_every_entry_of_the_table():
    stage1, _ = ut.two_level(ut.generate_classes())
    sample = ut.check_sample(stage1)
    read = np.unique(stage1[sample >> 8].astype(np.int64) * ut.BLOCK + (sample & 0xFF))
    used = np.unique(stage1.astype(np.int64)[:, None] * ut.BLOCK + np.arange(ut.BLOCK))
    assert np.array_equal(read, used)  # every stage2 entry some code point reads is checked
    assert set(np.unique(sample >> 8)) == set(range(len(stage1)))  # and every block index
