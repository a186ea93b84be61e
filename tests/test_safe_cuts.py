"""Safe cut points: pre-tokens of the whole == pre-tokens of the parts, for every preset scanner key."""

from __future__ import annotations

import gzip

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bbpe.pretokenize.safe_cuts import safe_cut
from bbpe.pretokenize.scanner_presets import SCANNERS, scanner_pattern
from conftest import TRAIN_DIR

KEYS = sorted({scanner_pattern(key): key for key in reversed(list(SCANNERS))}.values())  # one key per distinct regex
COMPILED = {key: regex.compile(scanner_pattern(key)) for key in KEYS}

NEAR_CUTS = ["\n", "\n\n", "\r\n", " \n", "\t\n", "\u3000\n", "\x85", "\u2028", ".\n", "!\n", "'\n", "/\n", "\n/",
             "a", "Z", "é", "中", "ſ", "s", "S", "'s", "'LL", "\u0301", "\u200d", "1", "٣", "½", " ", "  ", "'",
             "/", "-"]
near = st.sampled_from(NEAR_CUTS)
texts = st.lists(st.one_of(near, near, st.characters(exclude_categories=("Cs",))), max_size=50).map("".join)


def cuts_of(data: bytes, key: str, step: int) -> list[int]:
    cuts, p = [], safe_cut(data, 1, key)
    while p < len(data):
        cuts.append(p)
        p = safe_cut(data, p + step, key)
    return cuts


def assert_parts_equal_whole(text: str, key: str, step: int = 1) -> int:
    data = text.encode()
    cuts = cuts_of(data, key, step)
    bounds = [0, *cuts, len(data)]
    parts = [data[a:b].decode() for a, b in zip(bounds, bounds[1:])]
    findall = COMPILED[key].findall
    assert [piece for part in parts for piece in findall(part)] == findall(text), (key, text, cuts)
    return len(cuts)


@settings(max_examples=1000, deadline=None)
@given(text=texts)
def test_cutting_at_every_safe_point_keeps_the_pretokens(text):
    for key in KEYS:
        assert_parts_equal_whole(text, key)


def test_cut_rule_examples():
    data = "a.\nB c \nD\r\nE\n\nF\n1\nG".encode()
    # no cut after " \n", "\r\n" or "\n\n", nor before "1"
    assert [safe_cut(data, s, "cl100k") for s in (0, 1, 4, 8)] == [0, 3, 18, 18]
    assert safe_cut("x\n中".encode(), 1, "gpt2", split_digits=True) == 2
    assert safe_cut(b"no newline here", 3, "o200k") == len(b"no newline here")
    with pytest.raises(KeyError):
        safe_cut(b"x\ny", 1, r"\w+")


def test_real_documents_cut_every_few_kilobytes():
    if not TRAIN_DIR.is_dir():
        pytest.skip(f"{TRAIN_DIR} not found (the shared corpora live in ../shared)")
    total = 0
    for path in sorted(TRAIN_DIR.glob("*.txt.gz"))[::6]:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read(30_000)
        for key in KEYS:
            total += assert_parts_equal_whole(text, key, step=2_000)
    assert total > 100  # the rule finds cut points in real text
