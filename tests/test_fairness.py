"""Fairness metrics (bbpe.report.fairness) on hand-computed examples, and their place in the compression report."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from _encoders import Chars
from hypothesis import given
from hypothesis import strategies as st

from bbpe.parallel_corpora import load_corpus
from bbpe.report import fairness
from bbpe.report.metrics import build_report
from bbpe.report.render import to_csv, to_json, to_markdown


def test_gini_hand_computed():
    assert fairness.gini([7, 7, 7, 7]) == 0.0
    # sum over ordered pairs |xi - xj| = 2 * (1+2+3+1+2+1) = 20; 20 / (2 * 4^2 * 2.5) = 0.25
    assert fairness.gini([4, 1, 3, 2]) == pytest.approx(0.25)
    assert fairness.gini([0, 0, 0, 9]) == pytest.approx(3 / 4)  # one language carries everything: (n-1)/n
    assert fairness.gini([5, 4]) == pytest.approx(1 / 18)  # 2 * 1 / (2 * 4 * 4.5)
    with pytest.raises(ValueError):
        fairness.gini([])
    with pytest.raises(ValueError):
        fairness.gini([1, -1])


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_gini_equals_the_pairwise_definition(values):
    n, total = len(values), sum(values)
    expected = 0.0 if total == 0 else sum(abs(a - b) for a in values for b in values) / (2 * n * total)
    assert fairness.gini(values) == pytest.approx(expected, abs=1e-12)
    assert 0 <= fairness.gini(values) <= (n - 1) / n + 1e-12


def test_lorenz_curve_hand_computed():
    assert fairness.lorenz_curve([2, 6, 2]) == [(0.0, 0.0), (1 / 3, 0.2), (2 / 3, 0.4), (1.0, 1.0)]


def test_renyi_efficiency_hand_computed():
    assert fairness.renyi_efficiency([3, 3, 3, 3, 3], vocab_size=5) == pytest.approx(1.0)
    # p = (0.75, 0.25): H_2.5 = log(0.75^2.5 + 0.25^2.5) / (1 - 2.5) = log(0.518389) / -1.5 = 0.438019
    assert fairness.renyi_entropy([3, 1]) == pytest.approx(0.438019, abs=1e-6)
    assert fairness.renyi_efficiency([3, 1], vocab_size=4) == pytest.approx(0.438019 / math.log(4), abs=1e-6)
    assert fairness.renyi_efficiency([5, 0, 0], vocab_size=10) == 0.0  # one token type: no entropy
    shannon = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert fairness.renyi_entropy([3, 1], alpha=1) == pytest.approx(shannon)
    assert fairness.renyi_entropy([3, 1], alpha=1.000001) == pytest.approx(shannon, abs=1e-5)


def test_fertility_and_scripts_without_spaces():
    assert fairness.fertility(9, "three short\twords\n") == 3.0
    assert [fairness.uses_spaces(c) for c in ("eng_Latn", "kor_Hang", "rus_Cyrl")] == [True, True, True]
    assert not any(
        fairness.uses_spaces(c)
        for c in (
            "zho_Hans",
            "zho_Hant",
            "lzh_Hani",
            "jpn_Jpan",
            "tha_Thai",
            "lao_Laoo",
            "khm_Khmr",
            "mya_Mymr",
            "bod_Tibt",
        )
    )
    with pytest.raises(ValueError):
        fairness.fertility(3, "  ")


def test_report_rows_summary_and_renderers(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "eng_Latn.txt").write_text("Ab\ncd\n", encoding="utf-8")  # text "Ab cd": 5 tokens, 2 words
    (folder / "fra_Latn.txt").write_text("éé\n\nx\n", encoding="utf-8")  # text "éé x": 4 tokens, 2 words
    (folder / "jpn_Jpan.txt").write_text("あい\nう\n", encoding="utf-8")  # text "あい う": 4 tokens, no fertility
    report = build_report([Chars()], [load_corpus(folder)], baseline="chars", workers=1)
    eng, fra, jpn = (report.row("chars", "tiny", code) for code in ("eng_Latn", "fra_Latn", "jpn_Jpan"))
    assert (eng.fertility, fra.fertility, jpn.fertility) == (2.5, 2.0, None)
    assert eng.renyi_efficiency == round(math.log(5) / math.log(1000), 4)  # 5 distinct characters once each
    summary = report.summary[0]
    # Gini of (5, 4, 4): pairwise |differences| sum to 4; 4 / (2 * 9 * 13/3)
    assert summary.gini == round(4 / (2 * 9 * 13 / 3), 4)
    assert summary.mean_fertility == 2.25
    pooled = [1] * 8 + [2, 3]  # A b c d x あ い う once, é twice, the space 3 times
    assert summary.renyi_efficiency == round(fairness.renyi_efficiency(pooled, 1000), 4)
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert rows[0]["fertility"] == "2.5" and rows[2]["fertility"] == ""
    data = json.loads(to_json(report))
    assert data["summary"][0]["gini"] == summary.gini
    markdown = to_markdown(report)
    assert "| Gini | Rényi eff. | fertility |" in markdown
    assert "### tiny: fertility (tokens per word)" in markdown


def test_gini_is_left_out_where_lines_are_not_aligned(tmp_path):
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "eng_Latn.txt").write_text("a\nb\n", encoding="utf-8")
    (folder / "fra_Latn.txt").write_text("a b\n", encoding="utf-8")
    report = build_report([Chars()], [load_corpus(folder)], baseline="chars", workers=1)
    assert report.summary[0].gini is None
    assert report.summary[0].renyi_efficiency is not None


def test_lorenz_figure_is_a_png_for_aligned_corpora(tmp_path):
    pytest.importorskip("matplotlib")
    from bbpe.report.plots import corpus_figures, render_all

    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "eng_Latn.txt").write_text("Ab\ncd\n", encoding="utf-8")
    (folder / "fra_Latn.txt").write_text("éé\n\nx\n", encoding="utf-8")
    report = build_report([Chars()], [load_corpus(folder)], baseline="chars", workers=1)
    assert "tiny_lorenz.png" in corpus_figures(report, report.corpora[0])
    assert render_all(report)["tiny_lorenz.png"].startswith(b"\x89PNG")
