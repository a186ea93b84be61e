"""Counting pre-tokens: work units read by worker processes, count tables added up by the main process.

The unit of pre-tokenization is the document (a text file, stdin, a JSONL record, a text
given to ``bbpe.train``) or, with ``unit="line"``, the line.  Work units (``bbpe.corpus.documents``)
are byte ranges of files, whole compressed files, or batches of pieces read by the main
process (stdin, in-memory texts); workers read them themselves and cut documents only at
safe cuts (``bbpe.pretokenize.safe_cuts``), so counts are the same for any number of workers and any
chunking.  Workers run in a ``concurrent.futures.ProcessPoolExecutor`` (a killed worker
raises instead of hanging) and die with their parent.  The main process holds only the
table of unique pre-tokens.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from bbpe.corpus.documents import (
    FileUnit,
    PieceUnit,
    UnitStats,
    unit_texts,
)
from bbpe.corpus.reading import CorpusStats, split_lines
from bbpe.corpus.units import plan_units, text_units
from bbpe.corpus.workers import run_tasks, worker_count
from bbpe.encoding.coverage import dropped_text
from bbpe.encoding.normalization import Normalization, check_normalization, normalizer
from bbpe.encoding.specials import split_specials
from bbpe.errors import CorpusError
from bbpe.pretokenize.patterns import compile_pattern, validate_pattern
from bbpe.pretokenize.safe_cuts import CutRule, cut_rule
from bbpe.pretokenize.scanner_presets import supports

if TYPE_CHECKING:  # the scanner needs numba (optional): imported where it is used
    from bbpe.pretokenize.scanner import CountTable

log = logging.getLogger("bbpe")
UNITS = ("document", "line")
NO_CUT = CutRule("none", lambda buf, p: False)
Unit = FileUnit | PieceUnit
T = TypeVar("T")


@dataclass(frozen=True)
class CountSettings:
    """How text is read, normalized and pre-tokenized: travels with every work unit.

    Special-token text is cut out first, then each segment between special tokens is normalized
    (``normalization``) and pre-tokenized, as ``bbpe.Tokenizer.encode`` does.
    """

    pattern: str
    special_tokens: tuple[str, ...] = ()
    unit: str = "document"
    jsonl_field: str = "text"
    errors: str = "replace"
    normalization: Normalization = "none"
    compiled: bool = True  # count a preset pattern with the compiled scanner when numba imports (scanner_pays)

    def __post_init__(self) -> None:
        validate_pattern(self.pattern)
        object.__setattr__(self, "normalization", check_normalization(self.normalization))
        if self.unit not in UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; use 'document' or 'line'")
        if "" in self.special_tokens:
            raise ValueError("a special token cannot be empty")

    @property
    def rule(self) -> CutRule:
        """Where documents may be cut (``NO_CUT``: never inside a document)."""
        return (
            cut_rule(self.pattern, unit=self.unit, special_tokens=self.special_tokens, normalization=self.normalization)
            or NO_CUT
        )


def chunk_counter(pattern: str, *, compiled: bool = True) -> Callable[[str], dict[bytes, int]]:
    """Text (no special tokens in it) -> counts of its pre-tokens as UTF-8 bytes.

    A preset pattern (or its split-digit form) is counted by the compiled scanner
    (``bbpe.pretokenize.scanner``, exact: equal to ``Counter(findall)``) when numba imports and
    ``compiled``; any other pattern, or no numba, by ``regex``.

    >>> sorted(chunk_counter(r"\\S+|\\s+")("a b a").items())
    [(b' ', 2), (b'a', 2), (b'b', 1)]
    """
    key = supports(pattern) if compiled else None
    if key is not None:
        try:
            from bbpe.pretokenize.scanner import count_pretokens_compiled  # needs numba (optional)
        except ImportError:
            pass
        else:
            return lambda text: count_pretokens_compiled(text.encode("utf-8"), key)
    findall = compile_pattern(pattern).findall

    def count(text: str) -> dict[bytes, int]:
        pieces = findall(text)
        if sum(map(len, pieces)) != len(text):  # a custom pattern that drops characters: raise, never drop
            raise dropped_text(pattern, text)
        return {word.encode("utf-8"): count for word, count in Counter(pieces).items()}

    return count


class TextCounter:
    """Counts documents or lines: special-token text cut out first, each segment normalized, then ``chunk_counter``.

    ``add`` adds one text to ``counts``; ``count`` counts many at once, in compiled code when the
    pattern is a preset and numba imports (no Python work per pre-token until the end).
    """

    def __init__(self, settings: CountSettings) -> None:
        self.settings = settings
        self.count_chunk = chunk_counter(settings.pattern, compiled=settings.compiled)
        self.specials = frozenset(settings.special_tokens)
        self.normalize = normalizer(settings.normalization)
        self.counts: Counter[bytes] = Counter()
        self.table = compiled_table(settings.pattern) if settings.compiled else None

    def add(self, text: str) -> None:
        """Add a document, or a piece of one that ends at a safe cut."""
        for chunk in self.chunks(text):
            self.counts.update(self.count_chunk(chunk))

    def count(self, texts: Iterable[str]) -> Counter[bytes]:
        """The counts of documents or pieces of them (each ending at a safe cut), added up."""
        if self.table is None:
            self.counts = Counter()
            for text in texts:
                self.add(text)
            counts, self.counts = self.counts, Counter()
            return counts
        by_line = self.settings.unit == "line"
        try:
            for text in texts:
                if not self.specials:  # a whole piece at once; lines are documents of the buffer
                    data = (text if self.normalize is None else self.normalize(text)).encode("utf-8")
                    self.table.add(data, doc_ends=line_ends(data) if by_line else None)
                    continue
                for chunk in self.chunks(text):
                    self.table.add(chunk.encode("utf-8"))
            return Counter(self.table.counts())
        finally:
            self.table.clear()

    def chunks(self, text: str) -> Iterator[str]:
        """The non-empty parts of a text that are pre-tokenized alone (lines, text between special tokens),
        normalized."""
        for part in split_lines(text) if self.settings.unit == "line" else (text,):
            for chunk in split_specials(part, self.specials)[::2]:
                if chunk:
                    yield chunk if self.normalize is None else self.normalize(chunk)


def scanner_pays(pattern: str, input_bytes: int | None) -> bool:
    """Whether "auto" counts ``pattern`` with the compiled scanner: a preset pattern, numba importable, and the
    scanner compiled on this machine already or the input large enough to pay for compiling it
    (``bbpe._jit.worth_compiling``).  The ``regex`` counter gives the same counts."""
    if supports(pattern) is None:
        return False
    try:
        from bbpe._jit import worth_compiling
        from bbpe.pretokenize import _scan_kernels as kernels  # needs numba (optional)
    except ImportError:
        return False
    return worth_compiling([kernels.count_into], input_bytes)


def compiled_table(pattern: str) -> CountTable | None:
    """A compiled count table for a preset pattern (or its split-digit form); None without numba or for others."""
    key = supports(pattern)
    if key is None:
        return None
    try:
        from bbpe.pretokenize.scanner import CountTable  # needs numba (optional)
    except ImportError:
        return None
    return CountTable(key)


def line_ends(data: bytes) -> np.ndarray:
    """Where the lines of UTF-8 text end (after each ``\\n``, and at the end): ``split_lines`` on bytes.

    >>> line_ends(b"a\\r\\nb\\n\\nc").tolist()
    [3, 5, 6, 7]
    """
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A) + 1
    if ends.size and ends[-1] == len(data):
        return ends
    return np.append(ends, len(data))


_COUNTERS: dict[CountSettings, TextCounter] = {}


def count_unit(unit: Unit, settings: CountSettings) -> tuple[Counter[bytes], UnitStats]:
    """Read one work unit and count it (runs in a worker)."""
    stats = UnitStats()
    counts = text_counter(settings).count(
        unit_texts(unit, settings.rule, jsonl_field=settings.jsonl_field, errors=settings.errors, stats=stats)
    )
    return counts, stats


def text_counter(settings: CountSettings) -> TextCounter:
    """A counter with an empty table (the compiled pattern is kept per process)."""
    if settings not in _COUNTERS:
        _COUNTERS[settings] = TextCounter(settings)
    counter = _COUNTERS[settings]
    counter.counts = Counter()
    return counter


def count_units(
    units: Iterable[Unit],
    settings: CountSettings,
    *,
    workers: int | None = None,
    on_unit: Callable[[UnitStats], None] | None = None,
    on_started: Callable[[], None] | None = None,
) -> Counter[bytes]:
    """Count work units on ``workers`` processes (1: in this process); ``on_unit`` gets each unit's stats.

    ``on_started`` is called once the workers run (see ``run_tasks``).  A corpus that is one file
    unit is counted in this process: starting workers would cost more than they save.
    """
    totals: Counter[bytes] = Counter()
    units = iter(units)
    ahead = list(itertools.islice(units, 1))
    if ahead and isinstance(ahead[0], FileUnit):  # planning file units reads no text: look one further
        ahead += itertools.islice(units, 1)
        if len(ahead) == 1:
            workers = 1

    def add(result: tuple[Counter[bytes], UnitStats]) -> None:
        totals.update(result[0])
        if on_unit:
            on_unit(result[1])

    jobs = ((unit, settings) for unit in itertools.chain(ahead, units))
    load_counter(settings)
    run_tasks(count_unit, jobs, workers=workers, on_result=add, on_started=on_started)
    return totals


def load_counter(settings: CountSettings) -> None:
    """Load the compiled scanner in this process before counting workers fork, so that they inherit it
    instead of each importing numba and loading the scanner from its cache (about 0.3 s per worker)."""
    if multiprocessing.get_start_method() == "fork":
        text_counter(settings).count([""])


def count_corpus(
    inputs: Iterable[str | os.PathLike[str]],
    settings: CountSettings,
    *,
    max_bytes: int | None = None,
    workers: int | None = None,
    stats: CorpusStats | None = None,
    on_bytes: Callable[[int], None] | None = None,
    on_started: Callable[[], None] | None = None,
) -> Counter[bytes]:
    """Count the pre-tokens of files, directories and ``-`` (stdin); ``on_bytes(bytes_done)`` reports progress.

    ``on_started`` is called once the counting workers run (see ``run_tasks``).

    Raises ``CorpusError`` for unreadable or empty input (nothing but binary files, nothing within ``max_bytes``).
    """
    stats = stats if stats is not None else CorpusStats()
    if max_bytes is not None and max_bytes < 1:
        raise CorpusError(f"max_bytes must be at least 1, got {max_bytes}")
    units = plan_units(inputs, settings.rule, max_bytes=max_bytes, stats=stats, parts=worker_count(workers))
    counts = count_units(units, settings, workers=workers, on_unit=_stats_adder(stats, on_bytes), on_started=on_started)
    if stats.bytes == 0 and not counts:
        problem = "all input files are binary" if stats.skipped_binary else "the corpus is empty (no text)"
        if stats.truncated:
            problem = f"--max-bytes {max_bytes} is smaller than the first line of the corpus"
        raise CorpusError(problem)
    return counts


def count_pretokens(
    texts: Iterable[str],
    pattern: str,
    *,
    special_tokens: Iterable[str] = (),
    unit: str = "document",
    normalization: Normalization = "none",
    workers: int | None = None,
    stats: CorpusStats | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> Counter[bytes]:
    """Count the pre-tokens of in-memory documents (or their lines); special-token text is cut out, the rest
    normalized (``normalization``).

    >>> sorted(count_pretokens(["a a\\n\\n", "a b\\n"], r" ?\\w+|\\s+|.", workers=1).items())
    [(b'\\n', 1), (b'\\n\\n', 1), (b' a', 1), (b' b', 1), (b'a', 2)]
    """
    size = sum(map(len, texts)) if isinstance(texts, (list, tuple)) else None
    compiled = scanner_pays(pattern, size)
    specials = tuple(sorted(set(special_tokens)))
    settings = CountSettings(pattern, specials, unit, normalization=normalization, compiled=compiled)
    stats = stats if stats is not None else CorpusStats()
    units = text_units((text.encode("utf-8") for text in texts), settings.rule)
    return count_units(units, settings, workers=workers, on_unit=_stats_adder(stats, on_bytes))


def add_stats(stats: CorpusStats, unit: UnitStats) -> None:
    """Add a unit's statistics to the corpus's; the first replaced text is reported once."""
    stats.bytes += unit.bytes
    stats.lines += unit.lines
    stats.documents += unit.documents
    if unit.replaced and stats.replaced_invalid_utf8 == 0 and unit.first_replaced:
        log.warning("%s replaced by U+FFFD (further cases are counted)", unit.first_replaced)
    stats.replaced_invalid_utf8 += unit.replaced


def _stats_adder(stats: CorpusStats, on_bytes: Callable[[int], None] | None) -> Callable[[UnitStats], None]:
    def add(unit: UnitStats) -> None:
        add_stats(stats, unit)
        if on_bytes:
            on_bytes(stats.bytes)

    return add
