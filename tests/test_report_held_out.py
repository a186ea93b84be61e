"""The report marks the text a trained tokenizer has seen (its training text, its parity dev set) in every output,
from the tokenizers' metadata and the texts' lines, and puts held-out corpora first."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from pathlib import Path

import pytest

import bbpe
from bbpe.cli import main
from bbpe.parallel_corpora import load_corpus
from bbpe.report import provenance
from bbpe.tokenizer_adapters import BBPEAdapter

SEEN_EN = [f"The committee approved budget line number {i} for the old harbour." for i in range(12)]
SEEN_DE = [f"Der Ausschuss genehmigte die Haushaltszeile {i} für den alten Hafen." for i in range(12)]
NEW_EN = [f"A quiet river runs past mill number {i} in the northern valley." for i in range(6)]
NEW_DE = [f"Ein stiller Fluss fließt an der Mühle {i} im nördlichen Tal vorbei." for i in range(6)]
DEV_EN = [f"Please send the signed form {i} to the regional office by Friday." for i in range(6)]
DEV_DE = [f"Bitte senden Sie das Formular {i} bis Freitag an das Regionalbüro." for i in range(6)]


def write(folder: Path, files: dict[str, list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (folder / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> dict[str, Path]:
    """Training files, three report corpora (mixed: English seen in training; devset: the parity dev set;
    fresh: unseen) and three tokenizers (plain, parity-aware, one without training metadata)."""
    root = tmp_path_factory.mktemp("held")
    train = write(root / "train", {"eng_Latn.t.txt": SEEN_EN * 3, "deu_Latn.t.txt": SEEN_DE * 3})
    corpora = {
        "mixed": write(root / "mixed", {"eng_Latn.txt": SEEN_EN[:6], "deu_Latn.txt": NEW_DE}),
        "devset": write(root / "devset", {"eng_Latn.txt": DEV_EN, "deu_Latn.txt": DEV_DE}),
        "fresh": write(root / "fresh", {"eng_Latn.txt": NEW_EN, "deu_Latn.txt": NEW_DE[::-1]}),
    }
    plain = bbpe.train([train], vocab_size=320, pattern="qwen", workers=1)
    parity = bbpe.train([train], vocab_size=320, pattern="qwen", parity_dev=corpora["devset"], workers=1)
    paths = {"plain": root / "plain.json", "parity": root / "parity.json", "bytes": root / "bytes.json"}
    plain.save(paths["plain"])
    parity.save(paths["parity"])
    bbpe.Tokenizer.from_bytes_only().save(paths["bytes"])  # no training metadata: unknown
    return {**corpora, **paths, "train": train}


@pytest.fixture(scope="module")
def outputs(setup, tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("out")
    argv = ["compress-report", "--quiet", "--baseline", "bytes", "--out", str(out)]
    argv += [item for name in ("bytes", "plain", "parity") for item in ("--tokenizer", str(setup[name]))]
    argv += [item for name in ("mixed", "devset", "fresh") for item in ("--corpus", str(setup[name]))]
    assert main(argv) == 0
    return {
        name: (out / name).read_text(encoding="utf-8")
        for name in ("compression.md", "compression.csv", "compression.json", "compression.html")
    }


# (tokenizer, corpus, language) -> expected mark; every other cell of plain and parity is held out.
EXPECTED = {
    ("plain", "mixed", "eng_Latn"): "training text (100% of its lines)",
    ("parity", "mixed", "eng_Latn"): "training text (100% of its lines)",
    ("parity", "devset", "eng_Latn"): "parity dev set (100% of its lines)",
    ("parity", "devset", "deu_Latn"): "parity dev set (100% of its lines)",
}


def test_csv_and_json_rows_say_what_was_seen(outputs):
    rows = list(csv.DictReader(io.StringIO(outputs["compression.csv"])))
    data = json.loads(outputs["compression.json"])
    assert len(rows) == len(data["rows"]) == 3 * 3 * 2
    for row, record in zip(rows, data["rows"]):
        cell = (row["tokenizer"], row["corpus"], row["language"])
        expected = EXPECTED.get(cell, "")
        assert row["seen"] == record["seen"] == expected, cell
        if row["tokenizer"] == "bytes":  # a tokenizer without training metadata: unknown, not "held out"
            assert (row["held_out"], record["held_out"]) == ("", None)
        else:
            assert row["held_out"] == str(not expected) and record["held_out"] is (not expected)
    summary = {(s["tokenizer"], s["corpus"]): s for s in data["summary"]}
    assert summary[("plain", "mixed")]["held_out"] is False
    assert summary[("plain", "mixed")]["seen"] == "training text in 1 of 2 languages"
    assert summary[("parity", "devset")]["seen"] == "parity dev set in 2 of 2 languages"
    assert summary[("plain", "devset")]["held_out"] is True and summary[("bytes", "devset")]["held_out"] is None
    assert data["held_out"]["checked"] == ["parity", "plain"]
    info = {t["name"]: t for t in data["tokenizers"]}
    assert info["parity"]["parity_dev"].endswith("devset") and info["plain"]["parity_dev"] is None
    assert info["plain"]["training_sources"][0].endswith("train") and info["bytes"]["training_sources"] is None


def test_held_out_corpora_come_first(outputs):
    """fresh: nothing seen; mixed and devset: 2 of 4 checked cells each (given order kept)."""
    data = json.loads(outputs["compression.json"])
    assert [c["name"] for c in data["corpora"]] == ["fresh", "mixed", "devset"]
    sections = re.findall(r"^## (\w+): summary$", outputs["compression.md"], re.MULTILINE)
    assert sections == ["fresh", "mixed", "devset"]
    page = outputs["compression.html"]
    captions = re.findall(r'<caption class="hint">(\w+): \d+ languages', page.split('id="summary"', 1)[1])
    assert captions == ["fresh", "mixed", "devset"]
    assert page.index('alt="fresh bytes per token"') < page.index('alt="mixed bytes per token"')


def markdown_table(markdown: str, heading: str) -> dict[str, dict[str, str]]:
    block = markdown.split(f"### {heading}\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    header = [cell.strip().strip("`") for cell in block[0].strip("|").split("|")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in block[2:]]
    return {row[0]: dict(zip(header, row)) for row in rows}


def test_markdown_marks_cells_and_says_why(outputs):
    markdown = outputs["compression.md"]
    for corpus in ("mixed", "devset", "fresh"):
        table = markdown_table(markdown, f"{corpus}: tokens")
        for language, row in table.items():
            code = language.split("`")[1]
            for tokenizer in ("bytes", "plain", "parity"):
                why = EXPECTED.get((tokenizer, corpus, code), "")
                mark = "†" if why.startswith("training") else "‡" if why.startswith("parity") else ""
                assert re.fullmatch(r"[\d,]+" + mark, row[tokenizer]), (corpus, code, tokenizer, row[tokenizer])
    assert "Not held out: † training text" in markdown.split("## mixed: summary", 1)[1].split("## devset", 1)[0]
    assert "Not held out" not in markdown.split("## fresh: summary", 1)[1].split("## mixed", 1)[0]
    summary = markdown.split("## mixed: summary\n\n", 1)[1].split("\n\n", 1)[0]
    assert "| `plain` |" in summary and "no: training text in 1 of 2 languages |" in summary
    held = markdown.split("## Held-out text\n", 1)[1].split("\n## ", 1)[0]
    assert "- `plain`: `mixed`: training text in 1 of 2 languages" in held
    assert "- `parity`: `mixed`: training text in 1 of 2 languages; `devset`: parity dev set in 2 of 2" in held


def test_html_marks_cells_and_has_the_held_out_column(outputs):
    page = outputs["compression.html"]
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert re.findall(r'<button type="button" class="sort">([^<]*)</button>', summary)[-1] == "held out"
    assert "no: parity dev set in 2 of 2 languages" in summary
    languages = page.split('id="languages"', 1)[1]
    devset = languages.split("<h3>devset</h3>", 1)[1].split("<h3>", 1)[0]
    tokens = devset.split('aria-label="devset: tokens"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", tokens)
    cells = [re.findall(r'<td data-v="([^"]*)">([^<]*)</td>', row) for row in rows if "<td" in row]
    assert len(cells) == 2
    for row in cells:  # language, bytes, plain, parity: only parity's cells carry the dev mark; sorting stays numeric
        (_, bytes_shown), (_, plain_shown), (parity_value, parity_shown) = row[1:]
        assert parity_shown == f"{int(parity_value):,}‡"
        assert re.fullmatch(r"[\d,]+", bytes_shown) and re.fullmatch(r"[\d,]+", plain_shown)
    assert "‡ parity dev set" in devset


def test_provenance_reads_compressed_sources_ignores_short_lines_and_names_missing_ones(tmp_path):
    long_line = "An evening train leaves the coastal station at seven."
    (tmp_path / "train").mkdir()
    with gzip.open(tmp_path / "train" / "eng_Latn.x.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write(f"OK\n  {long_line}  \n")
    corpus = load_corpus(
        write(tmp_path / "c", {"eng_Latn.txt": ["OK", long_line, "Another unseen line of enough length."]})
    )
    tokenizer = bbpe.train([tmp_path / "train"], vocab_size=260, workers=1)
    found = provenance.check([BBPEAdapter(tokenizer, "t")], [corpus])
    # "OK" is too short to count; 1 of the 2 long lines is in the training file: 50%
    assert found.status("t", "c", "eng_Latn") == provenance.Seen("training", 0.5)
    assert found.notes == []
    tokenizer.metadata["corpus"]["sources"].append(str(tmp_path / "gone"))
    found = provenance.check([BBPEAdapter(tokenizer, "t")], [corpus])
    assert found.notes == [f"t: training source not found here, not checked: {tmp_path / 'gone'}"]


def test_figures_mark_what_was_seen(setup, monkeypatch):
    """Bars of seen cells are hatched, heatmap cells carry the mark, a Lorenz curve of a corpus the tokenizer saw is
    dashed and says why, and the vocabulary curve names how many of its languages were seen."""
    pytest.importorskip("matplotlib")
    from bbpe.report import metrics, plots

    drawn = {}
    monkeypatch.setattr(plots, "_png", lambda figure: drawn.setdefault(len(drawn), figure) and b"")
    adapters = [BBPEAdapter(bbpe.load(setup[name]), name) for name in ("bytes", "plain", "parity")]
    corpora = [load_corpus(setup[name]) for name in ("mixed", "devset")]
    report = metrics.build_report(adapters, corpora, baseline="bytes", workers=1, curve_tokenizers=["parity"])
    devset = report.corpora[1]
    assert devset.name == "devset"

    plots.relative_bars(report, devset)
    bars = drawn[0].axes[0].patches  # plain's bars, then parity's (the baseline has none), one per language
    assert [bool(bar.get_hatch()) for bar in bars] == [False, False, True, True]
    assert "hatched: not held out" in drawn[0].get_suptitle()

    plots.heatmap(report, devset)
    texts = [text.get_text() for text in drawn[1].axes[0].texts]
    assert [text[-1] for text in texts if not text[-1].isdigit()] == ["‡", "‡"]  # the parity column, both languages
    assert len(texts) == 6

    plots.lorenz_curves(report, devset)
    lines = {line.get_label().split(" ")[0]: line for line in drawn[2].axes[0].get_lines()}
    assert lines["parity"].get_linestyle() == "--" and lines["plain"].get_linestyle() == "-"
    assert "not held out: parity dev set in 2 of 2 languages" in lines["parity"].get_label()

    plots.vocab_curve(report)  # on the first corpus, mixed: parity saw its English in training
    labels = [line.get_label() for line in drawn[3].axes[0].get_lines()]
    assert "parity (not held out in 1 of 2 languages)" in labels
