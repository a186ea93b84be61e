"""Figures of a CompressionReport as PNG bytes (matplotlib's Agg canvas, imported lazily).

No pyplot and no global backend state: each figure is a ``matplotlib.figure.Figure``
rendered to memory, so callers decide where (and how atomically) to write it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import Any

from bbpe.parallel_corpora import Corpus
from bbpe.report.fairness import lorenz_curve
from bbpe.report.metrics import CURVE_SHARE, CompressionReport

LANGUAGES_PER_PANEL = 20
DPI = 110


CURVE_FIGURE = "vocab_size_curve.png"


def corpus_figures(report: CompressionReport, corpus: Corpus) -> list[str]:
    """File names of a corpus's figures: bars relative to the baseline (if there is another tokenizer), heatmap,
    Lorenz curves (line-aligned corpora)."""
    return list(_corpus_plots(report, corpus))


def render_all(report: CompressionReport) -> dict[str, bytes]:
    """File name -> PNG bytes for every figure the report supports."""
    figures = {
        name: draw(report, corpus) for corpus in report.corpora for name, draw in _corpus_plots(report, corpus).items()
    }
    if report.curves:
        figures[CURVE_FIGURE] = vocab_curve(report)
    return figures


Draw = Callable[[CompressionReport, Corpus], bytes]


def _corpus_plots(report: CompressionReport, corpus: Corpus) -> dict[str, Draw]:
    bars: dict[str, Draw] = (
        {f"{corpus.name}_vs_{report.baseline}.png": relative_bars} if len(report.encoders) > 1 else {}
    )
    lorenz: dict[str, Draw] = (
        {f"{corpus.name}_lorenz.png": lorenz_curves} if corpus.aligned and len(corpus.languages) > 1 else {}
    )
    return bars | {f"{corpus.name}_bytes_per_token.png": heatmap} | lorenz


def relative_bars(report: CompressionReport, corpus: Corpus) -> bytes:
    """Grouped bars: per language, each tokenizer's tokens relative to the baseline (= 1): those of
    ``report.figure_tokenizers`` when it names any, else all."""
    figure_class, colors = _matplotlib()
    shown = report.figure_tokenizers
    names = [e.name for e in report.encoders if e.name != report.baseline and (not shown or e.name in shown)]
    languages = list(corpus.languages)
    panels = max(1, math.ceil(len(languages) / LANGUAGES_PER_PANEL))
    per_panel = math.ceil(len(languages) / panels)
    inches = max(8.0, 0.85 * per_panel + 2)
    columns = min(len(names), max(1, int(inches / 2.4)))  # a legend entry is ~2.4 in wide: never wider than the figure
    legend_rows = math.ceil(len(names) / columns)
    figure = figure_class(figsize=(inches, 3.6 * panels + 0.9 + 0.3 * legend_rows), dpi=DPI, layout="constrained")
    axes = figure.subplots(panels, 1, squeeze=False)[:, 0]
    width = 0.8 / max(1, len(names))
    top = max(
        (report.row(n, corpus.name, lang.code).rel_baseline or 0 for n in names for lang in languages), default=1.0
    )
    for panel, ax in enumerate(axes):
        chunk = languages[panel * per_panel : (panel + 1) * per_panel]
        for index, name in enumerate(names):
            values = [report.row(name, corpus.name, lang.code).rel_baseline or 0 for lang in chunk]
            offsets = [x - 0.4 + width * (index + 0.5) for x in range(len(chunk))]
            bars = ax.bar(offsets, values, width, color=colors[index % len(colors)], label=name if panel == 0 else None)
            for bar, lang in zip(bars, chunk):
                if report.mark(name, corpus.name, lang.code):
                    bar.set_hatch("///")
                    bar.set_edgecolor("black")
                    bar.set_linewidth(0)
        ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(chunk)), [_short(lang.name) for lang in chunk], rotation=35, ha="right", fontsize=9)
        ax.set_xlim(-0.6, per_panel - 0.4)
        ax.set_ylim(0, top * 1.05)
        ax.set_ylabel(f"tokens / {report.baseline} tokens")
        ax.grid(axis="y", alpha=0.3)
    hatched = " — hatched: not held out (training text or dev set)" if _any_seen(report, corpus) else ""
    figure.suptitle(f"Tokens relative to {report.baseline} (= 1, dashed) on {corpus.name} — lower is better{hatched}")
    axes[0].legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=columns, frameon=False, fontsize=9)
    return _png(figure)


def heatmap(report: CompressionReport, corpus: Corpus) -> bytes:
    """Languages x tokenizers, coloured and annotated with UTF-8 bytes per token."""
    figure_class, _ = _matplotlib()
    import numpy as np

    names = [e.name for e in report.encoders]
    languages = list(corpus.languages)
    values = np.array([[report.row(n, corpus.name, lang.code).bytes_per_token for n in names] for lang in languages])
    figure = figure_class(
        figsize=(max(6.0, 2.6 + 1.0 * len(names)), max(4.0, 1.4 + 0.26 * len(languages))), dpi=DPI, layout="constrained"
    )
    ax = figure.subplots()
    image = ax.imshow(values, aspect="auto", cmap="viridis")
    middle = (values.min() + values.max()) / 2
    for (i, j), value in np.ndenumerate(values):
        mark = report.mark(names[j], corpus.name, languages[i].code)
        ax.text(
            j,
            i,
            f"{value:.1f}{mark}",
            ha="center",
            va="center",
            fontsize=7.5,
            color="black" if value > middle else "white",
        )
    ax.set_xticks(range(len(names)), names, rotation=30, ha="left", rotation_mode="anchor", fontsize=9)
    ax.set_yticks(range(len(languages)), [_short(lang.name) for lang in languages], fontsize=8.5)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02).set_label("UTF-8 bytes per token")
    marks = " — †/‡: not held out (training text / dev set)" if _any_seen(report, corpus) else ""
    ax.set_title(f"UTF-8 bytes per token on {corpus.name} (higher = better compression){marks}", pad=12)
    return _png(figure)


def lorenz_curves(report: CompressionReport, corpus: Corpus) -> bytes:
    """Lorenz curves of per-language token counts (cheapest languages first), one per tokenizer, Gini in the legend."""
    figure_class, colors = _matplotlib()
    figure = figure_class(figsize=(6.5, 6), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], color="black", linewidth=0.8, linestyle="--", label="equal cost (Gini 0)")
    by_tokenizer = {s.tokenizer: s for s in report.summary if s.corpus == corpus.name}
    for index, encoder in enumerate(report.encoders):
        tokens = [report.row(encoder.name, corpus.name, lang.code).tokens for lang in corpus.languages]
        xs, ys = zip(*lorenz_curve(tokens))
        gini = by_tokenizer[encoder.name].gini
        label = encoder.name if gini is None else f"{encoder.name} (Gini {gini:.3f})"
        seen = by_tokenizer[encoder.name].held_out is False
        label += f" — not held out: {by_tokenizer[encoder.name].seen}" if seen else ""
        ax.plot(xs, ys, color=colors[index % len(colors)], linewidth=1.4, label=label, linestyle="--" if seen else "-")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("share of languages (cheapest first)")
    ax.set_ylabel("share of tokens")
    ax.set_title(f"Lorenz curves of per-language token counts on {corpus.name}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper left")
    return _png(figure)


def vocab_curve(report: CompressionReport) -> bytes:
    """Bytes/token against vocabulary size: curves for truncated bbpe tokenizers, points for the rest."""
    figure_class, colors = _matplotlib()
    corpus = report.corpora[0].name
    figure = figure_class(figsize=(9, 5.5), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    color_of = {
        e.name: colors[i % len(colors)] for i, e in enumerate(e for e in report.encoders if e.name != report.baseline)
    }
    first = report.corpora[0]
    for name, points in report.curves.items():
        sizes, values = zip(*points)
        seen = [lang for lang in first.languages if report.mark(name, first.name, lang.code)]
        label = name + (f" (not held out in {len(seen)} of {len(first.languages)} languages)" if seen else "")
        ax.plot(sizes, values, marker="o", markersize=4, color=color_of.get(name, "black"), label=label)
    for name, (size, value) in report.curve_points.items():
        ax.scatter([size], [value], marker="D", s=36, zorder=3, color=color_of.get(name, "black"))
        ax.annotate(name, (size, value), textcoords="offset points", xytext=(6, -3), fontsize=8.5)
    ax.set_xscale("log")
    ax.set_xlabel("vocabulary size (log scale)")
    ax.set_ylabel("UTF-8 bytes per token")
    ax.set_title(f"Compression vs vocabulary size on {corpus} (first {CURVE_SHARE:.0%} of every language, pooled)")
    ax.grid(alpha=0.3, which="both")
    if report.curves:
        ax.legend(title="bbpe, merges truncated", fontsize=9, loc="upper left")
    return _png(figure)


def _any_seen(report: CompressionReport, corpus: Corpus) -> bool:
    """Whether some (tokenizer, language) of the corpus is not held out."""
    return any(key[1] == corpus.name for key in report.provenance.seen)


def _short(name: str) -> str:
    """Language names fit under a bar: 'Arabic (Standard)' stays, very long names are cut."""
    return name if len(name) <= 24 else name[:22] + "…"


def _matplotlib() -> tuple[Any, list[Any]]:
    try:
        from matplotlib import colormaps
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("figures need matplotlib: pip install matplotlib") from None
    # tab10, then Dark2 so that up to 18 tokenizers get distinct colours (both are ListedColormaps)
    return Figure, [*colormaps["tab10"].colors, *colormaps["Dark2"].colors]  # type: ignore[attr-defined]


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
