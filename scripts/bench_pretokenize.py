"""Benchmark pre-tokenization + counting: the compiled scanner against ``regex.findall`` + ``Counter``.

One mixed sample (the first lines of every file of the corpus directory, in proportion to its
size; see scripts/sample_corpus.py) is pre-tokenized and counted as one document, single-threaded,
per preset: compiled = ``count_pretokens_compiled(bytes)``, peer = ``Counter(pattern.findall(str))``
(decoding is excluded from both).  The compiled path is also timed in parts: scanning alone
(``pretoken_spans``) and scanning + the compiled count table (``CountTable.add``, no Python dict).
"worker path" is what a ``bbpe train`` worker does with one work unit: ~1 MB byte pieces ending at
safe cuts, each decoded, then ``TextCounter.count`` (compiled table, one dict per unit); its counts
must equal the compiled ones.  Each is timed ``--repeats`` times (median, wall and CPU time of
this process); the two count tables are checked to be identical.  The compiled scanner's one-off
start-up (first call: class tables + numba loading its cache or compiling) is reported apart.

    python scripts/bench_pretokenize.py                          # ~20 MB of ../shared/corpora/train
    python scripts/bench_pretokenize.py --bytes 2e6 --repeats 1 --out /tmp/bench   # smoke test

Writes OUT/bench_pretokenize.md and OUT/bench_pretokenize.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from importlib import metadata
from pathlib import Path

import regex
from sample_corpus import sample

from bbpe.output import atomic_write
from bbpe.pretokenize.safe_cuts import cut_rule
from bbpe.pretokenize.scanner import CountTable, count_pretokens_compiled, pretoken_spans, scanner_pattern
from bbpe.training.counting.pretokens import CountSettings, TextCounter

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path(os.environ.get("BBPE_DATA_DIR", REPO.parent / "shared" / "corpora")) / "train"
KEYS = ("gpt2", "cl100k", "o200k", "llama3", "qwen", "cl100k+split-digits", "o200k+split-digits")


def timed(function, *args) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def count_table(data: bytes, key: str) -> int:
    """Scan and count into the compiled table only (no Python dict)."""
    table = CountTable(key)
    table.add(data)
    return len(table)


def worker_pieces(data: bytes, key: str, size: int = 1 << 20) -> list[bytes]:
    """``data`` cut at the first safe cut after every ``size`` bytes (as a worker reads a range)."""
    rule = cut_rule(scanner_pattern(key))
    pieces, start = [], 0
    while start < len(data):
        cut = rule.next_cut(data, start + size, len(data)) if rule else None
        end = cut if cut is not None else len(data)
        pieces.append(data[start:end])
        start = end
    return pieces


def worker_path(pieces: list[bytes], counter: TextCounter) -> dict[bytes, int]:
    """Decode every piece and count them all, as ``training.counting.count_unit`` does."""
    return counter.count(piece.decode("utf-8") for piece in pieces)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(DEFAULT_CORPUS), help="corpus directory (default: %(default)s)")
    parser.add_argument("--bytes", type=float, default=20e6, help="sample size in bytes (default: 20e6)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keys", nargs="+", default=list(KEYS), help="scanner keys (default: %(default)s)")
    parser.add_argument("--out", default=str(REPO / "reports"))
    args = parser.parse_args(argv)
    if not Path(args.corpus).is_dir():
        print(f"bench_pretokenize: error: corpus directory {args.corpus} not found", file=sys.stderr)
        return 2

    start = time.perf_counter()
    count_pretokens_compiled(b"warm up", "gpt2")
    startup = time.perf_counter() - start
    text = sample([args.corpus], int(args.bytes))
    data = text.encode()
    megabytes = len(data) / 1e6
    print(f"sample: {megabytes:.1f} MB; compiled start-up {startup:.2f} s", file=sys.stderr)

    rows = []
    for key in args.keys:
        compiled_regex = regex.compile(scanner_pattern(key))
        count_pretokens_compiled(b"warm up", key)
        runs: dict[str, list[tuple[float, float]]] = {
            "compiled": [],
            "regex": [],
            "scan": [],
            "table": [],
            "worker": [],
        }
        pieces, counter = worker_pieces(data, key), TextCounter(CountSettings(scanner_pattern(key)))
        for _ in range(args.repeats):
            runs["scan"].append(timed(pretoken_spans, data, key)[:2])
            runs["table"].append(timed(count_table, data, key)[:2])
            wall, cpu, in_worker = timed(worker_path, pieces, counter)
            runs["worker"].append((wall, cpu))
            wall, cpu, ours = timed(count_pretokens_compiled, data, key)
            runs["compiled"].append((wall, cpu))
            wall, cpu, theirs = timed(lambda pattern=compiled_regex: Counter(pattern.findall(text)))
            runs["regex"].append((wall, cpu))
        identical = ours == {word.encode(): n for word, n in theirs.items()} == in_worker
        row = {"key": key, "identical": identical, "unique_pretokens": len(ours), "pretokens": sum(ours.values())}
        for tool, times in runs.items():
            row[f"{tool}_wall_s"] = statistics.median(w for w, _ in times)
            row[f"{tool}_cpu_s"] = statistics.median(c for _, c in times)
            row[f"{tool}_mb_per_s_wall"] = megabytes / row[f"{tool}_wall_s"]
            row[f"{tool}_mb_per_s_cpu"] = megabytes / row[f"{tool}_cpu_s"]
        row["speedup_cpu"] = row["regex_cpu_s"] / row["compiled_cpu_s"]
        rows.append(row)
        print(
            f"{key}: compiled {row['compiled_mb_per_s_cpu']:.1f} MB/s, regex {row['regex_mb_per_s_cpu']:.1f} MB/s "
            f"(CPU), identical={identical}",
            file=sys.stderr,
        )

    versions = {name: metadata.version(name) for name in ("bbpe", "numba", "regex", "numpy")}
    machine = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    report = {
        "corpus": args.corpus,
        "sample_bytes": len(data),
        "repeats": args.repeats,
        "startup_s": startup,
        "versions": versions,
        "machine": machine,
        "results": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "bench_pretokenize.json", json.dumps(report, indent=2) + "\n")
    atomic_write(out / "bench_pretokenize.md", render(report))
    print(f"wrote {out / 'bench_pretokenize.md'} and .json", file=sys.stderr)
    return 0 if all(row["identical"] for row in rows) else 1


def render(report: dict) -> str:
    load = ", ".join(f"{x:.1f}" for x in report["machine"]["load_average"])
    lines = [
        "# Pre-tokenization + counting: compiled scanner vs regex",
        "",
        f"Sample: {report['sample_bytes'] / 1e6:.1f} MB of `{report['corpus']}` (scripts/sample_corpus.py), one document,",
        f"one thread; medians of {report['repeats']} runs.  MB/s per core = sample size / CPU time of the call "
        "(wall time beside it).",
        "compiled = `count_pretokens_compiled(bytes)` (scan + exact count + dict of bytes); "
        "regex = `Counter(pattern.findall(str))`; scan only = `pretoken_spans`; scan + count table = `CountTable.add`; "
        "worker path = ~1 MB pieces cut at safe cuts, decoded, `TextCounter.count` (what a `bbpe train` worker runs).",
        f"Compiled start-up (first call: class tables, numba cache load or compile): {report['startup_s']:.2f} s, not included.",
        f"Load average when run: {load} on {report['machine']['cpus']} cores"
        " (a busy machine gives lower figures; rerun on an idle one for final numbers).",
        "",
        "| preset | compiled MB/s (CPU) | regex MB/s (CPU) | speed-up | compiled MB/s (wall) | regex MB/s (wall) "
        "| scan only MB/s (CPU) | scan + count table MB/s (CPU) | worker path MB/s (CPU) | pre-tokens | unique "
        "| identical counts |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['key']} | {r['compiled_mb_per_s_cpu']:.1f} | {r['regex_mb_per_s_cpu']:.1f} | {r['speedup_cpu']:.1f}x "
            f"| {r['compiled_mb_per_s_wall']:.1f} | {r['regex_mb_per_s_wall']:.1f} | {r['scan_mb_per_s_cpu']:.1f} "
            f"| {r['table_mb_per_s_cpu']:.1f} | {r['worker_mb_per_s_cpu']:.1f} | {r['pretokens']:,} | {r['unique_pretokens']:,} "
            f"| {'yes' if r['identical'] else '**NO**'} |"
        )
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    lines += ["", f"Python {report['machine']['python']}, {versions}; {report['machine']['platform']}.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
