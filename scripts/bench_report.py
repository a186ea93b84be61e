"""Benchmark ``bbpe compress-report``: the whole command, median of several runs.

Default workload: the parallel corpora of the data directory, every reference found, and
the two tokenizers of the main job (``.cache/bbpe-main/latest.json``; if absent, two
152K-class tokenizers are trained on a 10 MB sample into ``.cache/bbpe-bench`` first).
The peer is the same command with one encoding thread.  Target: under 60 s on 2 cores.
Writes ``reports/bench_report.md``.  Run it on an otherwise idle machine.

    python scripts/bench_report.py                  # 3 runs each, parallel and one thread
    python scripts/bench_report.py --runs 1 --corpus ../shared/corpora/parallel/udhr --out /tmp/b
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bbpe.cli import main as cli  # noqa: E402
from bbpe.cli.report import MAIN_JOB_INDEX, versions  # noqa: E402
from bbpe.output import atomic_write  # noqa: E402
from bbpe.references import REFERENCES  # noqa: E402

TARGET_SECONDS = 60.0


def trained_tokenizers() -> list[str]:
    """The main job's tokenizers, or two quickly trained stand-ins of the same sizes."""
    index = REPO / MAIN_JOB_INDEX
    if not index.is_file():
        import main_job

        cache = REPO / ".cache" / "bbpe-bench"
        print(f"no {index}; training two stand-in tokenizers into {cache}", file=sys.stderr)
        main_job.prepare_tokenizers(
            main_job.locate_data()[0],
            cache,
            train_bytes=10_000_000,
            vocab=152_000,
            ext_vocab=151_643,
            workers=None,
            quiet=True,
        )
        index = cache / "latest.json"
    listed = json.loads(index.read_text(encoding="utf-8"))["tokenizers"]
    return [str(index.parent / item) for item in listed]


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo where available."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def time_runs(command: list[str], runs: int) -> list[float]:
    seconds = []
    for run in range(runs):
        with tempfile.TemporaryDirectory(prefix="bbpe-bench-") as out:
            started = time.perf_counter()
            code = cli([*command, "--out", out, "--quiet"])
            seconds.append(time.perf_counter() - started)
        if code != 0:
            raise SystemExit(f"bench_report: compress-report failed (exit {code})")
        print(f"  run {run + 1}/{runs}: {seconds[-1]:.1f} s", file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--corpus", action="append", help="corpus directories (default: the parallel corpora)")
    parser.add_argument("--no-peer", action="store_true", help="skip the one-thread runs")
    parser.add_argument("--out", default=str(REPO / "reports"), help="where bench_report.md goes")
    args = parser.parse_args(argv)
    tokenizers = [*REFERENCES, *trained_tokenizers()]
    command = ["compress-report", *(f for t in tokenizers for f in ("--tokenizer", t))]
    command += [f for c in args.corpus or [] for f in ("--corpus", c)]
    print(f"compress-report with {len(tokenizers)} tokenizers, {os.cpu_count()} threads:", file=sys.stderr)
    parallel = time_runs(command, args.runs)
    serial: list[float] = []
    if not args.no_peer:
        print("peer, one thread:", file=sys.stderr)
        serial = time_runs([*command, "--workers", "1"], args.runs)
    median = statistics.median(parallel)
    lines = [
        "# Benchmark: `bbpe compress-report`",
        "",
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; {cpu_name()}, {os.cpu_count()} cores; "
        + "; ".join(f"{k} {v}" for k, v in versions().items())
        + ".",
        "",
        f"Workload: {len(tokenizers)} tokenizers ({', '.join(Path(t).stem for t in tokenizers)}) on "
        f"{', '.join(args.corpus) if args.corpus else 'the default parallel corpora (NTREX-128, UDHR)'}: the whole "
        "command (open tokenizers, read corpora, encode every language, vocab-size curves, tables, figures, writes).",
        "",
        "| setting | runs (s) | median (s) |",
        "| --- | --- | ---: |",
        f"| {os.cpu_count()} encoding threads | {', '.join(f'{s:.1f}' for s in parallel)} | {median:.1f} |",
    ]
    if serial:
        lines.append(
            f"| 1 encoding thread (peer) | {', '.join(f'{s:.1f}' for s in serial)} | {statistics.median(serial):.1f} |"
        )
        lines += ["", f"Speed-up over one thread: {statistics.median(serial) / median:.2f}x."]
    verdict = "meets" if median < TARGET_SECONDS else "misses"
    lines += ["", f"Target: under {TARGET_SECONDS:.0f} s on 2 cores — the median {verdict} it.", ""]
    Path(args.out).mkdir(parents=True, exist_ok=True)
    atomic_write(Path(args.out) / "bench_report.md", "\n".join(lines))
    print(f"median {median:.1f} s; wrote {Path(args.out) / 'bench_report.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
