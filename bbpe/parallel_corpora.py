"""Parallel evaluation corpora for the compression report.

A corpus is a directory of per-language files named by code (``eng_Latn.txt``,
``zho_Hans.txt``, ...) or the FLORES-200 layout (``dev/<code>.dev`` and
``devtest/<code>.devtest``).  A language's text is its non-empty lines joined by one space
(``join_lines``), except in the FLORES-200 layout, which follows Petrov et al. (2023) exactly
(``join_flores``) so that token counts equal the paper's published integers.
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


def join_flores(dev: str, devtest: str) -> str:
    """The FLORES-200 text of one language as Petrov et al. (2023) built it.

    Their ``compute/compute_tokenizations.py`` (AleksandarPetrov/tokenization-fairness) reads
    each file whole in text mode (universal newlines, no BOM removal), splits it with
    ``.split('\\n')`` (so the empty string after each final newline is kept), concatenates the
    dev and devtest lists and joins them with one space.  So two spaces stand between the dev
    and devtest parts and the text ends with a space.

    >>> join_flores("a\\nb\\n", "c\\r\\n")
    'a b  c '
    """
    parts = _universal_newlines(dev).split("\n") + _universal_newlines(devtest).split("\n")
    return " ".join(parts)


def _universal_newlines(raw: str) -> str:
    """Line ends as Python's text-mode ``open`` delivers them: ``\\r\\n`` and ``\\r`` become ``\\n``."""
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def load_corpus(path: str | os.PathLike[str]) -> Corpus:
    """Read every language of a corpus directory (CorpusError on bad input)."""
    root = Path(path)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus directory not found")
    groups, layout = _language_files(root)
    if not groups:
        raise CorpusError(
            f"{root}: no language files (expected <code>.txt files, or FLORES-200 "
            "dev/<code>.dev and devtest/<code>.devtest)"
        )
    names = language_names(root)
    order = {code: index for index, code in enumerate(names)}
    codes = sorted(groups, key=lambda code: (order.get(code, len(order)), code))
    return Corpus(
        root.name,
        root,
        layout,
        tuple(_read_language(code, names.get(code, code), groups[code], layout) for code in codes),
    )


def _language_files(root: Path) -> tuple[dict[str, list[Path]], str]:
    flores = [(root / "dev", ".dev"), (root / "devtest", ".devtest")]
    if any(folder.is_dir() for folder, _ in flores):
        groups: dict[str, list[Path]] = {}
        for folder, suffix in flores:
            for file in sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []:
                groups.setdefault(file.name.removesuffix(suffix), []).append(file)
        return groups, "flores200"
    return {file.stem: [file] for file in sorted(root.glob("*.txt")) if file.is_file()}, "files"


def _read_language(code: str, name: str, files: list[Path], layout: str) -> Language:
    raws: list[str] = []
    digest = hashlib.sha256()
    for file in files:
        data = file.read_bytes()
        digest.update(data)
        try:
            raws.append(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{file}: not UTF-8 (invalid byte at offset {exc.start})") from None
    joined = [join_lines(raw.removeprefix("\ufeff")) for raw in raws]
    lines = sum(count for _, count in joined)
    if not lines:
        raise CorpusError(f"{files[0]}: empty language file (no text)")
    if layout == "flores200":
        if len(files) != 2:
            raise CorpusError(f"{files[0]}: FLORES-200 layout needs both dev/{code}.dev and devtest/{code}.devtest")
        text = join_flores(raws[0], raws[1])
    else:
        text = " ".join(part for part, count in joined if count)
    return Language(code, name, tuple(files), text, lines, digest.hexdigest())


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
