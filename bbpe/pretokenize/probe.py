"""The characters pattern validation probes: every ASCII character and one character of every
(script, general category) pair Unicode assigns (about 800 in all), so a pattern that drops any
letter, script or category is caught before it drops text.

They are generated from the ``regex`` module, so they follow the Unicode version the engines use
(about 1.2 s: one pass per category and per script over all code points), and cached, verified,
in the user cache (``array_cache``; loading takes about 1 ms).  Surrogates (general category Cs)
are left out: a lone surrogate is no text.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

import regex

logger = logging.getLogger("bbpe")

GENERAL_CATEGORIES = (
    *("Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe"),
    *("Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Co", "Cn"),
)
_VERSION = 1  # bump when what is generated changes
_KEY = f"probe characters v{_VERSION}, regex {regex.__version__}, categories {GENERAL_CATEGORIES}"
N_CODE_POINTS = 0x110000


def script_names() -> list[str]:
    """The Unicode scripts ``regex`` knows, one name each (``Unknown`` first); none if its table moved."""
    try:
        from regex import _regex_core  # regex has no public list of the property values it knows

        values: dict[str, int] = _regex_core.PROPERTIES["SCRIPT"][1]
    except (ImportError, AttributeError, KeyError, IndexError, TypeError):
        logger.warning("this regex version does not list its scripts; patterns are probed per category only")
        return []
    first_name: dict[int, str] = {}
    for name, value in values.items():
        first_name.setdefault(value, name)
    return [first_name[value] for value in sorted(first_name)]


@lru_cache(maxsize=1)
def probe_characters() -> str:
    """ASCII, then the first code point of every (script, general category) pair in code point order."""
    from bbpe.pretokenize import array_cache  # numpy: only when a custom pattern is validated

    path = array_cache.cache_dir() / f"probe-characters-regex{regex.__version__}-v{_VERSION}.npz"
    saved = array_cache.load(path, _KEY, ("code_points",))
    if saved is None:
        saved = {"code_points": generate()}
        array_cache.store(path, _KEY, saved)
    return "".join(map(chr, saved["code_points"].tolist()))


def generate() -> Any:
    """The probe's code points as a uint32 array (see ``probe_characters``)."""
    import numpy as np

    every = np.arange(N_CODE_POINTS, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")
    category = np.zeros(N_CODE_POINTS, np.int64)
    for index, name in enumerate(GENERAL_CATEGORIES, 1):  # 0: Cs, left out
        for match in regex.finditer(rf"\p{{gc={name}}}+", every):
            category[match.start() : match.end()] = index
    script = np.zeros(N_CODE_POINTS, np.int64)
    for index, name in enumerate(script_names()):
        for match in regex.finditer(rf"\p{{sc={name}}}+", every):
            script[match.start() : match.end()] = index
    pairs, first = np.unique(script * 64 + category, return_index=True)
    chosen = first[pairs % 64 != 0]
    return np.union1d(np.arange(128), chosen).astype(np.uint32)
