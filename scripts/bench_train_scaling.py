"""The scaling mode of scripts/bench_train.py: time and memory against corpus size and unique pre-tokens.

Trainers, each at ``--scaling-vocab`` (152K) on the same text per size, every run a child process timed from
the outside (wall, CPU, peak RSS of the process tree, load average at its start and end):

* ``bbpe-numba``: ``bbpe train TEXT`` (counting and merging in one process tree);
* ``bbpe-counts`` / ``bbpe-counts-min2``: ``bbpe count TEXT -o DIR/`` (2 workers) then ``bbpe train
  --from-counts DIR/`` (``--min-count 2`` for the second; both share one measured count of the text);
* ``rustbpe`` (cl100k, lines from a Python iterator) and ``gigatoken`` (its own GPT-2-style pattern), as in
  ``bench_peers``.

Inputs: up to the real corpus's size, its deterministic mixed sample (``sample_corpus``); beyond it, a prefix of
the synthetic corpus of ``synthetic_corpus`` modelled on the corpus's counts (seed 0), so larger sizes bring new
words as real text does.  A run over ``--max-seconds`` or ``--max-rss-gb`` is stopped and noted.  Rows are
merged into OUT/bench_train_scaling.json by (trainer, size), so sizes can be run in separate invocations.

Writes OUT/bench_train_scaling.json and .png and the "Scaling" section of OUT/bench_train.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import synthetic_corpus as synthetic
from sample_corpus import sample, uncompressed_size

from bbpe.corpus.reading import expand_paths
from bbpe.output import atomic_write

SCALING_TOOLS = ("bbpe-numba", "bbpe-counts", "bbpe-counts-min2", "rustbpe", "gigatoken")
HEADING = "## Scaling"


def loads() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def scaling_input(corpus: str, size: int, work: Path) -> tuple[Path, str]:
    """A training file of about ``size`` bytes (whole lines), and what it is: a sample or synthetic text."""
    whole = sum(uncompressed_size(p) for p in expand_paths([corpus]))
    kind = "real sample" if size <= whole else "synthetic"
    path = work / f"scaling_{size}.txt"
    if not path.exists():
        longer = sorted(work.glob("scaling_*.txt"), key=lambda p: int(p.stem.split("_")[1]))
        longer = [p for p in longer if int(p.stem.split("_")[1]) > size > whole]
        if kind == "real sample":
            atomic_write(path, sample([corpus], size))
        elif longer:  # a shorter synthetic text is a prefix of a longer one (same model and seed)
            copy_prefix(longer[0], path, size)
        else:
            model = synthetic.build_model(
                corpus_counts(corpus, work), head_min_count=synthetic.HEAD_MIN_COUNT, exponent=synthetic.TAIL_EXPONENT
            )
            synthetic.generate(model, path, size, seed=0, repeat=synthetic.REPEAT, window=synthetic.WINDOW, jobs=2)
    return path, kind


def copy_prefix(source: Path, path: Path, size: int) -> None:
    """The first ``size`` bytes of ``source`` cut after its last newline, written to ``path``."""
    temp = path.with_name(path.name + ".tmp")
    with open(source, "rb") as reader, open(temp, "wb") as writer:
        left = size
        while left > 0:
            block = reader.read(min(left, 64 << 20))
            if not block:
                break
            left -= len(block)
            writer.write(block if left > 0 else block[: block.rfind(b"\n") + 1])
    os.replace(temp, path)


def corpus_counts(corpus: str, work: Path) -> Path:
    """The real corpus counted once (cl100k): the synthetic text's model."""
    out = work / "corpus_counts.parquet"
    if not out.exists():
        argv = [sys.executable, "-m", "bbpe", "count", corpus, "-o", str(out), "--pattern", "cl100k", "-q"]
        subprocess.run(argv, check=True)
    return out


def unique_pretokens(model: Path) -> int | None:
    """The unique pre-tokens bbpe counted, from its model file's training metadata."""
    try:
        return int(json.loads(model.read_text())["metadata"]["training"]["unique_pretokens"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def counted_words(directory: Path, min_count: int = 1) -> int:
    """Words in a ``bbpe count`` directory counted at least ``min_count`` times."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    total = 0
    for part in sorted(directory.glob("part-*.parquet")):
        counts = pq.read_table(part, columns=["count"]).column("count")
        total += len(counts) if min_count <= 1 else int(pc.sum(pc.greater_equal(counts, min_count)).as_py() or 0)
    return total


def stage_argv(tool: str, text: Path, vocab: int, model: Path, counts: Path) -> list[list[str]]:
    """The commands of one run: one, or the count and the train of the two-step bbpe runs."""
    from bench_train import command

    if not tool.startswith("bbpe-counts"):
        return [command(tool, text, vocab, model)]
    bbpe = [sys.executable, "-m", "bbpe"]
    count = [*bbpe, "count", str(text), "-o", f"{counts}/", "--pattern", "cl100k", "--workers", "2"]
    train = [*bbpe, "train", "--from-counts", f"{counts}/", "--vocab", str(vocab), "-o", str(model)]
    train += ["--backend", "numba"] + (["--min-count", "2"] if tool.endswith("min2") else [])
    return [count, train]


def run(args: argparse.Namespace, argv: list[str]) -> int:
    """Every trainer of ``--scaling-tools`` on every size of ``--scaling``; rows merged into the report."""
    from bench_train import command, measure, parse_setting, versions

    work, out = Path(args.workdir), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    tools = [t for t in args.scaling_tools.split(",") if t]
    unknown = set(tools) - set(SCALING_TOOLS)
    if unknown:
        raise SystemExit(f"unknown scaling tools {sorted(unknown)}; choose from {', '.join(SCALING_TOOLS)}")
    sizes = [parse_setting(f"{args.scaling_vocab}@{size}")[1] for size in args.scaling.split(",") if size]
    vocab = args.scaling_vocab
    warm = work / "warm_up.txt"  # load (or compile) the numba cache before timing
    atomic_write(warm, "".join(f"word{i} and more words {i % 7}\n" for i in range(5000)))
    subprocess.run(command("bbpe-numba", warm, 300, work / "warm_up.json"), check=True)
    command_line = " ".join(["python", "scripts/bench_train.py", *argv])
    for size in sizes:
        text, kind = scaling_input(args.corpus, size, work)
        counted: dict | None = None  # the count stage, shared by bbpe-counts and bbpe-counts-min2
        for tool in tools:
            model = work / f"scaling_{tool}_{vocab}_{size}.json"
            counts = work / f"scaling_counts_{size}"
            row: dict = {"tool": tool, "bytes": text.stat().st_size, "text": kind, "command": command_line}
            row |= {"load_start": loads(), "stages": [], "note": ""}
            for number, stage in enumerate(stage_argv(tool, text, vocab, model, counts)):
                if number == 0 and tool.startswith("bbpe-counts") and counted is not None:
                    row["stages"].append(counted | {"shared": True})
                    continue
                before = loads()
                measured, problem = measure(
                    stage,
                    args.max_seconds,
                    work / f"{tool}_{size}_{number}.log",
                    max_rss_mb=args.max_rss_gb * 1024 if args.max_rss_gb else None,
                )
                if measured is None:
                    row["note"] = problem
                    break
                figures = {"argv": " ".join(stage), "wall": measured.wall, "cpu": measured.cpu}
                figures |= {"rss_tree_mb": measured.rss_tree_mb, "load_start": before, "load_end": loads()}
                row["stages"].append(figures)
                if number == 0 and tool.startswith("bbpe-counts"):
                    counted = figures
            done = not row["note"]
            row["wall"] = sum(s["wall"] for s in row["stages"]) if done else None
            row["cpu"] = sum(s["cpu"] for s in row["stages"]) if done else None
            row["rss_tree_mb"] = max(s["rss_tree_mb"] for s in row["stages"]) if done else None
            row["load_end"] = loads()
            row["unique_pretokens"] = unique_pretokens(model) if done and tool.startswith("bbpe") else None
            if done and tool == "bbpe-counts-min2":
                row["kept_pretokens"] = counted_words(counts, 2)
            print(
                f"{tool:17s} {row['bytes'] / 1e6:8,.0f} MB  wall {row['wall']}  CPU {row['cpu']}  "
                f"RSS {row['rss_tree_mb']} MB  unique {row['unique_pretokens']}  {row['note']}",
                flush=True,
            )
            save(out, row, {"corpus": args.corpus, "vocab": vocab, "versions": versions()})
    print(f"wrote {out / 'bench_train_scaling.json'}, .png and the scaling section of {out / 'bench_train.md'}")
    return 0


def save(out: Path, row: dict, header: dict) -> None:
    """Merge ``row`` into the report (replacing the same trainer and size) and rewrite its outputs."""
    path = out / "bench_train_scaling.json"
    report = json.loads(path.read_text()) if path.exists() else {}
    rows = [r for r in report.get("rows", []) if (r["tool"], r["bytes"]) != (row["tool"], row["bytes"]) and "text" in r]
    report = header | {"rows": sorted([*rows, row], key=lambda r: (r["bytes"], SCALING_TOOLS.index(r["tool"])))}
    unique = {
        r["bytes"]: r["unique_pretokens"]
        for r in report["rows"]
        if r.get("unique_pretokens") and "min2" not in r["tool"]
    }
    for r in report["rows"]:  # the same text has the same cl100k pre-tokens, whoever trained on it
        r["unique_cl100k"] = unique.get(r["bytes"])
    atomic_write(path, json.dumps(report, indent=1))
    figure(out / "bench_train_scaling.png", report)
    md = out / "bench_train.md"
    atomic_write(md, with_section(md.read_text() if md.exists() else "", section(report)))


def _cell(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def section(report: dict) -> str:
    """The Markdown section: one row per trainer and size, then the stages of the two-step bbpe runs."""
    lines = [
        HEADING,
        "",
        f"Vocab {report['vocab']:,}; up to the size of `{report['corpus']}` its mixed sample, beyond it synthetic "
        "text modelled on it (`scripts/synthetic_corpus.py`, [calibration](synthetic_corpus.md)). One run each; "
        "the machine was shared with other jobs (load average at start and end of each run in the JSON and below), "
        "so wall times are high and noisy; peak RSS is not affected. Unique pre-tokens: cl100k, counted by bbpe "
        "(gigatoken splits with its own GPT-2-style pattern, so its own words differ).",
        "",
        "| trainer | text | MB | unique pre-tokens | wall s | CPU s | peak RSS MB (tree) | load start / end | note |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in report["rows"]:
        unique = f"{row['unique_cl100k']:,}" if row.get("unique_cl100k") else "-"
        load = f"{row['load_start'][0]:.1f} / {row['load_end'][0]:.1f}"
        cells = [_cell(row[k]) for k in ("wall", "cpu", "rss_tree_mb")]
        lines.append(
            f"| {row['tool']} | {row['text']} | {row['bytes'] / 1e6:,.0f} | {unique} | {' | '.join(cells)} | {load} "
            f"| {row['note']} |"
        )
    staged = [r for r in report["rows"] if r["tool"].startswith("bbpe-counts")]
    if staged:
        lines += [
            "",
            "Stages of the two-step runs (`bbpe count` then `bbpe train --from-counts`; the count is shared):",
            "",
            "| trainer | MB | stage | wall s | CPU s | peak RSS MB (tree) | load start / end | words kept |",
            "|---|---:|---|---:|---:|---:|---|---:|",
        ]
        for row in staged:
            for number, stage in enumerate(row["stages"]):
                name = ("count" + (" (shared)" if stage.get("shared") else "")) if number == 0 else "train"
                kept = row.get("kept_pretokens") if number == 1 and row["tool"].endswith("min2") else None
                kept_cell = f"{kept:,}" if kept else ("all" if number == 1 else "")
                load = f"{stage['load_start'][0]:.1f} / {stage['load_end'][0]:.1f}"
                cells = [_cell(stage[k]) for k in ("wall", "cpu", "rss_tree_mb")]
                lines.append(
                    f"| {row['tool']} | {row['bytes'] / 1e6:,.0f} | {name} | {' | '.join(cells)} | {load} | {kept_cell} |"
                )
    lines += ["", "![time and memory against size and unique pre-tokens](bench_train_scaling.png)", ""]
    return "\n".join(lines)


def with_section(markdown: str, text: str) -> str:
    """``markdown`` with its scaling section (if any) replaced by ``text``."""
    before = ("\n" + markdown).split("\n" + HEADING + "\n", 1)[0].strip("\n")
    return (before + "\n\n" if before else "") + text


def figure(path: Path, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    colors = {
        "bbpe-numba": "tab:blue",
        "bbpe-counts": "tab:cyan",
        "bbpe-counts-min2": "tab:green",
        "rustbpe": "tab:gray",
        "gigatoken": "tab:orange",
    }
    for tool in SCALING_TOOLS:
        rows = [r for r in report["rows"] if r["tool"] == tool and r["wall"] is not None]
        if not rows:
            continue
        style = {
            "marker": "o",
            "label": tool,
            "color": colors.get(tool),
            "linestyle": "-" if tool.startswith("bbpe") else "--",
        }
        for column, key in enumerate(("bytes", "unique_cl100k")):
            points = [r for r in rows if r.get(key)]
            scale = 1e6
            for line, value in enumerate(("wall", "rss_tree_mb")):
                axes[line][column].plot([r[key] / scale for r in points], [r[value] for r in points], **style)
    for column, label in enumerate(("corpus (MB)", "unique cl100k pre-tokens (millions)")):
        axes[0][column].set(xlabel=label, ylabel="wall time (s), busy machine", xscale="log", yscale="log")
        axes[1][column].set(xlabel=label, ylabel="peak RSS, process tree (MB)", xscale="log", yscale="log")
    for ax in axes.ravel():
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,g}"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    fig.suptitle(f"Training a {report['vocab']:,} vocabulary: time and memory against corpus size")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
