"""The sweep behind ``word_counts.TABLES``: cl100k extensions from the mix plus word tables of several sizes.

Every configuration trains the main job's extension (``init=cl100k_base``, ``prune_unreachable``,
pattern ``qwen``, 151,648 tokens) from the mix's counts plus wordfreq tables standing for
``zh``/``ja``/``ko`` million words of text, and counts its tokens relative to Qwen's on the UDHR
(59 languages; the default data's held-out parallel text) and, when ``--report`` names it, on a
second held-out set (NTREX-128 in ../shared).  The choice is made on ``--choose`` alone (UDHR): the
configuration with the fewest tokens over all its languages among those within the targets with
a margin (Chinese (Simplified) <= 1.05x Qwen, Japanese and Korean <= 0.95x, English <= 1.0x); the
other set is only reported.  Writes a Markdown table.

    python scripts/sweep_word_tables.py --mix ~/.cache/bbpe/data/train --choose ~/.cache/bbpe/data/parallel/udhr \\
        --report ../shared/corpora/parallel/ntrex128 -o reports/word_tables_sweep.md
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import zipfile
from collections import Counter
from pathlib import Path

import word_counts as wc
from fetch_artifacts import fetch

import bbpe
from bbpe.corpus.reading import expand_paths
from bbpe.output import atomic_write
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.training.api import train_from_counts
from bbpe.training.counting.pretokens import CountSettings, count_corpus

FOCUS = ("zho_Hans", "zho_Hant", "jpn_Jpan", "kor_Hang", "eng_Latn")
LIMITS = {"zho_Hans": 1.05, "jpn_Jpan": 0.95, "kor_Hang": 0.95, "eng_Latn": 1.0}  # with a margin, on --choose
GRID = [  # (zh, ja, ko) millions of words; None: no tables
    None,
    (5, 10, 5),
    (10, 10, 5),
    (20, 10, 5),
    (40, 10, 5),
    (5, 2.5, 2.5),
    (5, 5, 2.5),
    (10, 2.5, 2.5),
    (10, 5, 1),
    (5, 2.5, 1),
    (2.5, 2.5, 2.5),
    (2.5, 1, 2.5),
    (5, 1, 1.5),
    (2.5, 1, 1.5),
    (1, 1, 1.5),
    (2.5, 0.5, 1.5),
    (1, 0.5, 1),
    (2.5, 1, 1),
]


def texts(folder: Path) -> dict[str, str]:
    """Language -> its non-empty lines joined by one space (as the compression report encodes them)."""
    return {
        path.stem: " ".join(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
        for path in sorted(folder.glob("*.txt"))
    }


def ratios(tokenizer: bbpe.Tokenizer, corpus: dict[str, str], qwen: dict[str, int]) -> dict[str, float]:
    counts = {code: len(tokenizer.encode(text)) for code, text in corpus.items()}
    result = {code: counts[code] / qwen[code] for code in FOCUS if code in counts}
    return result | {"all": sum(counts.values()) / sum(qwen.values())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mix", required=True, help="training text (file or directory)")
    parser.add_argument("--choose", required=True, help="held-out parallel folder the choice is made on (UDHR)")
    parser.add_argument("--report", help="a second held-out parallel folder, only reported (NTREX-128)")
    parser.add_argument("--downloads", default=str(wc.default_folder().parent / "downloads"))
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    started = time.monotonic()
    qwen_tok = bbpe.load("qwen")
    sets = {"choose": texts(Path(args.choose))} | ({"report": texts(Path(args.report))} if args.report else {})
    qwen = {name: {code: len(qwen_tok.encode(text)) for code, text in corpus.items()} for name, corpus in sets.items()}
    settings = CountSettings(resolve_pattern("qwen"), (), "document", "text", "replace")
    mix = count_corpus(expand_paths([Path(args.mix)]), settings)
    wheel, _ = fetch("pypi", *wc.PACKAGE, Path(args.downloads))
    with zipfile.ZipFile(wheel) as archive:
        frequencies = {table.code: list(wc.frequencies(archive.read(table.member))) for table in wc.TABLES}
    rows = []
    for sizes in GRID:
        counts = Counter(mix)
        for table, millions in zip(wc.TABLES, sizes or ()):
            table = dataclasses.replace(table, n_words=millions * 1e6)
            counts.update(
                wc.table_counts(
                    frequencies[table.code], n_words=table.n_words, space_share=table.space_share, pattern="qwen"
                )
            )
        tokenizer = train_from_counts(
            counts, vocab_size=151_648, pattern="qwen", init="cl100k_base", prune_unreachable=True
        )
        measured = {name: ratios(tokenizer, corpus, qwen[name]) for name, corpus in sets.items()}
        rows.append((sizes, measured))
        print(f"{sizes}: {measured} ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    eligible = [
        (measured["choose"]["all"], sizes)
        for sizes, measured in rows
        if sizes and all(measured["choose"][code] <= limit for code, limit in LIMITS.items())
    ]
    chosen = min(eligible)[1] if eligible else None
    header = ["zh / ja / ko (M words)"] + [f"{name} {code}" for name in sets for code in (*FOCUS, "all")]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for sizes, measured in rows:
        label = "no tables" if sizes is None else " / ".join(f"{x:g}" for x in sizes)
        label = f"**{label}** (chosen)" if sizes == chosen else label
        cells = [f"{measured[name][code]:.3f}" for name in sets for code in (*FOCUS, "all")]
        lines.append("| " + " | ".join([label, *cells]) + " |")
    atomic_write(
        args.output,
        f"# Word tables for the cl100k extension: tokens / Qwen's tokens\n\n"
        f"Mix: {args.mix}; choose: {args.choose}; report: {args.report or '-'}; rule: fewest tokens over all "
        f"languages of `choose` with {LIMITS} on `choose`.  {time.monotonic() - started:.0f} s.\n\n"
        + "\n".join(lines)
        + "\n",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
