"""Hostile files (issue 9): malformed but parseable vocab, tokenizer.json, .tiktoken and count files give
one line naming file and field; hypothesis feeds random bytes / JSON to every reader and random strings to
the count-option parser: a ValueError subclass or a valid result, never another exception."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.cli import main
from bbpe.cli.options import MAX_COUNT, parse_count
from bbpe.errors import VocabFormatError
from bbpe.formats import hf, hf_read, native, tiktoken_file
from bbpe.tokenizer_adapters import open_adapter

BYTES = [base64.b64encode(bytes([i])).decode() for i in range(256)]


def native_doc(**changes: object) -> dict:
    document = {
        "format": "bbpe",
        "version": 1,
        "pattern": "cl100k",
        "tokens": list(BYTES),
        "special_tokens": {"<|eot|>": 256},
        "metadata": {},
    }
    document.update(changes)
    return document


def hf_doc(**changes: object) -> dict:
    table = hf.byte_to_unicode()
    document = {
        "model": {"type": "BPE", "vocab": {table[i]: i for i in range(256)}, "merges": []},
        "added_tokens": [{"id": 256, "content": "<s>"}],
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    }
    document.update(changes)
    return document


def one_error(capsys, argv: list[str], *needles: str) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("document", "field"),
    [
        (native_doc(special_tokens={"<|eot|>": "1000"}), "special_tokens"),
        (native_doc(special_tokens={"<|eot|>": 1000.5}), "special_tokens"),
        (native_doc(special_tokens={"<|eot|>": -1}), "out of range"),
        (native_doc(special_tokens={"<|eot|>": 2**70}), "out of range"),
        (native_doc(special_tokens={"<|eot|>": True}), "must be an integer"),
        (native_doc(special_tokens={"": 256}), "cannot be empty"),
        (native_doc(special_tokens={"a": 256, "b": 256}), "share one id"),
        (native_doc(metadata={"training": "fast"}), "metadata.training"),
        (native_doc(metadata={"corpus": [1]}), "metadata.corpus"),
        (native_doc(tokens=[*BYTES, 7]), "'tokens'[256]"),
        (native_doc(tokens=[*BYTES, ""]), "'tokens'[256]"),
        (native_doc(tokens=[*BYTES, BYTES[5]]), "duplicate of token 5"),
        (native_doc(pattern=["x"]), "pattern"),
        (native_doc(pattern="x+"), "drops text"),
        (hf_doc(added_tokens=["<s>"]), "added_tokens[0]"),
        (hf_doc(added_tokens=[{"id": "256", "content": "<s>"}]), "added_tokens[0].id"),
        (hf_doc(added_tokens=[{"id": 256, "content": ""}]), "cannot be empty"),
        (hf_doc(added_tokens={"<s>": 256}), "added_tokens"),
        (hf_doc(pre_tokenizer="ByteLevel"), "pre_tokenizer"),
        (hf_doc(pre_tokenizer={"type": "Sequence", "pretokenizers": "ByteLevel"}), "pretokenizers"),
        (hf_doc(model={"type": "BPE", "vocab": {"a": -3}}), "model.vocab"),
        (hf_doc(model={"type": "BPE", "vocab": {"\u4e00": 3}}), "byte-level"),
        ({"tokens": []}, "neither a bbpe vocabulary"),
    ],
)
def test_malformed_json_vocab_is_one_line_naming_the_field(capsys, tmp_path, document, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    one_error(capsys, ["inspect", str(path)], str(path), field)
    with pytest.raises(VocabFormatError):
        bbpe.load(path)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("AA== 0\nAQ== -7\n", ":2"),
        ("AA== 0\nAQ== 0\n", "duplicate rank"),
        ("AA== 0\nAA== 1\n", "duplicate token"),
        ("AA== 0\nAQ== 2147483648\n", "out of range"),
        ("AA== 0\nAQ== ٣\n", ":2"),
        ("AA== 0\n 1\n", ":2"),
        ("AA== 1.5\n", ":1"),
    ],
)
def test_malformed_tiktoken_file_names_the_line(capsys, tmp_path, text, line):
    path = tmp_path / "bad.tiktoken"
    path.write_text(text, encoding="utf-8")
    one_error(capsys, ["inspect", str(path), "--pattern", "gpt2"], str(path), line)


def test_empty_special_token_never_hangs_encode(capsys, tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps(native_doc(special_tokens={"": 256})))
    one_error(capsys, ["encode", str(path), "--allow-special", "hello"], "cannot be empty")
    with pytest.raises(ValueError, match="non-empty"):
        bbpe.Tokenizer({bytes([i]): i for i in range(256)}, pattern="gpt2", special_tokens={"": 256})


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"special_tokens": [""]}, "special_tokens'[0]"),
        ({"special_tokens": "<s>"}, "special_tokens"),
        ({"corpus": {"bytes": "many"}}, "corpus.bytes"),
        ({"corpus": "x"}, "corpus"),
        ({"corpus": {"sources": [1]}}, "corpus.sources"),
        ({"split_digits": "yes"}, "split_digits"),
        ({"pattern": "(a)|(?s:.)"}, "capturing groups"),
    ],
)
def test_crafted_count_file_metadata_is_one_line_and_writes_nothing(capsys, tmp_path, metadata, field):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    info = {
        "format": "bbpe-counts",
        "version": 1,
        "pattern": bbpe.pretokenize.patterns.CL100K,
        "unit": "line",
        "normalization": "none",
        "special_tokens": [],
        "split_digits": False,
        "corpus": {},
    } | metadata
    table = pa.table(
        {"word": pa.array([b"ab", b"cd"], pa.binary()), "count": pa.array([5, 3], pa.uint64())},
        metadata={b"bbpe": json.dumps(info).encode()},
    )
    path, out = tmp_path / "c.parquet", tmp_path / "v.json"
    pq.write_table(table, path)
    one_error(capsys, ["train", "--from-counts", str(path), "--vocab", "300", "-o", str(out)], str(path), field)
    assert not out.exists()


# -- properties ---------------------------------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELDS = st.dictionaries(
    st.sampled_from(["pattern", "tokens", "special_tokens", "metadata", "version", "format"]), JSON, max_size=4
)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _loads_or_one_line_error(path: Path) -> None:
    try:
        tokenizer = bbpe.load(path, pattern="gpt2")
    except ValueError as exc:
        assert "\n" not in str(exc)
    else:
        assert tokenizer.decode(tokenizer.encode("hi there")) == "hi there"


@PROPERTY
@given(data=st.binary(max_size=300))
def test_random_bytes_to_every_reader(tmp_path, data):
    path = tmp_path / "random.bin"
    path.write_bytes(data)
    _loads_or_one_line_error(path)
    for read in (lambda p: tiktoken_file.read_ranks(p), lambda p: native.read(p), lambda p: hf_read.read(p)):
        try:
            read(path)
        except ValueError as exc:
            assert "\n" not in str(exc)
    try:
        open_adapter(path, pattern="gpt2")  # also SentencePiece models (first byte 0x0a)
    except ValueError:
        pass
    path.write_bytes(b"\x0a" + data)
    with pytest.raises(ValueError):
        open_adapter(path, pattern="gpt2")


@PROPERTY
@given(fields=FIELDS, model=JSON, added=JSON, pre=JSON)
def test_random_json_to_the_json_readers(tmp_path, fields, model, added, pre):
    path = tmp_path / "random.json"
    path.write_text(json.dumps(native_doc(**fields)))
    _loads_or_one_line_error(path)
    document = hf_doc(added_tokens=added, pre_tokenizer=pre)
    if isinstance(model, dict):
        document["model"] = {"type": "BPE", **model}
    path.write_text(json.dumps(document))
    _loads_or_one_line_error(path)


@PROPERTY
@given(
    metadata=st.dictionaries(
        st.sampled_from(
            ["pattern", "special_tokens", "split_digits", "corpus", "unit", "normalization", "version", "run"]
        ),
        JSON,
        max_size=3,
    ),
    words=st.lists(st.binary(max_size=4), max_size=5),
)
def test_random_count_files(tmp_path, metadata, words):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from bbpe.formats import counts

    info = {"format": "bbpe-counts", "version": 1, "pattern": "gpt2", "unit": "line", "normalization": "none"}
    info["pattern"] = bbpe.pretokenize.patterns.GPT2
    table = pa.table(
        {"word": pa.array(words, pa.binary()), "count": pa.array([1] * len(words), pa.uint64())},
        metadata={b"bbpe": json.dumps(info | metadata).encode()},
    )
    folder = tmp_path / "parts"  # also read as the only part of a directory (the run record is checked there)
    folder.mkdir(exist_ok=True)
    path = folder / "part-00000.parquet"
    pq.write_table(table, path)
    try:
        counts.read(folder)
    except ValueError as exc:
        assert "\n" not in str(exc)
    try:
        result = counts.read(path)
    except ValueError as exc:
        assert "\n" not in str(exc)
    else:
        assert all(word for word in result.counts)
        bbpe.train_from_counts(
            result.counts,
            vocab_size=300,
            pattern=result.pattern,
            special_tokens=result.special_tokens,
            backend="python",
        )


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=12) | st.from_regex(r"-?[0-9_.]{1,8}(e-?[0-9]{1,4})?[kKmMgG]?", fullmatch=True))
def test_count_parser_gives_a_count_or_a_value_error(text):
    try:
        value = parse_count(text)
    except ValueError as exc:
        assert "\n" not in str(exc)
    else:
        assert isinstance(value, int) and 0 <= value <= MAX_COUNT
