"""Per-language compression metrics of tokenizers on parallel corpora.

Counting convention (Petrov et al. 2023, so numbers compare with published ones): a
language's text is its non-empty lines joined by one space (in the FLORES-200 layout:
exactly the paper's join, see ``bbpe.parallel_corpora.join_flores``), encoded whole, with no
BOS/EOS and special-token text counted as ordinary text.

Metrics per (tokenizer, corpus, language): tokens; UTF-8 bytes and characters per token
(of the original text, even where a model normalizes it); tokens relative to a baseline
tokenizer and to cl100k_base; the premium over English (tokens / English tokens of the
same tokenizer); the share of the vocabulary used; the byte-fallback share
(SentencePiece); and whether ``decode(encode(text)) == text``.  Fairness metrics
(``bbpe.fairness``): Rényi efficiency and fertility per language; per corpus the Gini
coefficient of per-language token counts (line-aligned corpora only), the Rényi efficiency
of the pooled tokens and the mean fertility.

>>> from bbpe.parallel_corpora import Corpus, Language
>>> class Chars:  # one token per character
...     name, kind, vocab_size, normalizes = "chars", "bbpe", 1000, False
...     def encode(self, text): return [ord(c) for c in text]
...     def decode(self, ids): return "".join(map(chr, ids))
...     def is_byte_fallback(self, token_id): return False
>>> lang = Language("eng_Latn", "English", (), "héllo", 1, "")
>>> report = build_report([Chars()], [Corpus("c", None, "files", (lang,))], baseline="chars", workers=1)
>>> row = report.rows[0]
>>> row.tokens, row.bytes_per_token, row.premium, row.vocab_share
(5, 1.2, 1.0, 0.004)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property, partial
from typing import Any, TypeVar

import numpy as np

from bbpe.errors import BBPEError
from bbpe.parallel_corpora import ENGLISH, Corpus, Language
from bbpe.progress import ProgressCallback, ProgressEvent
from bbpe.report import fairness, provenance
from bbpe.report.provenance import MARKS, Provenance
from bbpe.tokenizer import Tokenizer
from bbpe.tokenizer_adapters import TokenizerAdapter

CONVENTION = (
    "A language's text is its non-empty lines joined by one space, encoded whole as one string, with no BOS/EOS "
    "and special-token text counted as ordinary text (the convention of Petrov et al. 2023). A FLORES-200 "
    "directory (dev/ + devtest/) is joined exactly as the paper's code does, so its counts equal the published "
    "ones: each file split at every newline, keeping the empty string after the last one, dev then devtest, "
    "joined by one space. Bytes and characters are those of that original text, also for models that normalize it."
)
FAIRNESS = (
    "Gini: of one tokenizer's per-language token counts on a line-aligned corpus (0 = every language costs the "
    "same; empty where lines are not aligned). Rényi eff.: Rényi efficiency (alpha 2.5) of the token unigram "
    "distribution, H_2.5(p) / log |V| (Zouhar et al. 2023; 1 = uniform over the vocabulary), all languages pooled. "
    "fertility: tokens per whitespace-separated word, mean over the languages whose script uses spaces."
)
THROUGHPUT = (
    "encode MB/s: UTF-8 MB of a language's text over the CPU time of the thread that encoded it whole "
    "after one warm-up call per tokenizer (compiling and table building not counted; single-threaded encoding; "
    "the other threads encode other languages meanwhile, so compare within one report): "
    "bbpe's engine for bbpe vocabularies and tiktoken-style references, sentencepiece for SentencePiece models."
)
CL100K = "cl100k_base"
CURVE_SIZES = (1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 100_000, 128_000)
CURVE_SHARE = 0.25  # the vocab-size curve encodes the first quarter of every language's text


@dataclass(frozen=True)
class Measurement:
    """Raw counts of one tokenizer on one language."""

    tokens: int
    distinct: np.ndarray  # sorted ids that occur
    byte_fallback: int | None  # tokens that are byte-fallback pieces (SentencePiece only)
    round_trip: bool
    counts: np.ndarray | None = None  # occurrences of each id in ``distinct``
    seconds: float = 0.0  # CPU time of the thread that encoded the text


@dataclass(frozen=True)
class Row:
    """All metrics of one (tokenizer, corpus, language); ratios are None where undefined."""

    corpus: str
    language: str
    language_name: str
    tokenizer: str
    kind: str
    vocab_size: int
    lines: int
    chars: int
    bytes: int
    tokens: int
    bytes_per_token: float
    chars_per_token: float
    rel_baseline: float | None
    rel_cl100k: float | None
    premium: float | None
    vocab_used: int
    vocab_share: float
    byte_fallback_share: float | None
    round_trip: bool
    renyi_efficiency: float | None = None  # alpha 2.5 over this language's tokens, |V| = vocab size
    fertility: float | None = None  # tokens per whitespace-separated word; None for scripts without spaces
    held_out: bool | None = None  # trained tokenizers: whether these lines were unseen (bbpe.report.provenance)
    seen: str = ""  # why not: "training text (92% of its lines)", "parity dev set (100% of its lines)"
    encode_mb_per_s: float | None = None  # MB of text per CPU second of the encoding thread (THROUGHPUT)


@dataclass(frozen=True)
class Summary:
    """One tokenizer on one corpus: totals and premium statistics over its languages."""

    corpus: str
    tokenizer: str
    languages: int
    tokens: int
    bytes_per_token: float
    mean_rel_baseline: float | None
    mean_rel_cl100k: float | None
    mean_premium: float | None
    worst_premium: float | None
    worst_language: str | None
    vocab_share: float
    byte_fallback_share: float | None
    round_trip_failures: int
    gini: float | None = None  # of per-language token counts; line-aligned corpora only
    renyi_efficiency: float | None = None  # of all the corpus's tokens pooled
    mean_fertility: float | None = None  # over the languages that use spaces
    held_out: bool | None = None  # trained tokenizers: no language of the corpus was seen
    seen: str = ""  # "training text in 5 of 59 languages", "parity dev set (34 of 34 languages)"
    encode_mb_per_s: float | None = None  # all the corpus's text over the CPU time that encoded it
    engine: str = ""  # what encoded the text: bbpe's engine for bbpe vocabularies, the model's library otherwise


@dataclass
class CompressionReport:
    """Everything the tables, files and figures are made from."""

    baseline: str
    encoders: list[TokenizerAdapter]
    corpora: list[Corpus]
    rows: list[Row]
    summary: list[Summary]
    curves: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    curve_points: dict[str, tuple[int, float]] = field(default_factory=dict)  # other tokenizers, same text
    notes: list[str] = field(default_factory=list)
    figure_tokenizers: list[str] = field(default_factory=list)  # shown in the bars relative to the baseline (all)
    meta: dict[str, Any] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=lambda: Provenance({}, set(), []))

    def mark(self, tokenizer: str, corpus: str, language: str) -> str:
        """``†`` (training text), ``‡`` (parity dev set) or ``""`` (held out, or unknown)."""
        seen = self.provenance.status(tokenizer, corpus, language)
        return MARKS[seen.kind] if seen else ""

    def row(self, tokenizer: str, corpus: str, language: str) -> Row:
        return self._index[(tokenizer, corpus, language)]

    @cached_property
    def _index(self) -> dict[tuple[str, str, str], Row]:
        return {(r.tokenizer, r.corpus, r.language): r for r in self.rows}

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": [asdict(r) for r in self.rows],
            "summary": [asdict(s) for s in self.summary],
            "curves": {name: [list(p) for p in points] for name, points in self.curves.items()},
            "curve_points": {name: list(point) for name, point in self.curve_points.items()},
        }


def measure(encoder: TokenizerAdapter, text: str) -> Measurement:
    """Encode ``text`` whole and count tokens, distinct ids and byte-fallback pieces."""
    started = time.thread_time()
    ids = encoder.encode(text)
    seconds = time.thread_time() - started
    distinct, counts = np.unique(np.asarray(ids, dtype=np.int64), return_counts=True)
    fallback = None
    if encoder.kind == "sentencepiece":
        mask = np.fromiter((encoder.is_byte_fallback(int(i)) for i in distinct), dtype=bool, count=len(distinct))
        fallback = int(counts[mask].sum())
    return Measurement(len(ids), distinct, fallback, encoder.decode(ids) == text, counts, seconds)


def build_report(
    encoders: Sequence[TokenizerAdapter],
    corpora: Sequence[Corpus],
    *,
    baseline: str,
    workers: int | None = None,
    curve_tokenizers: Sequence[str] = (),
    on_progress: ProgressCallback | None = None,
) -> CompressionReport:
    """Measure every encoder on every language (in threads) and derive rows and summaries.

    Corpora a trained tokenizer has seen (its training text, its parity dev set: ``bbpe.report.provenance``)
    are marked in its rows and summaries and come after the held-out ones.  ``curve_tokenizers`` names bbpe-trained encoders whose compression-vs-vocab-size curve
    is measured by truncating their merge lists, on the first ``CURVE_SHARE`` of every
    language of the first corpus (where the other encoders are measured too).
    """
    names = [encoder.name for encoder in encoders]
    if len(set(names)) != len(names):
        raise BBPEError(f"two tokenizers share a name: {sorted(n for n in names if names.count(n) > 1)[0]}")
    if baseline not in names:
        raise BBPEError(f"baseline {baseline!r} is not among the tokenizers ({', '.join(names)})")
    seen = provenance.check(encoders, corpora)
    corpora = provenance.held_out_first(corpora, seen)
    jobs = [(encoder, corpus, language) for corpus in corpora for language in corpus.languages for encoder in encoders]
    jobs.sort(key=lambda job: -job[2].n_bytes)  # longest first balances the threads
    for encoder in encoders:  # one-time costs (compiling, building tables) stay out of the throughput
        encoder.encode("warm up: 123 héllo 世界")
    results = _run_parallel([partial(measure, e, l.text) for e, _, l in jobs], workers, "encode", on_progress)
    measured = {(e.name, c.name, l.code): m for (e, c, l), m in zip(jobs, results)}
    rows = [
        _row(encoder, corpus, language, measured, baseline, seen)
        for corpus in corpora
        for language in corpus.languages
        for encoder in encoders
    ]
    summary = [_summary(encoder, corpus, rows, measured) for corpus in corpora for encoder in encoders]
    report = CompressionReport(baseline, list(encoders), list(corpora), rows, summary, provenance=seen)
    if curve_tokenizers and corpora:
        _add_curves(report, curve_tokenizers, curve_sample(corpora[0].languages), workers, on_progress)
    return report


def _add_curves(
    report: CompressionReport,
    names: Sequence[str],
    texts: list[str],
    workers: int | None,
    on_progress: ProgressCallback | None,
) -> None:
    by_name = {encoder.name: encoder for encoder in report.encoders}
    for name in names:
        tokenizer = getattr(by_name.get(name), "tokenizer", None)
        if not isinstance(tokenizer, Tokenizer):
            raise BBPEError(f"no vocabulary curve for {name!r}: not a bbpe tokenizer among the tokenizers")
        report.curves[name] = vocab_curve(tokenizer, texts, workers=workers, on_progress=on_progress)
    others = [e for e in report.encoders if e.name not in report.curves]
    jobs = [(encoder, text) for encoder in others for text in texts]
    counts = _run_parallel([partial(_token_count, e, t) for e, t in jobs], workers, "curve", on_progress)
    n_bytes = sum(len(text.encode("utf-8")) for text in texts)
    for encoder in others:
        tokens = sum(c for (e, _), c in zip(jobs, counts) if e is encoder)
        report.curve_points[encoder.name] = (encoder.vocab_size, _round(n_bytes / max(tokens, 1)))


def curve_sample(languages: Sequence[Language], share: float = CURVE_SHARE) -> list[str]:
    """The first ``share`` of every language's text, cut at a space.

    >>> curve_sample([Language("x", "X", (), "aa bb cc dd", 4, "")], 0.5)
    ['aa bb']
    """
    texts = []
    for language in languages:
        cut = language.text.rfind(" ", 0, int(len(language.text) * share) + 1)
        texts.append(language.text[:cut] if cut > 0 else language.text)
    return texts


def _row(
    encoder: TokenizerAdapter,
    corpus: Corpus,
    language: Language,
    measured: dict[tuple[str, str, str], Measurement],
    baseline: str,
    seen: Provenance,
) -> Row:
    m = measured[(encoder.name, corpus.name, language.code)]
    status = seen.status(encoder.name, corpus.name, language.code)

    def ratio(other: str, code: str) -> float | None:
        reference = measured.get((other, corpus.name, code))
        return _round(m.tokens / reference.tokens) if reference and reference.tokens else None

    has_english = corpus.language(ENGLISH) is not None
    return Row(
        corpus=corpus.name,
        language=language.code,
        language_name=language.name,
        tokenizer=encoder.name,
        kind=encoder.kind,
        vocab_size=encoder.vocab_size,
        lines=language.lines,
        chars=language.n_chars,
        bytes=language.n_bytes,
        tokens=m.tokens,
        bytes_per_token=_round(language.n_bytes / max(m.tokens, 1)),
        chars_per_token=_round(language.n_chars / max(m.tokens, 1)),
        rel_baseline=ratio(baseline, language.code),
        rel_cl100k=ratio(CL100K, language.code),
        premium=ratio(encoder.name, ENGLISH) if has_english else None,
        vocab_used=len(m.distinct),
        vocab_share=_round(len(m.distinct) / encoder.vocab_size),
        byte_fallback_share=None if m.byte_fallback is None else _round(m.byte_fallback / max(m.tokens, 1)),
        round_trip=m.round_trip,
        renyi_efficiency=_renyi([m], encoder.vocab_size),
        fertility=_round(fairness.fertility(m.tokens, language.text))
        if fairness.uses_spaces(language.code) and language.text.split()
        else None,
        held_out=seen.held_out(encoder.name, corpus.name, language.code),
        seen=str(status) if status else "",
        encode_mb_per_s=_throughput(language.n_bytes, m.seconds),
    )


def _summary(
    encoder: TokenizerAdapter, corpus: Corpus, rows: list[Row], measured: dict[tuple[str, str, str], Measurement]
) -> Summary:
    mine = [r for r in rows if r.tokenizer == encoder.name and r.corpus == corpus.name]
    tokens = sum(r.tokens for r in mine)
    premiums = [(r.premium, r.language) for r in mine if r.premium is not None and r.language != ENGLISH]
    worst = max(premiums, default=(None, None))
    used = np.unique(np.concatenate([measured[(encoder.name, corpus.name, r.language)].distinct for r in mine]))
    fallback = [m.byte_fallback for m in (measured[(encoder.name, corpus.name, r.language)] for r in mine)]
    fallback_tokens = None if None in fallback else sum(f or 0 for f in fallback)
    return Summary(
        corpus=corpus.name,
        tokenizer=encoder.name,
        languages=len(mine),
        tokens=tokens,
        bytes_per_token=_round(sum(r.bytes for r in mine) / max(tokens, 1)),
        mean_rel_baseline=_mean([r.rel_baseline for r in mine]),
        mean_rel_cl100k=_mean([r.rel_cl100k for r in mine]),
        mean_premium=_mean([p for p, _ in premiums]),
        worst_premium=worst[0],
        worst_language=worst[1],
        vocab_share=_round(len(used) / encoder.vocab_size),
        byte_fallback_share=None if fallback_tokens is None else _round(fallback_tokens / max(tokens, 1)),
        round_trip_failures=sum(not r.round_trip for r in mine),
        gini=_round(fairness.gini([r.tokens for r in mine])) if corpus.aligned and mine else None,
        renyi_efficiency=_renyi([measured[(encoder.name, corpus.name, r.language)] for r in mine], encoder.vocab_size),
        mean_fertility=_mean([r.fertility for r in mine]),
        held_out=None if any(r.held_out is None for r in mine) else all(r.held_out for r in mine),
        seen=_seen_summary(mine),
        encode_mb_per_s=_throughput(
            sum(r.bytes for r in mine), sum(measured[(encoder.name, corpus.name, r.language)].seconds for r in mine)
        ),
        engine=engine_name(encoder),
    )


def _seen_summary(rows: Sequence[Row]) -> str:
    """``training text in 5 of 59 languages``; ``parity dev set in 34 of 34 languages, training text in ...``."""
    kinds: dict[str, int] = {}
    for row in rows:
        if row.seen:
            kind = row.seen.split(" (")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
    return ", ".join(f"{kind} in {n} of {len(rows)} languages" for kind, n in kinds.items())


def engine_name(encoder: TokenizerAdapter) -> str:
    """What encodes for ``encoder``: "bbpe/<engine>" for a bbpe tokenizer, else its kind (e.g. sentencepiece)."""
    tokenizer = getattr(encoder, "tokenizer", None)
    return f"bbpe/{tokenizer.engine}" if isinstance(tokenizer, Tokenizer) else encoder.kind


def _throughput(n_bytes: int, seconds: float) -> float | None:
    """MB per second, None when the time is too short to measure (under a millisecond)."""
    return _round(n_bytes / 1e6 / seconds) if seconds >= 1e-3 else None


def _renyi(measurements: Sequence[Measurement], vocab_size: int) -> float | None:
    """Rényi efficiency of the tokens of ``measurements`` pooled (None without tokens or counts)."""
    if any(m.counts is None for m in measurements) or vocab_size < 2:
        return None
    ids = np.concatenate([m.distinct for m in measurements])
    counts = np.concatenate([m.counts for m in measurements])
    if not len(ids):
        return None
    _, where = np.unique(ids, return_inverse=True)
    pooled = np.bincount(where, weights=counts).astype(np.int64)
    return _round(fairness.renyi_efficiency(pooled.tolist(), vocab_size))


def truncate(tokenizer: Tokenizer, size: int) -> Tokenizer:
    """The tokenizer with only its regular tokens of rank < ``size`` (all single bytes kept).

    BPE merges are nested, so this is the vocabulary training would have stopped at.
    """
    ranks = {token: rank for token, rank in tokenizer.ranks.items() if rank < size or len(token) == 1}
    return Tokenizer(ranks, pattern=tokenizer.pattern, normalization=tokenizer.normalization)


def vocab_curve(
    tokenizer: Tokenizer,
    texts: Sequence[str],
    *,
    sizes: Sequence[int] = CURVE_SIZES,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[tuple[int, float]]:
    """(regular tokens, bytes/token over all ``texts``) for truncations of ``tokenizer``."""
    full = len(tokenizer.ranks)
    chosen = sorted({size for size in sizes if 256 < size < full} | {full})
    cut = {size: truncate(tokenizer, size) if size < full else tokenizer for size in chosen}
    for piece in cut.values():
        piece.encode_ordinary("")  # build the engine once, before the threads share it
    jobs = [(size, text) for size in chosen for text in texts]
    counts = _run_parallel([partial(_ordinary_count, cut[s], t) for s, t in jobs], workers, "curve", on_progress)
    total_bytes = sum(len(text.encode("utf-8")) for text in texts)
    return [
        (size, _round(total_bytes / max(1, sum(c for (s, _), c in zip(jobs, counts) if s == size)))) for size in chosen
    ]


def _token_count(encoder: TokenizerAdapter, text: str) -> int:
    return len(encoder.encode(text))


def _ordinary_count(tokenizer: Tokenizer, text: str) -> int:
    return len(tokenizer.encode_ordinary(text))


_Result = TypeVar("_Result")


def _run_parallel(
    tasks: list[Callable[[], _Result]], workers: int | None, stage: str, on_progress: ProgressCallback | None
) -> list[_Result]:
    """Run tasks in threads (tiktoken and sentencepiece release the GIL while encoding)."""
    start = time.monotonic()
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(task) for task in tasks]
        results: list[_Result] = []
        for done, future in enumerate(futures, start=1):
            results.append(future.result())
            if on_progress:
                on_progress(ProgressEvent(stage, done, len(tasks), time.monotonic() - start))
    return results


def _round(value: float) -> float:
    return round(value, 4)


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return _round(sum(present) / len(present)) if present else None
