"""Documents as the unit of pre-tokenization: safe cuts per preset, byte ranges, counting == findall per document."""

from __future__ import annotations

import gzip
import io
import json
import sys
from collections import Counter
from pathlib import Path

import pytest
import regex
from conftest import MIX, real_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe.cli import main
from bbpe.corpus import documents
from bbpe.corpus.reading import CorpusStats, split_lines
from bbpe.errors import CorpusError
from bbpe.pretokenize.patterns import PRESETS, with_split_digits
from bbpe.pretokenize.safe_cuts import LINE, LONE_NEWLINE_LETTER, NEWLINE_LETTER, cut_rule, cuts
from bbpe.training.counting import pretokens as counting
from bbpe.training.counting.pretokens import CountSettings, count_corpus, count_pretokens

PATTERNS = {
    name: pattern
    for base, pattern0 in PRESETS.items()
    for name, pattern in ((base, pattern0), (f"{base}+digits", with_split_digits(pattern0)))
}
# Characters that stress the rules: newline kinds, spaces of every sort, letters with and without case,
# combining marks, digits, punctuation, apostrophes (contractions), "/" (o200k), CJK, invalid-looking text.
TRICKY = list("\n\n\n\r \t\x0b\x0c\x85\u00a0\u2028\u3000aZsdtlvrmé'’.,/!?-_1٣\u0301\u0308你ǅ\ufffd") + [
    "'s",
    "'ll",
    "\r\n",
]
# A line break followed by a letter (a cut of every rule but the lone-newline one after whitespace), half the time.
LINE_STARTS = ["\na", "\nZ", "\né", "\n你", "\nǅ", "\ns", "\r\nb", "\n\nc", "\n\u00e9\u0301"]
texts = st.lists(st.one_of(st.sampled_from(TRICKY), st.sampled_from(LINE_STARTS)), max_size=40).map("".join)


def pieces_at_cuts(text: str, rule) -> list[str]:
    data = text.encode("utf-8")
    bounds = [0, *cuts(data, rule), len(data)]
    return [data[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:])]


@pytest.mark.parametrize("name", sorted(PATTERNS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts)
def test_pre_tokens_of_the_whole_are_those_of_the_parts(name, text):
    pattern = PATTERNS[name]
    rule = cut_rule(pattern)
    whole = regex.findall(pattern, text)
    from hypothesis import event

    event(f"cuts: {'some' if cuts(text.encode('utf-8'), rule) else 'none'}")
    for at in cuts(text.encode("utf-8"), rule):
        left, right = text.encode()[:at].decode(), text.encode()[at:].decode()
        assert regex.findall(pattern, left) + regex.findall(pattern, right) == whole, (left, right)


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_real_text_cut_everywhere_gives_the_same_pre_tokens(name, any_text):
    pattern = PATTERNS[name]
    text = any_text[:240_000] + "x = 1\n\n\ndef f():\n    return 'a'\n  \nclass C:\n\tpass\r\nEnd"
    parts = pieces_at_cuts(text, cut_rule(pattern))
    assert len(parts) > 100  # the rule finds cuts in real text
    assert [t for part in parts for t in regex.findall(pattern, part)] == regex.findall(pattern, text)


def test_the_gpt2_rule_is_needed():
    """GPT-2 with the cl100k rule would be wrong: ``\\s+(?!\\S)`` ends a text differently."""
    text = "a  \nb"
    assert cut_rule(PRESETS["gpt2"]) is LONE_NEWLINE_LETTER and cut_rule(PRESETS["cl100k"]) is NEWLINE_LETTER
    assert cuts(text.encode(), LONE_NEWLINE_LETTER) == []
    (at,) = cuts(text.encode(), NEWLINE_LETTER)
    gpt2 = PRESETS["gpt2"]
    assert regex.findall(gpt2, text[:at]) + regex.findall(gpt2, text[at:]) != regex.findall(gpt2, text)


def test_custom_regex_and_newline_specials_are_not_cut():
    assert cut_rule(r"\S+|\s+") is None
    assert cut_rule(PRESETS["cl100k"], special_tokens=("<|a\nb|>",)) is None
    assert cut_rule(r"\S+|\s+", unit="line") is LINE


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [b"a", b"\n", b" ", b"\xc3\xa9", b"\n\n", b"\xff", b"\xe4\xbd\xa0", b"Z", b"\na", b"x\n\xc3\xa9"]
        ),
        min_size=4,
        max_size=60,
    ).map(b"".join),
    step=st.integers(1, 16),
    block=st.integers(1, 30),
    rule=st.sampled_from([NEWLINE_LETTER, LONE_NEWLINE_LETTER, LINE]),
    limit=st.none() | st.integers(8, 130) | st.integers(0, 130),
)
def test_byte_ranges_tile_the_stream_at_safe_cuts(data, step, block, rule, limit):
    stream = data if limit is None else data[:limit]
    found = []
    for start in range(0, max(len(stream), 1), step):
        handle = io.BytesIO(data)
        handle.seek(max(0, start - documents.BACK))
        found += documents.read_pieces(handle, rule, start=start, end=start + step, limit=limit, block=block)
    assert b"".join(piece for _, piece in found) == stream
    from hypothesis import event

    event(f"cut in the stream and several ranges: {bool(cuts(stream, rule)) and len(stream) > step}")
    safe = set(cuts(stream, rule))
    position = 0
    for offset, piece in found:
        assert offset == position and (offset == 0 or offset in safe)
        position += len(piece)


def findall_counts(pattern: str, docs: list[str]) -> Counter[bytes]:
    return Counter(word.encode() for doc in docs for word in regex.findall(pattern, doc))


@pytest.fixture(scope="module", params=["portable", "shared"])
def corpus_files(request, tmp_path_factory) -> tuple[list[Path], list[str]]:
    """Documents of the portable text (every machine) or of ../shared's real text (where it exists)."""
    folder = tmp_path_factory.mktemp("docs")
    text = (
        request.getfixturevalue("portable_text")[:120_000]
        if request.param == "portable"
        else real_text(10_000, names=MIX)
    )
    docs = [text[: len(text) // 2], text[len(text) // 2 :] + "\n\n  tail", "short\n\n\nDoc"]
    paths = []
    for index, doc in enumerate(docs):
        path = folder / f"d{index}.txt"
        path.write_bytes(doc.encode())
        paths.append(path)
    gz = folder / "d3.txt.gz"
    gz.write_bytes(gzip.compress(docs[0].encode()))
    return [*paths, gz], [*docs, docs[0]]


@pytest.mark.parametrize("name", ["cl100k", "gpt2", "qwen+digits"])
@pytest.mark.parametrize(("range_bytes", "block", "workers"), [(1 << 23, 1 << 20, 1), (3001, 997, 2), (50, 40, 1)])
def test_counts_are_findall_per_document_for_any_chunking(corpus_files, monkeypatch, name, range_bytes, block, workers):
    paths, docs = corpus_files
    monkeypatch.setattr(documents, "RANGE_BYTES", range_bytes)
    monkeypatch.setattr(documents, "BLOCK", block)
    pattern = PATTERNS[name]
    stats = CorpusStats()
    got = count_corpus(paths, CountSettings(pattern), workers=workers, stats=stats)
    assert got == findall_counts(pattern, docs)
    assert stats.documents == len(docs) and stats.bytes == sum(len(d.encode()) for d in docs)
    assert stats.lines == sum(len(split_lines(d)) for d in docs)
    assert count_pretokens(docs, pattern, workers=workers) == got


def test_line_unit_counts_every_line_alone(corpus_files, monkeypatch):
    paths, docs = corpus_files
    monkeypatch.setattr(documents, "RANGE_BYTES", 777)
    pattern = PRESETS["cl100k"]
    lines = [line for doc in docs for line in split_lines(doc)]
    assert count_corpus(paths, CountSettings(pattern, unit="line"), workers=2) == findall_counts(pattern, lines)
    assert count_pretokens(docs, pattern, unit="line", workers=1) == findall_counts(pattern, lines)
    assert findall_counts(pattern, lines) != findall_counts(pattern, docs)  # the unit matters


def test_custom_regex_counts_whole_documents(corpus_files, monkeypatch):
    paths, docs = corpus_files
    monkeypatch.setattr(documents, "RANGE_BYTES", 100)
    pattern = r"\s+\S|\S+|\s+"  # no safe-cut rule: a document is never cut
    assert count_corpus(paths, CountSettings(pattern), workers=2) == findall_counts(pattern, docs)


def test_jsonl_records_are_documents_and_specials_are_cut_out(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "RANGE_BYTES", 64)
    records = ["first <|x|>doc\n\nwith lines", "second\r\n\r\nAnd more<|x|>", "x" * 300]
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps({"text": r}) + "\n" for r in records) + "\n")
    pattern = PRESETS["cl100k"]
    pieces = [part for r in records for part in r.split("<|x|>")]
    stats = CorpusStats()
    got = count_corpus([path], CountSettings(pattern, ("<|x|>",)), workers=2, stats=stats)
    assert got == findall_counts(pattern, pieces) and stats.documents == 3


def test_invalid_utf8_is_replaced_and_counted_or_named(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "RANGE_BYTES", 8)
    path = tmp_path / "bad.txt"
    path.write_bytes(b"ok line\nAnother \xff\xfe line\nLast caf\xe9\n")
    stats = CorpusStats()
    got = count_corpus([path], CountSettings(PRESETS["cl100k"]), workers=1, stats=stats)
    assert got == findall_counts(PRESETS["cl100k"], [path.read_bytes().decode("utf-8", "replace")])
    assert stats.replaced_invalid_utf8 == 3
    with pytest.raises(CorpusError, match=r"bad.txt:2: invalid UTF-8 at byte 8 of the line"):
        count_corpus([path], CountSettings(PRESETS["cl100k"], errors="strict"), workers=1)


def test_max_bytes_keeps_the_first_bytes_up_to_a_line_end(tmp_path, monkeypatch):
    monkeypatch.setattr(documents, "RANGE_BYTES", 5)
    first, second = tmp_path / "a.txt", tmp_path / "b.txt.gz"
    first.write_bytes(b"one two\nthree\n")
    second.write_bytes(gzip.compress(b"four five\nsix seven\neight\n"))
    pattern = PRESETS["cl100k"]
    stats = CorpusStats()
    got = count_corpus([first, second], CountSettings(pattern), max_bytes=30, workers=2, stats=stats)
    assert got == findall_counts(pattern, ["one two\nthree\n", "four five\n"]) and stats.bytes == 24
    with pytest.raises(CorpusError, match="smaller than the first line"):
        count_corpus([first], CountSettings(pattern), max_bytes=3, workers=1)


def test_stdin_is_one_document(monkeypatch):
    text = "Stdin text\n\nSecond paragraph\n  indented\nEnd"
    monkeypatch.setattr(documents, "BLOCK", 8)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(text.encode()))))
    stats = CorpusStats()
    got = count_corpus(["-"], CountSettings(PRESETS["gpt2"]), workers=1, stats=stats)
    assert got == findall_counts(PRESETS["gpt2"], [text]) and stats.lines == 5


def test_train_learns_tokens_across_line_ends():
    doc = "x = 1\n\n\ndef f():\n    pass\n\n\n" * 50
    by_doc = bbpe.train([doc], vocab_size=300, workers=1)
    by_line = bbpe.train([doc], vocab_size=300, workers=1, unit="line")
    assert b"\n\n\n" in by_doc.ranks and b"\n\n\n" not in by_line.ranks
    assert by_doc.metadata["corpus"]["unit"] == "document"


def test_count_files_record_the_unit_and_merge_refuses_mixing(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    corpus = tmp_path / "c.txt"
    corpus.write_text("Some text\n\nMore text here\n" * 20)
    doc, line, both = (str(tmp_path / name) for name in ("doc.parquet", "line.parquet", "both.parquet"))
    assert main(["count", str(corpus), "-o", doc, "-q"]) == 0
    assert main(["count", str(corpus), "-o", line, "-q", "--unit", "line"]) == 0
    from bbpe.formats import counts as counts_file

    assert (counts_file.read(doc).unit, counts_file.read(line).unit) == ("document", "line")
    capsys.readouterr()
    assert main(["count", "--merge", doc, line, "-o", both]) == 2
    assert "different unit (line vs document)" in capsys.readouterr().err
    assert (
        main(["train", "--from-counts", line, "--unit", "document", "--vocab", "260", "-o", str(tmp_path / "v.json")])
        == 2
    )
    assert "counted with unit 'line'" in capsys.readouterr().err


def test_a_killed_worker_is_a_clear_error(corpus_files, monkeypatch):
    paths, _ = corpus_files
    monkeypatch.setattr(counting, "count_unit", _die)
    with pytest.raises(bbpe.BBPEError, match="a worker process died"):
        count_corpus(paths, CountSettings(PRESETS["cl100k"]), workers=2)


def _die(unit: object, settings: object) -> None:
    import os

    os._exit(9)
