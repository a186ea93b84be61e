"""Check the compiled pre-tokenizer against ``regex`` on whole corpora (the full version of tests/test_scanner.py).

Every file (``*.txt``, ``*.txt.gz``, ``*.py`` under the given directories) is one document; for
every scanner key its pre-token ends and its counts must equal ``regex.findall`` on the decoded
text, and cutting it at every ``safe_cut`` point (every ``--cut-every`` bytes) must not change
the pre-tokens.  Prints one line per key and exits 1 on the first difference.

    python scripts/check_scanner.py ../shared/corpora/train ../shared/corpora/parallel
    python scripts/check_scanner.py "$(python -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')" --keys cl100k
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import regex

from bbpe.pretokenize.safe_cuts import safe_cut
from bbpe.pretokenize.scanner import SCANNERS, count_pretokens_compiled, pretoken_spans, scanner_pattern

KEYS = sorted({scanner_pattern(key): key for key in reversed(list(SCANNERS))}.values())  # one key per distinct regex


def documents(roots: list[str]):
    for root in roots:
        paths = [Path(root)] if Path(root).is_file() else sorted(Path(root).rglob("*"))
        for path in paths:
            if path.name.endswith((".txt", ".py")):
                yield path, path.read_bytes().decode("utf-8", "replace")
            elif path.name.endswith(".txt.gz"):
                with gzip.open(path, "rb") as handle:
                    yield path, handle.read().decode("utf-8", "replace")


def check(text: str, key: str, cut_every: int) -> str | None:
    """None when everything agrees, else what differs."""
    pieces = regex.compile(scanner_pattern(key)).findall(text)
    data = text.encode()
    expected_ends = np.cumsum([len(piece.encode()) for piece in pieces], dtype=np.int64)
    ends = pretoken_spans(data, key)
    if not np.array_equal(ends, expected_ends):
        where = int(np.argmax(ends[: len(expected_ends)] != expected_ends[: len(ends)])) if len(ends) else 0
        return f"pre-tokens differ at pre-token {where} (byte {int(expected_ends[where]) if len(expected_ends) else 0})"
    if count_pretokens_compiled(data, key) != Counter(piece.encode() for piece in pieces):
        return "counts differ"
    if cut_every:
        cuts, p = [], safe_cut(data, cut_every, key)
        while p < len(data):
            cuts.append(p)
            p = safe_cut(data, p + cut_every, key)
        doc_ends = np.array([*cuts, len(data)], dtype=np.int64)
        if not np.array_equal(pretoken_spans(data, key, doc_ends=doc_ends), expected_ends):
            return f"cutting at {len(cuts)} safe points changes the pre-tokens"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="files or directories")
    parser.add_argument("--keys", nargs="+", default=KEYS, help="scanner keys (default: one per distinct regex)")
    parser.add_argument("--quiet", action="store_true", help="no progress line per document")
    parser.add_argument("--cut-every", type=int, default=4096, help="safe-cut spacing in bytes (0: no cut check)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = total = 0
    for path, text in documents(args.roots):
        files += 1
        total += len(text.encode())
        for key in args.keys:
            problem = check(text, key, args.cut_every)
            if problem:
                print(f"{path}: {key}: {problem}", file=sys.stderr)
                return 1
        if not args.quiet:
            print(f"ok {path} ({total / 1e6:.1f} MB so far, {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if not files:
        print("check_scanner: error: no *.txt, *.txt.gz or *.py files found", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"{files} documents, {total / 1e6:.1f} MB, keys {', '.join(args.keys)}: compiled == regex "
        f"(pre-tokens, counts, safe cuts every {args.cut_every} bytes) [{seconds:.0f} s]"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
