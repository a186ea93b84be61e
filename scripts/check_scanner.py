"""Check the compiled pre-tokenizer against ``regex`` on whole corpora (the full version of tests/test_scanner.py).

Every file (``*.txt``, ``*.txt.gz``, ``*.py`` under the given directories) is one document; for
every scanner key its pre-token ends and its counts must equal ``regex.findall`` on the decoded
text, and cutting it at every ``safe_cut`` point (every ``--cut-every`` bytes) must not change
the pre-tokens.  Prints one line per document and exits 1 on the first difference; at the end the
pre-tokens per key (``--report FILE`` also writes them as Markdown).

    python scripts/check_scanner.py ../shared/corpora/train ../shared/corpora/parallel
    python scripts/check_scanner.py ../shared/corpora .venv/lib --report reports/check_scanner.md
    python scripts/check_scanner.py "$(python -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')" --keys cl100k
"""

from __future__ import annotations

import argparse
import gzip
import platform
import shlex
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import regex

from bbpe.pretokenize.safe_cuts import cut_rule, cuts
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


def check(text: str, key: str, cut_every: int, cut_cache: dict[str, list[int]]) -> tuple[str | None, int]:
    """(None when everything agrees, else what differs; the number of pre-tokens).

    ``cut_cache`` keeps the chosen cuts of this text per rule (several keys share a rule).
    """
    pieces = regex.compile(scanner_pattern(key)).findall(text)
    data = text.encode()
    expected_ends = np.cumsum([len(piece.encode()) for piece in pieces], dtype=np.int64)
    ends = pretoken_spans(data, key)
    if not np.array_equal(ends, expected_ends):
        where = int(np.argmax(ends[: len(expected_ends)] != expected_ends[: len(ends)])) if len(ends) else 0
        byte = int(expected_ends[where]) if len(expected_ends) else 0
        return f"pre-tokens differ at pre-token {where} (byte {byte})", len(pieces)
    if count_pretokens_compiled(data, key) != Counter(piece.encode() for piece in pieces):
        return "counts differ", len(pieces)
    rule = cut_rule(scanner_pattern(key))
    if cut_every and rule is not None:
        if rule.name not in cut_cache:
            chosen: list[int] = []
            for p in cuts(data, rule):  # the first safe cut at least cut_every bytes after the previous one
                if p - (chosen[-1] if chosen else 0) >= cut_every:
                    chosen.append(p)
            cut_cache[rule.name] = chosen
        chosen = cut_cache[rule.name]
        doc_ends = np.array([*chosen, len(data)], dtype=np.int64)
        if not np.array_equal(pretoken_spans(data, key, doc_ends=doc_ends), expected_ends):
            return f"cutting at {len(chosen)} safe points changes the pre-tokens", len(pieces)
    return None, len(pieces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", help="files or directories")
    parser.add_argument("--keys", nargs="+", default=KEYS, help="scanner keys (default: one per distinct regex)")
    parser.add_argument("--quiet", action="store_true", help="no progress line per document")
    parser.add_argument("--cut-every", type=int, default=4096, help="safe-cut spacing in bytes (0: no cut check)")
    parser.add_argument("--report", help="also write the result as Markdown to this file")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    files = total = 0
    pretokens = dict.fromkeys(args.keys, 0)
    command = shlex.join(["python", "scripts/check_scanner.py", *(argv if argv is not None else sys.argv[1:])])
    failure = None
    for path, text in documents(args.roots):
        cut_cache: dict[str, list[int]] = {}
        files += 1
        total += len(text.encode())
        for key in args.keys:
            problem, found = check(text, key, args.cut_every, cut_cache)
            pretokens[key] += found
            if problem:
                failure = f"{path}: {key}: {problem}"
                break
        if failure:
            print(failure, file=sys.stderr)
            break
        if not args.quiet:
            print(f"ok {path} ({total / 1e6:.1f} MB so far, {time.perf_counter() - started:.0f} s)", file=sys.stderr)
        if args.report:  # after every document, so an interrupted run leaves what it checked
            seconds = time.perf_counter() - started
            note = f"**Incomplete**: stopped or still running after `{path}`."
            Path(args.report).write_text(render(command, files, total, args.cut_every, pretokens, None, seconds, note))
    if not files:
        print("check_scanner: error: no *.txt, *.txt.gz or *.py files found", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    verdict = "NOT EQUAL: " + failure if failure else "compiled == regex"
    print(
        f"{files} documents, {total / 1e6:.1f} MB, keys {', '.join(args.keys)}: {verdict} "
        f"(pre-tokens, counts, safe cuts every {args.cut_every} bytes) [{seconds:.0f} s]"
    )
    if args.report:
        Path(args.report).write_text(render(command, files, total, args.cut_every, pretokens, failure, seconds))
    return 1 if failure else 0


def render(
    command: str,
    files: int,
    total: int,
    cut_every: int,
    pretokens: dict[str, int],
    failure: str | None,
    seconds: float,
    note: str = "",
) -> str:
    """The result as Markdown: the command, what was read, pre-tokens per key and whether they are equal."""
    lines = [
        "# Compiled scanner == regex on whole corpora",
        "",
        f"`{command}`",
        "",
        f"{files} documents (every `*.txt`, `*.txt.gz`, `*.py` file is one document), {total / 1e6:.1f} MB of UTF-8; "
        f"per key: pre-token ends and counts equal to `regex.findall`, and cutting each document at safe cuts "
        f"every {cut_every} bytes changes nothing.  {seconds / 60:.0f} min on a busy machine; "
        f"Python {platform.python_version()}.",
        "",
        "| key | pre-tokens | equal |",
        "|---|---|---|",
    ]
    failed_key = failure.split(": ")[1] if failure else None
    for key, found in pretokens.items():
        equal = "**no**" if key == failed_key else "not reached" if failure and not found else "yes"
        lines.append(f"| {key} | {found:,} | {equal} |")
    if failure:
        lines += ["", f"First difference: {failure}"]
    if note:
        lines += ["", note]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
