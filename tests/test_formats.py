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
def trained(portable_text):
    """Trained on text every machine has; its special token sits after an id gap."""
    tok = bbpe.train([portable_text[:1_000_000]], vocab_size=2500, pattern="llama3", workers=1)
    return bbpe.Tokenizer(tok.ranks, pattern=tok.pattern, special_tokens={"<|endoftext|>": 2507}, metadata=tok.metadata)


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


TEXTS = st.lists(
    st.one_of(
        st.just("<|endoftext|>"),
        st.text(max_size=40),
        st.sampled_from(["e\u0301", "ﬁ", "가\u11a8"]),
        st.just("x" * 300),
    ),
    max_size=6,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(text=TEXTS)
def test_exported_files_give_bbpe_ids_in_tiktoken_and_tokenizers(trained, files, text):
    """The .tiktoken file read by tiktoken's own loader and tokenizer.json read by the tokenizers library encode as
    bbpe's pure-Python engine does (special tokens, an id gap, non-NFC text, long runs)."""
    import tiktoken.load
    import tokenizers

    expected = trained.with_engine("python").encode(text, allowed_special="all")
    ranks = tiktoken.load.load_tiktoken_bpe(str(files["tiktoken"]))
    encoding = tiktoken.Encoding(
        "exported", pat_str=trained.pattern, mergeable_ranks=ranks, special_tokens=trained.special_tokens
    )
    assert encoding.encode(text, allowed_special="all") == expected
    assert tokenizers.Tokenizer.from_file(str(files["hf"])).encode(text).ids == expected


@pytest.mark.parametrize("corpus", ["portable", "shared"])
def test_hf_tokenizers_library_gives_identical_ids(trained, files, corpus, request):
    """On held-out text every machine has, and on ../shared's real text where it exists."""
    tokenizers = pytest.importorskip("tokenizers")
    reference = tokenizers.Tokenizer.from_file(str(files["hf"]))
    text = request.getfixturevalue("portable_text" if corpus == "portable" else "multilingual_text")
    lines = text[1_000_000:2_000_000].splitlines(keepends=True)
    assert len(lines) > 1000
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
