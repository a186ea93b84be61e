"""Check scripts/synthetic_corpus.py against the real text it models: unique pre-tokens against corpus size.

Counts (``bbpe count``, cl100k, 2 workers) the real corpus's deterministic mixed samples (``sample_corpus``) and
the same-size prefixes of one synthetic corpus made from the real corpus's counts; fits Heaps' law
``unique = K * bytes ** beta`` to each; and reports the rank-frequency slopes of the real counts.  The
generator's two free parameters (``--tail-exponent``, ``--repeat``) were chosen by running this with a few
values and keeping the pair whose curve is closest to the real one.

    python scripts/synthetic_calibrate.py --corpus ../shared/corpora/train --sizes 10MB,30MB,100MB,325MB

Writes OUT/synthetic_corpus.md, .json and .png (``--out``, default reports/); the work directory keeps the
samples, count files and the synthetic text (large: delete it when done).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import synthetic_corpus as synthetic
from sample_corpus import sample, uncompressed_size

from bbpe.corpus.reading import expand_paths
from bbpe.output import atomic_write

HERE = Path(__file__).resolve().parent


def count(text: Path, out: Path, *, max_bytes: int | None = None) -> dict[str, int]:
    """``bbpe count`` of ``text`` (its first ``max_bytes``) into ``out``: unique and total pre-tokens."""
    if not out.exists():
        limit = ["--max-bytes", str(max_bytes)] if max_bytes else []
        bbpe = [sys.executable, "-m", "bbpe", "count", str(text), "-o", str(out), "--pattern", "cl100k"]
        subprocess.run([*bbpe, "--workers", "2", "-q", *limit], check=True)
    import pyarrow.parquet as pq

    table = pq.read_table(out, columns=["count"])
    return {"unique": table.num_rows, "pretokens": int(table.column("count").to_numpy().sum())}


def heaps(points: list[dict]) -> dict[str, float]:
    """Least-squares fit of log(unique) = log(K) + beta * log(bytes)."""
    x = np.log([p["bytes"] for p in points])
    y = np.log([p["unique"] for p in points])
    beta, log_k = np.polyfit(x, y, 1)
    return {"K": float(np.exp(log_k)), "beta": float(beta)}


def rank_slopes(counts_file: Path) -> list[dict]:
    """Slope of log(count) against log(rank) between decades of rank."""
    import pyarrow.parquet as pq

    counts = np.sort(pq.read_table(counts_file, columns=["count"]).column("count").to_numpy())[::-1]
    slopes = []
    for low in (10, 100, 1000, 10_000, 100_000):
        high = low * 10
        if high <= len(counts):
            slope = np.log(counts[high - 1] / counts[low - 1]) / np.log(10)
            slopes.append({"ranks": f"{low:,}-{high:,}", "slope": round(float(slope), 3)})
    return slopes


def figure(path: Path, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, style in (("real", "o-"), ("synthetic", "s--")):
        rows = report[name]
        ax.loglog([r["bytes"] / 1e6 for r in rows], [r["unique"] for r in rows], style, label=name)
    fit = report["heaps"]["real"]
    xs = np.geomspace(10, 10_000, 50)
    ax.loglog(xs, fit["K"] * (xs * 1e6) ** fit["beta"], ":", color="gray", label="real, Heaps fit extended")
    ax.set(xlabel="corpus (MB)", ylabel="unique cl100k pre-tokens", title="Vocabulary growth: real vs synthetic")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def markdown(report: dict) -> str:
    real = {r["bytes"]: r for r in report["real"]}
    lines = [
        "# Synthetic corpus: calibration against the real text",
        "",
        f"`{report['command']}`  ",
        f"Real: deterministic mixed samples of `{report['corpus']}` ({report['corpus_bytes'] / 1e6:,.1f} MB). "
        f"Synthetic: prefixes of one `scripts/synthetic_corpus.py` output (seed {report['seed']}, "
        f"tail exponent {report['tail_exponent']}, repeat {report['repeat']}, head = words counted "
        f"{report['head_min_count']}+ times) generated from the counts of the whole real corpus. "
        "Pre-tokens counted by `bbpe count --pattern cl100k`.",
        "",
        "| MB | real unique | synthetic unique | ratio | real bytes/pre-token | synthetic bytes/pre-token |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in report["synthetic"]:
        ref = real.get(row["bytes"])
        cells = (
            [f"{ref['unique']:,}", f"{row['unique']:,}", f"{row['unique'] / ref['unique']:.3f}"]
            if ref
            else ["-", f"{row['unique']:,}", "-"]
        )
        ref_bpt = f"{ref['bytes'] / ref['pretokens']:.2f}" if ref else "-"
        lines.append(
            f"| {row['bytes'] / 1e6:,.0f} | {' | '.join(cells)} | {ref_bpt} | {row['bytes'] / row['pretokens']:.2f} |"
        )
    fits = report["heaps"]
    lines += [
        "",
        f"Heaps' law fits (unique = K x bytes^beta): real K = {fits['real']['K']:.3g}, beta = "
        f"{fits['real']['beta']:.3f}; synthetic K = {fits['synthetic']['K']:.3g}, beta = "
        f"{fits['synthetic']['beta']:.3f}.",
        "",
        "Rank-frequency slopes of the real counts (whole corpus): "
        + ", ".join(f"ranks {s['ranks']}: {s['slope']}" for s in report["rank_slopes"])
        + ".",
        "",
        "![unique pre-tokens against corpus size](synthetic_corpus.png)",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(HERE.parents[1] / "shared/corpora/train"))
    parser.add_argument("--sizes", default="10MB,30MB,100MB,325MB", help="sizes to compare (the last may be the whole)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tail-exponent", type=float, default=synthetic.TAIL_EXPONENT)
    parser.add_argument("--repeat", type=float, default=synthetic.REPEAT)
    parser.add_argument("--head-min-count", type=int, default=synthetic.HEAD_MIN_COUNT)
    parser.add_argument("--workdir", default="/tmp/bbpe-synthetic")
    parser.add_argument("--out", default=str(HERE.parent / "reports"))
    args = parser.parse_args(argv)
    work, out = Path(args.workdir), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    whole = sum(uncompressed_size(p) for p in expand_paths([args.corpus]))
    sizes = [min(synthetic.parse_size(s), whole) for s in args.sizes.split(",")]
    real_counts = work / "real_all.parquet"
    real = []
    for size in sizes:
        if size == whole:
            measured = count(Path(args.corpus), real_counts)
        else:
            text = work / f"real_{size}.txt"
            if not text.exists():
                atomic_write(text, sample([args.corpus], size))
            measured = count(text, work / f"real_{size}.parquet")
        real.append({"bytes": size, **measured})
        print(f"real {size / 1e6:8,.0f} MB: {measured}", flush=True)
    tag = f"s{args.seed}_a{args.tail_exponent}_r{args.repeat}_h{args.head_min_count}"
    text = work / f"synthetic_{tag}.txt"
    started = time.monotonic()
    model = synthetic.build_model(real_counts, head_min_count=args.head_min_count, exponent=args.tail_exponent)
    synthetic.generate(model, text, max(sizes), seed=args.seed, repeat=args.repeat, window=synthetic.WINDOW, jobs=2)
    generated = time.monotonic() - started
    rows = []
    for size in sizes:
        measured = count(text, work / f"synthetic_{tag}_{size}.parquet", max_bytes=size)
        rows.append({"bytes": size, **measured})
        print(f"synthetic {size / 1e6:8,.0f} MB: {measured}", flush=True)
    report = {
        "command": " ".join(
            ["python", "scripts/synthetic_calibrate.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "corpus": args.corpus,
        "corpus_bytes": whole,
        "seed": args.seed,
        "tail_exponent": args.tail_exponent,
        "repeat": args.repeat,
        "head_min_count": args.head_min_count,
        "generation_seconds": round(generated, 1),
        "load": [round(x, 2) for x in os.getloadavg()],
        "real": real,
        "synthetic": rows,
        "heaps": {"real": heaps(real), "synthetic": heaps(rows)},
        "rank_slopes": rank_slopes(real_counts),
    }
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "synthetic_corpus.json", json.dumps(report, indent=1))
    atomic_write(out / "synthetic_corpus.md", markdown(report))
    figure(out / "synthetic_corpus.png", report)
    print(json.dumps(report["heaps"]), f"wrote {out / 'synthetic_corpus.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
