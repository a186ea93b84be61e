"""Brute-force trainers: every pair recounted from scratch before every merge (the definitions, slowly).

Independent of bbpe's merge loops (no bbpe import): words are id lists in ``vocab`` (the 256 bytes, or a base
vocabulary with multi-byte tokens, as extension gives them), a merge rewrites its pair left to right without
overlap, and a pair whose bytes already are a token reuses that token's id (the newest with those bytes): an
*alias* merge, which adds no token.  Merges come out as ``(left, right, token, count, new)`` tuples, the fields
of ``bbpe.training.loops.reference.Merge``.  ``aliased_corpora`` draws base vocabularies and words that make aliases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

from hypothesis import strategies as st

Step = tuple[int, int, int, int, bool]
Words = list[tuple[list[int], int]]


@st.composite
def aliased_corpora(draw: st.DrawFn) -> tuple[list[bytes], Words]:
    """A base vocabulary over the bytes of "abc" with tokens several pairs can spell ("abc" = "ab" + "c" = "a" +
    "bc"), and words made of its tokens cut into other tokens (as rank-based BPE may leave them), so that pairs
    spelling an existing token are frequent."""
    extra = draw(
        st.lists(st.sampled_from([b"ab", b"bc", b"ca", b"abc", b"bca", b"cab", b"abca"]), min_size=2, unique=True)
    )
    vocab = [bytes([i]) for i in range(256)] + extra
    id_of = {token: index for index, token in enumerate(vocab)}

    def cut(token: bytes, where: list[bool]) -> list[int]:
        bounds = [0, *(i + 1 for i, c in enumerate(where[: len(token) - 1]) if c), len(token)]
        parts = [token[a:b] for a, b in zip(bounds, bounds[1:])]
        return [i for part in parts for i in ([id_of[part]] if part in id_of else list(part))]

    piece = st.builds(cut, st.sampled_from([*extra, b"a", b"b", b"c"]), st.lists(st.booleans(), min_size=3, max_size=3))
    word = st.lists(piece, min_size=1, max_size=4).map(lambda parts: [i for part in parts for i in part])
    words = draw(st.lists(st.tuples(word, st.integers(1, 5)), min_size=2, max_size=10))
    return vocab, words


def replace_pair(ids: Sequence[int], pair: tuple[int, int], token: int) -> list[int]:
    out: list[int] = []
    i = 0
    while i < len(ids):
        if tuple(ids[i : i + 2]) == pair:
            out.append(token)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def pair_counts(words: Iterable[tuple[Sequence[int], int]]) -> Counter[tuple[int, int]]:
    counts: Counter[tuple[int, int]] = Counter()
    for ids, count in words:
        for i in range(len(ids) - 1):
            counts[(ids[i], ids[i + 1])] += count
    return counts


def best_pair(
    counts: Mapping[tuple[int, int], int], min_frequency: int, skip: Callable[[tuple[int, int]], bool] | None = None
) -> tuple[tuple[int, int], int] | None:
    """The most frequent pair (ties: the smallest (left, right)) reaching ``min_frequency``, or None."""
    ranked = sorted((-count, pair) for pair, count in counts.items() if count and not (skip and skip(pair)))
    if not ranked or -ranked[0][0] < min_frequency:
        return None
    return ranked[0][1], -ranked[0][0]


def token_of(joined: bytes, vocab: list[bytes]) -> tuple[int, bool]:
    """The newest id spelling ``joined``, else a new id appended to ``vocab`` (then True)."""
    for index in range(len(vocab) - 1, -1, -1):
        if vocab[index] == joined:
            return index, False
    vocab.append(joined)
    return len(vocab) - 1, True


def train(
    words: Iterable[tuple[Sequence[int], int]],
    vocab: list[bytes],
    n_new: int,
    *,
    min_frequency: int = 2,
    allow: Callable[[bytes], bool] | None = None,
) -> tuple[list[Step], str]:
    """Plain BPE from ``vocab`` (extended in place): the steps and the stop reason."""
    state: Words = [(list(ids), count) for ids, count in words if count > 0]
    steps: list[Step] = []
    added = 0

    def vetoed(pair: tuple[int, int]) -> bool:
        joined = vocab[pair[0]] + vocab[pair[1]]
        return allow is not None and joined not in vocab and not allow(joined)

    while added < n_new:
        best = best_pair(pair_counts(state), min_frequency, vetoed)
        if best is None:
            return steps, "min_frequency"
        pair, count = best
        token, new = token_of(vocab[pair[0]] + vocab[pair[1]], vocab)
        added += new
        steps.append((pair[0], pair[1], token, count, new))
        state = [(replace_pair(ids, pair, token), c) for ids, c in state]
    return steps, "vocab_size"


def train_parity(
    words: Mapping[str, Iterable[tuple[Sequence[int], int]]],
    dev: Mapping[str, Mapping[str, int]],
    vocab: list[bytes],
    n_new: int,
    *,
    min_frequency: int = 2,
    global_merges: int = 0,
) -> tuple[list[Step], dict[str, int], str]:
    """Parity-aware BPE as ``bbpe.training.methods.parity`` defines it: the first ``global_merges`` merges by the
    pair counts summed over all languages, then the most frequent pair of the candidate whose dev text (bytes at
    the start) has the most tokens (ties: the smallest code); a candidate without a pair reaching
    ``min_frequency`` drops out for good.  Returns the steps, merges per language ("*": global) and stop reason.
    """
    train_words = {code: [(list(ids), c) for ids, c in ws if c > 0] for code, ws in words.items()}
    candidates = sorted(set(train_words) & set(dev))
    if not candidates:
        raise ValueError("no language has both training words and dev text")
    dev_words = {code: [(list(text.encode("utf-8")), c) for text, c in dev[code].items()] for code in candidates}
    steps: list[Step] = []
    chosen: dict[str, int] = {}
    added = 0
    while added < n_new:
        if len(steps) < global_merges:
            language = "*"
            best = best_pair(pair_counts(w for ws in train_words.values() for w in ws), min_frequency)
        else:
            language, best = "", None
            tokens = {code: sum(len(ids) * c for ids, c in dev_words[code]) for code in candidates}
            for code in sorted(candidates, key=lambda code: (-tokens[code], code)):
                best = best_pair(pair_counts(train_words[code]), min_frequency)
                if best is not None:
                    language = code
                    break
                candidates.remove(code)
        if best is None:
            return steps, chosen, "min_frequency"
        pair, count = best
        token, new = token_of(vocab[pair[0]] + vocab[pair[1]], vocab)
        added += new
        steps.append((pair[0], pair[1], token, count, new))
        chosen[language] = chosen.get(language, 0) + 1
        for table in (*train_words.values(), *dev_words.values()):
            table[:] = [(replace_pair(ids, pair, token), c) for ids, c in table]
    return steps, chosen, "vocab_size"
