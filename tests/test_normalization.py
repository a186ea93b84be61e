"""Unicode normalization carried by a tokenizer: encoding, training, files, safe cuts, the report.

Expectations come from ``unicodedata`` and ``regex`` applied by hand (or tiktoken), not from bbpe.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

import bbpe
from bbpe import Tokenizer
from bbpe.cli import main
from bbpe.errors import VocabFormatError
from bbpe.formats import counts as counts_file
from bbpe.formats import native
from bbpe.pretokenize.patterns import CL100K, GPT2, O200K, QWEN
from bbpe.pretokenize.safe_cuts import cut_rule, cuts
from bbpe.tokenizer_adapters import BBPEAdapter
from bbpe.training.counting.pretokens import CountSettings, count_corpus, count_pretokens

BYTES = {bytes([i]): i for i in range(256)}
FORMS = ("NFC", "NFD", "NFKC", "NFKD")
# Hindi with nukta letters as single code points (U+0958 क़, U+095B ज़: NFC decomposes them), a combining
# acute, full-width letters, a ligature, U+037A (NFKC: a space and a mark).
TRICKY = "क़िला ज़मीन e\u0301te ｆｕｌｌ ﬁne \u037a x\n\u037ab\nçà"


def nf(form: str, text: str) -> str:
    return text if form == "none" else unicodedata.normalize(form, text)


@pytest.mark.parametrize("engine", ["python", "tiktoken"])
def test_encoding_normalizes_the_segments_between_specials(engine):
    tok = Tokenizer(BYTES, pattern="gpt2", special_tokens={"<s>": 256}, normalization="NFC", engine=engine)
    assert tok.normalization == "NFC" and tok.with_engine("python").normalization == "NFC"
    assert tok.encode("e\u0301") == [0xC3, 0xA9]  # é precomposed
    assert Tokenizer(BYTES, pattern="gpt2", engine=engine).encode("e\u0301") == [0x65, 0xCC, 0x81]
    # The special is cut out of the raw text first; the mark after it is normalized alone (stays a mark).
    assert tok.encode("e<s>\u0301", allowed_special="all") == [0x65, 256, 0xCC, 0x81]
    nfkc = Tokenizer(BYTES, pattern="gpt2", normalization="nfkc", engine=engine)
    assert nfkc.normalization == "NFKC" and nfkc.encode_ordinary("ｆ") == [ord("f")]
    assert nfkc.decode(nfkc.encode("ﬁ")) == "fi"  # normalizing is not undone by decoding


def test_bad_normalization_values():
    with pytest.raises(ValueError, match="unknown normalization 'NFX'"):
        Tokenizer(BYTES, pattern="gpt2", normalization="NFX")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="normalization must be a string"):
        Tokenizer(BYTES, pattern="gpt2", normalization=None)  # type: ignore[arg-type]


# -- files ------------------------------------------------------------------------------------------------------
def test_native_file_without_normalization_is_unchanged_version_1(tmp_path):
    tok = Tokenizer(BYTES | {b"ab": 256}, pattern="gpt2", special_tokens={"<s>": 257}, metadata={"x": 1})
    tok.save(tmp_path / "v.json")
    # The version 1 layout as bbpe wrote it before normalization existed (key order included).
    expected = {
        "format": "bbpe",
        "version": 1,
        "pattern": GPT2,
        "special_tokens": {"<s>": 257},
        "metadata": {"x": 1},
        "tokens": [__import__("base64").b64encode(t).decode() for t in [*(bytes([i]) for i in range(256)), b"ab"]],
    }
    assert (tmp_path / "v.json").read_text() == json.dumps(expected, ensure_ascii=False, indent=1) + "\n"


def test_native_file_with_normalization_is_version_2(tmp_path):
    tok = Tokenizer(BYTES, pattern="gpt2", normalization="NFKC")
    tok.save(tmp_path / "v.json")
    data = json.loads((tmp_path / "v.json").read_text())
    assert (data["version"], data["normalization"]) == (2, "NFKC")  # a version-1 reader refuses version 2
    assert bbpe.load(tmp_path / "v.json").normalization == "NFKC"
    for change, problem in (
        ({"normalization": "NFX"}, "unknown normalization"),
        ({"normalization": 5}, "must be a string"),
        ({"version": 1}, "needs file version 2"),
        ({"version": 4}, "version 4 is not supported"),
        ({"version": 3}, "field .added_tokens. is missing"),
    ):
        (tmp_path / "bad.json").write_text(json.dumps(data | change))
        with pytest.raises(VocabFormatError, match=problem):
            native.read(tmp_path / "bad.json")


def test_tiktoken_export_warns_that_it_drops_the_normalization(tmp_path, capsys, caplog):
    path = tmp_path / "v.json"
    Tokenizer(BYTES, pattern="gpt2", normalization="NFC").save(path)
    assert main(["export", str(path), "--format", "tiktoken", "-o", str(tmp_path / "v.tiktoken")]) == 0
    assert "cannot carry the NFC normalization" in caplog.text
    Tokenizer(BYTES, pattern="gpt2").save(path)
    caplog.clear()
    assert main(["export", str(path), "--format", "tiktoken", "-o", str(tmp_path / "w.tiktoken")]) == 0
    assert "normalization" not in caplog.text


def test_report_treats_a_normalizing_tokenizer_like_sentencepiece():
    assert BBPEAdapter(Tokenizer(BYTES, pattern="gpt2", normalization="NFC"), "n").normalizes
    assert not BBPEAdapter(Tokenizer(BYTES, pattern="gpt2"), "plain").normalizes


# -- training counts the normalized text -------------------------------------------------------------------------
def reference_counts(texts: list[str], pattern: str, specials: list[str], form: str) -> Counter[bytes]:
    """Cut specials (longest first), normalize each segment, findall: done here with regex and unicodedata."""
    splitter = regex.compile("|".join(regex.escape(s) for s in sorted(specials, key=len, reverse=True)))
    counts: Counter[bytes] = Counter()
    for text in texts:
        for segment in splitter.split(text) if specials else [text]:
            counts.update(piece.encode() for piece in regex.findall(pattern, nf(form, segment)))
    return counts


@pytest.mark.parametrize("form", FORMS)
def test_counting_normalizes_each_segment(form, tmp_path, monkeypatch):
    texts = [TRICKY * 3 + "<|x|>\u0301after<|x|>", "ＡＢＣ\n\u037aZ\nend e\u0301"]
    expected = reference_counts(texts, CL100K, ["<|x|>"], form)
    assert count_pretokens(texts, CL100K, special_tokens=["<|x|>"], normalization=form, workers=1) == expected
    # Files: read in 64-byte blocks, so they are cut at every safe cut the rule finds.
    from bbpe.corpus import documents

    monkeypatch.setattr(documents, "BLOCK", 64)
    files = []
    for index, text in enumerate(texts):
        files.append(tmp_path / f"{index}.txt")
        files[-1].write_text(text * 40)
    settings_ = CountSettings(CL100K, ("<|x|>",), normalization=form)
    whole = reference_counts([text * 40 for text in texts], CL100K, ["<|x|>"], form)
    assert count_corpus(files, settings_, workers=1) == whole


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from(["a", "b", " ", "\n", "\u037a", "\u0e33", "e\u0301", "ｆ", "\u0301", "1", ".", "\ufc5e", "ǅ"]),
        max_size=40,
    ),
    form=st.sampled_from(FORMS),
    pattern=st.sampled_from([CL100K, GPT2, O200K, QWEN]),
)
def test_safe_cuts_stay_safe_in_normalized_text(pieces, form, pattern):
    """Pieces normalized and pre-tokenized one by one == the whole normalized text pre-tokenized."""
    text = "".join(pieces)
    rule = cut_rule(pattern, normalization=form)
    assert rule is not None
    data = text.encode()
    at = [0, *cuts(data, rule), len(data)]
    parts = [data[a:b].decode() for a, b in zip(at, at[1:])]
    assert [p for part in parts for p in regex.findall(pattern, nf(form, part))] == regex.findall(
        pattern, nf(form, text)
    )
    # The premise the rules' proofs use holds in the normalized text: a part starts with a letter.
    assert all(regex.match(r"\p{L}", nf(form, part)) for part in parts[1:])


@pytest.mark.slow
def test_normal_forms_keep_letters_first_and_no_trailing_space_over_all_of_unicode():
    """The facts the safe-cut rules rely on (bbpe.pretokenize.safe_cuts): under NFC/NFD a letter's normal form
    starts with a letter, no non-space character's ends in whitespace, and every character whose canonical
    decomposition starts with a letter is a letter; under NFKC/NFKD exactly the letters the rule checks fail."""
    letter, space = regex.compile(r"\p{L}"), regex.compile(r"\s")
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    assert not [c for c in chars if not letter.match(c) and letter.match(unicodedata.normalize("NFD", c)[0])]
    for form in FORMS:
        not_letter_first = [c for c in chars if letter.match(c) and not letter.match(unicodedata.normalize(form, c)[0])]
        assert bool(not_letter_first) == (form in ("NFKC", "NFKD")), form
        assert not [c for c in chars if not space.match(c) and space.match(unicodedata.normalize(form, c)[-1])]


def test_train_with_normalization_equals_training_on_normalized_text():
    texts = [TRICKY * 20, "e\u0301e\u0301e\u0301 café<|s|>e\u0301" * 30]
    trained = bbpe.train(texts, vocab_size=300, special_tokens=["<|s|>"], normalization="NFC", workers=1)
    normalized = [nf("NFC", part) for part in texts[0:1]] + [
        "<|s|>".join(nf("NFC", p) for p in texts[1].split("<|s|>"))
    ]
    plain = bbpe.train(normalized, vocab_size=300, special_tokens=["<|s|>"], workers=1)
    assert trained.ranks == plain.ranks and trained.normalization == "NFC" and plain.normalization == "none"
    assert "é".encode() in trained.ranks  # learned from the decomposed input


def test_init_takes_the_base_normalization_unless_given(tmp_path):
    base = bbpe.train([TRICKY * 20], vocab_size=280, normalization="NFKC", workers=1)
    base.save(tmp_path / "base.json")
    extended = bbpe.train([TRICKY * 30], vocab_size=290, init=str(tmp_path / "base.json"), workers=1)
    assert extended.normalization == "NFKC"
    assert extended.metadata["training"]["init"]["base_normalization"] == "NFKC"
    override = bbpe.train([TRICKY * 30], vocab_size=290, init=base, normalization="none", workers=1)
    assert override.normalization == "none"
    # The extension learned on NFKC text: the full-width letters never reach it as such.
    assert "ｆ".encode() not in extended.ranks


def test_cli_count_and_train_from_counts_carry_the_normalization(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text(TRICKY * 50)
    out = tmp_path / "c.parquet"
    assert main(["count", str(corpus), "-o", str(out), "--normalize", "nfc", "--workers", "1", "-q"]) == 0
    data = counts_file.read(out)
    assert data.normalization == "NFC" and data.counts == dict(reference_counts([TRICKY * 50], CL100K, [], "NFC"))
    vocab = tmp_path / "v.json"
    assert main(["train", "--from-counts", str(out), "--vocab", "300", "-o", str(vocab), "-q"]) == 0
    assert bbpe.load(vocab).normalization == "NFC"
    capsys.readouterr()
    assert main(["train", "--from-counts", str(out), "--vocab", "300", "-o", str(vocab), "--normalize", "none"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "counted with normalization NFC, but --normalize uses none" in err
    # --init with a base of another normalization than the counts': refused unless told.
    Tokenizer(BYTES, pattern="cl100k").save(tmp_path / "base.json")
    argv = ["train", "--from-counts", str(out), "--vocab", "300", "-o", str(tmp_path / "e.json"), "--init"]
    assert main([*argv, str(tmp_path / "base.json")]) == 2
    assert "the base" in capsys.readouterr().err
    assert main([*argv, str(tmp_path / "base.json"), "--normalize", "nfc"]) == 0
    assert bbpe.load(tmp_path / "e.json").normalization == "NFC"
    # --merge keeps it; counting options are refused with --merge.
    merged = tmp_path / "m.parquet"
    assert main(["count", "--merge", str(out), str(out), "-o", str(merged)]) == 0
    assert counts_file.read(merged).normalization == "NFC"
    assert main(["count", "--merge", str(out), "-o", str(tmp_path / "n.parquet"), "--normalize", "nfc"]) == 2
    # The corpus path of train: the same vocabulary as from the counts.
    assert main(["train", str(corpus), "--vocab", "300", "-o", str(tmp_path / "t.json"), "--normalize", "NFC"]) == 0
    assert bbpe.load(tmp_path / "t.json").ranks == bbpe.load(vocab).ranks


def test_count_file_with_an_unknown_normalization_is_refused(tmp_path):
    path = tmp_path / "c.parquet"
    counts_file.write(path, {"a": 1}, pattern=CL100K, normalization="none")
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    info = json.loads(table.schema.metadata[b"bbpe"])
    info["normalization"] = "NFX"
    pq.write_table(table.replace_schema_metadata({b"bbpe": json.dumps(info).encode()}), path)
    with pytest.raises(VocabFormatError, match="metadata 'normalization': unknown normalization 'NFX'"):
        counts_file.read(path)


def test_hf_export_carries_the_normalizer(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    tok = bbpe.train([TRICKY * 30], vocab_size=300, special_tokens=["<s>"], normalization="NFKC", workers=1)
    assert main(["export", str(_saved(tok, tmp_path)), "--format", "hf", "-o", str(tmp_path / "t.json")]) == 0
    assert json.loads((tmp_path / "t.json").read_text())["normalizer"] == {"type": "NFKC"}
    loaded = tokenizers.Tokenizer.from_file(str(tmp_path / "t.json"))
    text = TRICKY + "<s>\u037aｆ<s>"
    assert loaded.encode(text).ids == tok.encode(text, allowed_special="all")
    assert bbpe.load(tmp_path / "t.json").normalization == "NFKC"


def _saved(tok: Tokenizer, folder: Path) -> Path:
    tok.save(folder / "v.json")
    return folder / "v.json"
