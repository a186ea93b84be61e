"""``bbpe tokenize`` scaling: workers 1 and 2 on the same input, whole processes, peak memory of the process tree.

The input is real text (``../shared/corpora/train`` when present, else the default data's ``train``)
concatenated into one file of ``--mb`` MB (the corpus repeated when it is smaller), in a temporary folder
that is removed afterwards.  Each run's outputs are checked byte for byte against the single-worker run.

    python scripts/bench_tokenize.py --mb 1000            # 1 GB, cl100k_base (idle machine!)
    python scripts/bench_tokenize.py --mb 20 --repeats 1 --out /tmp/b   # smoke test

Writes OUT/bench_tokenize.md and .json.
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bench_train import measure  # noqa: E402

from bbpe.output import atomic_write  # noqa: E402


def build_input(path: Path, total: int) -> int:
    """``total`` bytes of real training text in one file (whole lines; the corpus repeated if needed)."""
    from bbpe.cli.report import data_dir

    shared = REPO.parent / "shared" / "corpora" / "train"
    source = shared if shared.is_dir() else (data_dir() or Path(".")) / "train"
    files = sorted(source.glob("*.txt*"))
    written = 0
    with open(path, "wb") as out:
        while written < total:
            for file in files:
                opener = gzip.open if file.suffix == ".gz" else open
                with opener(file, "rb") as handle:
                    data = handle.read(min(4_000_000, total - written))
                data = data[: data.rfind(b"\n") + 1]
                out.write(data)
                written += len(data)
                if written >= total:
                    break
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1000.0)
    parser.add_argument("--vocab", default="cl100k_base")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bbpe-bench-tokenize-"))
    try:
        text = work / "input.txt"
        size = build_input(text, int(args.mb * 1e6))
        runs: dict[int, list[dict[str, float]]] = {}
        for workers in (1, 2):
            for repeat in range(args.repeats):
                out = work / f"w{workers}-{repeat}.bin"
                argv = [
                    sys.executable,
                    "-m",
                    "bbpe",
                    "tokenize",
                    args.vocab,
                    str(text),
                    "-o",
                    str(out),
                    "--workers",
                    str(workers),
                    "--quiet",
                ]
                run, problem = measure(argv, 24 * 3600, work / "log.txt")
                if run is None:
                    raise SystemExit(f"bbpe tokenize failed: {problem}")
                if not filecmp.cmp(out, work / "w1-0.bin", shallow=False):
                    raise SystemExit(f"workers={workers}: the token file differs from the single-worker one")
                runs.setdefault(workers, []).append(
                    {
                        "wall_s": run.wall,
                        "cpu_s": run.cpu,
                        "rss_tree_mb": run.rss_tree_mb,
                        "mb_per_s": size / 1e6 / run.wall,
                    }
                )
                if repeat or workers > 1:
                    out.unlink()
        manifest = json.loads((work / "w1-0.json").read_text())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    median = {w: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for w, rs in runs.items()}
    result = {
        "mb": size / 1e6,
        "vocab": args.vocab,
        "tokens": manifest["tokens"],
        "runs": runs,
        "median": median,
        "note": args.note,
    }
    lines = [
        "# bbpe tokenize: workers",
        "",
        f"`python scripts/bench_tokenize.py --mb {args.mb:g} --vocab {args.vocab} --repeats {args.repeats}`: "
        f"{size / 1e6:,.0f} MB of real text in one file, {manifest['tokens']:,} tokens; whole processes, medians; "
        "peak RSS of the process tree (workers included). Outputs byte-identical for every worker count. " + args.note,
        "",
        "| workers | wall s | MB/s | x 1 worker | CPU s | peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for workers, row in median.items():
        lines.append(
            f"| {workers} | {row['wall_s']:.1f} | {row['mb_per_s']:.1f} | {median[1]['wall_s'] / row['wall_s']:.2f} | "
            f"{row['cpu_s']:.1f} | {row['rss_tree_mb']:,.0f} |"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / "bench_tokenize.md", "\n".join(lines) + "\n")
    atomic_write(args.out / "bench_tokenize.json", json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
