"""Verified caches of generated numpy arrays in the user cache (``$XDG_CACHE_HOME/bbpe``, default ``~/.cache/bbpe``).

A cache file holds the arrays and a SHA-256 over a ``key`` (what the arrays were generated from:
library versions, definitions) and every array's name, type, shape and bytes.  ``load`` returns the
arrays only if the file is complete, was made for this key and the checksum matches, so a truncated,
damaged, foreign or edited file is never used; the caller generates the arrays again and ``store``
replaces the file (atomically: a reader sees the old file or the whole new one).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger("bbpe")
_CHECKSUM = "sha256"


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/bbpe``, or ``~/.cache/bbpe``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bbpe"


def checksum(key: str, arrays: dict[str, np.ndarray]) -> str:
    """The SHA-256 (hex) of the key and of every array's name, type, shape and content."""
    digest = hashlib.sha256(key.encode("utf-8"))
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"\0{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def load(path: Path, key: str, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` stored at ``path`` for ``key``, or None if the file is missing or unusable
    (a damaged file is reported as a warning; the caller regenerates and stores the arrays)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in names}
            stored = str(saved[_CHECKSUM])
    except Exception as exc:  # a cache: whatever is wrong with the file (truncated zip, bad header ...), rebuild it
        logger.warning("the cache file %s is damaged (%s); rebuilding it", path, type(exc).__name__)
        return None
    if stored != checksum(key, arrays):
        logger.warning("the cache file %s does not match its checksum; rebuilding it", path)
        return None
    return arrays


def store(path: Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """Write the arrays and their checksum to ``path`` atomically; a failure (read-only cache) is only logged."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {**arrays, _CHECKSUM: np.array(checksum(key, arrays))}
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **payload)
            os.replace(name, path)
        finally:
            Path(name).unlink(missing_ok=True)
    except OSError as exc:
        logger.debug("could not write the cache file %s: %s", path, exc)
