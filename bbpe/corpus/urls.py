"""Expanding fsspec URL inputs: a folder (``s3://bucket/corpus/``) or a glob (``gs://b/*.txt.gz``) into files.

A URL ending in ``/`` or naming a directory stands for its ``*.txt`` and ``*.jsonl`` files (optionally
``.gz``/``.xz``/``.bz2``) at any depth, sorted, as a local directory does; a URL with ``*``, ``?`` or
``[`` stands for the files it matches, sorted; any other URL is one file.  Only names are listed here;
each counting task opens its own file.
"""

from __future__ import annotations

from typing import Any

from bbpe.corpus.reading import OPENERS, TEXT_SUFFIXES
from bbpe.errors import CorpusError

_GLOB = ("*", "?", "[")


def expand_url(url: str) -> list[str]:
    """The file URLs that ``url`` stands for, sorted (``url`` itself when it names one file)."""
    is_glob = any(char in url.split("://", 1)[-1] for char in _GLOB)
    if not is_glob and not url.endswith("/") and not _is_dir(url):
        return [url]
    fs, root = _filesystem(url)
    try:
        found = fs.glob(root) if is_glob else [p for p in fs.find(root) if is_text_name(p)]
    except (OSError, ValueError) as exc:
        raise CorpusError(
            f"{url}: cannot list ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    files = sorted(str(fs.unstrip_protocol(p)) for p in found if not fs.isdir(p))
    if not files:
        kind = "matches no files" if is_glob else "holds no *.txt or *.jsonl files (compressed or not)"
        raise CorpusError(f"{url}: {kind}")
    return files


def is_text_name(name: str) -> bool:
    """``*.txt`` or ``*.jsonl``, optionally compressed."""
    for suffix in OPENERS:
        name = name.removesuffix(suffix)
    return name.endswith(TEXT_SUFFIXES)


def _is_dir(url: str) -> bool:
    fs, root = _filesystem(url)
    try:
        return bool(fs.isdir(root))
    except (OSError, ValueError):
        return False  # opening it will say what is wrong


def _filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise CorpusError(f"{url}: reading URLs needs fsspec (and the filesystem's package, e.g. s3fs)") from None
    try:
        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except (ImportError, ValueError) as exc:
        raise CorpusError(f"{url}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
