"""The dev set of parity-aware BPE: which languages choose merges, and the text each one's cost is measured on.

A dev set is a line-aligned parallel corpus in the report's layout (``bbpe.parallel_corpora``: one ``<code>.txt``
per language), or a directory whose subdirectories are such corpora, e.g. one per language holding its
lines and the English lines they translate (``<code>/<code>.txt`` + ``<code>/eng_Latn.txt``).  A
language's dev text is its lines (in every corpus that has it) joined by one space, pre-tokenized with
the training pattern (after the training text's normalization).

**Cost.** The worst-compressed language is the one with the highest cost: with one corpus, its token
count (every language has the same lines: the paper's rule); with several, its tokens divided by the
tokens of the pivot language's (English) lines in the same corpora: its premium over English, which
compares languages that never translated the same lines.  Every corpus of several must hold the pivot.

**Held-out split** (``split=True``): the lines with an even index (0, 2, 4, ...) choose; the odd ones are
held out, for the stop rule and the report of what the choice did to text it was not made on.

**Exclusion** (``leave_out_small``): a language with less than ``min_bytes`` of training text does not
take part (its dev cost would keep it the worst while its few kilobytes of training pairs run out or
only memorize its own lines); the reason is recorded.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bbpe.encoding.normalization import Normalization
from bbpe.errors import CorpusError
from bbpe.parallel_corpora import ENGLISH, Corpus, load_corpus
from bbpe.training.counting.pretokens import count_pretokens

PIVOT = ENGLISH


@dataclass
class DevText:
    """Pre-token counts of one language's dev lines: the part that chooses and the held-out part."""

    choose: Counter[str]
    held_out: Counter[str] = field(default_factory=Counter)


@dataclass
class DevSet:
    """Per language its dev text; per group of corpora the pivot's text (``reference_of``: language -> group).

    Without groups (one corpus) costs are plain token counts.
    """

    languages: dict[str, DevText]
    references: list[DevText] = field(default_factory=list)
    reference_of: dict[str, int] = field(default_factory=dict)
    corpora: list[str] = field(default_factory=list)
    split: bool = False


@dataclass
class ParityLog:
    """What the merge loop did: merges chosen per language (``"*"`` = global), why languages stopped choosing
    (``"exhausted"``: no pair left; ``"stalled"``: the stop rule) after how many merges, and the dev tokens of
    every candidate at the start and the end (``dev``, ``held_out``; per reference group ``reference`` and
    ``reference_held_out``)."""

    chosen: dict[str, int] = field(default_factory=dict)
    stopped: dict[str, tuple[str, int]] = field(default_factory=dict)
    tokens: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)


def as_dev_set(dev: DevSet | Mapping[str, Mapping[str, int]]) -> DevSet:
    """A DevSet from a DevSet or from ``{language: {pre-token: count}}`` (one corpus, no split)."""
    if isinstance(dev, DevSet):
        return dev
    return DevSet({code: DevText(Counter(words)) for code, words in dev.items()})


def dev_corpora(path: str | os.PathLike[str]) -> list[Path]:
    """The corpus directories of a dev set: ``path`` itself if it holds language files, else its subdirectories."""
    root = Path(path)
    if not root.is_dir():
        raise CorpusError(f"{root}: parity dev set not found (a corpus directory, or a directory of them)")
    if any(root.glob("*.txt")) or (root / "dev").is_dir() or (root / "devtest").is_dir():
        return [root]
    found = sorted(folder for folder in root.iterdir() if folder.is_dir() and any(folder.glob("*.txt")))
    if not found:
        raise CorpusError(f"{root}: no language files and no corpus subdirectories (<code>.txt files)")
    return found


def load_dev(
    path: str | os.PathLike[str], pattern: str, *, split: bool = False, normalization: Normalization = "none"
) -> DevSet:
    """Read a dev set (one corpus, or a directory of corpora compared through the pivot) as pre-token counts,
    normalized as the training text is."""
    corpora = [load_corpus(folder) for folder in dev_corpora(path)]
    for corpus in corpora:
        if not corpus.aligned:
            raise CorpusError(f"{corpus.path}: the parity dev set must be line-aligned (every language the same lines)")
        if len(corpora) > 1 and corpus.language(PIVOT) is None:
            raise CorpusError(f"{corpus.path}: no {PIVOT}.txt; several dev corpora are compared through {PIVOT}")
    texts = {corpus.name: _texts(corpus, pattern, split, normalization) for corpus in corpora}
    dev = DevSet({}, corpora=[corpus.name for corpus in corpora], split=split)
    groups: dict[tuple[str, ...], int] = {}
    for code in sorted({code for parts in texts.values() for code in parts}):
        names = tuple(name for name, parts in texts.items() if code in parts)
        dev.languages[code] = _sum(texts[name][code] for name in names)
        if len(corpora) > 1:
            if names not in groups:
                groups[names] = len(dev.references)
                dev.references.append(_sum(texts[name][PIVOT] for name in names))
            dev.reference_of[code] = groups[names]
    return dev


def leave_out_small(dev: DevSet, train_bytes: Mapping[str, int], min_bytes: int) -> dict[str, str]:
    """Drop from ``dev`` the languages without training text or with less than ``min_bytes`` of it;
    return language -> why (the languages that stay are the candidates)."""
    reasons = {}
    for code in sorted(dev.languages):
        size = train_bytes.get(code, 0)
        if size == 0:
            reasons[code] = "no training text"
        elif size < min_bytes:
            reasons[code] = f"{size:,} bytes of training text (< {min_bytes:,})"
    for code in reasons:
        del dev.languages[code]
        dev.reference_of.pop(code, None)
    return reasons


def candidate_languages(train: Iterable[str], dev: DevSet) -> list[str]:
    """The languages with both training words and dev text, sorted; none is an error."""
    train = sorted(train)
    candidates = sorted(set(train) & set(dev.languages))
    if not candidates:
        raise CorpusError(
            f"no language has both training files ({', '.join(sorted(train)) or 'none'}) and dev text "
            f"({', '.join(sorted(dev.languages)) or 'none'}); name training files <code>.* with the dev set's codes"
        )
    return candidates


def _texts(corpus: Corpus, pattern: str, split: bool, normalization: Normalization) -> dict[str, DevText]:
    """Per language of one corpus: the pre-token counts of its text (both halves with ``split``)."""
    if not split:
        return {language.code: DevText(_counts(language.text, pattern, normalization)) for language in corpus.languages}
    parts = {}
    for language in corpus.languages:
        lines = _lines(language.files)
        parts[language.code] = DevText(
            _counts(" ".join(lines[0::2]), pattern, normalization),
            _counts(" ".join(lines[1::2]), pattern, normalization),
        )
    return parts


def _lines(files: tuple[Path, ...]) -> list[str]:
    """The non-empty lines of a language's files (as ``bbpe.parallel_corpora.join_lines`` keeps them)."""
    lines = []
    for file in files:
        raw = file.read_text(encoding="utf-8").removeprefix("\ufeff")
        lines += [line.removesuffix("\r") for line in raw.split("\n") if line.strip()]
    return lines


def _counts(text: str, pattern: str, normalization: Normalization) -> Counter[str]:
    """Pre-token counts of one text, counted as one document (in compiled code for the presets)."""
    counts = count_pretokens([text], pattern, workers=1, normalization=normalization) if text else Counter()
    return Counter({word.decode("utf-8"): count for word, count in counts.items()})


def _sum(parts: Iterable[DevText]) -> DevText:
    total = DevText(Counter(), Counter())
    for part in parts:
        total.choose.update(part.choose)
        total.held_out.update(part.held_out)
    return total
