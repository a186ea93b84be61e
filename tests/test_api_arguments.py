"""``bbpe.train`` and ``bbpe.train_from_counts`` check their arguments before any work (issues 21 and 22).

Before: a bare string trained one document per character, ``None``/``5``/``object()`` were counted as
documents, ``special_tokens="<s>"`` made ``<``, ``s``, ``>`` specials, ``max_merges=2.5`` ended in a
multi-line numba typing error, ``max_superword_words``/``parity_global_merges`` were ignored without
the option they need, and ``train_from_counts(split_digits=True)`` recorded the setting without applying it.
"""

from __future__ import annotations

import inspect
from collections import Counter
from pathlib import Path

import pytest

import bbpe
from bbpe.pretokenize.patterns import CL100K, resolve_pattern
from bbpe.training import api, arguments
from bbpe.training.counting.pretokens import count_pretokens

TEXT = "The year 2024 had 366 days; 1999 had 365. Call 555-0123 or 0800 123 456.\n" * 20


@pytest.mark.parametrize("function", [bbpe.train, bbpe.train_from_counts])
def test_every_parameter_has_a_rule(function):
    ruled = {
        *arguments.WHOLE_NUMBERS,
        *arguments.FLAGS,
        *arguments.CHOICES,
        *arguments.TEXTS,
        *arguments.CHECKED_ELSEWHERE,
        "init",
        "parity_dev",
        "on_progress",
    }
    missing = set(inspect.signature(function).parameters) - ruled
    assert not missing, f"give these parameters a rule in bbpe.training.arguments: {sorted(missing)}"


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if counting or merging starts: every misuse must be refused before."""

    def started(*args, **kwargs):
        raise AssertionError("work started before the arguments were checked")

    for name in ("count_pretokens", "count_corpus", "count_on_executor", "merge_into_tokenizer", "base_settings"):
        monkeypatch.setattr(api, name, started)


TRAIN_MISUSE = [
    ({"texts_or_paths": "a text"}, TypeError, "not a single str: wrap it in a list"),
    ({"texts_or_paths": b"bytes"}, TypeError, "not a single bytes"),
    ({"texts_or_paths": Path("corpus.txt")}, TypeError, "not a single PosixPath"),
    ({"texts_or_paths": 5}, TypeError, "must be a collection"),
    ({"texts_or_paths": ["ok", None]}, TypeError, "texts_or_paths[1] is NoneType None"),
    ({"texts_or_paths": ["ok", 5]}, TypeError, "texts_or_paths[1] is int 5"),
    ({"texts_or_paths": [object()]}, TypeError, "texts_or_paths[0] is object"),
    ({"texts_or_paths": [b"raw"]}, TypeError, "decode bytes to str first"),
    ({"special_tokens": "<s>"}, TypeError, "write ['<s>']"),
    ({"special_tokens": [b"<s>"]}, TypeError, "special_tokens[0] is bytes"),
    ({"special_tokens": 7}, TypeError, "special_tokens must be a collection"),
    ({"max_merges": 2.5}, TypeError, "max_merges must be an int or None (a whole number), got float 2.5"),
    ({"vocab_size": 300.0}, TypeError, "vocab_size must be an int"),
    ({"vocab_size": True}, TypeError, "vocab_size must be an int"),
    ({"vocab_size": 2**31}, ValueError, "vocab_size must be at most 2,147,483,647"),
    ({"min_frequency": 0}, ValueError, "min_frequency must be at least 1"),
    ({"min_frequency": "2"}, TypeError, "min_frequency must be an int"),
    ({"workers": -1}, ValueError, "workers must be at least 0"),
    ({"workers": 10**6}, ValueError, "workers must be at most 256"),
    ({"max_bytes": 0}, ValueError, "max_bytes must be at least 1"),
    ({"max_bytes": 1e6}, TypeError, "max_bytes must be an int"),
    ({"superwords_after": 1.5}, TypeError, "superwords_after must be an int"),
    ({"max_superword_words": 0, "superwords_after": 300}, ValueError, "max_superword_words must be at least 1"),
    ({"parity_global_merges": -1, "parity_dev": "dev"}, ValueError, "parity_global_merges must be at least 0"),
    ({"split_digits": "yes"}, TypeError, "split_digits must be True or False"),
    ({"prune_unreachable": 1}, TypeError, "prune_unreachable must be True or False"),
    ({"unit": "doc"}, ValueError, "unit must be one of 'document', 'line'"),
    ({"utf8_errors": "ignore"}, ValueError, "utf8_errors must be one of 'replace', 'strict'"),
    ({"jsonl_field": None}, TypeError, "jsonl_field must be a str, got NoneType"),
    ({"pattern": 5}, TypeError, "pattern must be a str or None"),
    ({"address": 6379}, TypeError, "address must be a str or None"),
    ({"on_progress": "stderr"}, TypeError, "on_progress must be a function"),
    ({"init": 5}, TypeError, "init must be a Tokenizer, a reference name or a path"),
    ({"parity_dev": 5}, TypeError, "parity_dev must be a path"),
    ({"max_superword_words": 3}, ValueError, "max_superword_words needs superwords_after"),
    ({"parity_global_merges": 10}, ValueError, "parity_global_merges needs parity_dev"),
]


@pytest.mark.parametrize(("changes", "error", "message"), TRAIN_MISUSE)
def test_train_refuses_misuse_before_any_work(no_work, changes, error, message):
    call = {"texts_or_paths": [TEXT], "vocab_size": 300, "workers": 1} | changes
    with pytest.raises(error) as info:
        bbpe.train(**call)
    assert message in str(info.value) and "\n" not in str(info.value)


COUNTS_MISUSE = [
    ({"counts": "abc"}, TypeError, "counts must be a mapping"),
    ({"counts": [("ab", 3)]}, TypeError, "counts must be a mapping"),
    ({"counts": {"ab": 2.5}}, TypeError, "counts['ab'] is float 2.5: counts are ints"),
    ({"counts": {"ab": True}}, TypeError, "counts['ab'] is bool True"),
    ({"counts": {5: 3}}, TypeError, "the word int 5 is not a str or bytes"),
    ({"counts": {"ab": -1}}, ValueError, "counts['ab'] is -1: counts must not be negative"),
    ({"special_tokens": "<s>"}, TypeError, "write ['<s>']"),
    ({"max_merges": 2.5}, TypeError, "max_merges must be an int or None"),
    ({"vocab_size": "300"}, TypeError, "vocab_size must be an int"),
    ({"split_digits": None}, TypeError, "split_digits must be True or False"),
]


@pytest.mark.parametrize(("changes", "error", "message"), COUNTS_MISUSE)
def test_train_from_counts_refuses_misuse_before_any_work(no_work, changes, error, message):
    call = {"counts": {"ab": 3, "abc": 2}, "vocab_size": 300} | changes
    with pytest.raises(error) as info:
        bbpe.train_from_counts(**call)
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("backend", ["python", "numba"])
def test_a_fractional_max_merges_is_one_line_on_every_backend(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    with pytest.raises(TypeError, match="max_merges must be an int or None"):
        bbpe.train_from_counts({"ab": 3}, vocab_size=300, max_merges=2.5, backend=backend)


def test_right_arguments_of_every_kind_still_train():
    tok = bbpe.train(
        (item for item in [TEXT, TEXT.upper()]),  # any iterable, consumed once
        vocab_size=280,
        special_tokens=(s for s in ["<s>"]),
        max_merges=10,
        workers=1,
        on_progress=lambda event: None,
    )
    assert tok.special_tokens == {"<s>": tok.vocab_size - 1} and tok.n_merges == 10


def _multi_digit(tokenizer: bbpe.Tokenizer) -> list[bytes]:
    return [token for token in tokenizer.ranks if sum(chr(b).isdigit() for b in token) > 1]


@pytest.mark.parametrize("backend", ["python", "auto"])
def test_train_from_counts_applies_split_digits(backend):
    counts = count_pretokens([TEXT], CL100K, workers=1)  # counted with plain cl100k: "202", "4", " 555", ...
    assert any(sum(chr(b).isdigit() for b in word) > 1 for word in counts)
    split = bbpe.train_from_counts(counts, vocab_size=330, pattern="cl100k", split_digits=True, backend=backend)
    assert split.metadata["training"]["split_digits"] is True
    assert split.pattern == resolve_pattern("cl100k", split_digits=True)
    assert _multi_digit(split) == []  # before: it learned "202", "123", ... while recording split_digits: true
    # The definition: counting with the split-digit pattern gives the same words, so the same tokenizer.
    direct = bbpe.train([TEXT], vocab_size=330, pattern="cl100k", split_digits=True, workers=1, backend=backend)
    assert split.ranks == direct.ranks
    assert split.encode("call 0800 123") == direct.encode("call 0800 123")


def test_train_from_counts_split_digits_with_a_base_vocabulary():
    counts = Counter({"2024": 30, " 3666": 20, "qzqz": 5})
    base = bbpe.train([TEXT], vocab_size=300, workers=1)  # cl100k: knows multi-digit tokens
    assert _multi_digit(base)
    extended = bbpe.train_from_counts(counts, vocab_size=320, init=base, split_digits=True, min_frequency=1)
    assert extended.pattern == resolve_pattern(base.pattern, split_digits=True)
    new = [extended.token_bytes(i) for i in range(base.vocab_size, extended.vocab_size)]
    assert b"qz" in new and not [token for token in new if sum(chr(b).isdigit() for b in token) > 1]
