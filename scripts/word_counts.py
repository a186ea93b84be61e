"""Word-count files from word-frequency tables, for the main job's Qwen-style extension.

The PyPI package ``wordfreq`` (pinned below) ships, per language, the frequencies of words in
a large mix of text (Wikipedia, subtitles, news, books, web, social media; Chinese split into
words with jieba, Japanese and Korean with MeCab).  A frequency table is the input BPE trains
from once every word is a pre-token: ``table_counts`` turns each word into ``round(f * n_words)``
occurrences (as if it came from a text of ``n_words`` words), splits it with the training
pattern exactly as counting a text would (a word that is one pre-token stays whole; one with
punctuation becomes several), and for space-separated languages gives ``space_share`` of the
occurrences the leading-space form (``" word"``) that running text has.  Words with ASCII digits
are left out (wordfreq writes every digit as ``0``).  The result is written as a bbpe
word-count file (``bbpe.formats.counts``) that ``bbpe count --merge`` adds to the counts of the
training text and ``bbpe train --from-counts`` trains from.

``TABLES`` is the recipe: which languages, and how many words of text each table stands for.
That number is the vocabulary budget knob: the larger it is, the more of the extension's merges
go to that language.  How the numbers were chosen is in corpora/README.md.

    python scripts/word_counts.py --out DIR          # build (or reuse) the count files
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import struct
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from fetch_artifacts import fetch, sha256_file

from bbpe.cli.report import built_data_dir
from bbpe.formats import counts as count_files
from bbpe.output import atomic_write
from bbpe.pretokenize.patterns import compile_pattern, resolve_pattern

PACKAGE = ("wordfreq", "3.1.1")
LICENSE = (
    "wordfreq: code Apache-2.0; word lists CC BY-SA 4.0 (built from Wikipedia, OpenSubtitles, SUBTLEX, "
    "NewsCrawl, GlobalVoices, Google Books Ngrams, OSCAR, Reddit and Twitter; see the package's README)"
)
RECIPE_VERSION = 2
MANIFEST_FILE = "MANIFEST.json"
_DIGIT = re.compile(r"[0-9]")


@dataclass(frozen=True)
class Table:
    """One word-frequency table of the recipe."""

    code: str  # FLORES-200 code of its language
    member: str  # the file in the wheel
    n_words: float  # the words of text it stands for
    space_share: float  # share of the occurrences written with a leading space


TABLES = (
    Table("zho_Hans", "wordfreq/data/large_zh.msgpack.gz", 2.5e6, 0.0),
    Table("jpn_Jpan", "wordfreq/data/large_ja.msgpack.gz", 5e5, 0.0),
    Table("kor_Hang", "wordfreq/data/small_ko.msgpack.gz", 1.5e6, 0.5),
)


def unpack(data: bytes) -> object:
    """Decode the MessagePack subset wordfreq's files use (maps, arrays, strings, integers, nil, booleans).

    >>> unpack(bytes([0x92, 0x81, 0xA1, 0x76, 0x01, 0x91, 0xA2, 0x68, 0x69]))
    [{'v': 1}, ['hi']]
    """
    value, end = _unpack(data, 0)
    if end != len(data):
        raise ValueError(f"MessagePack: {len(data) - end} bytes after the value")
    return value


_SIZES = {0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xDC: ">H", 0xDD: ">I"}
_SIZES |= {0xDE: ">H", 0xDF: ">I"}


def _unpack(data: bytes, at: int) -> tuple[object, int]:
    if at >= len(data):
        raise ValueError("MessagePack: truncated")
    tag = data[at]
    at += 1
    if tag <= 0x7F:
        return tag, at
    if tag in {0xC0, 0xC2, 0xC3}:
        return {0xC0: None, 0xC2: False, 0xC3: True}[tag], at
    if tag in _SIZES:
        (size,) = struct.unpack_from(_SIZES[tag], data, at)
        at += struct.calcsize(_SIZES[tag])
        kind = {0xCC: "int", 0xCD: "int", 0xCE: "int", 0xD9: "str", 0xDA: "str", 0xDB: "str"}.get(tag)
        kind = kind or ("array" if tag in {0xDC, 0xDD} else "map")
    elif 0x80 <= tag <= 0x8F:
        kind, size = "map", tag & 0x0F
    elif 0x90 <= tag <= 0x9F:
        kind, size = "array", tag & 0x0F
    elif 0xA0 <= tag <= 0xBF:
        kind, size = "str", tag & 0x1F
    else:
        raise ValueError(f"MessagePack: type 0x{tag:02x} is not supported")
    if kind == "int":
        return size, at
    if kind == "str":
        if at + size > len(data):
            raise ValueError("MessagePack: truncated")
        return data[at : at + size].decode("utf-8"), at + size
    items = []
    for _ in range(size * (2 if kind == "map" else 1)):
        item, at = _unpack(data, at)
        items.append(item)
    if kind == "array":
        return items, at
    return dict(zip(items[::2], items[1::2])), at


def frequencies(packed: bytes) -> Iterator[tuple[str, float]]:
    """(word, frequency) from a wordfreq ``.msgpack.gz`` file: a header, then one list of words per
    centibel (the words of list ``i`` have frequency ``10 ** (-i / 100)``)."""
    data = unpack(gzip.decompress(packed))
    if not isinstance(data, list) or not data or not isinstance(data[0], dict) or data[0].get("format") != "cB":
        raise ValueError("not a wordfreq cBpack file (no {'format': 'cB'} header)")
    for index, words in enumerate(data[1:]):
        for word in words:  # type: ignore[attr-defined]
            yield str(word), 10 ** (-index / 100)


def table_counts(
    words: Iterable[tuple[str, float]], *, n_words: float, space_share: float, pattern: str
) -> Counter[bytes]:
    """Pre-token counts of a text of ``n_words`` words with these word frequencies (see the module docstring).

    >>> sorted(table_counts([("cat", 0.5), ("ice-cream", 0.25), ("a1", 0.25)], n_words=8, space_share=0.5,
    ...                     pattern="qwen").items())
    [(b' cat', 2), (b' ice', 1), (b'-cream', 2), (b'cat', 2), (b'ice', 1)]
    """
    split = compile_pattern(resolve_pattern(pattern)).findall
    counts: Counter[bytes] = Counter()
    for word, frequency in words:
        if _DIGIT.search(word):
            continue
        occurrences = frequency * n_words
        for form, share in ((" " + word, space_share), (word, 1 - space_share)):
            times = round(occurrences * share)
            if times >= 1:
                for piece in split(form):
                    counts[piece.encode("utf-8")] += times
    return counts


def recipe(pattern: str) -> str:
    """SHA-256 of what the count files depend on."""
    listing = json.dumps([RECIPE_VERSION, PACKAGE, pattern, [asdict(t) for t in TABLES]], sort_keys=True)
    return hashlib.sha256(listing.encode()).hexdigest()


def ensure(folder: Path, downloads: Path, *, pattern: str, say: Callable[[str], None] = print) -> list[Path]:
    """The count files of ``TABLES`` in ``folder`` (built unless a build of the same recipe is there)."""
    pattern = resolve_pattern(pattern)
    manifest_path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = [folder / str(record["file"]) for record in manifest["tables"]]
        if manifest["recipe"] == recipe(pattern) and all(path.is_file() for path in files):
            say(f"word counts: reusing {folder}")
            return files
    except (OSError, ValueError, KeyError, TypeError):
        pass
    name, version = PACKAGE
    say(f"word counts: PyPI (pip download) {name} {version}")
    wheel, _ = fetch("pypi", name, version, downloads)
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    with zipfile.ZipFile(wheel) as archive:
        for table in TABLES:
            counts = table_counts(
                frequencies(archive.read(table.member)),
                n_words=table.n_words,
                space_share=table.space_share,
                pattern=pattern,
            )
            target = folder / f"{table.code}.wordfreq.parquet"
            corpus = {"sources": [f"PyPI {name} {version}: {table.member}"]} | asdict(table)
            count_files.write(target, counts, pattern=pattern, corpus=corpus)
            records.append(
                asdict(table)
                | {
                    "file": target.name,
                    "unique_pretokens": len(counts),
                    "pretokens": sum(counts.values()),
                    "sha256": sha256_file(target),
                }
            )
            say(f"word counts: wrote {target} ({len(counts):,} pre-tokens, {sum(counts.values()):,} occurrences)")
    manifest = {
        "format": "bbpe-word-counts",
        "recipe": recipe(pattern),
        "package": {"registry": "pypi", "name": name, "version": version, "license": LICENSE},
        "artifact": wheel.name,
        "artifact_sha256": sha256_file(wheel),
        "pattern": pattern,
        "tables": records,
    }
    atomic_write(manifest_path, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return [folder / str(record["file"]) for record in records]


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/bbpe/word-counts``, beside the default data."""
    return built_data_dir().parent / "word-counts"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(default_folder()), help="folder (default: %(default)s)")
    parser.add_argument("--pattern", default="qwen", help="pre-tokenization pattern (default: qwen)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    try:
        ensure(out, out.parent / "downloads", pattern=args.pattern, say=lambda m: print(m, file=sys.stderr))
    except (OSError, ValueError) as exc:
        print(f"word_counts: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
