"""Character-class tables for the compiled pre-tokenizer, generated from the ``regex`` module.

Every code point 0..0x10FFFF gets a bit set saying which of the presets' character classes it
belongs to.  Membership is decided by ``regex`` itself (each class is matched against one string
holding every code point), so the compiled scanner and ``regex`` agree on the Unicode version.
The bits are stored as a two-level table: ``stage1[cp >> 8]`` picks a 256-entry block of
``stage2``, ``stage2[block * 256 + (cp & 0xFF)]`` is the bit set; block 0 is U+0000..U+00FF, so
``stage2[cp]`` is the bit set of a Latin-1 code point.  Generation takes about a
second; the result is cached in ``$XDG_CACHE_HOME/bbpe`` (default ``~/.cache/bbpe``) under a
name that carries the ``regex`` version, with a checksum (``array_cache``), and checked against
``regex`` on a sample of code points when loaded; a missing, damaged or wrong cache is regenerated.

>>> stage1, stage2 = class_tables()
>>> bool(lookup(stage1, stage2, ord("a")) & LETTER), bool(lookup(stage1, stage2, 0x3000) & SPACE)
(True, True)
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import regex

from bbpe.pretokenize import array_cache

logger = logging.getLogger("bbpe")

# Bits of a code point's class set.  The regex after each name is what decides membership.
LETTER = 1 << 0  # \p{L}
NUMBER = 1 << 1  # \p{N}
SPACE = 1 << 2  # \s
O200K_UPPER = 1 << 3  # [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
O200K_LOWER = 1 << 4  # [\p{Ll}\p{Lm}\p{Lo}\p{M}]
CR_LF = 1 << 5  # [\r\n]
BLANK = 1 << 6  # the space character " "
APOSTROPHE = 1 << 7  # (?i:')
SLASH = 1 << 8  # /
FOLD_S = 1 << 9  # (?i:s)
FOLD_T = 1 << 10  # (?i:t)
FOLD_R = 1 << 11  # (?i:r)
FOLD_E = 1 << 12  # (?i:e)
FOLD_V = 1 << 13  # (?i:v)
FOLD_M = 1 << 14  # (?i:m)
FOLD_L = 1 << 15  # (?i:l)
FOLD_D = 1 << 16  # (?i:d)
FOLD_SDMT = 1 << 17  # (?i:[sdmt]), cl100k's one-letter contractions

CLASSES: tuple[tuple[int, str], ...] = (
    (LETTER, r"\p{L}"),
    (NUMBER, r"\p{N}"),
    (SPACE, r"\s"),
    (O200K_UPPER, r"[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]"),
    (O200K_LOWER, r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]"),
    (CR_LF, r"[\r\n]"),
    (BLANK, r" "),
    (APOSTROPHE, r"(?i:')"),
    (SLASH, r"/"),
    (FOLD_S, r"(?i:s)"),
    (FOLD_T, r"(?i:t)"),
    (FOLD_R, r"(?i:r)"),
    (FOLD_E, r"(?i:e)"),
    (FOLD_V, r"(?i:v)"),
    (FOLD_M, r"(?i:m)"),
    (FOLD_L, r"(?i:l)"),
    (FOLD_D, r"(?i:d)"),
    (FOLD_SDMT, r"(?i:[sdmt])"),
)

N_CODE_POINTS = 0x110000
BLOCK = 256
_LAYOUT = 2  # bump when the bits or the table layout change


def generate_classes() -> np.ndarray:
    """One uint32 bit set per code point, each class matched by ``regex`` over all code points."""
    every = np.arange(N_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    bits = np.zeros(N_CODE_POINTS, dtype=np.uint32)
    for bit, cls in CLASSES:
        for match in regex.finditer(f"(?:{cls})+", every):
            bits[match.start() : match.end()] |= bit
    return bits


def two_level(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compress a per-code-point array into (stage1 block index per 256 code points, unique blocks)."""
    blocks = bits.reshape(-1, BLOCK)
    unique, index = np.unique(blocks, axis=0, return_inverse=True)
    index = index.reshape(-1)
    order = np.arange(len(unique))  # move the block of U+0000..U+00FF first: stage2[cp] for cp < 256
    order[[0, index[0]]] = order[[index[0], 0]]
    rank = np.argsort(order)
    return rank[index].astype(np.uint16), np.ascontiguousarray(unique[order].reshape(-1))


def lookup(stage1: np.ndarray, stage2: np.ndarray, cp: int) -> int:
    """The class bits of one code point (the compiled scanner inlines the same two reads)."""
    return int(stage2[int(stage1[cp >> 8]) * BLOCK + (cp & 0xFF)])


def cache_path() -> Path:
    """Where the tables are cached: the user cache, one file per ``regex`` version and layout."""
    return array_cache.cache_dir() / f"unicode-classes-regex{regex.__version__}-v{_LAYOUT}.npz"


_TABLES: tuple[np.ndarray, np.ndarray] | None = None
# What the tables are generated from: a cache file made from anything else is not used.
_KEY = f"unicode-classes layout {_LAYOUT}, regex {regex.__version__}, classes {CLASSES!r}"


def class_tables() -> tuple[np.ndarray, np.ndarray]:
    """The (stage1, stage2) tables: from memory, else the verified disk cache, else generated and cached."""
    global _TABLES
    if _TABLES is None:
        _TABLES = _load() or _generate_and_store()
    return _TABLES


def _load() -> tuple[np.ndarray, np.ndarray] | None:
    """The cached tables if the file is intact (checksum), well formed, and agrees with ``regex`` on a sample."""
    path = cache_path()
    saved = array_cache.load(path, _KEY, ("stage1", "stage2"))
    if saved is None:
        return None
    stage1, stage2 = saved["stage1"], saved["stage2"]
    well_formed = (
        stage1.dtype == np.uint16
        and stage1.shape == (N_CODE_POINTS // BLOCK,)
        and stage2.dtype == np.uint32
        and stage2.ndim == 1
        and stage2.size % BLOCK == 0
        and int(stage1.max()) * BLOCK < stage2.size
    )
    if not well_formed or not agrees_with_regex(stage1, stage2, check_sample(stage1)):
        logger.warning("the cache file %s holds wrong Unicode class tables; rebuilding it", path)
        return None
    return stage1, stage2


def check_sample(stage1: np.ndarray) -> np.ndarray:
    """The code points a loaded table is checked on: all 256 of one block for each distinct block (so
    every entry that can be read is checked) and 2 of every block (so every block index is)."""
    _, first = np.unique(stage1, return_index=True)
    whole = (first[:, None] * BLOCK + np.arange(BLOCK)).ravel()
    blocks = np.arange(len(stage1))[:, None]
    spread = (blocks * BLOCK + np.arange(0, BLOCK, BLOCK // 2) + blocks % (BLOCK // 2)).ravel()
    return np.concatenate([whole, spread])  # a few code points twice: cheaper than removing them


def agrees_with_regex(stage1: np.ndarray, stage2: np.ndarray, code_points: np.ndarray) -> bool:
    """True if the tables give every class bit ``regex`` gives for each of ``code_points``."""
    text = code_points.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")
    expected = np.zeros(len(code_points), dtype=np.uint32)
    for bit, cls in CLASSES:
        for match in regex.finditer(f"(?:{cls})+", text):
            expected[match.start() : match.end()] |= bit
    found = stage2[stage1[code_points >> 8].astype(np.int64) * BLOCK + (code_points & 0xFF)]
    return bool(np.array_equal(found, expected))


def _generate_and_store() -> tuple[np.ndarray, np.ndarray]:
    stage1, stage2 = two_level(generate_classes())
    array_cache.store(cache_path(), _KEY, {"stage1": stage1, "stage2": stage2})
    return stage1, stage2
