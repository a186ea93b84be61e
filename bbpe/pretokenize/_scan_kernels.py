r"""Every numba function of the compiled pre-tokenizer: the preset rules, the span and count loops.

They live in one file because numba's cache tracks only the file of the function it caches: a
loop compiled from another file would keep running an old copy of a rule it inlined.

Structure.  Per document, ``classify`` decodes every character once into a class array ``cls``
(one byte per character, at the offset of its first byte: its class bits and its byte length).
``scan`` then finds the pre-tokens one after another with ``next_end``, which picks the
alternative from the first character's class (and the next one's) and runs the pre-token's
extent over ``cls`` with tight loops; only the rare contraction checks decode bytes again.
``spans`` collects the ends; ``count_into`` takes them in batches of ``_BATCH`` and
``_count_batch`` counts each batch in the hash table.  ``next_end`` and the tiny run helpers
(``_size``, ``_run``, ...) are inlined into ``scan`` (``inline="always"``); the larger alternatives
(``_whitespace``, ``_contraction``, ``_o200k_letters``, ``_stage2_split``, ...) are plain calls:
numba's IR inlining copies and re-types the callee at every call site, which made the scanner take
tens of seconds to compile, while a call per alternative costs nothing measurable
(``scripts/bench_cold_start.py``).  The kernels that only read and write the arrays they are given
are compiled without reference counting (``bbpe._jit.NO_REFCOUNT``): with it, every call taking an
array adds atomic reference-count updates, which cost more than the scanning itself.  Their callers
hold the arrays.

The preset patterns are hand-written rules over UTF-8 bytes: where does the pre-token end?

``next_end(data, cls, i, n, ...)`` returns the end of the pre-token that ``regex`` matches at byte
offset ``i`` when the text ends at byte ``n``.  Every preset matches some alternative at every
character and never matches the empty string, so ``findall`` returns back-to-back pre-tokens and
the scanner only needs this one function.  Names below: L = ``\p{L}``, N = ``\p{N}``,
S = ``\s``, O = ``[^\s\p{L}\p{N}]``, P = ``[^\r\n\p{L}\p{N}]``, U = ``[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]``,
W = ``[\p{Ll}\p{Lm}\p{Lo}\p{M}]``, C = ``(?i:'s|'t|'re|'ve|'m|'ll|'d)`` (classes from
``unicode_tables``).  The first alternative that matches wins; how each is decided:

gpt2 ``'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+``
  contractions are case-sensitive ASCII.  `` ?X+``: a run of X at i, else a space followed by a
  run of X (L, N, O are disjoint, so their order only matters through the space).  Whitespace:
  the maximal run of S ends at k; ``\s+(?!\S)`` backtracks one character, so the pre-token ends
  at k when k is the end of text, else before the run's last character if that leaves at least
  one; otherwise ``\s+`` takes the single character.  Split digits (`` (?=\p{N})|\p{N}``): a
  space before N is a pre-token of its own, every N is one.
cl100k ``'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s``
  case-insensitive contractions (``ſ`` is an ``s``).  ``P?+L++``: a run of L at i, else one P
  character followed by a run of L (the possessive ``?+`` changes nothing: when the optional
  character is taken it is not L, so giving it back cannot help).  N: up to three.
  `` ?O++[\r\n]*+``: an O run (after an optional space), then any CR/LF.  Whitespace run ending
  at k: ``\s++$`` if k is the end of text (``$`` could also match before a final newline, but
  that newline would be in the run); else ``\s*[\r\n]`` ends after the run's last CR/LF
  (greedy ``\s*`` gives back characters until one is followed by CR/LF); else ``\s+(?!\S)``
  as in gpt2, else ``\s`` one character.  Split digits: ``\p{N}`` one at a time.
llama3 ``(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+``
  the non-possessive cl100k; the difference is in whitespace: ``\s*[\r\n]+`` comes first and
  ends after the run's last CR/LF (the ``+`` cannot extend it: the next character is not CR/LF),
  even when the run reaches the end of text; then ``\s+(?!\S)`` (the whole run at the end of
  text), then ``\s+``.  qwen is llama3 with ``\p{N}`` instead of ``\p{N}{1,3}``; it is also
  llama3's split-digit form.
o200k ``P?U*W+C?|P?U+W*C?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+``
  (tiktoken_ext/openai_public.py).  First alternative, tried with the P character taken and then
  without (a combining mark is both P and U/W, so both can matter): ``U*`` runs to the end m of
  a U run, then gives back until ``W+`` can start.  If the character at m is W the word runs to
  the end of that W run; else the last character of the U run that is also W (Lm, Lo, M) ends
  the word (the characters after it are U only).  The second alternative needs U at the start:
  a U run then a W run.  Either is followed by an optional contraction.  N: up to three.
  `` ?O+[\r\n/]*``: an O run, then any CR, LF and slashes (across a newline into ``/``).
  Whitespace as in llama3.  Split digits: ``\p{N}`` one at a time.
stage2 ``(?:SPLITS)|(?: ?\p{L}++|(?!SPLITS)[\s\S])++`` with SPLITS =
  ``\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*|\s*[\r\n]+| +(?!\S)`` (SuperBPE's stage 2,
  ``patterns.STAGE2``; split digits: ``\p{N}``).  ``_stage2_split`` decides the split alternatives
  in order: N; a run of two or more O (after an optional space: ``?`` is greedy, and without the
  space the match would have to start with an O), then CR, LF and slashes; a whitespace run
  holding a CR/LF ends after its last one (as in llama3); a run of spaces ends at k when the next
  character is whitespace or the text ends, else one space earlier if that leaves one.  Otherwise
  the pre-token is the possessive run: letters (after an optional space) without testing the
  splits, any other character only while no split starts there.
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import NO_REFCOUNT, kernel
from bbpe.pretokenize import unicode_tables as ut
from bbpe.pretokenize.scanner_presets import CL100K_RULES as CL100K
from bbpe.pretokenize.scanner_presets import GPT2_RULES as GPT2
from bbpe.pretokenize.scanner_presets import O200K_RULES as O200K
from bbpe.pretokenize.scanner_presets import STAGE2_RULES as STAGE2

# The class bits and rule numbers imported above are frozen into the cached compiled code, which
# numba refreshes only when this file changes: change them together with this file.
_OTHER_EXCLUDED = ut.LETTER | ut.NUMBER | ut.SPACE  # O = not any of these
_PREFIX_EXCLUDED = ut.CR_LF | ut.LETTER | ut.NUMBER  # P = not any of these


@kernel(inline="always")
def char_at(data, i, n, stage1, stage2):
    """(class bits, byte length) of the character at i; never reads at or past n."""
    b0 = np.int64(data[i])
    if b0 < 0x80:  # ASCII: block 0 of stage2 is U+0000..U+00FF
        return np.int64(stage2[b0]), 1
    if b0 < 0xE0:
        cp, size = b0 & 0x1F, 2
    elif b0 < 0xF0:
        cp, size = b0 & 0x0F, 3
    else:
        cp, size = b0 & 0x07, 4
    if i + size > n:  # truncated (invalid) UTF-8: use what is there
        size = n - i
    for k in range(1, size):
        cp = (cp << 6) | (np.int64(data[i + k]) & 0x3F)
    cp = min(cp, 0x10FFFF)
    return np.int64(stage2[(np.int64(stage1[cp >> 8]) << 8) | (cp & 0xFF)]), size


# Scanning.  ``classify`` decodes every character of a document once into ``cls``: one byte per
# character, at the offset of its first byte, holding its class bits (``_CLASS_BITS``) and, in the
# top two bits, its byte length - 1 (the bytes of a character after its first are never written or
# read).  The rules read only ``cls``, and ``data`` for the ASCII characters they name (space,
# apostrophe, CR, LF, slash: one byte each, equal to their code point), and step from character to
# character by the stored lengths; only the rare contraction checks decode again (``char_at``).
_CLASS_BITS = ut.LETTER | ut.NUMBER | ut.SPACE | ut.O200K_UPPER | ut.O200K_LOWER | ut.CR_LF
_SIZE_SHIFT = 6
assert _CLASS_BITS < 1 << _SIZE_SHIFT, "the class bits must fit under the byte length"
_ONE_LETTER = ut.FOLD_S | ut.FOLD_T | ut.FOLD_M | ut.FOLD_D  # (?i:'s|'t|'m|'d)
_SPACE, _APOSTROPHE, _SLASH, _CR, _LF = 0x20, 0x27, 0x2F, 0x0D, 0x0A


@kernel(**NO_REFCOUNT)
def classify(data, i, n, stage1, stage2, cls):
    """Fill ``cls`` for every character of ``data[i:n]`` (class bits, byte length - 1)."""
    while i < n:
        b0 = data[i]
        if b0 < 0x80:
            cls[i] = stage2[b0] & _CLASS_BITS
            i += 1
        else:
            bits, size = char_at(data, i, n, stage1, stage2)
            cls[i] = (bits & _CLASS_BITS) | ((size - 1) << _SIZE_SHIFT)
            i += size


@kernel(inline="always")
def _size(c):
    """Byte length of a character from its ``cls`` entry."""
    return (np.int64(c) >> _SIZE_SHIFT) + 1


@kernel(inline="always")
def _run(cls, i, n, mask):
    """End of the run of characters whose class bits meet ``mask``, starting at i."""
    while i < n:
        c = cls[i]
        if not c & mask:
            break
        i += _size(c)
    return i


@kernel(inline="always")
def _run_other(cls, i, n):
    """End of the run of O characters (not whitespace, letter or number) starting at i."""
    while i < n:
        c = cls[i]
        if c & _OTHER_EXCLUDED:
            break
        i += _size(c)
    return i


@kernel(inline="always")
def _run_numbers(cls, i, n, most):
    """End of up to ``most`` N characters starting at i."""
    for _ in range(most):
        if i >= n:
            break
        c = cls[i]
        if not c & ut.NUMBER:
            break
        i += _size(c)
    return i


@kernel(inline="always")
def _newlines(data, i, n, slash):
    """End of the run of CR and LF (and slashes when ``slash``) starting at i."""
    while i < n:
        b = data[i]
        if b != _CR and b != _LF and not (slash and b == _SLASH):
            break
        i += 1
    return i


@kernel(**NO_REFCOUNT)
def _whitespace(cls, i, n):
    """(end of the S run at i, start of its last character, end of its last CR/LF or -1)."""
    last_start, last_newline = i, -1
    while i < n:
        c = cls[i]
        if not c & ut.SPACE:
            break
        last_start = i
        i += _size(c)
        if c & ut.CR_LF:
            last_newline = i
    return i, last_start, last_newline


@kernel(**NO_REFCOUNT)
def _contraction(data, i, n, stage1, stage2, one_letter):
    """End of ``(?i:'s|'t|'re|'ve|'m|'ll|'d)`` at i (``one_letter``: the classes of s, t, m, d), or i."""
    j = i + 1
    if j >= n or data[i] != _APOSTROPHE:
        return i
    first, size1 = char_at(data, j, n, stage1, stage2)
    if first & one_letter:
        return j + size1
    k = j + size1
    if k >= n:
        return i
    second, size2 = char_at(data, k, n, stage1, stage2)
    if first & second & ut.FOLD_L or ((first & ut.FOLD_V or first & ut.FOLD_R) and second & ut.FOLD_E):
        return k + size2
    return i


@kernel(**NO_REFCOUNT)
def _gpt2_contraction(data, i, n):
    """End of ``'s|'t|'re|'ve|'m|'ll|'d`` (ASCII, case-sensitive) at i, or i."""
    if data[i] != _APOSTROPHE or i + 1 >= n:
        return i
    c1 = data[i + 1]
    if c1 == 115 or c1 == 116 or c1 == 109 or c1 == 100:  # s t m d
        return i + 2
    if i + 2 < n:
        c2 = data[i + 2]
        if (c1 == 114 and c2 == 101) or (c1 == 118 and c2 == 101) or (c1 == 108 and c2 == 108):  # re ve ll
            return i + 3
    return i


@kernel(**NO_REFCOUNT)
def _o200k_word(cls, s, n):
    """End of ``U*W+`` at s (first alternative, before its contraction), or -1."""
    i, both_end = s, -1
    while i < n:
        c = cls[i]
        if not c & ut.O200K_UPPER:
            if c & ut.O200K_LOWER:
                return _run(cls, i + _size(c), n, ut.O200K_LOWER)
            break
        i += _size(c)
        if c & ut.O200K_LOWER:
            both_end = i
    return both_end


@kernel(**NO_REFCOUNT)
def _o200k_letters(data, cls, i, j, n, stage1, stage2):
    """End of o200k's first or second alternative at i (next character at j), or -1."""
    c = cls[i]
    prefix = not c & _PREFIX_EXCLUDED
    if prefix and j < n:
        end = _o200k_word(cls, j, n)
        if end >= 0:
            return _contraction(data, end, n, stage1, stage2, _ONE_LETTER)
    if c & (ut.O200K_UPPER | ut.O200K_LOWER):  # else U*W+ fails at i at once
        end = _o200k_word(cls, i, n)
        if end >= 0:
            return _contraction(data, end, n, stage1, stage2, _ONE_LETTER)
    start = -1
    if prefix and j < n and cls[j] & ut.O200K_UPPER:
        start = j
    if start < 0 and c & ut.O200K_UPPER:
        start = i
    if start < 0:
        return -1
    end = _run(cls, _run(cls, start, n, ut.O200K_UPPER), n, ut.O200K_LOWER)
    return _contraction(data, end, n, stage1, stage2, _ONE_LETTER)


@kernel(inline="always")
def _spaces(data, i, n):
    """End of the run of spaces starting at i."""
    while i < n and data[i] == _SPACE:
        i += 1
    return i


@kernel(**NO_REFCOUNT)
def _stage2_split(data, cls, i, n, one_digit):
    """End of the stage-2 split alternative that matches at i (i < n), or -1."""
    c = cls[i]
    size = _size(c)
    if c & ut.NUMBER:
        return i + size if one_digit else _run_numbers(cls, i, n, 3)
    blank = data[i] == _SPACE
    start = i + size if blank else i
    if start < n:
        first_end = start + _size(cls[start])
        if not cls[start] & _OTHER_EXCLUDED:
            end = _run_other(cls, first_end, n)
            if end > first_end:
                return _newlines(data, end, n, True)
    if not c & ut.SPACE:
        return -1
    k, _, last_newline = _whitespace(cls, i, n)
    if last_newline >= 0:
        return last_newline
    if not blank:
        return -1
    end = _spaces(data, i, n)
    if end == n or end < k:  # the text ends, or a whitespace character that is not a space follows
        return end
    return end - 1 if end - i >= 2 else -1


@kernel(**NO_REFCOUNT)
def _stage2_end(data, cls, i, n, one_digit):
    """End of the stage-2 pre-token at i: a split, else the run up to the next split."""
    end = _stage2_split(data, cls, i, n, one_digit)
    if end >= 0:
        return end
    j, first = i, True
    while j < n:
        c = cls[j]
        size = _size(c)
        if c & ut.LETTER or (data[j] == _SPACE and j + size < n and cls[j + size] & ut.LETTER):
            j = _run(cls, j + size, n, ut.LETTER)
        elif first or _stage2_split(data, cls, j, n, one_digit) < 0:
            j += size
        else:
            break
        first = False
    return j


@kernel(inline="always")
def next_end(data, cls, i, n, stage1, stage2, preset, split_digits):
    """End of the pre-token that starts at byte i of the text ``data[:n]`` (i < n, ``cls`` filled)."""
    if preset == STAGE2:
        return _stage2_end(data, cls, i, n, split_digits)
    c = cls[i]
    j = i + _size(c)
    b0 = data[i]
    if preset == O200K:
        end = _o200k_letters(data, cls, i, j, n, stage1, stage2)
        if end > i:
            return end
    elif b0 == _APOSTROPHE:
        if preset == GPT2:
            end = _gpt2_contraction(data, i, n)
        else:
            end = _contraction(data, i, n, stage1, stage2, ut.FOLD_SDMT if preset == CL100K else _ONE_LETTER)
        if end > i:
            return end
    if preset != O200K and c & ut.LETTER:
        return _run(cls, j, n, ut.LETTER)
    nxt, nsize = 0, 0
    if j < n:
        nxt = cls[j]
        nsize = _size(nxt)
    blank = b0 == _SPACE
    if preset != O200K:  # letters after an optional space (gpt2) or P character (the others)
        lead = blank if preset == GPT2 else (c & _PREFIX_EXCLUDED) == 0
        if lead and nxt & ut.LETTER:
            return _run(cls, j + nsize, n, ut.LETTER)
    if c & ut.NUMBER:
        if split_digits:
            return j
        return _run_numbers(cls, j, n, n if preset == GPT2 else 2)
    if preset == GPT2 and blank and nxt & ut.NUMBER:
        return j if split_digits else _run(cls, j + nsize, n, ut.NUMBER)
    if not c & _OTHER_EXCLUDED or (blank and nsize and not nxt & _OTHER_EXCLUDED):
        end = _run_other(cls, j + nsize if blank else j, n)
        if preset == GPT2:
            return end
        return _newlines(data, end, n, preset == O200K)
    k, last_start, last_newline = _whitespace(cls, i, n)
    if preset == CL100K and k == n:
        return n
    if preset != GPT2 and last_newline >= 0:
        return last_newline
    if k == n:
        return n
    if last_start > i:
        return last_start
    return j


@kernel(**NO_REFCOUNT)
def scan(data, cls, i, n, stage1, stage2, rule, split, out, count, limit):
    """Ends of the pre-tokens from byte i on, written to ``out[count:limit]`` until n; returns the new count."""
    while i < n and count < limit:
        i = next_end(data, cls, i, n, stage1, stage2, rule, split)
        out[count] = i
        count += 1
    return count


@kernel()
def spans(data, doc_ends, stage1, stage2, rule, split):
    out = np.empty(max(data.size, 1), dtype=np.int64)
    cls = np.empty(max(data.size, 1), dtype=np.uint8)
    count, i = np.int64(0), np.int64(0)
    for n in doc_ends:
        if i < n:
            classify(data, i, n, stage1, stage2, cls)
            count = scan(data, cls, i, n, stage1, stage2, rule, split, out, count, out.size)
            i = n
    return out[:count].copy()


# Counting: an open-addressing hash table (at most half full) whose 32-byte slots hold what a lookup
# needs, (key0, key1, row << 32 | length's low 32 bits, count), so most pre-tokens cost one probe of
# one slot.  A word of up to 16 bytes is its own key (bytes 0-7 and 8-15 packed; equal keys and
# lengths mean equal words); a longer one has its first 8 bytes and a 64-bit FNV-1a hash of all its
# bytes, and then its length and bytes are compared.  ``rows`` gives, per unique word (in order of
# first occurrence), its bytes' offset in ``arena`` and its length.
_PACKED = 16
_KEY0, _KEY1, _META, _COUNT = 0, 1, 2, 3
_LOW32 = (1 << 32) - 1
_BATCH = 32


@kernel(inline="always")
def _pack(data, start, end):
    """Bytes ``data[start:end]`` (at most 8) packed into 64 bits."""
    h = np.uint64(0)
    for k in range(start, end):
        h = (h << np.uint64(8)) | np.uint64(data[k])
    return h


@kernel(inline="always")
def _word_key(data, start, end):
    """(key0, key1): the packed bytes of a word of up to 16 bytes, else its first 8 and its FNV-1a hash."""
    length = end - start
    if length <= 8:
        return _pack(data, start, end), np.uint64(0)
    if length <= _PACKED:
        return _pack(data, start, start + 8), _pack(data, start + 8, end)
    h = np.uint64(14695981039346656037)
    for k in range(start, end):
        h = (h ^ np.uint64(data[k])) * np.uint64(1099511628211)
    return _pack(data, start, start + 8), h


@kernel(inline="always")
def _slot(key0, key1, mask):
    """Home slot: every bit of both keys mixed (MurmurHash3's 64-bit finalizer), then masked."""
    key = key0 ^ (key1 * np.uint64(0x9E3779B97F4A7C15))
    key = (key ^ (key >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
    key = (key ^ (key >> np.uint64(33))) * np.uint64(0xC4CEB9FE1A85EC53)
    return np.int64(key ^ (key >> np.uint64(33))) & mask


@kernel()
def _grow_rows(rows):
    grown = np.empty((2 * rows.shape[0], 2), dtype=np.int64)
    grown[: rows.shape[0]] = rows
    return grown


@kernel()
def _rehash(slots):
    """The slots moved into a table twice as large."""
    grown = np.zeros((2 * slots.shape[0], 4), dtype=np.int64)
    grown[:, _META] = -1
    mask = grown.shape[0] - 1
    for old in range(slots.shape[0]):
        if slots[old, _META] < 0:
            continue
        slot = _slot(np.uint64(slots[old, _KEY0]), np.uint64(slots[old, _KEY1]), mask)
        while grown[slot, _META] >= 0:
            slot = (slot + 1) & mask
        grown[slot] = slots[old]
    return grown


@kernel()
def table_counts(slots, used):
    """The count of every row, in row order."""
    counts = np.empty(used, dtype=np.int64)
    for slot in range(slots.shape[0]):
        if slots[slot, _META] >= 0:
            counts[slots[slot, _META] >> 32] = slots[slot, _COUNT]
    return counts


# The table lives across calls (a worker's pieces): each new word's bytes are copied into ``arena``
# (a call's input is gone by the next one); ``sizes`` holds (rows used, arena bytes used).


@kernel()
def count_into(data, doc_ends, stage1, stage2, rule, split, slots, rows, arena, sizes):
    """Add the pre-tokens of ``data`` to the table; returns (slots, rows, arena), grown as needed.

    Pre-tokens are scanned and counted in batches of ``_BATCH``; the table is grown before each
    batch so that ``_count_batch`` has room for all of them.
    """
    ends = np.empty(_BATCH, dtype=np.int64)
    keys = np.empty((_BATCH, 2), dtype=np.uint64)
    homes = np.empty(_BATCH, dtype=np.int64)
    cls = np.empty(max(data.size, 1), dtype=np.uint8)
    i = np.int64(0)
    for n in doc_ends:
        if i < n:
            classify(data, i, n, stage1, stage2, cls)
        while i < n:
            if 2 * (sizes[0] + _BATCH) > slots.shape[0] - 1:
                slots = _rehash(slots)
            if sizes[0] + _BATCH > rows.shape[0]:
                rows = _grow_rows(rows)
            batch = scan(data, cls, i, n, stage1, stage2, rule, split, ends, np.int64(0), np.int64(_BATCH))
            if sizes[1] + ends[batch - 1] - i > arena.size:
                arena = _grow_arena(arena, sizes[1] + ends[batch - 1] - i)
            _count_batch(data, i, ends, batch, keys, homes, slots, rows, arena, sizes)
            i = ends[batch - 1]
    return slots, rows, arena


@kernel(**NO_REFCOUNT)
def _count_batch(data, start, ends, batch, keys, homes, slots, rows, arena, sizes):
    """Count the pre-tokens ``data[start:ends[0]], ...`` (the table has room for all of them).

    Their slots are all read first (independent loads the processor overlaps), then looked up one
    by one.
    """
    used, arena_used = sizes[0], sizes[1]
    mask = slots.shape[0] - 1
    begin, touched = start, 0
    for b in range(batch):
        key0, key1 = _word_key(data, begin, ends[b])
        home = _slot(key0, key1, mask)
        touched += slots[home, _META]
        keys[b, 0], keys[b, 1], homes[b] = key0, key1, home
        begin = ends[b]
    if touched == 7:  # keeps the reads above; the lookups below do not depend on it
        sizes[1] = arena_used
    for b in range(batch):
        end = ends[b]
        length = end - start
        signed0, signed1, low = np.int64(keys[b, 0]), np.int64(keys[b, 1]), length & _LOW32
        slot = homes[b]
        while True:
            meta = slots[slot, _META]
            if meta < 0:
                for k in range(length):
                    arena[arena_used + k] = data[start + k]
                rows[used, 0], rows[used, 1] = arena_used, length
                slots[slot, _KEY0], slots[slot, _KEY1], slots[slot, _META], slots[slot, _COUNT] = (
                    signed0,
                    signed1,
                    (used << 32) | low,
                    1,
                )
                arena_used += length
                used += 1
                break
            if slots[slot, _KEY0] == signed0 and slots[slot, _KEY1] == signed1 and (meta & _LOW32) == low:
                row = meta >> 32
                if length <= _PACKED or (rows[row, 1] == length and _same_in(arena, rows[row, 0], data, start, length)):
                    slots[slot, _COUNT] += 1
                    break
            slot = (slot + 1) & mask
        start = end
    sizes[0], sizes[1] = used, arena_used


@kernel(inline="always")
def _same_in(arena, a, data, b, length):
    for k in range(length):
        if arena[a + k] != data[b + k]:
            return False
    return True


@kernel()
def _grow_arena(arena, need):
    grown = np.empty(max(2 * arena.size, need), dtype=np.uint8)
    grown[: arena.size] = arena
    return grown
