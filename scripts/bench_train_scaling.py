"""The scaling mode of scripts/bench_train.py: time and memory against corpus size.

bbpe (numba backend) and rustbpe train the same vocab size on growing inputs: a mixed sample of the
corpus up to its whole size, and beyond it the whole corpus repeated (1 GB of the 325 MB training
data = three copies and a part), written once into the work directory.  Per run: wall and CPU time,
peak RSS of the process tree, and the unique pre-tokens (from bbpe's model metadata; rustbpe splits
with the same cl100k pattern, so it counts the same words).  Time should grow linearly with bytes,
memory with unique pre-tokens (a repeated corpus adds bytes but no new words).

Writes OUT/bench_train_scaling.json and .png and the "Scaling" section of OUT/bench_train.md.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sample_corpus import sample

from bbpe.output import atomic_write

SCALING_TOOLS = ("bbpe-numba", "rustbpe")
HEADING = "## Scaling"


def scaling_input(corpus: str, size: int, work: Path) -> Path:
    """A training file of about ``size`` bytes (whole lines): a mixed sample, or the whole corpus repeated."""
    path = work / f"scaling_{size}.txt"
    if path.exists():
        return path
    data = sample([corpus], size).encode("utf-8")  # at most the whole corpus
    temp = path.with_name(path.name + ".tmp")
    written = 0
    with open(temp, "wb") as handle:
        while written < size:
            part = data[: size - written]
            if len(part) < len(data):  # a last, partial copy ends at a line end
                part = part[: part.rfind(b"\n") + 1]
            if not part:
                break
            handle.write(part)
            written += len(part)
    os.replace(temp, path)
    return path


def unique_pretokens(model: Path) -> int | None:
    """The unique pre-tokens bbpe counted, from its model file's training metadata."""
    try:
        return int(json.loads(model.read_text())["metadata"]["training"]["unique_pretokens"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def section(report: dict) -> str:
    """The Markdown section: one row per tool and size, and the per-100 MB wall time (linear = constant)."""
    rows = report["rows"]
    lines = [
        HEADING,
        "",
        f"`{report['command']}`  ",
        f"Vocab {report['vocab']:,}, cl100k pattern; inputs: a mixed sample of `{report['corpus']}` up to its whole "
        "size, beyond it the whole corpus repeated.  Median of "
        f"{report['repeats']} run(s); load average at start {report['load_at_start']}.",
        "",
        "| trainer | input MB | wall s | CPU s | peak RSS MB (tree) | unique pre-tokens | wall s per 100 MB | note |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        measured = row["wall"] is not None
        cells = [f"{row[k]:,.1f}" if measured else "-" for k in ("wall", "cpu", "rss_tree_mb")]
        unique = f"{row['unique_pretokens']:,}" if row["unique_pretokens"] else "-"
        per_100 = f"{row['wall'] / row['bytes'] * 1e8:.1f}" if measured else "-"
        lines.append(
            f"| {row['tool']} | {row['bytes'] / 1e6:,.0f} | {' | '.join(cells)} | {unique} | {per_100} | {row['note']} |"
        )
    lines += ["", "![time and memory against input size](bench_train_scaling.png)", ""]
    return "\n".join(lines)


def with_section(markdown: str, text: str) -> str:
    """``markdown`` with its scaling section (if any) replaced by ``text``."""
    before = ("\n" + markdown).split("\n" + HEADING + "\n", 1)[0].strip("\n")
    return (before + "\n\n" if before else "") + text


def write(out: Path, report: dict) -> None:
    """The JSON, the figure and the section of bench_train.md (created if missing)."""
    atomic_write(out / "bench_train_scaling.json", json.dumps(report, indent=1))
    figure(out / "bench_train_scaling.png", report)
    md = out / "bench_train.md"
    atomic_write(md, with_section(md.read_text() if md.exists() else "", section(report)))


def figure(path: Path, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (time_ax, memory_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for tool in dict.fromkeys(row["tool"] for row in report["rows"]):
        rows = [r for r in report["rows"] if r["tool"] == tool and r["wall"] is not None]
        style = {"marker": "o", "label": tool, "color": "tab:blue" if tool.startswith("bbpe") else "tab:gray"}
        time_ax.plot([r["bytes"] / 1e6 for r in rows], [r["wall"] for r in rows], **style)
        with_words = [r for r in rows if r["unique_pretokens"]]
        memory_ax.plot(
            [r["unique_pretokens"] / 1e6 for r in with_words], [r["rss_tree_mb"] for r in with_words], **style
        )
    time_ax.set(xlabel="input (MB)", ylabel="wall time (s)", title=f"vocab {report['vocab']:,}: time vs bytes")
    memory_ax.set(xlabel="unique pre-tokens (millions)", ylabel="peak RSS, tree (MB)", title="memory vs unique words")
    for ax in (time_ax, memory_ax):
        ax.set_xlim(left=0)
        ax.set_ylim(bottom=0)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
