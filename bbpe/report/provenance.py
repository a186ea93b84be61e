"""Which report texts a trained tokenizer has seen: its training text and its parity dev set are not held out.

bbpe writes into every tokenizer it trains what it read (``metadata.corpus.sources``: files and folders) and,
for parity-aware training, the dev set its merges were chosen on (``metadata.training.parity.dev``).  For
every (trained tokenizer, corpus, language) of a report this module looks up the language's lines (whitespace
trimmed, at least ``MIN_CHARS`` characters: "OK" or "Article 1" occur everywhere) in those files: a language
whose lines are there at least ``MIN_SHARE`` of the time is marked ``dev`` (its lines are in the dev set) or
``training`` (in the training text), with the share.  Content, not names: a corpus built from the same
catalogues as the training mix is found, and so is one language's text copied into another file.  References
(cl100k_base, ...) carry no such metadata: their cells stay unmarked ("unknown").  Training sources that are
not on this machine are named in a note; their texts are not checked.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bbpe.corpus.reading import expand_paths
from bbpe.errors import CorpusError
from bbpe.parallel_corpora import Corpus, Language
from bbpe.tokenizer_adapters import TokenizerAdapter

MIN_CHARS = 20
MIN_SHARE = 0.05
DEV, TRAINING = "dev", "training"
MARKS = {DEV: "‡", TRAINING: "†"}
LEGEND = {
    DEV: "‡ parity dev set: the tokenizer chose its merges on these lines",
    TRAINING: "† training text: these lines are in what the tokenizer trained on",
}
_OPENERS = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}


@dataclass(frozen=True)
class Seen:
    """Why a language's text is not held out for a tokenizer, and the share of its lines that were seen."""

    kind: str  # DEV or TRAINING
    share: float

    def __str__(self) -> str:
        what = "parity dev set" if self.kind == DEV else "training text"
        return f"{what} ({self.share:.0%} of its lines)"


@dataclass
class Provenance:
    """Per (tokenizer, corpus, language) the texts not held out; ``checked``: the tokenizers whose sources were
    read (their other cells are held out); ``notes``: what could not be checked."""

    seen: dict[tuple[str, str, str], Seen]
    checked: set[str]
    notes: list[str]

    def status(self, tokenizer: str, corpus: str, language: str) -> Seen | None:
        return self.seen.get((tokenizer, corpus, language))

    def held_out(self, tokenizer: str, corpus: str, language: str) -> bool | None:
        """True or False for a checked tokenizer, None (unknown) for the others."""
        if tokenizer not in self.checked:
            return None
        return (tokenizer, corpus, language) not in self.seen

    def not_held_out(self, tokenizer: str, corpus: Corpus) -> list[Language]:
        return [lang for lang in corpus.languages if (tokenizer, corpus.name, lang.code) in self.seen]


def trained_sources(adapter: TokenizerAdapter) -> tuple[list[str], str | None] | None:
    """(training sources, parity dev set) from a trained bbpe tokenizer's metadata; None for other tokenizers."""
    metadata = getattr(getattr(adapter, "tokenizer", None), "metadata", None) or {}
    training, corpus = metadata.get("training") or {}, metadata.get("corpus") or {}
    if not training or not isinstance(corpus.get("sources"), list):
        return None
    parity = training.get("parity") or {}
    dev = parity.get("dev") if isinstance(parity, dict) else None
    return [str(source) for source in corpus["sources"]], str(dev) if dev else None


def check(adapters: Sequence[TokenizerAdapter], corpora: Sequence[Corpus]) -> Provenance:
    """Look every corpus language's lines up in each trained tokenizer's dev set and training sources."""
    lines_of = {(corpus.name, lang.code): _lines(lang) for corpus in corpora for lang in corpus.languages}
    wanted = set().union(*lines_of.values())
    found: dict[tuple[str, ...], tuple[set[bytes], list[str]]] = {}  # per source list: lines found, missing
    provenance = Provenance({}, set(), [])
    for adapter in adapters:
        sources = trained_sources(adapter)
        if sources is None:
            continue
        training, dev = sources
        for kind, paths in ((DEV, [dev] if dev else []), (TRAINING, training)):
            key = tuple(paths)
            if key not in found:
                found[key] = find_lines(paths, wanted)
            lines, missing = found[key]
            if missing:
                provenance.notes.append(
                    f"{adapter.name}: {kind} source{'s' if len(missing) > 1 else ''} not found here, not checked: "
                    + ", ".join(missing)
                )
            for corpus in corpora:
                for lang in corpus.languages:
                    cell = (adapter.name, corpus.name, lang.code)
                    share = _share(lines_of[(corpus.name, lang.code)], lines)
                    if share >= MIN_SHARE and cell not in provenance.seen:
                        provenance.seen[cell] = Seen(kind, share)
        provenance.checked.add(adapter.name)
    return provenance


def held_out_first(corpora: Sequence[Corpus], provenance: Provenance) -> list[Corpus]:
    """The corpora, those with the smallest share of not-held-out (tokenizer, language) cells first (stable)."""

    def unseen(corpus: Corpus) -> float:
        cells = [(t, lang.code) for t in provenance.checked for lang in corpus.languages]
        return sum((t, corpus.name, code) in provenance.seen for t, code in cells) / max(1, len(cells))

    return sorted(corpora, key=unseen)


def _lines(language: Language) -> set[bytes]:
    """The language's lines worth looking up: whitespace-trimmed, at least ``MIN_CHARS`` characters."""
    lines = set()
    for file in language.files:
        for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
            line = line.strip()
            if len(line) >= MIN_CHARS:
                lines.add(line.encode("utf-8"))
    return lines


def _share(lines: set[bytes], found: set[bytes]) -> float:
    return len(lines & found) / len(lines) if lines else 0.0


def find_lines(paths: Iterable[str], wanted: set[bytes]) -> tuple[set[bytes], list[str]]:
    """The ``wanted`` lines found in the files of ``paths`` (folders expanded; gz/xz/bz2 read), and the
    paths not found here."""
    found: set[bytes] = set()
    missing = []
    for path in paths:
        try:
            files = expand_paths([Path(path)])
        except CorpusError:  # not on this machine (or not a readable corpus): named in a note
            missing.append(path)
            continue
        for file in files:
            opener = _OPENERS.get(file.suffix)
            with opener(file, "rb") if opener else open(file, "rb") as handle:  # type: ignore[operator]
                data = handle.read()
            found.update(line.strip() for line in data.split(b"\n") if line.strip() in wanted)
    return found, missing
