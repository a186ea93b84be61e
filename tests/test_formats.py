"""File formats: native JSON, .tiktoken and Hugging Face tokenizer.json round trips and errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.errors import VocabFormatError
from bbpe.formats import hf, native, tiktoken_file


@pytest.fixture(scope="module")
def trained(multilingual_text):
    return bbpe.train(
        [multilingual_text[:1_000_000]], vocab_size=2500, pattern="llama3", special_tokens=["<|endoftext|>"], workers=1
    )


@pytest.fixture(scope="module")
def files(trained, tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    paths = {"bbpe": folder / "v.bbpe.json", "tiktoken": folder / "v.tiktoken", "hf": folder / "tokenizer.json"}
    trained.save(paths["bbpe"])
    tiktoken_file.write(trained, paths["tiktoken"])
    hf.write(trained, paths["hf"])
    return paths


def test_native_round_trip_keeps_everything(trained, files):
    loaded = bbpe.load(files["bbpe"])
    assert loaded.ranks == trained.ranks
    assert loaded.pattern == trained.pattern
    assert loaded.special_tokens == trained.special_tokens
    assert loaded.metadata == trained.metadata
    document = json.loads(files["bbpe"].read_text())
    assert document["format"] == "bbpe" and document["version"] == native.VERSION


def test_tiktoken_file_round_trip(trained, files):
    loaded = bbpe.load(files["tiktoken"], pattern="llama3")
    assert loaded.ranks == trained.ranks
    with pytest.raises(ValueError, match="pattern"):
        bbpe.load(files["tiktoken"])


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_all_formats_give_identical_ids(trained, files, text):
    expected = trained.encode_ordinary(text)
    assert bbpe.load(files["bbpe"]).encode_ordinary(text) == expected
    assert bbpe.load(files["tiktoken"], pattern="llama3").encode_ordinary(text) == expected
    assert bbpe.load(files["hf"]).encode_ordinary(text) == expected


def test_hf_tokenizers_library_gives_identical_ids(trained, files, multilingual_text):
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(files["hf"]))
    lines = multilingual_text[1_000_000:2_000_000].splitlines(keepends=True)
    mismatched = [line for line in lines if reference.encode(line).ids != trained.encode_ordinary(line)]
    assert mismatched == []
    special = "hi<|endoftext|>there"
    assert reference.encode(special).ids == trained.encode(special, allowed_special="all")
    assert reference.decode(trained.encode_ordinary("héllo 世界"), skip_special_tokens=False) == "héllo 世界"


def test_hf_import_reads_byte_level_files(trained, files):
    loaded = bbpe.load(files["hf"])
    assert loaded.ranks == trained.ranks
    assert loaded.special_tokens == trained.special_tokens


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "empty"),
        ('{"format": "bbpe", "version": 1, "pattern": "x", "tok', "truncated"),
        (
            '{"format": "bbpe", "version": 99, "pattern": "x", "tokens": [], "special_tokens": {}, "metadata": {}}',
            "version 99",
        ),
        (
            '{"format": "bbpe", "version": 1, "pattern": "x", "tokens": ["!!"], "special_tokens": {}, "metadata": {}}',
            "base64",
        ),
        (
            '{"format": "bbpe", "version": 1, "pattern": "(?s:.)", "tokens": ["YQ=="], "special_tokens": {}, '
            '"metadata": {}}',
            "single-byte",
        ),
        ('{"format": "bbpe", "version": 1, "tokens": []}', "pattern"),
        ('{"model": {"type": "WordPiece"}}', "BPE"),
        ("YQ== 0\nnot-base64 1\n", ":2"),
    ],
)
def test_corrupt_files_raise_vocab_format_error(tmp_path, content, problem):
    path = tmp_path / "bad.vocab"
    path.write_text(content)
    with pytest.raises(VocabFormatError, match=problem) as caught:
        bbpe.load(path, pattern="gpt2")
    assert str(path) in str(caught.value)


def test_truncated_real_file(files, tmp_path):
    data = files["bbpe"].read_bytes()
    broken = tmp_path / "cut.json"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(VocabFormatError, match="truncated"):
        bbpe.load(broken)
