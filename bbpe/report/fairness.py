"""Inequality and efficiency metrics of tokenizations: Gini, Rényi efficiency, fertility, Lorenz curves.

Pure functions on counts (no tokenizer, no I/O); ``bbpe.report.metrics`` applies them per corpus.

* **Gini coefficient** of per-language token counts on a line-aligned (parallel) corpus:
  ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``; 0 when every language costs the same, up to
  ``(n - 1) / n`` when one language carries all tokens (as used by Foroutan et al. 2025,
  parity-aware BPE).
* **Rényi efficiency** (Zouhar et al. 2023, "Tokenization and the Noiseless Channel"):
  ``H_alpha(p) / log |V|`` with ``H_alpha(p) = log(sum_w p(w)^alpha) / (1 - alpha)`` over the
  token unigram distribution ``p`` and alpha = 2.5 (the paper's choice).  ``|V|`` is the
  vocabulary size (the paper's definition; their scorer defaults to the number of token types
  seen instead).  A uniform distribution over all of ``V`` gives 1.
* **Fertility**: tokens per whitespace-separated word, defined only for languages whose
  script separates words by spaces (see ``SPACELESS_SCRIPTS``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

RENYI_ALPHA = 2.5

# ISO 15924 scripts written without spaces between words (fertility is undefined for them):
# Han (Chinese, incl. Simplified/Traditional), Japanese, Thai, Lao, Khmer, Myanmar, Tibetan,
# Balinese, Javanese.  Korean (Hang) uses spaces.
SPACELESS_SCRIPTS = frozenset({"Hani", "Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr", "Tibt", "Bali", "Java"})


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values (0 = all equal).

    >>> gini([5, 5, 5])
    0.0
    >>> gini([1, 2, 3, 4])
    0.25
    >>> gini([0, 0, 0, 1])
    0.75
    """
    if not values:
        raise ValueError("the Gini coefficient needs at least one value")
    if any(v < 0 for v in values):
        raise ValueError("the Gini coefficient needs non-negative values")
    total = sum(values)
    if total == 0:
        return 0.0
    # sum_i sum_j |x_i - x_j| = 2 * sum_k (2k - n + 1) x_(k) over the sorted values (k from 0)
    ordered = sorted(values)
    n = len(ordered)
    weighted = sum((2 * k - n + 1) * x for k, x in enumerate(ordered))
    return weighted / (n * total)


def lorenz_curve(values: Sequence[float]) -> list[tuple[float, float]]:
    """Points (share of languages, share of tokens), cheapest languages first, from (0, 0) to (1, 1).

    >>> lorenz_curve([3, 1])
    [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]
    """
    ordered = sorted(values)
    total = sum(ordered) or 1
    points, running = [(0.0, 0.0)], 0.0
    for k, x in enumerate(ordered, start=1):
        running += x
        points.append((k / len(ordered), running / total))
    return points


def renyi_entropy(counts: Iterable[int], alpha: float = RENYI_ALPHA) -> float:
    """Rényi entropy (natural log) of the distribution proportional to ``counts``.

    >>> round(renyi_entropy([1, 1, 1, 1]), 6) == round(math.log(4), 6)
    True
    """
    present = [c for c in counts if c > 0]
    total = sum(present)
    if not total:
        raise ValueError("the Rényi entropy needs at least one positive count")
    if alpha == 1:
        return -sum(c / total * math.log(c / total) for c in present)
    return math.log(sum((c / total) ** alpha for c in present)) / (1 - alpha)


def renyi_efficiency(counts: Iterable[int], vocab_size: int, alpha: float = RENYI_ALPHA) -> float:
    """``H_alpha(p) / log(vocab_size)`` (Zouhar et al. 2023); 1 for a uniform distribution over the vocabulary.

    >>> renyi_efficiency([7, 7, 7, 7], vocab_size=4)
    1.0
    >>> round(renyi_efficiency([1, 1], vocab_size=4), 6)
    0.5
    """
    if vocab_size < 2:
        raise ValueError("the Rényi efficiency needs a vocabulary of at least 2 tokens")
    return renyi_entropy(counts, alpha) / math.log(vocab_size)


def script_of(code: str) -> str:
    """The script subtag of a language code such as ``zho_Hans`` (empty if there is none).

    >>> script_of("zho_Hans"), script_of("eng_Latn"), script_of("en")
    ('Hans', 'Latn', '')
    """
    _, _, script = code.rpartition("_")
    return script if script != code else ""


def uses_spaces(code: str) -> bool:
    """Whether a language (code ``<lang>_<Script>``) separates words by spaces.

    >>> uses_spaces("eng_Latn"), uses_spaces("kor_Hang"), uses_spaces("tha_Thai"), uses_spaces("jpn_Jpan")
    (True, True, False, False)
    """
    return script_of(code) not in SPACELESS_SCRIPTS


def fertility(tokens: int, text: str) -> float:
    """Tokens per whitespace-separated word of ``text``.

    >>> fertility(6, "a tokenizer  test")
    2.0
    """
    words = len(text.split())
    if not words:
        raise ValueError("fertility needs text with at least one word")
    return tokens / words
