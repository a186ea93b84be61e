"""Compiled building blocks for the numba merge loop: growable rows, a hash table, a max-heap.

All are plain numpy arrays, so compiled functions can pass them around and grow them:

* rows: an array used up to a length the caller keeps; ``fit_rows`` returns a bigger copy;
* table: ``[key, value]`` int64 rows, open addressing with linear probing, value -1 = empty;
* heap: ``[priority, key, value]`` int64 rows, highest priority first, ties to the smaller key.

Importing this module raises ImportError when numba is not installed.
"""

from __future__ import annotations

import numpy as np

from bbpe._jit import kernel

_SPREAD = -7046029254386353131  # 0x9E3779B97F4A7C15 (Fibonacci hashing) as int64


@kernel()
def fit_rows(rows, need):
    """``rows``, or a copy with room for at least ``need`` rows (growing by half)."""
    if need <= rows.shape[0]:
        return rows
    bigger = np.empty((max(need, rows.shape[0] + rows.shape[0] // 2),) + rows.shape[1:], rows.dtype)
    bigger[: rows.shape[0]] = rows
    return bigger


@kernel()
def new_table(entries):
    """An empty table for ``entries`` keys at no more than half load."""
    size = 1024
    while size < 2 * entries:
        size *= 2
    table = np.empty((size, 2), np.int64)
    table[:, 1] = -1
    return table


@kernel()
def fit_table(table, entries):
    """``table``, or a rehashed copy at half load if ``entries`` keys would fill more than 70% of it."""
    if 10 * entries <= 7 * table.shape[0]:
        return table
    bigger = new_table(2 * entries)
    for slot in range(table.shape[0]):
        if table[slot, 1] != -1:
            bigger[find(bigger, table[slot, 0])] = table[slot]
    return bigger


@kernel()
def find(table, key):
    """The slot holding ``key``, or the empty slot (value -1) where it would go."""
    mask = table.shape[0] - 1
    slot = ((key * _SPREAD) >> 32) & mask
    while table[slot, 1] != -1 and table[slot, 0] != key:
        slot = (slot + 1) & mask
    return slot


@kernel()
def _above(heap, i, j):
    return heap[i, 0] > heap[j, 0] or (heap[i, 0] == heap[j, 0] and heap[i, 1] < heap[j, 1])


@kernel()
def _swap(heap, i, j):
    for column in range(3):
        heap[i, column], heap[j, column] = heap[j, column], heap[i, column]


@kernel()
def sift_down(heap, size, i):
    """Restore the heap order below row ``i`` (after its priority fell)."""
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and _above(heap, child + 1, child):
            child += 1
        if not _above(heap, child, i):
            return
        _swap(heap, i, child)
        i = child


@kernel()
def heapify(heap, size):
    for i in range(size // 2 - 1, -1, -1):
        sift_down(heap, size, i)


@kernel()
def heap_push(heap, size, priority, key, value):
    """Add a row (the heap must have room); returns the new size."""
    heap[size, 0] = priority
    heap[size, 1] = key
    heap[size, 2] = value
    i = size
    while i > 0 and _above(heap, i, (i - 1) // 2):
        _swap(heap, i, (i - 1) // 2)
        i = (i - 1) // 2
    return size + 1


@kernel()
def heap_drop_top(heap, size):
    """Remove the top row; returns the new size."""
    size -= 1
    heap[0] = heap[size]
    sift_down(heap, size, np.int64(0))
    return size
