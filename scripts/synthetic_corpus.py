"""Write a synthetic training corpus of any size whose pre-token statistics follow real text.

Corpora of many GB that behave like real text for BPE training (Zipf word frequencies, a vocabulary that keeps
growing with the corpus as Heaps' law says) without shipping data: the generator reads the pre-token counts of a
real corpus (a ``bbpe count`` file or directory, e.g. of ``../shared/corpora/train``) and samples pre-tokens
from a model fitted to them, writing their bytes back to back (the real newline pre-tokens make the lines).

The model, per pre-token drawn (``scripts/synthetic_calibrate.py`` fits its two free parameters and checks the
unique pre-tokens of the output against the real text at 10 MB to the whole corpus):

* **head**: the real pre-tokens counted at least ``head_min_count`` times, at their real relative frequencies
  (the frequent words, punctuation, numbers, whitespace and newline runs of every script of the source);
* **tail**: the rest of the probability mass (the real share of rarer pre-tokens) spread over an unbounded
  list of types with Zipf-Mandelbrot probabilities ``q_j ~ (1 + j / j0) ** -exponent``, continuous with the
  head (``j0`` makes the first tail type as frequent as the last head type).  Tail type ``j`` is the real rare
  pre-token of that rank (ties in a fixed pseudo-random order) while there are any; beyond them a new type made
  of two real rare pre-tokens of the same kind (same first byte and script at the joint): the first half of one
  and the second half of the other, cut at character boundaries;
* **bursts**: a share ``repeat`` of the positions repeats one of the last ``window`` freshly drawn pre-tokens
  (words recur within a document), which is what makes a small prefix hold fewer types than independent
  draws from the whole-corpus frequencies would.

Deterministic: the same source, parameters and seed give the same bytes, and a shorter output is a prefix of a
longer one (cut at a line end).  Memory is the model (about 30 bytes per real pre-token) plus one batch; the
text is streamed to the file.

    bbpe count ../shared/corpora/train -o /tmp/real.parquet --pattern cl100k
    python scripts/synthetic_corpus.py /tmp/real.parquet --bytes 10GB -o /tmp/synthetic_10g.txt
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bbpe.formats.count_arrays import read_arrays

HEAD_MIN_COUNT = 100  # head: real pre-tokens counted this often in the source
TAIL_EXPONENT = 1.165  # fitted by scripts/synthetic_calibrate.py on ../shared/corpora/train (cl100k)
REPEAT = 0.39  # share of positions that repeat a recent pre-token (fitted with the exponent)
WINDOW = 2000  # how many recent fresh pre-tokens a repeat chooses from
BATCH_TOKENS = 1 << 20  # positions per batch (fixed: part of what the seed determines)
INSERT_ROUNDS = 12  # rounds of putting back pre-tokens that would have merged with their neighbour

# Where a pre-token may follow another so that the cl100k pattern splits the pair back into the two: rows are
# the end class of the first (letter, digit, punctuation ending a longer token, a lone punctuation character,
# whitespace, one whitespace character, newline), columns the start class of the second (whitespace then
# non-space, newline run, other whitespace run, letter, one non-letter then letters, other punctuation, digit).
# Measured on pairs of real pre-tokens: every allowed cell re-split 100% of 3,000 pairs.
END_CLASSES = ("L", "N", "P", "P1", "W", "W1", "NL")
START_CLASSES = ("SP", "NLW", "SW", "L", "PL", "P", "N")
SAFE = np.array(
    [
        # SP NLW SW  L  PL  P  N
        [1, 1, 1, 0, 1, 1, 1],  # L
        [1, 1, 1, 1, 1, 1, 0],  # N
        [1, 0, 1, 1, 0, 0, 1],  # P
        [1, 0, 1, 0, 0, 0, 1],  # P1
        [1, 0, 0, 0, 0, 0, 0],  # W
        [1, 0, 0, 0, 0, 0, 1],  # W1
        [1, 0, 0, 1, 1, 1, 1],  # NL
    ],
    dtype=bool,
)
SAFE_FLAT = SAFE.ravel()  # SAFE[end, start] is SAFE_FLAT[end * 7 + start]


def mix(values: np.ndarray) -> np.ndarray:
    """A fixed 64-bit hash of each value (splitmix64's finaliser), vectorised.

    >>> mix(np.array([0, 1], dtype=np.uint64)).tolist() == mix(np.array([0, 1], dtype=np.uint64)).tolist()
    True
    """
    z = values.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _boundary_at_or_after(data: np.ndarray, pos: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The first UTF-8 character start at or after ``pos`` (``end`` if none before it)."""
    for _ in range(3):  # a character has at most 3 continuation bytes
        inside = pos < end
        continuation = np.zeros(len(pos), dtype=bool)
        continuation[inside] = (data[pos[inside]] & 0xC0) == 0x80
        pos = np.where(continuation, pos + 1, pos)
    return np.minimum(pos, end)


CHAR_L, CHAR_N, CHAR_P, CHAR_WS, CHAR_NL, CHAR_NONE = range(6)


def _char_class(code: int) -> int:
    char = chr(code)
    if char in "\r\n":
        return CHAR_NL
    if char.isspace():
        return CHAR_WS
    kind = unicodedata.category(char)[0]
    return CHAR_L if kind == "L" else CHAR_N if kind == "N" else CHAR_P


def _char_at(data: np.ndarray, pos: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code point, byte length) of the UTF-8 character at each ``pos``; (-1, 0) where ``pos >= end``."""
    inside = pos < end
    byte = [data[np.minimum(pos + k, len(data) - 1)].astype(np.int64) for k in range(4)]
    size = np.where(byte[0] < 0x80, 1, np.where(byte[0] < 0xE0, 2, np.where(byte[0] < 0xF0, 3, 4)))
    code = np.where(size == 1, byte[0], byte[0] & (0x7F >> size))
    for k in range(1, 4):
        code = np.where(size > k, (code << 6) | (byte[k] & 0x3F), code)
    return np.where(inside, code, -1), np.where(inside, size, 0)


def type_classes(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The start and end class of each pre-token (indices into ``START_CLASSES`` and ``END_CLASSES``).

    >>> words = [b" the", b"\\n", b"(x", b".", b"12", b"  ", b"\\u4e2d".decode("unicode_escape").encode()]
    >>> data = np.frombuffer(b"".join(words), dtype=np.uint8)
    >>> length = np.array([len(w) for w in words])
    >>> s, e = type_classes(data, np.cumsum(length) - length, length)
    >>> [(START_CLASSES[i], END_CLASSES[j]) for i, j in zip(s, e)]
    [('SP', 'L'), ('NLW', 'NL'), ('PL', 'L'), ('P', 'P1'), ('N', 'N'), ('SW', 'W'), ('L', 'L')]
    """
    end = start + length
    first, first_size = _char_at(data, start, end)
    second, _ = _char_at(data, start + first_size, end)
    last_start = end - 1
    for _ in range(3):  # back over continuation bytes to the last character's start
        last_start = np.where((data[last_start] & 0xC0) == 0x80, last_start - 1, last_start)
    last, _ = _char_at(data, last_start, end)
    codes, where = np.unique(np.concatenate([first, second, last]), return_inverse=True)
    classes = np.array([CHAR_NONE if code < 0 else _char_class(int(code)) for code in codes.tolist()])
    f, s2, z = classes[where].reshape(3, -1)
    single = first_size == length
    start_class = np.select(
        [f == CHAR_NL, (f == CHAR_WS) & (s2 <= CHAR_P), f == CHAR_WS, f == CHAR_L, f == CHAR_N, s2 == CHAR_L],
        [1, 0, np.where(z == CHAR_NL, 1, 2), 3, 6, 4],
        5,
    )
    end_class = np.select(
        [z == CHAR_L, z == CHAR_N, z == CHAR_NL, z == CHAR_WS],
        [0, 1, 6, np.where(single, 5, 4)],
        np.where(single, 3, 2),
    )
    return start_class.astype(np.int8), end_class.astype(np.int8)


def arrange(start_class: np.ndarray, end_class: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An order of the positions in which every neighbour pair is allowed by ``SAFE``.

    Pre-tokens that would merge with the one before are taken out and put back into random places where
    they fit on both sides; the few that find none in ``INSERT_ROUNDS`` rounds are left out.

    >>> s, e = np.array([3, 3, 6]), np.array([0, 0, 1])  # "ab", "cd", "1": "cd" cannot follow "ab"
    >>> arrange(s, e, np.random.default_rng(0)).tolist()
    [0, 2, 1]
    """
    keep = np.arange(len(start_class))
    taken_out = []
    while True:
        fits = np.ones(len(keep), dtype=bool)
        fits[1:] = SAFE_FLAT[end_class[keep[:-1]] * 7 + start_class[keep[1:]]]
        if fits.all():
            break
        taken_out.append(keep[~fits])
        keep = keep[fits]
    pending = np.concatenate(taken_out) if taken_out else keep[:0]
    left_end = end_class[keep]
    right_start = np.append(start_class[keep[1:]], -1)  # -1: after the last one, nothing to fit
    candidates = [np.flatnonzero(SAFE[left_end, klass]) for klass in range(len(START_CLASSES))]
    used = np.zeros(len(keep), dtype=bool)  # one pre-token per gap: the neighbours of every gap stay known
    gaps, placed = [], []
    for _ in range(INSERT_ROUNDS):
        if not len(pending):
            break
        gap = np.full(len(pending), -1, dtype=np.int64)  # put after keep[gap]
        pending_start = start_class[pending]
        for klass, allowed in enumerate(candidates):
            mine = pending_start == klass
            if len(allowed) and mine.any():
                gap[mine] = allowed[rng.integers(0, len(allowed), size=int(mine.sum()))]
        right = right_start[gap]
        fits = (gap >= 0) & ~used[gap] & ((right < 0) | SAFE_FLAT[end_class[pending] * 7 + np.maximum(right, 0)])
        chosen, first = np.unique(gap[fits], return_index=True)
        index = np.flatnonzero(fits)[first]
        used[chosen] = True
        gaps.append(chosen)
        placed.append(pending[index])
        pending = np.delete(pending, index)
    if not gaps:
        return keep
    gap_all = np.concatenate(gaps)
    order = np.argsort(gap_all, kind="stable")
    return np.insert(keep, gap_all[order] + 1, np.concatenate(placed)[order])


def _word_hash(data: np.ndarray, start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """A fixed 64-bit hash of each word from its length and its first and last 8 bytes."""
    value = length.astype(np.uint64)
    for k in range(8):
        head_byte = data[np.minimum(start + k, len(data) - 1)].astype(np.uint64)
        tail_byte = data[np.maximum(start + length - 1 - k, 0)].astype(np.uint64)
        value = mix(value ^ (head_byte << np.uint64(8 * k)) ^ (tail_byte << np.uint64(8 * k + 4)))
    return value


def alias_table(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table: draw slot ``i`` uniformly, keep it with probability ``keep[i]``, else take
    ``alias[i]``; each ``i`` then comes out with probability ``counts[i] / counts.sum()``.

    >>> keep, alias = alias_table(np.array([3, 1]))
    >>> keep.tolist(), alias.tolist()
    ([1.0, 0.5], [0, 0])
    """
    scaled = counts.astype(np.float64) * len(counts) / counts.sum()
    keep = np.ones(len(counts))
    alias = np.arange(len(counts))
    small = [int(i) for i in np.flatnonzero(scaled < 1)]
    large = [int(i) for i in np.flatnonzero(scaled >= 1)]
    while small and large:
        low, high = small.pop(), large[-1]
        keep[low], alias[low] = scaled[low], high
        scaled[high] -= 1 - scaled[low]
        if scaled[high] < 1:
            small.append(large.pop())
    return keep, alias


@dataclass
class Model:
    """Types in rank order: type ``r`` is ``data[start[r]:start[r] + length[r]]``."""

    data: np.ndarray  # uint8, the source's words back to back
    start: np.ndarray  # int64 per type
    length: np.ndarray  # int64 per type
    head: int  # types 0..head-1 are the head
    head_mass: float  # share of the source's pre-tokens in the head
    alias_keep: np.ndarray  # float64 per head type: Walker's alias table of the head frequencies
    alias: np.ndarray  # int64 per head type
    exponent: float
    j0: float
    cut: np.ndarray  # int64 per tail type: where its first half ends (a character start)
    by_kind: np.ndarray  # int64: tail type numbers sorted by kind
    kind_start: np.ndarray  # int64: kind k's types are by_kind[kind_start[k]:kind_start[k + 1]]
    kind: np.ndarray  # int64 per tail type
    start_class: np.ndarray  # int8 per type
    end_class: np.ndarray  # int8 per type


def build_model(source: str | os.PathLike[str], *, head_min_count: int, exponent: float) -> Model:
    """The model of the words counted in ``source`` (see the module docstring)."""
    words = read_arrays(source)
    starts, counts = words.starts, words.counts
    lengths = np.diff(starts)
    order = np.lexsort((_word_hash(words.data, starts[:-1], lengths), -counts))
    start, length, count = starts[:-1][order], lengths[order], counts[order]
    head = int(np.searchsorted(-count, -head_min_count, side="right"))
    if head == 0 or head == len(count):
        raise SystemExit(f"the source needs words counted both at least and fewer than {head_min_count} times")
    total = int(count.sum())
    head_mass = int(count[:head].sum()) / total
    tail_mass = 1 - head_mass
    j0 = tail_mass * (exponent - 1) * total / float(count[head - 1])  # first tail type ~ last head type
    tail_start, tail_length = start[head:], length[head:]
    tail_end = tail_start + tail_length
    cut = _boundary_at_or_after(words.data, tail_start + np.maximum(1, tail_length // 2), tail_end)
    joint = np.where(cut < tail_end, words.data[np.minimum(cut, len(words.data) - 1)], 0).astype(np.int64)
    kind = words.data[tail_start].astype(np.int64) * 256 + joint
    start_class, end_class = type_classes(words.data, start, length)
    by_kind = np.argsort(kind, kind="stable")
    kind_start = np.searchsorted(kind[by_kind], np.arange(256 * 256 + 1))
    return Model(
        words.data,
        start,
        length,
        head,
        head_mass,
        *alias_table(count[:head]),
        exponent,
        j0,
        cut,
        by_kind,
        kind_start,
        kind,
        start_class,
        end_class,
    )


def _segments(model: Model, fresh: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """``fresh`` independent draws as two byte segments each and their classes:
    (start1, length1, start2, length2, start class, end class)."""
    in_head = rng.random(fresh) < model.head_mass
    slot = rng.integers(0, model.head, size=fresh, dtype=np.int64)
    rank = np.where(rng.random(fresh) < model.alias_keep[slot], slot, model.alias[slot])
    tail_u = rng.random(fresh)
    start1, length1 = model.start[rank], model.length[rank]
    start_class, end_class = model.start_class[rank], model.end_class[rank]
    start2 = np.zeros(fresh, dtype=np.int64)
    length2 = np.zeros(fresh, dtype=np.int64)
    tail = ~in_head
    x = model.j0 * np.expm1(-np.log1p(-tail_u[tail]) / (model.exponent - 1))  # inverse of the tail's CDF
    j = np.floor(np.minimum(x, 2.0**62)).astype(np.int64)
    real_tail = len(model.start) - model.head
    known = j < real_tail
    t_start = np.empty(len(j), dtype=np.int64)
    t_length = np.empty(len(j), dtype=np.int64)
    t_start2 = np.zeros(len(j), dtype=np.int64)
    t_length2 = np.zeros(len(j), dtype=np.int64)
    t_start[known] = model.start[model.head + j[known]]
    t_length[known] = model.length[model.head + j[known]]
    new = (j[~known] - real_tail).astype(np.uint64)
    first = (mix(new * np.uint64(2)) % np.uint64(real_tail)).astype(np.int64)
    kind = model.kind[first]
    members = model.kind_start[kind + 1] - model.kind_start[kind]
    pick = (mix(new * np.uint64(2) + np.uint64(1)) % members.astype(np.uint64)).astype(np.int64)
    second = model.by_kind[model.kind_start[kind] + pick]
    a_start = model.start[model.head + first]
    t_start[~known] = a_start
    t_length[~known] = model.cut[first] - a_start
    b_end = model.start[model.head + second] + model.length[model.head + second]
    t_start2[~known] = model.cut[second]
    t_length2[~known] = b_end - model.cut[second]
    t_type = np.empty(len(j), dtype=np.int64)
    t_type[known] = model.head + j[known]
    t_type[~known] = model.head + first
    t_end = model.end_class[t_type].copy()
    t_end[~known] = np.where(t_length2[~known] > 0, model.end_class[model.head + second], t_end[~known])
    start1[tail], length1[tail], start2[tail], length2[tail] = t_start, t_length, t_start2, t_length2
    start_class[tail], end_class[tail] = model.start_class[t_type], t_end
    return start1, length1, start2, length2, start_class, end_class


def batch(model: Model, rng: np.random.Generator, *, repeat: float, window: int) -> bytes:
    """The bytes of ``BATCH_TOKENS`` pre-tokens: fresh draws, and repeats of recent fresh ones."""
    repeated = rng.random(BATCH_TOKENS) < repeat
    repeated[0] = False
    fresh_before = np.cumsum(~repeated) - 1  # index of the last fresh draw at or before each position
    back = np.floor(rng.random(BATCH_TOKENS) * np.minimum(window, fresh_before + 1)).astype(np.int64)
    source = np.where(repeated, fresh_before - back, fresh_before)
    columns = _segments(model, int(fresh_before[-1]) + 1, rng)
    source = source[arrange(columns[4][source], columns[5][source], rng)]
    segments = [column[source] for column in columns[:4]]
    starts = np.stack((segments[0], segments[2]), axis=1).ravel()
    lengths = np.stack((segments[1], segments[3]), axis=1).ravel()
    ends = np.cumsum(lengths)
    shift = (starts - (ends - lengths)).astype(np.int32)  # source minus output offset of each segment
    index = np.repeat(shift, lengths) + np.arange(int(ends[-1]), dtype=np.int32)
    return model.data[index].tobytes()


_JOB: tuple[Model, int, float, int] | None = None  # (model, seed, repeat, window), set before forking workers


def _numbered_batch(number: int) -> bytes:
    """Batch ``number`` of the stream: its own random generator, so batches can be made in any process."""
    assert _JOB is not None
    model, seed, repeat, window = _JOB
    return batch(model, np.random.default_rng([seed, number]), repeat=repeat, window=window)


def generate(
    model: Model, out: str | os.PathLike[str], size: int, *, seed: int, repeat: float, window: int, jobs: int = 1
) -> int:
    """Write about ``size`` bytes (whole lines) to ``out`` with ``jobs`` processes; the bytes written.

    The text does not depend on ``jobs``: batch ``k`` is drawn from a generator seeded with ``(seed, k)``.
    """
    global _JOB
    _JOB = (model, seed, repeat, window)
    written = 0
    temp = Path(str(out) + ".tmp")
    started = time.monotonic()
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
    try:
        with open(temp, "wb") as handle:
            for wave in itertools.count(0, 2 * jobs):
                numbers = range(wave, wave + 2 * jobs)
                texts = pool.map(_numbered_batch, numbers) if pool else map(_numbered_batch, numbers)
                for text in texts:
                    last = written + len(text) >= size or not text
                    if last:
                        text = text[: size - written]
                        text = text[: text.rfind(b"\n") + 1] or text
                    handle.write(text)
                    written += len(text)
                    if written // 1_000_000_000 != (written - len(text)) // 1_000_000_000:
                        rate = written / 1e6 / (time.monotonic() - started)
                        print(f"{written / 1e9:.0f} GB written ({rate:.0f} MB/s)", file=sys.stderr, flush=True)
                    if last:
                        break
                else:
                    continue
                break
    finally:
        if pool:
            pool.terminate()
    os.replace(temp, out)
    return written


def parse_size(text: str) -> int:
    """ "10GB" -> 10_000_000_000; "325MB", "1e6" and plain byte counts too."""
    upper = text.strip().upper()
    for suffix, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if upper.endswith(suffix):
            return int(float(upper[: -len(suffix)]) * scale)
    return int(float(upper))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a bbpe count file or directory of a real corpus")
    parser.add_argument("--bytes", required=True, type=parse_size, help="output size, e.g. 10GB")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--head-min-count", type=int, default=HEAD_MIN_COUNT)
    parser.add_argument("--tail-exponent", type=float, default=TAIL_EXPONENT)
    parser.add_argument("--repeat", type=float, default=REPEAT)
    parser.add_argument("--window", type=int, default=WINDOW)
    parser.add_argument("--jobs", type=int, default=1, help="processes making batches (same text for any number)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    model = build_model(args.source, head_min_count=args.head_min_count, exponent=args.tail_exponent)
    built = time.monotonic()
    written = generate(
        model, args.output, args.bytes, seed=args.seed, repeat=args.repeat, window=args.window, jobs=args.jobs
    )
    done = time.monotonic()
    print(
        f"wrote {written:,} bytes to {args.output} in {done - started:.1f} s (model {built - started:.1f} s, "
        f"{written / 1e6 / max(done - built, 1e-9):.0f} MB/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
