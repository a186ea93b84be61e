"""``bbpe inspect --plot``: a vocabulary's tokens by script and by length, as one PNG figure.

Left: how many regular tokens fall in each script (``bbpe.analysis.unicode_scripts``), largest
first, on a log scale with the counts written beside the bars.  Right: how many tokens have each length in bytes, one bar per length, stacked by
the five largest scripts (the rest as "other").  Rendered on matplotlib's Agg canvas
without pyplot, like ``bbpe.report.plots``.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bbpe.analysis.unicode_scripts import script_of

DPI = 110
STACKED_SCRIPTS = 5
MAX_LENGTH_SHOWN = 24  # longer tokens are counted in the last bar ("24+")


def script_length_table(tokens: Iterable[bytes]) -> Counter[tuple[str, int]]:
    """(script, length in bytes capped at MAX_LENGTH_SHOWN) -> number of tokens."""
    return Counter((script_of(token), min(len(token), MAX_LENGTH_SHOWN)) for token in tokens)


def vocab_figure(tokens: Iterable[bytes], *, title: str) -> bytes:
    """PNG bytes of the script bars and the stacked length histogram."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    table = script_length_table(tokens)
    by_script: Counter[str] = Counter()
    for (script, _), count in table.items():
        by_script[script] += count
    ranked = [name for name, _ in by_script.most_common()]
    stacked = ranked[:STACKED_SCRIPTS]
    palette: Any = colormaps["tab10"]  # a ListedColormap
    colors = dict(zip(stacked + ["other"], palette.colors))
    figure = Figure(figsize=(12, 5), dpi=DPI, layout="constrained")
    left, right = figure.subplots(1, 2, width_ratios=(1, 1.4))
    shown = ranked[:20]
    counts = [by_script[name] for name in shown]
    left.barh(range(len(shown)), counts, color=[colors.get(name, colors["other"]) for name in shown])
    for row, count in enumerate(counts):
        left.text(count, row, f" {count:,}", va="center", fontsize=8)
    left.set_yticks(range(len(shown)), shown, fontsize=9)
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlim(0.8, max(counts, default=1) * 8)
    left.set_xlabel("tokens (log scale)")
    left.set_title("Tokens by script" + (f" (top {len(shown)} of {len(ranked)})" if len(ranked) > len(shown) else ""))
    left.grid(axis="x", alpha=0.3)
    lengths = range(1, MAX_LENGTH_SHOWN + 1)
    bottom = [0] * len(lengths)
    groups = stacked + (["other"] if len(ranked) > len(stacked) else [])
    for group in groups:
        members = [group] if group != "other" else ranked[STACKED_SCRIPTS:]
        heights = [sum(table[(name, length)] for name in members) for length in lengths]
        right.bar(lengths, heights, bottom=bottom, color=colors[group], label=group)
        bottom = [b + h for b, h in zip(bottom, heights)]
    right.set_xticks(list(lengths), [str(n) if n < MAX_LENGTH_SHOWN else f"{n}+" for n in lengths], fontsize=8)
    right.set_xlabel("token length in bytes")
    right.set_ylabel("tokens")
    right.set_title("Token lengths, stacked by script")
    right.legend(fontsize=9)
    right.grid(axis="y", alpha=0.3)
    figure.suptitle(title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()
