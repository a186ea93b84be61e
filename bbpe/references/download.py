"""Fetching reference vocabularies from the package registries (the only network access).

``fetch`` (``bbpe vocab fetch NAME``) fills the user cache from the sources in the table
(``bbpe.references.sources``): wheels that ship the file, js-tiktoken's rank table on npm
(o200k_base), or a rebuild from llama.cpp's GGUF vocabularies in the llama-cpp-python source
distribution (llama2, xlmr, baichuan); the official URL last.  Nothing is written unless the
SHA-256 matches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from functools import partial

from bbpe._version import __version__
from bbpe.errors import BBPEError
from bbpe.output import atomic_write
from bbpe.references import table
from bbpe.references.lookup import Located, ReferenceNotFound, cache_dir, locate, sha256_of
from bbpe.references.sources import GGUFRebuild, Source, get_bytes

# -- fetching (the only network access) ---------------------------------------------------
URL_TIMEOUT = 15.0


def fetch(name: str) -> Located:
    """Put a verified copy of a reference in the user cache; sources in the order of the table's
    ``packages``, ``sources``, then the official URL.  Nothing is written unless the SHA-256 matches.

    A copy already in the cache that verifies is kept as is.
    """
    reference = table.get(name)
    target = cache_dir() / reference.filename
    if target.is_file() and sha256_of(target) == reference.sha256:
        return Located(reference, target, str(cache_dir()))
    attempts: list[tuple[str, Callable[[], bytes]]] = [
        (source.label, partial(_source_bytes, source)) for source in (*reference.packages, *reference.sources)
    ]
    if reference.url:
        attempts.append((reference.url, lambda: _download(reference.url or "")))
    failures: list[str] = []
    for label, get_data in attempts:
        try:
            data = get_data()
        except (OSError, BBPEError) as exc:
            failures.append(f"{label}: {_one_line(exc)}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != reference.sha256:
            failures.append(f"{label}: SHA-256 {digest} is not {reference.sha256}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        return Located(reference, target, label)
    tried = "; ".join(failures) or "no package or URL is known to ship it"
    raise ReferenceNotFound(
        f"could not fetch {name!r}: {tried}; check the connection to the package registries and run "
        f"`bbpe vocab fetch {name}` again, or put {reference.filename} in $BBPE_VOCAB_DIR or {cache_dir()}"
    )


def fetch_missing(
    names: Iterable[str] | None = None, *, log: Callable[[str], None] = lambda line: None
) -> dict[str, Located | BBPEError]:
    """Fetch every reference (default: all) that ``locate`` cannot find; one ``log`` line per reference.

    Returns what happened per name: where it is now, or the error (nothing raised, nothing
    fetched twice: a second call finds everything in the cache).
    """
    outcome: dict[str, Located | BBPEError] = {}
    for name in names if names is not None else table.REFERENCES:
        try:
            outcome[name] = found = locate(name)
            log(f"{name}: found in {found.source}")
            continue
        except ReferenceNotFound:
            pass
        except BBPEError as exc:
            outcome[name] = exc
            log(f"{name}: {exc}")
            continue
        try:
            outcome[name] = fetched = fetch(name)
            log(f"{name}: fetched from {fetched.source} into {fetched.path.parent}")
        except BBPEError as exc:
            outcome[name] = exc
            log(f"{name}: not fetched: {exc}")
    return outcome


def _source_bytes(source: Source) -> bytes:
    """The file a registry source gives; ``also`` keeps the other sdist members used by the table."""
    also = tuple(
        member
        for ref in table.REFERENCES.values()
        for item in ref.sources
        if isinstance(item, GGUFRebuild)
        for member in (item.gguf, item.charsmap_from)
        if member is not None
    )
    return get_bytes(source, also=also)


def _download(url: str) -> bytes:
    import urllib.request  # http, ssl and email: imported when something is fetched, not on every start-up

    request = urllib.request.Request(url, headers={"User-Agent": f"bbpe/{__version__}"})
    with urllib.request.urlopen(request, timeout=URL_TIMEOUT) as response:
        return bytes(response.read())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
