"""scripts/synthetic_corpus.py: neighbours the cl100k pattern splits back, deterministic text, exact sampling tables."""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import regex
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st

from bbpe.formats import counts as counts_file
from bbpe.pretokenize.patterns import CL100K

sys.path.insert(0, str(REPO / "scripts"))
import synthetic_corpus as synthetic

SPLIT = regex.compile(CL100K)


@pytest.fixture(scope="module")
def source(any_text: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Counter[str]]:
    """A count file of the text, counted with the regex (not with the code under test)."""
    words = Counter(SPLIT.findall(any_text))
    path = tmp_path_factory.mktemp("synthetic") / "counts.parquet"
    counts_file.write(path, dict(words), pattern=CL100K)
    return path, words


def _classes(words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [w.encode() for w in words]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    length = np.array([len(w) for w in encoded], dtype=np.int64)
    return synthetic.type_classes(data, np.cumsum(length) - length, length)


def test_pairs_the_table_allows_split_back_into_the_two_words(source: tuple[Path, Counter[str]]) -> None:
    words = sorted(source[1])
    start, end = _classes(words)
    rng = random.Random(0)
    by_start = {k: [w for w, s in zip(words, start) if s == k] for k in range(len(synthetic.START_CLASSES))}
    by_end = {k: [w for w, e in zip(words, end) if e == k] for k in range(len(synthetic.END_CLASSES))}
    checked = 0
    for e, s in zip(*np.nonzero(synthetic.SAFE)):
        if not (by_end[e] and by_start[s]):
            continue
        for _ in range(300):
            a, b = rng.choice(by_end[e]), rng.choice(by_start[s])
            assert SPLIT.findall(a + b) == [a, b], (synthetic.END_CLASSES[e], synthetic.START_CLASSES[s], a, b)
            checked += 1
    assert checked >= 300 * 20  # most allowed cells have words on both sides


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), max_size=300), st.integers(0, 2**32 - 1))
@settings(max_examples=200, deadline=None)
def test_arrange_orders_a_subset_with_allowed_neighbours(classes: list[tuple[int, int]], seed: int) -> None:
    start = np.array([s for s, _ in classes], dtype=np.int8)
    end = np.array([e for _, e in classes], dtype=np.int8)
    order = synthetic.arrange(start, end, np.random.default_rng(seed))
    assert len(set(order.tolist())) == len(order) and set(order.tolist()) <= set(range(len(classes)))
    assert all(synthetic.SAFE[end[a], start[b]] for a, b in zip(order[:-1], order[1:]))


def test_arrange_keeps_nearly_everything_when_there_is_room() -> None:
    rng = np.random.default_rng(1)
    start = rng.choice([0, 3, 4, 5], size=100_000, p=[0.5, 0.1, 0.25, 0.15]).astype(np.int8)  # like real text
    end = rng.choice([0, 1, 2, 6], size=100_000, p=[0.7, 0.05, 0.15, 0.1]).astype(np.int8)
    assert len(synthetic.arrange(start, end, rng)) > 99_900


@given(st.lists(st.integers(1, 1000), min_size=1, max_size=50))
def test_alias_table_gives_each_word_its_share(counts: list[int]) -> None:
    keep, alias = synthetic.alias_table(np.array(counts))
    n = len(counts)
    share = keep / n
    np.add.at(share, alias, (1 - keep) / n)
    assert np.allclose(share, np.array(counts) / sum(counts))


def test_text_is_deterministic_a_prefix_of_longer_text_and_the_same_for_any_jobs(
    source: tuple[Path, Counter[str]], tmp_path: Path
) -> None:
    model = synthetic.build_model(source[0], head_min_count=20, exponent=1.2)
    texts = {}
    for name, size, jobs in (("one", 300_000, 1), ("two", 300_000, 2), ("short", 100_000, 1), ("seed", 300_000, 1)):
        out = tmp_path / f"{name}.txt"
        seed = 1 if name == "seed" else 0
        written = synthetic.generate(model, out, size, seed=seed, repeat=0.4, window=100, jobs=jobs)
        texts[name] = out.read_bytes()
        assert written == len(texts[name]) <= size and texts[name].endswith(b"\n")
    assert texts["one"] == texts["two"]
    assert texts["one"].startswith(texts["short"]) and len(texts["short"]) > 90_000
    assert texts["seed"] != texts["one"]


def test_text_splits_into_the_source_words(source: tuple[Path, Counter[str]], tmp_path: Path) -> None:
    """Most pre-tokens of the output are words of the source (the rest: spliced rare words), and the head
    words keep their order of frequency: neighbours do not merge."""
    path, words = source
    model = synthetic.build_model(path, head_min_count=20, exponent=1.2)
    out = tmp_path / "text.txt"
    synthetic.generate(model, out, 1_000_000, seed=0, repeat=0.4, window=100)
    found = Counter(SPLIT.findall(out.read_text(encoding="utf-8")))
    known = sum(count for word, count in found.items() if word in words)
    assert known / sum(found.values()) > 0.85  # 0.89 on the portable text; 0.77 without arrange()
    top = [w for w, _ in words.most_common(10)]
    assert [w for w, _ in found.most_common(3)] == top[:3]
