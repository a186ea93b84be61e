"""Word-count files from wordfreq tables (scripts/word_counts.py) and the main job's extension step,
which trains from the mix's counts plus those files."""

from __future__ import annotations

import doctest
import gzip
import hashlib
import importlib.util
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(REPO / "scripts"))

import word_counts as wc

import bbpe
from bbpe.formats import counts as count_files
from bbpe.pretokenize.patterns import resolve_pattern


def test_doctests():
    assert doctest.testmod(wc).failed == 0


def test_unpack_decodes_the_messagepack_types_wordfreq_uses():
    data = (
        bytes([0x94])  # a 4-item array
        + bytes([0x82, 0xA6]) + b"format" + bytes([0xA2]) + b"cB" + bytes([0xA7]) + b"version" + bytes([0x01])
        + bytes([0xDC, 0x00, 0x02, 0xD9, 0x03]) + "猫".encode() + bytes([0xDA, 0x00, 0x01]) + b"a"  # array16, str8/16
        + bytes([0x93, 0xC0, 0xC2, 0xC3])  # nil, false, true
        + bytes([0xDD, 0, 0, 0, 3, 0xCC, 0xFF, 0xCD, 0x01, 0x00, 0xCE, 0, 1, 0, 0])  # array32 of uint8/16/32
    )  # fmt: skip
    assert wc.unpack(data) == [{"format": "cB", "version": 1}, ["猫", "a"], [None, False, True], [255, 256, 65536]]
    with pytest.raises(ValueError, match="0xcb is not supported"):
        wc.unpack(bytes([0x91, 0xCB]) + struct.pack(">d", 1.5))  # a float
    with pytest.raises(ValueError, match="truncated"):
        wc.unpack(bytes([0x92, 0x01]))
    with pytest.raises(ValueError, match="truncated"):
        wc.unpack(bytes([0xA5]) + b"ab")
    with pytest.raises(ValueError, match="2 bytes after the value"):
        wc.unpack(bytes([0x01, 0x02, 0x03]))


values = st.recursive(
    st.none() | st.booleans() | st.integers(0, 2**32 - 1) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(max_size=5), inner, max_size=20),
    max_leaves=60,
)


@given(values)
def test_unpack_agrees_with_the_msgpack_package(value):
    msgpack = pytest.importorskip("msgpack")
    assert wc.unpack(msgpack.packb(value, use_bin_type=True)) == value


def cbpack(bins: list[list[str]], header: object = None) -> bytes:
    """A wordfreq-style file: gzip of a MessagePack array [header, bin 0, bin 1, ...] (fixarray/fixstr only)."""

    def pack(value: object) -> bytes:
        if isinstance(value, dict):
            return bytes([0x80 | len(value)]) + b"".join(pack(k) + pack(v) for k, v in value.items())
        if isinstance(value, list):
            return bytes([0x90 | len(value)]) + b"".join(pack(item) for item in value)
        if isinstance(value, int):
            return bytes([value])
        data = str(value).encode("utf-8")
        return bytes([0xA0 | len(data)]) + data

    return gzip.compress(pack([header if header is not None else {"format": "cB", "version": 1}, *bins]))


def test_frequencies_come_from_the_centibel_bins():
    assert list(wc.frequencies(cbpack([["的"], [], ["是", "在"]]))) == [
        ("的", 1.0),
        ("是", 10 ** (-2 / 100)),
        ("在", 10 ** (-2 / 100)),
    ]
    with pytest.raises(ValueError, match="not a wordfreq cBpack"):
        list(wc.frequencies(cbpack([["x"]], header={"format": "other"})))


def test_table_counts_split_words_like_counting_a_text():
    words = [("中国", 0.5), ("人民", 0.25), ("c++", 0.2), ("mp3", 0.05), ("罕见", 0.01)]
    assert wc.table_counts(words, n_words=100, space_share=0.0, pattern="qwen") == {
        "中国".encode(): 50,
        "人民".encode(): 25,
        b"c": 20,  # "c++" is two pre-tokens under qwen: "c" and "++"
        b"++": 20,
        "罕见".encode(): 1,  # 0.01 * 100 = 1 occurrence; "mp3" has a digit: left out
    }
    korean = wc.table_counts([("서울", 0.4), ("는", 0.1)], n_words=10, space_share=0.75, pattern="qwen")
    # 4 occurrences of 서울: 3 with a leading space, 1 without; 는: 0.75 -> 1 with, 0.25 -> 0 without
    assert korean == {" 서울".encode(): 3, "서울".encode(): 1, " 는".encode(): 1}


def make_wheel(downloads: Path, tables: dict[str, list[list[str]]]) -> Path:
    downloads.mkdir(parents=True, exist_ok=True)
    wheel = downloads / f"wordfreq-{wc.PACKAGE[1]}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for member, bins in tables.items():
            archive.writestr(member, cbpack(bins))
    return wheel


def test_ensure_writes_count_files_once_per_recipe(tmp_path, monkeypatch):
    monkeypatch.setattr(wc, "TABLES", (wc.Table("zho_Hans", "wordfreq/data/zh.gz", 100, 0.0),))
    make_wheel(tmp_path / "dl", {"wordfreq/data/zh.gz": [["中国"], [], [], [], [], [], [], [], [], [], ["人民"]]})
    said: list[str] = []
    files = wc.ensure(tmp_path / "wc", tmp_path / "dl", pattern="qwen", say=said.append)
    assert [f.name for f in files] == ["zho_Hans.wordfreq.parquet"]
    read = count_files.read(files[0])
    # 中国: 100 occurrences; 人民: 10 ** -0.1 * 100 = 79.4 -> 79
    assert read.counts == {"中国".encode(): 100, "人民".encode(): 79}
    assert read.pattern == resolve_pattern("qwen") and read.corpus["n_words"] == 100

    def no_fetch(*args):
        raise RuntimeError("fetched again")

    monkeypatch.setattr(wc, "fetch", no_fetch)
    assert wc.ensure(tmp_path / "wc", tmp_path / "dl", pattern="qwen", say=said.append) == files
    assert "reusing" in said[-1]
    monkeypatch.setattr(wc, "TABLES", (wc.Table("zho_Hans", "wordfreq/data/zh.gz", 10, 0.0),))
    with pytest.raises(RuntimeError, match="fetched again"):  # another recipe: built again
        wc.ensure(tmp_path / "wc", tmp_path / "dl", pattern="qwen", say=said.append)


def load_main_job():
    spec = importlib.util.spec_from_file_location("main_job", REPO / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(main_job)  # type: ignore[union-attr]
    return main_job


def test_the_extension_trains_on_the_mix_plus_the_word_counts(tmp_path, monkeypatch):
    main_job = load_main_job()
    mix = tmp_path / "train"
    mix.mkdir()
    (mix / "eng_Latn.x.txt").write_text("xy xy xy", encoding="utf-8")  # pre-tokens: "xy" once, " xy" twice
    table = tmp_path / "wc" / "abc.wordfreq.parquet"
    table.parent.mkdir()
    count_files.write(table, {"ab": 10}, pattern=resolve_pattern("qwen"))
    monkeypatch.setattr(sys.modules["word_counts"], "ensure", lambda *a, **k: [table])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    base = tmp_path / "base.json"
    bbpe.Tokenizer({bytes([i]): i for i in range(256)}, pattern="qwen").save(base)
    settings = {"vocab_size": 258, "init": str(base), "prune_unreachable": True, "pattern": "qwen", "workers": 1}
    cache = tmp_path / "cache"
    counts = main_job.extension_counts(mix, "0" * 64, cache, pattern="qwen", workers=1)
    assert counts[1:] == [table] and count_files.read(counts[0]).counts == {b"xy": 1, b" xy": 2}
    trained = bbpe.load(main_job.train_cached("ext", settings, mix, "0" * 64, cache, True, counts=counts))
    # pair counts: (a, b) 10 from the table, (x, y) 3 and (" ", x) 2 from the mix
    assert [trained.token_bytes(i) for i in (256, 257)] == [b"ab", b"xy"]
    (table.parent / wc.MANIFEST_FILE).write_text("{}", encoding="utf-8")
    note = main_job.extension_note("ext", [table])
    assert "ext trained on the mix's pre-token counts plus word-count tables from PyPI wordfreq 3.1.1" in note
    assert f"zho_Hans as {wc.TABLES[0].n_words / 1e6:g}M words" in note
    assert note.endswith(f"{table.parent / wc.MANIFEST_FILE} (sha256 {hashlib.sha256(b'{}').hexdigest()})")
    assert "alone" in main_job.extension_note("ext", [])
    mix_only = main_job.train_cached("ext", settings, mix, "0" * 64, cache, True, counts=counts[:1])
    assert [bbpe.load(mix_only).token_bytes(i) for i in (256, 257)] == [b"xy", b" xy"]  # another key: retrained
