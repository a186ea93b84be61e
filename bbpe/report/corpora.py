"""Parallel evaluation corpora for the compression report.

A corpus is a directory of per-language files named by code (``eng_Latn.txt``,
``zho_Hans.txt``, ...) or the FLORES-200 layout (``dev/<code>.dev`` and
``devtest/<code>.devtest``; a language's text is its dev lines, then its devtest lines).
A language's text is its non-empty lines joined by one space (see ``join_lines``).
Readable language names come from a ``languages.tsv`` (columns ``code`` and ``name``)
in the corpus directory or its parent.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bbpe.errors import CorpusError

ENGLISH = "eng_Latn"


@dataclass(frozen=True)
class Language:
    """One language of a corpus: its joined text and where it came from."""

    code: str
    name: str
    files: tuple[Path, ...]
    text: str
    lines: int
    sha256: str  # of the files' bytes, in order

    @property
    def n_bytes(self) -> int:
        return len(self.text.encode("utf-8"))

    @property
    def n_chars(self) -> int:
        return len(self.text)


@dataclass(frozen=True)
class Corpus:
    """A named set of languages; ``aligned`` when every language has the same line count."""

    name: str
    path: Path
    layout: str  # "files" or "flores200"
    languages: tuple[Language, ...]

    @property
    def aligned(self) -> bool:
        return len({language.lines for language in self.languages}) == 1

    @property
    def sha256(self) -> str:
        """Checksum over the languages' codes and file checksums."""
        listing = "".join(f"{lang.code} {lang.sha256}\n" for lang in self.languages)
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()

    def language(self, code: str) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)


def join_lines(raw: str) -> tuple[str, int]:
    """The report's text of one file: non-empty lines joined by one space, and their count.

    >>> join_lines("Hello.\\r\\n\\nWorld!\\n")
    ('Hello. World!', 2)
    """
    lines = [line.removesuffix("\r") for line in raw.split("\n")]
    kept = [line for line in lines if line.strip()]
    return " ".join(kept), len(kept)


def load_corpus(path: str | os.PathLike[str]) -> Corpus:
    """Read every language of a corpus directory (CorpusError on bad input)."""
    root = Path(path)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus directory not found")
    groups, layout = _language_files(root)
    if not groups:
        raise CorpusError(f"{root}: no language files (expected <code>.txt files, or FLORES-200 "
                          "dev/<code>.dev and devtest/<code>.devtest)")
    names = language_names(root)
    order = {code: index for index, code in enumerate(names)}
    codes = sorted(groups, key=lambda code: (order.get(code, len(order)), code))
    return Corpus(root.name, root, layout, tuple(_read_language(code, names.get(code, code), groups[code])
                                                  for code in codes))


def _language_files(root: Path) -> tuple[dict[str, list[Path]], str]:
    flores = [(root / "dev", ".dev"), (root / "devtest", ".devtest")]
    if any(folder.is_dir() for folder, _ in flores):
        groups: dict[str, list[Path]] = {}
        for folder, suffix in flores:
            for file in sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []:
                groups.setdefault(file.name.removesuffix(suffix), []).append(file)
        return groups, "flores200"
    return {file.stem: [file] for file in sorted(root.glob("*.txt")) if file.is_file()}, "files"


def _read_language(code: str, name: str, files: list[Path]) -> Language:
    parts: list[str] = []
    lines = 0
    digest = hashlib.sha256()
    for file in files:
        data = file.read_bytes()
        digest.update(data)
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{file}: not UTF-8 (invalid byte at offset {exc.start})") from None
        text, count = join_lines(raw.removeprefix("\ufeff"))
        if count:
            parts.append(text)
            lines += count
    if not lines:
        raise CorpusError(f"{files[0]}: empty language file (no text)")
    return Language(code, name, tuple(files), " ".join(parts), lines, digest.hexdigest())


def language_names(root: Path) -> dict[str, str]:
    """Code -> readable name from ``languages.tsv`` in ``root`` or its parent (in file order)."""
    for folder in (root, root.parent):
        table = folder / "languages.tsv"
        if table.is_file():
            rows = [line.split("\t") for line in table.read_text(encoding="utf-8").splitlines() if line.strip()]
            header = rows[0] if rows else []
            if "code" in header and "name" in header:
                code, name = header.index("code"), header.index("name")
                return {row[code]: row[name] for row in rows[1:] if len(row) > max(code, name)}
    return {}
