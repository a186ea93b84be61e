"""``compression.html``: the compression report as one self-contained page.

No network and no external files: the style and script (``bbpe/report/assets/page.css``
and ``page.js``) and the figures (base64 PNG data URIs) are inlined.  The page has the
summary and per-language tables (sortable by clicking or pressing Enter on a header), the
figures, and a token view: for one sentence of every language of the first corpus (its
first non-empty line), every tokenizer's pieces on alternating colours, the id and bytes
(hex) of each on hover or focus, partial UTF-8 tokens shown as hex on red.  A language
picker and a tokenizer picker choose what is shown (also from the URL: ``#lang=tha_Thai&tokenizer=qwen``);
the tables work without JavaScript.

>>> from bbpe import Tokenizer
>>> from bbpe.tokenizer_adapters import BBPEAdapter
>>> from bbpe.report.metrics import build_report
>>> from bbpe.parallel_corpora import Corpus, Language
>>> lang = Language("eng_Latn", "English", (), "héllo", 1, "")
>>> report = build_report([BBPEAdapter(Tokenizer.from_bytes_only(), "bytes")], [Corpus("c", None, "files", (lang,))],
...                       baseline="bytes", workers=1)
>>> page = render_page(report, {})
>>> page.startswith("<!DOCTYPE html>"), "http" in page.split("<body")[0], token_samples(report)[0]["pieces"]["bytes"][1]
(True, False, [195, 'c3', 1])
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

from bbpe.analysis.token_view import Piece
from bbpe.parallel_corpora import ENGLISH, Corpus, Language
from bbpe.report.metrics import CL100K, CONVENTION, FAIRNESS, THROUGHPUT, CompressionReport, Row
from bbpe.report.render import corpus_legend, held_out_cell, held_out_items

SENTENCE_CHARS = 400  # a sentence longer than this is cut at a space


def render_page(report: CompressionReport, figures: Mapping[str, bytes]) -> str:
    """The whole page as text (the caller writes it beside compression.md)."""
    title = "Tokenizer compression report"
    body = [
        f"<h1>{title}</h1>",
        _meta(report),
        (
            '<nav class="toc" aria-label="Sections"><a href="#summary">Summary</a><a href="#tokens">Token view</a>'
            '<a href="#figures">Figures</a><a href="#languages">Per language</a></nav>'
        ),
        '<section id="summary" aria-labelledby="summary-h"><h2 id="summary-h">Summary</h2>',
        f'<p class="note">{html.escape(CONVENTION)} Click a column header (or focus it and press Enter) to sort.</p>',
        f'<p class="note">{html.escape(FAIRNESS)}</p>',
        f'<p class="note">{html.escape(THROUGHPUT)}</p>',
        *_held_out_notes(report),
        *(_summary_table(report, corpus) for corpus in report.corpora),
        "</section>",
        _token_view(report),
        '<section id="figures" aria-labelledby="figures-h"><h2 id="figures-h">Figures</h2>',
        *(_figure(name, data) for name, data in figures.items()),
        "</section>",
        '<section id="languages" aria-labelledby="languages-h"><h2 id="languages-h">Per language</h2>',
        *(_language_tables(report, corpus) for corpus in report.corpora),
        "</section>",
    ]
    data = json.dumps(
        {"tokenizers": [e.name for e in report.encoders], "samples": token_samples(report)},
        ensure_ascii=False,
        separators=(",", ":"),
    ).replace("</", "<\\/")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="color-scheme" content="light dark">',
            f"<title>{title}</title>",
            f"<style>\n{_asset('page.css')}</style>",
            "</head>",
            "<body>",
            "<main>",
            *body,
            "</main>",
            f'<script type="application/json" id="bbpe-data">{data}</script>',
            f"<script>\n{_asset('page.js')}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def token_samples(report: CompressionReport) -> list[dict[str, Any]]:
    """Per language of the first corpus: its sentence and every tokenizer's pieces ``[id, hex, partial]``."""
    if not report.corpora:
        return []
    samples = []
    for language in report.corpora[0].languages:
        text = sentence_of(language)
        pieces = {}
        for encoder in report.encoders:
            token_bytes = getattr(encoder, "token_bytes", None)
            if token_bytes is not None:
                found = [Piece(i, token_bytes(i)) for i in encoder.encode(text)]
                pieces[encoder.name] = [[p.id, p.hex, int(p.partial)] for p in found]
        samples.append(
            {
                "code": language.code,
                "name": language.name,
                "lang": _bcp47(language.code),
                "text": text,
                "pieces": pieces,
            }
        )
    return samples


def sentence_of(language: Language) -> str:
    """The first non-empty line of the language's first file (else the start of its text), cut to SENTENCE_CHARS."""
    line = ""
    if language.files:
        with open(language.files[0], encoding="utf-8", errors="replace") as handle:
            line = next((raw.strip() for raw in handle if raw.strip()), "")
    line = line or language.text
    if len(line) > SENTENCE_CHARS:
        cut = line.rfind(" ", 0, SENTENCE_CHARS)
        line = line[: cut if cut > 0 else SENTENCE_CHARS]
    return line


def _token_view(report: CompressionReport) -> str:
    if not report.corpora:
        return ""
    corpus = report.corpora[0]
    default = ENGLISH if corpus.language(ENGLISH) else corpus.languages[0].code
    languages = "".join(
        f'<option value="{html.escape(lang.code)}"{" selected" if lang.code == default else ""}>'
        f"{html.escape(lang.name)} ({html.escape(lang.code)})</option>"
        for lang in corpus.languages
    )
    tokenizers = '<option value="*">all tokenizers</option>' + "".join(
        f'<option value="{html.escape(e.name)}">{html.escape(e.name)}</option>' for e in report.encoders
    )
    return "\n".join(
        [
            '<section id="tokens" aria-labelledby="tokens-h"><h2 id="tokens-h">Token view</h2>',
            (
                f'<p class="hint">The first non-empty line of each language of <code>{html.escape(corpus.name)}</code>, '
                "encoded without BOS/EOS. Pieces alternate colours; "
                '<span class="legend"><span class="tok partial">e4 bd</span></span> marks a partial UTF-8 token '
                "(bytes of a character split across tokens, shown in hex). Hover a piece, or tab into a row and use the "
                "arrow keys, to see its id and bytes.</p>"
            ),
            '<div class="controls">',
            f'<label for="tv-language">Language<select id="tv-language">{languages}</select></label>',
            f'<label for="tv-tokenizer">Tokenizer<select id="tv-tokenizer">{tokenizers}</select></label>',
            "</div>",
            '<p class="sentence" id="tv-sentence"></p>',
            '<div id="tv-detail" aria-live="polite"></div>',
            '<div id="tv-rows"></div>',
            "<noscript><p>The token view needs JavaScript; the tables above and below do not.</p></noscript>",
            "</section>",
        ]
    )


def _meta(report: CompressionReport) -> str:
    meta = report.meta
    parts = [
        f"Made {html.escape(str(meta['date']))}" if meta.get("date") else "",
        f"with <code>{html.escape(str(meta['command']))}</code>" if meta.get("command") else "",
    ]
    versions = ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items())
    lines = [
        f'<p class="meta">{" ".join(p for p in parts if p)}'
        + (f"<br>{html.escape(versions)}" if versions else "")
        + "</p>"
    ]
    lines += [f'<p class="note">Note: {html.escape(note)}</p>' for note in report.notes]
    return "\n".join(lines)


def _summary_table(report: CompressionReport, corpus: Corpus) -> str:
    sizes = {e.name: e.vocab_size for e in report.encoders}
    same = report.baseline == CL100K  # one "vs" column is enough
    header = [
        "tokenizer",
        "vocab size",
        "bytes/token",
        f"vs {report.baseline}",
        *([] if same else [f"vs {CL100K}"]),
        "mean premium",
        "worst premium",
        "vocab share",
        "byte fallback",
        "round trips failed",
        "Gini",
        "Rényi eff.",
        "fertility",
        "encode MB/s",
        "held out",
    ]
    rows = [
        [
            _text(s.tokenizer),
            _int(sizes.get(s.tokenizer)),
            _float(s.bytes_per_token),
            _float(s.mean_rel_baseline),
            *([] if same else [_float(s.mean_rel_cl100k)]),
            _float(s.mean_premium),
            _worst(corpus, s.worst_premium, s.worst_language),
            _pct(s.vocab_share),
            _pct(s.byte_fallback_share),
            _int(s.round_trip_failures),
            _float(s.gini, 3),
            _float(s.renyi_efficiency, 3),
            _float(s.mean_fertility),
            _float(s.encode_mb_per_s, 1),
            _text(held_out_cell(s)),
        ]
        for s in report.summary
        if s.corpus == corpus.name
    ]
    caption = f"{corpus.name}: {len(corpus.languages)} languages, tokens relative to {report.baseline} = 1"
    return _table(caption, header, rows)


def _language_tables(report: CompressionReport, corpus: Corpus) -> str:
    metrics: list[tuple[str, Callable[[Row], tuple[str, str]]]] = [
        ("UTF-8 bytes per token (higher is better)", lambda r: _float(r.bytes_per_token)),
        (f"tokens relative to {report.baseline} (lower is better)", lambda r: _float(r.rel_baseline)),
        ("premium over English", lambda r: _float(r.premium)),
        ("tokens", lambda r: _int(r.tokens)),
        ("Rényi efficiency (alpha 2.5, higher is more uniform)", lambda r: _float(r.renyi_efficiency, 3)),
        ("fertility: tokens per whitespace-separated word (lower is better)", lambda r: _float(r.fertility)),
        ("encode MB/s, one thread (higher is faster)", lambda r: _float(r.encode_mb_per_s, 1)),
    ]
    names = [e.name for e in report.encoders]
    legend = corpus_legend(report, corpus)
    parts = [
        f"<h3>{html.escape(corpus.name)}</h3>",
        *([f'<p class="note">{html.escape(legend)}</p>'] if legend else []),
    ]
    for index, (title, cell) in enumerate(metrics):
        if all(cell(report.row(n, corpus.name, lang.code)) == ("", "") for n in names for lang in corpus.languages):
            continue
        rows = [
            [_text(f"{lang.name} ({lang.code})"), *(_marked(report, cell, n, corpus.name, lang.code) for n in names)]
            for lang in corpus.languages
        ]
        parts.append(f"<details{' open' if index == 0 else ''}><summary>{html.escape(title)}</summary>")
        parts.append(_table(f"{corpus.name}: {title}", ["language", *names], rows))
        parts.append("</details>")
    return "\n".join(parts)


def _held_out_notes(report: CompressionReport) -> list[str]:
    """The held-out rule and, per trained tokenizer, the corpora it has seen (as in compression.md)."""
    intro, items = held_out_items(report)
    if not intro:
        return []
    listed = "".join(f"<li>{html.escape(item.replace('`', ''))}</li>" for item in items)
    return [f'<p class="note">{html.escape(intro)}</p>', f'<ul class="note">{listed}</ul>']


def _marked(
    report: CompressionReport, cell: Callable[[Row], tuple[str, str]], tokenizer: str, corpus: str, code: str
) -> tuple[str, str]:
    """A cell with its held-out mark (``†``/``‡``) after the number; sorting still uses the number."""
    shown, value = cell(report.row(tokenizer, corpus, code))
    return (shown + report.mark(tokenizer, corpus, code) if shown else shown), value


def _table(caption: str, header: Sequence[str], rows: Sequence[Sequence[tuple[str, str]]]) -> str:
    head = "".join(f'<th scope="col"><button type="button" class="sort">{html.escape(h)}</button></th>' for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td data-v="{html.escape(v)}">{html.escape(shown)}</td>' for shown, v in row) + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap" tabindex="0" role="region" aria-label="{html.escape(caption)}"><table>'
        f'<caption class="hint">{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _figure(name: str, data: bytes) -> str:
    alt = name.removesuffix(".png").replace("_", " ")
    encoded = base64.b64encode(data).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{encoded}" alt="{html.escape(alt)}" loading="lazy">'
        f"<figcaption>{html.escape(name)}</figcaption></figure>"
    )


def _asset(name: str) -> str:
    return resources.files("bbpe.report").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def _worst(corpus: Corpus, premium: float | None, code: str | None) -> tuple[str, str]:
    """``11.39 (Burmese)``, sorted by the number."""
    if premium is None:
        return "", ""
    language = corpus.language(code) if code else None
    name = language.name if language else (code or "")
    return f"{premium:.2f} ({name})" if name else f"{premium:.2f}", repr(premium)


def _bcp47(code: str) -> str:
    """``zho_Hans`` -> ``zho-Hans`` (a valid language tag); other codes are left out."""
    return code.replace("_", "-") if re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", code) else ""


def _text(value: str) -> tuple[str, str]:
    return value, value


def _int(value: int | None) -> tuple[str, str]:
    return ("", "") if value is None else (f"{value:,}", str(value))


def _float(value: float | None, digits: int = 2) -> tuple[str, str]:
    return ("", "") if value is None else (f"{value:.{digits}f}", repr(value))


def _pct(value: float | None) -> tuple[str, str]:
    return ("", "") if value is None else (f"{value:.1%}", repr(value))
