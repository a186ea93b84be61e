"""Where the time of ``bbpe train --from-counts COUNTS --vocab N`` goes (numba backend), phase by phase.

    bbpe count ../shared/corpora/train --max-bytes 100M --pattern cl100k -o /tmp/c100.parquet
    python scripts/profile_merge.py /tmp/c100.parquet 152000

Prints CPU and wall time of: reading the count file, flattening the words, the merge
loop (its lean state, then 1K, 10K, 50K and all merges; each run from scratch), and the
whole ``train_from_counts`` (the loop plus building the Tokenizer).  Results: reports/profile_merge.md.
"""

from __future__ import annotations

import sys
import time

from bbpe.formats import counts as counts_file
from bbpe.training.api import train_from_counts
from bbpe.training.loops import compiled as mn


def timed(label, f, *a, **k):
    w, c = time.perf_counter(), time.process_time()
    r = f(*a, **k)
    print(f"{label:58s} {time.process_time() - c:7.2f} s CPU {time.perf_counter() - w:7.2f} s wall", flush=True)
    return r


path, vocab = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 152_000
wc = timed("read count file (pyarrow -> dict)", counts_file.read, path)
counts = wc.counts
print(f"unique pre-tokens {len(counts):,}")
byte_tokens = [bytes([i]) for i in range(256)]
mn.learn_merges([(b"ab", 2)], list(byte_tokens), n_new_tokens=1)  # load kernels
words = list(counts.items())
flat = timed("flatten words to arrays (flatten_words)", mn.flatten_words, words, 256)
for n_new in (0, 1000, 10000, 50000, vocab - 256):
    label = f"learn_merges: state + {n_new:,} merges"
    timed(label, mn.learn_merges, flat, list(byte_tokens), n_new_tokens=n_new)
timed(
    f"whole train_from_counts (vocab {vocab:,}, numba)",
    train_from_counts,
    counts,
    vocab_size=vocab,
    pattern=wc.pattern,
    backend="numba",
)
