"""Held-out English prose for the superword measurements, from Debian packages that are not in the training mix.

The default data has no news or literature, and its UDHR English is 10 KB: too little to measure what
superwords save on running English text.  Two pinned Debian packages give about 1 MB that no tokenizer
of the main job trains on (neither is a source of ``scripts/data_sources.py``; ``bench_methods.py``
checks that none of the sample's lines is in the training mix):

* ``debian-history`` 2.28: *A Short History of the Debian Project* (``project-history.en.txt``),
  70 KB of narrative prose, one paragraph per line (the text's line wrapping undone);
* ``fortunes`` 1:1.99.1-7.3: the fortune-cookie files of ``FORTUNE_FILES`` (quotations, aphorisms,
  jokes, short poems; the computer, Linux, Perl, IRC and Star Trek files are left out), one cookie
  per line, its attribution line kept.

Whitespace is collapsed, text NFC.  Written as ``<out>/eng_Latn.txt`` (default
``$XDG_CACHE_HOME/bbpe/english-prose``) with ``MANIFEST.json`` (packages, versions, SHA-256s, bytes),
reused while the recipe is unchanged.

    python scripts/english_prose.py --out DIR
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from build_train import members
from fetch_artifacts import fetch, sha256_file

from bbpe.cli.report import built_data_dir
from bbpe.output import atomic_write

HISTORY = ("debian-history", "2.28", "usr/share/doc/debian-history/docs/project-history.en.txt.gz")
FORTUNES = ("fortunes", "1:1.99.1-7.3", "usr/share/games/fortunes/")
FORTUNE_FILES = [
    "art",
    "education",
    "food",
    "humorists",
    "kids",
    "law",
    "love",
    "medicine",
    "men-women",
    "miscellaneous",
    "people",
    "pets",
    "platitudes",
    "politics",
    "pratchett",
    "science",
    "songs-poems",
    "sports",
    "wisdom",
    "work",
]
RECIPE_VERSION = 1
MANIFEST_FILE = "MANIFEST.json"
FILE = "eng_Latn.txt"


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/bbpe/english-prose``, beside the default data."""
    return built_data_dir().parent / "english-prose"


def recipe() -> str:
    listing = json.dumps([RECIPE_VERSION, HISTORY, FORTUNES, FORTUNE_FILES])
    return hashlib.sha256(listing.encode()).hexdigest()


def ensure(out: Path, downloads: Path, say: Callable[[str], None] = print) -> Path:
    """``out/eng_Latn.txt``, built unless a build of the current recipe is there."""
    manifest = out / MANIFEST_FILE
    if manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("recipe") == recipe():
        return out / FILE
    packages, lines = [], []
    for name, version, prefix in (HISTORY, FORTUNES):
        artifact, used = fetch("debian", name, version, downloads)
        texts = [
            read_member(handle.read(), member).decode("utf-8", errors="replace")
            for member, handle in members(artifact)
            if _wanted(member, prefix)
        ]
        found = [line for text in texts for line in (paragraphs(text) if name == HISTORY[0] else cookies(text))]
        say(f"english prose: {name} {used}: {len(found):,} lines")
        lines += found
        packages.append({"name": name, "version": used, "artifact": artifact.name, "sha256": sha256_file(artifact)})
    out.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{line}\n" for line in lines)
    atomic_write(out / FILE, text)
    record = {"recipe": recipe(), "packages": packages, "bytes": len(text.encode()), "lines": len(lines)}
    atomic_write(manifest, json.dumps(record, indent=1) + "\n")
    return out / FILE


def _wanted(member: str, prefix: str) -> bool:
    name = member.removeprefix("./")
    if not name.startswith(prefix):
        return False
    return name == prefix or name.removeprefix(prefix) in FORTUNE_FILES


def paragraphs(text: str) -> Iterator[str]:
    """Paragraphs of a plain-text document (blank lines between them) as single lines.

    >>> list(paragraphs("Chapter 1\\n\\n    The project was\\n    founded in 1993.\\n\\n"))
    ['Chapter 1', 'The project was founded in 1993.']
    """
    for block in text.split("\n\n"):
        line = _clean(block)
        if line:
            yield line


def cookies(text: str) -> Iterator[str]:
    """The cookies of a fortune file (separated by ``%`` lines) as single lines, attribution kept.

    >>> list(cookies("A bore is a man\\nwho talks.\\n\\t\\t-- Anon\\n%\\nBe kind.\\n%\\n"))
    ['A bore is a man who talks. -- Anon', 'Be kind.']
    """
    for block in text.split("\n%\n"):
        line = _clean(block.removesuffix("\n%"))
        if line and line != "%":
            yield line


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def read_member(data: bytes, name: str) -> bytes:
    """A package member's bytes (gunzipped when its name ends in ``.gz``)."""
    return gzip.decompress(data) if name.endswith(".gz") else data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(default_folder()), help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    path = ensure(Path(args.out), built_data_dir().parent / "downloads", lambda line: print(line, file=sys.stderr))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
