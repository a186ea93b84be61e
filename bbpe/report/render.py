"""Render a CompressionReport as Markdown, CSV and JSON text (no file I/O here).

The three agree: CSV and JSON hold the same rounded numbers; Markdown shows them with
two decimals (token counts in full).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from bbpe.parallel_corpora import Corpus
from bbpe.report.metrics import CL100K, CONVENTION, CURVE_SHARE, THROUGHPUT, CompressionReport, Row, Summary
from bbpe.report.plots import CURVE_FIGURE, corpus_figures
from bbpe.report.provenance import LEGEND, MIN_CHARS, MIN_SHARE, trained_sources

ROW_FIELDS = [f.name for f in fields(Row)]
_NUMBER = re.compile(r"^[\d,]+(\.\d+)?%?[†‡]?( \(.*\))?$")


def to_csv(report: CompressionReport) -> str:
    """One line per (tokenizer, corpus, language), columns as in ``Row``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_FIELDS)
    for row in report.rows:
        writer.writerow(["" if (v := getattr(row, name)) is None else v for name in ROW_FIELDS])
    return out.getvalue()


def to_json(report: CompressionReport) -> str:
    """Settings, tokenizers, corpora, notes, rows, summaries and curves."""
    data = {
        "meta": report.meta,
        "convention": CONVENTION,
        "baseline": report.baseline,
        "tokenizers": [_tokenizer_info(report, e) for e in report.encoders],
        "corpora": [_corpus_info(c) for c in report.corpora],
        "notes": report.notes,
        "held_out": {
            "checked": sorted(report.provenance.checked),
            "rule": f"not held out: {MIN_SHARE:.0%} or more of a language's lines (of at least {MIN_CHARS} "
            "characters) are in the tokenizer's training sources or parity dev set",
            "notes": report.provenance.notes,
        },
        "figure_tokenizers": report.figure_tokenizers or [e.name for e in report.encoders if e.name != report.baseline],
    } | report.as_dict()
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def to_markdown(report: CompressionReport, figures: Collection[str] = ()) -> str:
    """The human-readable report: settings, definitions, summaries, per-language tables, figures."""
    meta = report.meta
    versions = "; ".join(f"{name} {version}" for name, version in meta.get("versions", {}).items())
    out = [
        "# Tokenizer compression report",
        "",
        f"Generated {meta.get('date', '?')} by `{meta.get('command', 'bbpe compress-report')}` ({versions}). "
        f"Baseline `{report.baseline}`; {meta.get('workers', '?')} encoding threads; "
        f"{meta.get('seconds', '?')} s to measure.",
        "",
    ]
    out += ["## How the numbers are counted", "", CONVENTION, "", THROUGHPUT, "", *_definitions(report), ""]
    out += [
        "## Tokenizers",
        "",
        *_table(
            ["tokenizer", "kind", "vocab size", "source", "sha256", "note"],
            [
                [
                    f"`{e.name}`",
                    e.kind,
                    f"{e.vocab_size:,}",
                    *(_tokenizer_info(report, e)[k] or "" for k in ("source", "sha256", "note")),
                ]
                for e in report.encoders
            ],
        ),
        "",
    ]
    out += [
        "## Corpora",
        "",
        *_table(
            ["corpus", "layout", "languages", "lines", "MB", "line-aligned", "sha256"],
            [
                [
                    f"`{c.name}`",
                    c.layout,
                    str(len(c.languages)),
                    f"{sum(lang.lines for lang in c.languages):,}",
                    f"{sum(lang.n_bytes for lang in c.languages) / 1e6:.2f}",
                    _alignment(c),
                    f"`{c.sha256}`",
                ]
                for c in report.corpora
            ],
        ),
        "",
    ]
    if report.notes:
        out += ["## Notes", "", *(f"- {note}" for note in report.notes), ""]
    out += held_out_section(report)
    for corpus in report.corpora:
        out += _corpus_section(report, corpus, [n for n in corpus_figures(report, corpus) if n in figures])
    if report.curves:
        out += _curve_section(report) + ([f"![{CURVE_FIGURE}]({CURVE_FIGURE})", ""] if CURVE_FIGURE in figures else [])
    return "\n".join(out).rstrip() + "\n"


def _definitions(report: CompressionReport) -> list[str]:
    base = report.baseline
    return [
        f"- **vs {base}**: tokens / tokens of `{base}` on the same text (lower is better; `{base}` = 1.00, "
        "as in the Qwen report's figure). **vs cl100k**: the same against `cl100k_base`.",
        "- **premium**: tokens of a language / tokens of English (`eng_Latn`) with the same tokenizer "
        "(Petrov et al. 2023); 1.00 means as cheap as English. It needs translations of the same text: "
        "exact on line-aligned corpora (NTREX-128), approximate where lines are not aligned (UDHR).",
        "- **bytes/token**, **chars/token**: UTF-8 bytes and characters of the original text per token.",
        "- **vocab share**: distinct token ids used / vocabulary size (summary: over all languages of the corpus).",
        "- **byte fallback**: share of tokens that are SentencePiece byte pieces (`<0xNN>`); empty for byte-level BPE.",
        "- **round trip**: `decode(encode(text)) == text`; models that normalize text (NFC, NFKC, whitespace folding) "
        "or map unknown characters to `<unk>` fail it by design.",
        "- Means are arithmetic means over languages; the mean premium leaves out English itself.",
        "- **Gini**: Gini coefficient of the per-language token counts of one tokenizer on a line-aligned corpus "
        "(0 = every language costs the same; (n-1)/n = one language carries all tokens); empty where lines are not "
        "aligned. **Rényi eff.**: Rényi efficiency of the token unigram distribution, H_2.5(p) / log |V| with |V| "
        "the vocabulary size (Zouhar et al. 2023; 1 = uniform over the vocabulary). **fertility**: tokens per "
        "whitespace-separated word, only for languages whose script uses spaces (not Han, Japanese, Thai, Lao, "
        "Khmer, Myanmar, Tibetan, Balinese, Javanese); the summary gives its mean.",
    ]


def _corpus_section(report: CompressionReport, corpus: Corpus, figures: Sequence[str]) -> list[str]:
    encoders = report.encoders
    rows = [s for s in report.summary if s.corpus == corpus.name]
    out = [
        f"## {corpus.name}: summary",
        "",
        *_table(
            [
                "tokenizer",
                "bytes/token",
                f"vs {report.baseline}",
                "vs cl100k",
                "mean premium",
                "worst premium",
                "vocab share",
                "byte fallback",
                "round trip",
                "Gini",
                "Rényi eff.",
                "fertility",
                "encode MB/s",
                "held out",
            ],
            [
                [
                    f"`{s.tokenizer}`",
                    _num(s.bytes_per_token),
                    _num(s.mean_rel_baseline),
                    _num(s.mean_rel_cl100k),
                    _num(s.mean_premium),
                    _worst(s, corpus),
                    _pct(s.vocab_share),
                    _pct(s.byte_fallback_share),
                    _round_trip(report, s),
                    _num(s.gini, 3),
                    _num(s.renyi_efficiency, 3),
                    _num(s.mean_fertility),
                    f"{_num(s.encode_mb_per_s, 1)} ({s.engine})" if s.encode_mb_per_s else "",
                    held_out_cell(s),
                ]
                for s in rows
            ],
        ),
        "",
    ]
    out += [line for name in figures for line in (f"![{name}]({name})", "")]
    tables: list[tuple[str, Callable[[Row], str]]] = [
        (f"tokens relative to {report.baseline} (lower is better)", lambda r: _num(r.rel_baseline)),
        (f"tokens relative to {CL100K}", lambda r: _num(r.rel_cl100k)),
        ("premium over English", lambda r: _num(r.premium)),
        ("UTF-8 bytes per token", lambda r: _num(r.bytes_per_token)),
        ("tokens", lambda r: f"{r.tokens:,}"),
        ("Rényi efficiency (alpha 2.5)", lambda r: _num(r.renyi_efficiency, 3)),
        ("fertility (tokens per word)", lambda r: _num(r.fertility)),
        ("encode MB/s (one thread)", lambda r: _num(r.encode_mb_per_s, 1)),
    ]
    legend = corpus_legend(report, corpus)
    out += [legend, ""] if legend else []
    for title, cell in tables:
        if all(cell(report.row(e.name, corpus.name, lang.code)) == "" for e in encoders for lang in corpus.languages):
            continue
        out += [
            f"### {corpus.name}: {title}",
            "",
            *_table(
                ["language", *(f"`{e.name}`" for e in encoders)],
                [
                    [
                        f"{lang.name} (`{lang.code}`)",
                        *(_marked(report, cell, e.name, corpus.name, lang.code) for e in encoders),
                    ]
                    for lang in corpus.languages
                ],
            ),
            "",
        ]
    return out


def held_out_section(report: CompressionReport) -> list[str]:
    """``## Held-out text``: what each trained tokenizer has seen of the report's text (``bbpe.report.provenance``)."""
    intro, items = held_out_items(report)
    return ["## Held-out text", "", intro, "", *(f"- {item}" for item in items), ""] if intro else []


def held_out_items(report: CompressionReport) -> tuple[str, list[str]]:
    """The held-out rule and its legend, then per trained tokenizer the corpora it has seen (empty without one)."""
    seen = report.provenance
    if not seen.checked:
        return "", []
    intro = (
        "Each trained tokenizer's training sources and parity dev set (from its metadata) were searched for the "
        f"corpora's lines (of at least {MIN_CHARS} characters); a language is not held out for a tokenizer when "
        f"{MIN_SHARE:.0%} or more of its lines are there. Its cells are marked, and corpora with fewer such cells "
        "come first."
    )
    items = [LEGEND[kind] for kind in LEGEND]
    for name in sorted(seen.checked, key=[e.name for e in report.encoders].index):
        found = [f"`{s.corpus}`: {s.seen}" for s in report.summary if s.tokenizer == name and s.held_out is False]
        items.append(f"`{name}`: " + ("; ".join(found) if found else "every corpus is held out"))
    return intro, items + seen.notes


def held_out_cell(summary: Summary) -> str:
    """``yes``, ``no: training text in 5 of 59 languages``, or empty (not a trained tokenizer: unknown)."""
    if summary.held_out is None:
        return ""
    return "yes" if summary.held_out else f"no: {summary.seen}"


def corpus_legend(report: CompressionReport, corpus: Corpus) -> str:
    """The legend of the marks used in a corpus's tables (empty when nothing is marked)."""
    used = {report.provenance.seen[key].kind for key in report.provenance.seen if key[1] == corpus.name}
    if not used:
        return ""
    return "Not held out: " + "; ".join(LEGEND[kind] for kind in LEGEND if kind in used) + "."


def _marked(report: CompressionReport, cell: Callable[[Row], str], tokenizer: str, corpus: str, code: str) -> str:
    value = cell(report.row(tokenizer, corpus, code))
    return value + report.mark(tokenizer, corpus, code) if value else value


def _curve_section(report: CompressionReport) -> list[str]:
    corpus = report.corpora[0].name
    out = [
        f"## Compression vs vocabulary size ({corpus}, first {CURVE_SHARE:.0%} of every language)",
        "",
        "UTF-8 bytes per token of each bbpe-trained tokenizer cut to its first N regular tokens (BPE merges are "
        "nested, so this is the vocabulary training would have stopped at), and of the other tokenizers at "
        f"their own size, all on the same text: the first {CURVE_SHARE:.0%} of every language of `{corpus}`, "
        "pooled.",
        "",
    ]
    for name, points in report.curves.items():
        out += [f"`{name}`: " + ", ".join(f"{size:,} → {value:.2f}" for size, value in points), ""]
    if report.curve_points:
        out += [
            "Others: "
            + ", ".join(f"`{name}` {size:,} → {value:.2f}" for name, (size, value) in report.curve_points.items()),
            "",
        ]
    return out


def _tokenizer_info(report: CompressionReport, encoder: Any) -> dict[str, Any]:
    info = report.meta.get("tokenizers", {}).get(encoder.name, {})
    sources = trained_sources(encoder)
    return {
        "name": encoder.name,
        "kind": encoder.kind,
        "vocab_size": encoder.vocab_size,
        "normalizes": encoder.normalizes,
        "source": info.get("source"),
        "sha256": info.get("sha256"),
        "note": info.get("note"),
        "training_sources": sources[0] if sources else None,
        "parity_dev": sources[1] if sources else None,
    }


def _corpus_info(corpus: Corpus) -> dict[str, Any]:
    return {
        "name": corpus.name,
        "path": display_path(corpus.path),
        "layout": corpus.layout,
        "aligned": corpus.aligned,
        "sha256": corpus.sha256,
        "languages": [
            {
                "code": lang.code,
                "name": lang.name,
                "lines": lang.lines,
                "bytes": lang.n_bytes,
                "chars": lang.n_chars,
                "sha256": lang.sha256,
                "files": [f.name for f in lang.files],
            }
            for lang in corpus.languages
        ],
    }


def display_path(path: str | os.PathLike[str]) -> str:
    """A path relative to the current directory if it lies there or beside it (``../shared/...``), else absolute."""
    absolute, here = Path(path).resolve(), Path.cwd()
    for base, prefix in ((here, ""), (here.parent, "..")):
        if base != Path(base.anchor) and absolute.is_relative_to(base):
            return str(Path(prefix) / absolute.relative_to(base)) if prefix else str(absolute.relative_to(base))
    return str(absolute)


def _alignment(corpus: Corpus) -> str:
    if corpus.aligned:
        return f"yes (same {corpus.languages[0].lines:,} lines in every language)"
    return "no (line counts differ: premiums are approximate)"


def _worst(summary: Summary, corpus: Corpus) -> str:
    if summary.worst_premium is None:
        return ""
    language = corpus.language(summary.worst_language or "")
    return f"{summary.worst_premium:.2f} ({language.name if language else summary.worst_language})"


def _round_trip(report: CompressionReport, summary: Summary) -> str:
    if not summary.round_trip_failures:
        return "exact"
    encoder = next(e for e in report.encoders if e.name == summary.tokenizer)
    why = " (normalizes text)" if encoder.normalizes else ""
    return f"differs in {summary.round_trip_failures}/{summary.languages}{why}"


def _vocab(report: CompressionReport, name: str) -> int:
    return next(e.vocab_size for e in report.encoders if e.name == name)


def _num(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table without empty columns; columns of numbers (``1,234``, ``0.87``, ``12.5%``,
    ``3.10 (Thai)``) are right-aligned."""
    keep = [i for i in range(len(header)) if not rows or any(row[i] for row in rows)]  # drop empty columns
    header, rows = [header[i] for i in keep], [[row[i] for i in keep] for row in rows]
    numeric = [all(not row[i] or _NUMBER.match(row[i]) for row in rows) for i in range(len(header))]
    align = ["---:" if right else "---" for right in numeric]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines
