"""Parity-aware BPE (Foroutan et al. 2025, arXiv 2508.04796): every merge helps the worst-compressed language.

Training files carry their language in the name, ``<code>.<anything>`` (``eng_Latn.manpages.txt.gz``);
each language's pre-tokens are counted apart (one pass over the corpus).  The dev set, each language's
cost on it, its held-out split and the languages left out are defined in ``bbpe.training.methods.parity_dev``.

The merge loop (the paper's *base* variant; the reference implementation is
swiss-ai/parity-aware-bpe):

* the **candidate languages** are those with both training files and dev text (``bbpe.train`` leaves
  out those with less than ``parity_min_bytes`` of training text first);
* before each merge, the worst-compressed candidate is the one with the highest dev cost (one dev
  corpus: the most dev tokens; several: the highest premium over the pivot; ties: the smallest
  language code); the merge is that language's most frequent pair (ties: the smallest (left id,
  right id), as in ``bbpe.bpe``);
* the merge is applied to every language's words and to the dev words, whose token counts are
  kept up to date incrementally (no re-encoding);
* the *hybrid* variant takes the first ``global_merges`` merges by the pair count summed over
  all languages (classic BPE), then continues parity-aware;
* a candidate without a pair occurring ``min_frequency`` times drops out for good (merges never
  raise a language's highest pair count; "exhausted") and the next-worst language chooses; training
  stops when no candidate is left (or, during global merges, no pair is frequent enough).  The
  reference stops at the first such language instead; on imbalanced data (a language with a
  few kilobytes of training text) that ends training after a few hundred merges;
* **stop rule** (``patience`` P > 0): a candidate whose last P chosen merges in a row saved none of its
  held-out dev tokens (its dev tokens without a split) drops out too ("stalled"): its training pairs no
  longer help text it did not choose on, and the vocabulary goes to the next-worst language.

This module is the readable reference loop; ``bbpe.training.methods.parity_compiled`` is its compiled twin
with the same results (``backend="auto"`` uses it when numba imports, as plain training does).
The hybrid's global merges read the pair counts summed over the languages; no pooled copy of
the words is merged.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

from bbpe.corpus.documents import UnitStats
from bbpe.corpus.reading import CorpusStats, expand_paths
from bbpe.corpus.units import plan_units
from bbpe.corpus.workers import run_tasks, worker_count
from bbpe.errors import CorpusError
from bbpe.formats.counts import check_pair_total
from bbpe.training.counting.pretokens import (
    CountSettings,
    Unit,
    add_stats,
    count_unit,
    load_counter,
)
from bbpe.training.loops.reference import Merge, MergeCallback, Pair, apply_merge, pair_counts, pop_best, token_for
from bbpe.training.methods.parity_dev import PIVOT, DevSet, ParityLog, as_dev_set, candidate_languages
from bbpe.training.settings import ParitySettings

Words = Iterable[tuple[Sequence[int], int]]


def language_of(path: Path) -> str:
    """The language code a training file's name starts with.

    >>> language_of(Path("train/eng_Latn.manpages.txt.gz"))
    'eng_Latn'
    """
    return path.name.split(".", 1)[0]


def count_by_language(
    paths: Sequence[str | os.PathLike[str]],
    settings: CountSettings,
    *,
    stats: CorpusStats,
    max_bytes: int | None = None,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> dict[str, Counter[bytes]]:
    """Pre-token counts per language code (files grouped by ``language_of``); ``max_bytes`` caps each language.

    The work units of all languages go to one pool of ``workers`` processes (as plain training's counting).
    """
    if not paths:
        raise CorpusError("parity-aware training needs training files named <language>.* (not text or stdin)")
    groups: dict[str, list[Path]] = {}
    for file in expand_paths(paths):
        if str(file) == "-":
            raise CorpusError("parity-aware training cannot read stdin: the language comes from the file name")
        groups.setdefault(language_of(file), []).append(file)
    counts: dict[str, Counter[bytes]] = {code: Counter() for code in sorted(groups)}
    jobs = (
        (code, unit, settings)
        for code in counts
        for unit in plan_units(
            groups[code], settings.rule, max_bytes=max_bytes, stats=stats, parts=worker_count(workers)
        )
    )

    def add(result: tuple[str, Counter[bytes], UnitStats]) -> None:
        code, words, unit_stats = result
        counts[code].update(words)
        add_stats(stats, unit_stats)
        if on_bytes:
            on_bytes(stats.bytes)

    load_counter(settings)
    run_tasks(_count_language_unit, jobs, workers=workers, on_result=add)
    if stats.bytes == 0 and not any(counts.values()):
        raise CorpusError("all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)")
    return counts


def _count_language_unit(code: str, unit: Unit, settings: CountSettings) -> tuple[str, Counter[bytes], UnitStats]:
    """Count one work unit of a language (runs in a worker)."""
    return (code, *count_unit(unit, settings))


def language_words(counts: Mapping[str, Mapping[bytes, int]]) -> dict[str, Words]:
    """Per language, the words (UTF-8 bytes, as counting gives them: a sequence of byte ids) with their counts
    (streams, as the merge loops want them)."""
    return {code: iter(words.items()) for code, words in counts.items()}


def language_bytes(counts: Mapping[str, Mapping[bytes, int]]) -> dict[str, int]:
    """Bytes of training text per language (its pre-tokens tile its text)."""
    return {code: sum(len(word) * count for word, count in words.items()) for code, words in counts.items()}


def settings(
    parity: ParitySettings,
    dev: DevSet,
    *,
    counts: Mapping[str, Any],
    excluded: Mapping[str, str],
    log: ParityLog,
) -> dict[str, Any]:
    """What goes into ``metadata["training"]["parity"]``; ``log`` is filled by the merge loop."""
    return {
        "dev": os.fspath(parity.dev),
        "dev_corpora": dev.corpora,
        "cost": f"dev tokens / {PIVOT} tokens of the same corpora" if dev.references else "dev tokens",
        "held_out": "the odd lines of every dev corpus (the even ones choose)" if dev.split else None,
        "variant": "hybrid" if parity.global_merges else "base",
        "global_merges": parity.global_merges,
        "min_language_bytes": parity.min_bytes,
        "patience": parity.patience,
        "languages": sorted(counts),
        "selection": "highest cost; ties to the smallest code",
        "excluded": dict(excluded),
        "merges_per_language": log.chosen,
        "stopped": log.stopped,
        "dev_tokens": log.tokens,
    }


class _Side:
    """Words of one language (training or dev) with their pair counts and pair -> word index."""

    def __init__(self, words: Words) -> None:
        self.ids: list[list[int]] = []
        self.counts: list[int] = []
        self.pairs: dict[Pair, int] = {}
        self.where: dict[Pair, set[int]] = {}
        self.pair_total = 0  # sum of count x (length - 1): the bound of every pair count
        for ids, count in words:
            if count <= 0:
                if count < 0:
                    raise ValueError(f"word counts must not be negative, got {count}")
                continue  # as in bbpe.training.loops.reference.learn_merges
            index = len(self.ids)
            self.ids.append(list(ids))
            self.counts.append(count)
            self.pair_total += count * max(0, len(ids) - 1)
            for pair, occurrences in pair_counts(list(ids)).items():
                self.pairs[pair] = self.pairs.get(pair, 0) + occurrences * count
                self.where.setdefault(pair, set()).add(index)
        self.heap = [(-count, pair) for pair, count in self.pairs.items()]
        heapq.heapify(self.heap)

    def tokens(self, indices: Iterable[int]) -> int:
        return sum(len(self.ids[i]) * self.counts[i] for i in indices)

    def merge(self, pair: Pair, token: int) -> set[Pair]:
        """Apply a merge to every word holding ``pair``; return the pairs that grew."""
        grown = apply_merge(pair, token, self.ids, self.counts, self.pairs, self.where)
        for changed in grown:
            heapq.heappush(self.heap, (-self.pairs[changed], changed))
        return grown

    def saved_by(self, pair: Pair, token: int) -> int:
        """Apply a merge; return how many tokens it saved."""
        affected = list(self.where.get(pair, ()))
        before = self.tokens(affected)
        self.merge(pair, token)
        return before - self.tokens(affected)


class _Pooled:
    """The pair counts of all languages summed, read from the languages' own counts, with a lazy heap."""

    def __init__(self, sides: list[_Side]) -> None:
        self.sides = sides
        totals: Counter[Pair] = Counter()
        for side in sides:
            totals.update(side.pairs)
        self.heap = [(-count, pair) for pair, count in totals.items()]
        heapq.heapify(self.heap)

    def count(self, pair: Pair) -> int:
        return sum(side.pairs.get(pair, 0) for side in self.sides)

    def push(self, grown: Iterable[Pair]) -> None:
        for pair in grown:
            heapq.heappush(self.heap, (-self.count(pair), pair))

    def pop_best(self) -> tuple[Pair, int] | None:
        """As ``bbpe.training.loops.reference.pop_best``: counts of existing pairs only fall, grown pairs were pushed again."""
        while self.heap:
            negative, pair = heapq.heappop(self.heap)
            current = self.count(pair)
            if current == -negative:
                return pair, current
            if current > 0:
                heapq.heappush(self.heap, (-current, pair))
        return None


def learn_parity_merges(
    words: Mapping[str, Words],
    token_bytes: list[bytes],
    *,
    n_new_tokens: int,
    min_frequency: int = 2,
    on_merge: MergeCallback | None = None,
    dev: DevSet | Mapping[str, Mapping[str, int]],
    global_merges: int = 0,
    patience: int = 0,
    log: ParityLog | None = None,
) -> tuple[list[Merge], str]:
    """The parity-aware merge loop (interface of ``bbpe.training.loops.reference.learn_merges`` plus the dev set).

    ``words``: language -> (ids in ``token_bytes``, count); ``dev``: a ``DevSet`` or language -> pre-token
    text -> count.  ``patience`` > 0: a language stops choosing after that many merges in a row that saved
    none of its held-out dev tokens (its dev tokens without a split).  ``log`` (if given) receives what
    happened (``ParityLog``).
    """
    dev = as_dev_set(dev)
    log = ParityLog() if log is None else log
    train = {code: _Side(words[code]) for code in sorted(words)}
    check_pair_total(sum(side.pair_total for side in train.values()))  # global merges add the languages up
    candidates = candidate_languages(train, dev)
    measured = _Measured(dev, candidates)
    # The hybrid's global merges read the pair counts summed over the languages (no pooled copy of the words).
    pooled = _Pooled(list(train.values())) if global_merges > 0 else None
    id_of = {token: index for index, token in enumerate(token_bytes)}
    stale = dict.fromkeys(candidates, 0)
    merges: list[Merge] = []
    added = 0
    stop = "vocab_size"
    while added < n_new_tokens:
        if pooled is not None and len(merges) >= global_merges:
            pooled = None
        if pooled is not None:
            language, best = "*", pooled.pop_best()
        else:
            language, best = _worst_language_pair(candidates, train, measured, min_frequency, log, len(merges))
        if best is None or best[1] < min_frequency:
            stop = "min_frequency"
            break
        pair, count = best
        token, is_new = token_for(token_bytes[pair[0]] + token_bytes[pair[1]], token_bytes, id_of)
        added += is_new
        merges.append(Merge(pair[0], pair[1], token, count, is_new))
        log.chosen[language] = log.chosen.get(language, 0) + 1
        grown: set[Pair] = set()
        for side in train.values():
            grown |= side.merge(pair, token)
        if pooled is not None:
            pooled.push(grown)
        saved = measured.merge(pair, token)
        if patience and language != "*":
            stale[language] = 0 if saved[measured.watched(language)] else stale[language] + 1
            if stale[language] >= patience:
                candidates.remove(language)
                log.stopped[language] = ("stalled", len(merges))
        if on_merge is not None:
            on_merge(added)
    log.tokens.update(measured.report())
    ordered = sorted(log.stopped.items(), key=lambda item: (item[1][1], item[0]))  # as the numba loop reports
    log.stopped.clear()
    log.stopped.update(ordered)
    return merges, stop


class _Measured:
    """The dev texts the loop measures: per candidate its choosing and held-out parts, per reference group
    the pivot's, with their current token counts."""

    def __init__(self, dev: DevSet, candidates: list[str]) -> None:
        self.dev = dev
        self.candidates = list(candidates)
        texts = [dev.languages[code] for code in candidates]
        groups = sorted({dev.reference_of[code] for code in candidates if code in dev.reference_of})
        self.group_at = {group: index for index, group in enumerate(groups)}
        texts += [dev.references[group] for group in groups]
        self.sides = [_Side(_as_ids(counts)) for text in texts for counts in (text.choose, text.held_out)]
        self.start = [side.tokens(range(len(side.ids))) for side in self.sides]
        self.now = list(self.start)

    def merge(self, pair: Pair, token: int) -> list[int]:
        """Apply a merge to every dev text; the tokens each saved."""
        saved = [side.saved_by(pair, token) for side in self.sides]
        self.now = [tokens - gain for tokens, gain in zip(self.now, saved)]
        return saved

    def index(self, code: str) -> int:
        return 2 * self.candidates.index(code)

    def watched(self, code: str) -> int:
        """Where the stop rule looks: the held-out part, or the dev text itself without a split."""
        return self.index(code) + (1 if self.dev.split else 0)

    def cost(self, code: str) -> Fraction:
        reference = self.dev.reference_of.get(code)
        if reference is None:
            return Fraction(self.now[self.index(code)])
        return Fraction(self.now[self.index(code)], self.now[2 * (len(self.candidates) + self.group_at[reference])])

    def report(self) -> dict[str, dict[str, tuple[int, int]]]:
        """Per candidate: (start, end) tokens of its dev text and held-out part, and of their references."""
        out = {}
        for code in self.candidates:
            at = [("dev", self.index(code)), ("held_out", self.index(code) + 1)]
            if code in self.dev.reference_of:
                group = 2 * (len(self.candidates) + self.group_at[self.dev.reference_of[code]])
                at += [("dev_reference", group), ("held_out_reference", group + 1)]
            out[code] = {name: (self.start[i], self.now[i]) for name, i in at if self.start[i]}
        return out


def _as_ids(counts: Mapping[str, int]) -> Words:
    return ((list(text.encode("utf-8")), n) for text, n in counts.items())


def _worst_language_pair(
    candidates: list[str],
    train: Mapping[str, _Side],
    measured: _Measured,
    min_frequency: int,
    log: ParityLog,
    done: int,
) -> tuple[str, tuple[Pair, int] | None]:
    """The worst-compressed candidate with a pair occurring ``min_frequency`` times, and that pair.

    A language without such a pair is dropped from ``candidates`` for good: merges never raise the
    highest pair count of a language (a new pair occurs at most as often as the pairs it replaces).
    """
    for code in sorted(candidates, key=lambda code: (-measured.cost(code), code)):
        side = train[code]
        best = pop_best(side.heap, side.pairs)
        if best is not None and best[1] >= min_frequency:
            return code, best
        candidates.remove(code)
        log.stopped[code] = ("exhausted", done)
    return "", None
