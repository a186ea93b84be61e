"""``bbpe.load(tokenizer.json)``: what bbpe reads gives the file's own ids (``tokenizers``), or one line why not.

The files are written by ``tokenizers`` itself: small ByteLevel BPE tokenizers trained on the Python
sources of installed packages (no ../shared needed), with special tokens, normalizers and Split
pre-tokenizers; then bbpe and ``tokenizers`` encode the same real text with special tokens in it.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from _samples import MULTILINGUAL, python_sources, sample_text

import bbpe
from bbpe.cli import main
from bbpe.errors import VocabFormatError
from bbpe.pretokenize.patterns import CL100K, GPT2, LLAMA3, QWEN, to_oniguruma

tokenizers = pytest.importorskip("tokenizers")
from tokenizers import AddedToken, Regex, decoders, models, normalizers, pre_tokenizers, processors, trainers  # noqa: E402

SPECIALS = ["<|endoftext|>", "<pad>", "<|im_start|>"]


def train_hf(*, normalizer=None, split: str | None = None, prefix_space: bool = False, vocab_size: int = 1500):
    """A ByteLevel BPE trained by tokenizers on real text, specials first (as its trainer numbers them)."""
    tok = tokenizers.Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    if split is None:
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=prefix_space)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(split), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=prefix_space, use_regex=False),
            ]
        )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator([sample_text(300_000)], trainer)
    return tok


def probe_texts() -> list[str]:
    source = python_sources(120_000)
    lines = source.splitlines()[:400] + MULTILINGUAL
    texts = [f"{SPECIALS[i % 3]}{line}{SPECIALS[(i + 1) % 3]} {line}" for i, line in enumerate(lines)]
    return [*texts, source[:50_000], "<|endoftext|><pad><|im_start|>", "e\u0301 ｆｕｌｌ ﬁ Å K"]


def assert_reads_exactly(hf_tok, path: Path) -> bbpe.Tokenizer:
    hf_tok.save(str(path))
    tok = bbpe.load(path)
    texts = probe_texts()
    assert tok.encode_batch(texts, allowed_special="all") == [e.ids for e in hf_tok.encode_batch(texts)]
    for special in SPECIALS:  # specials listed in model.vocab keep their special status and id
        assert tok.special_tokens[special] == hf_tok.token_to_id(special)
        assert special.encode() not in tok.ranks
    return tok


@pytest.mark.parametrize(
    ("normalizer", "split", "form"),
    [
        (None, None, "none"),
        (normalizers.NFC(), None, "NFC"),
        (None, LLAMA3, "none"),
        (normalizers.NFKC(), QWEN, "NFKC"),
        (normalizers.Sequence([normalizers.NFD()]), to_oniguruma(CL100K), "NFD"),
    ],
)
def test_trained_by_tokenizers_reads_exactly(normalizer, split, form, tmp_path):
    tok = assert_reads_exactly(train_hf(normalizer=normalizer, split=split), tmp_path / "t.json")
    assert tok.normalization == form
    assert tok.pattern == (GPT2 if split is None else CL100K if split == to_oniguruma(CL100K) else split)
    assert tok.special_tokens == {"<|endoftext|>": 0, "<pad>": 1, "<|im_start|>": 2}


def test_added_tokens_that_are_not_special_are_always_matched_with_their_ids(tmp_path):
    hf_tok = train_hf()
    hf_tok.add_tokens(["<tool>", "ab"])  # special=false, normalized=true (no normalizer: matched the same way)
    tok = assert_reads_exactly(hf_tok, tmp_path / "t.json")
    assert tok.added_tokens == {"<tool>": 1500, "ab": hf_tok.token_to_id("ab")} and "<tool>" not in tok.special_tokens
    assert tok.ranks[b"ab"] == tok.added_tokens["ab"]  # "ab" is a regular token too: one id, two ways to reach it
    texts = ["x<tool>yab<|endoftext|>", "<tool><tool>ab<pad> zab", *probe_texts()[:50]]
    assert [tok.encode(t, allowed_special="all") for t in texts] == [hf_tok.encode(t).ids for t in texts]
    hf_tok.encode_special_tokens = True  # special tokens as ordinary text; added tokens are still cut out
    assert [tok.encode_ordinary(t) for t in texts] == [hf_tok.encode(t).ids for t in texts]
    assert tok.encode_ordinary("x<tool>y")[1] == 1500


def test_our_own_export_reads_back_exactly(tmp_path):
    ranks = {bytes([i]): i for i in range(256)} | {b"ab": 256, b"?!": 257}
    tok = bbpe.Tokenizer(ranks, pattern="cl100k", special_tokens={"?": 300, "<|end|>": 290}, normalization="none")
    tok.save_pretrained(tmp_path / "d", eos=None, pad=None)
    back = bbpe.load(tmp_path / "d")
    assert (back.ranks, back.special_tokens, back.pattern) == (tok.ranks, tok.special_tokens, CL100K)


# -- refused, one line naming the feature ---------------------------------------------------------------------------
def refused(path: Path, document: dict, match: str, capsys) -> None:
    path.write_text(json.dumps(document))
    with pytest.raises(VocabFormatError) as caught:
        bbpe.load(path)
    assert str(caught.value).startswith(f"{path}: "), caught.value  # the file is named
    assert re.search(match, caught.value.args[0].removeprefix(f"{path}: ")), caught.value  # not in the path
    assert main(["encode", str(path), "hi"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("bbpe: error:") and "Traceback" not in err


@pytest.fixture(scope="module")
def base_document(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("base") / "t.json"
    train_hf(split=LLAMA3, vocab_size=600).save(str(path))
    return json.loads(path.read_text())


def changed(document: dict, **parts) -> dict:
    return json.loads(json.dumps(document)) | parts


def test_add_prefix_space_is_refused(tmp_path, capsys):
    train_hf(prefix_space=True, vocab_size=400).save(str(tmp_path / "t.json"))
    refused(
        tmp_path / "t.json", json.loads((tmp_path / "t.json").read_text()), "ByteLevel add_prefix_space=true", capsys
    )


@pytest.mark.parametrize(
    ("part", "value", "match"),
    [
        ("normalizer", {"type": "Lowercase"}, "normalizer 'Lowercase' is not supported"),
        ("normalizer", {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Lowercase"}]}, "several"),
        ("pre_tokenizer", {"type": "Whitespace"}, "pre_tokenizer 'Whitespace' is not supported"),
        ("pre_tokenizer", None, "pre_tokenizer none is not supported"),
        (
            "pre_tokenizer",
            {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Digits", "individual_digits": True},
                    {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
                ],
            },
            "'Digits' is not supported",
        ),
        (
            "pre_tokenizer",
            {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": r"\s+"}, "behavior": "Removed", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False},
                ],
            },
            "Split behavior 'Removed'",
        ),
        (
            "pre_tokenizer",
            {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": LLAMA3}, "behavior": "Isolated", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
                ],
            },
            "two regexes",
        ),
        ("decoder", {"type": "WordPiece"}, "decoder 'WordPiece'"),
        (
            "decoder",
            {
                "type": "Sequence",
                "decoders": [
                    {"type": "Replace", "pattern": {"String": "Ġ"}, "content": "_"},
                    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
                ],
            },
            "decoder Replace of 'Ġ', which is not one whole model token",
        ),
    ],
)
def test_unsupported_parts_are_refused(base_document, part, value, match, tmp_path, capsys):
    refused(tmp_path / "t.json", changed(base_document, **{part: value}), match, capsys)


@pytest.mark.parametrize(
    ("flag", "match"),
    [("lstrip", "lstrip=true"), ("rstrip", "rstrip=true"), ("single_word", "single_word=true")],
)
def test_added_token_flags_are_refused(base_document, flag, match, tmp_path, capsys):
    document = changed(base_document)
    document["added_tokens"][1][flag] = True
    refused(tmp_path / "t.json", document, match, capsys)


def test_normalized_added_tokens_under_a_normalizer_are_refused(base_document, tmp_path, capsys):
    document = changed(base_document, normalizer={"type": "NFKC"})
    document["added_tokens"][1]["normalized"] = True
    refused(tmp_path / "t.json", document, "normalized=true under a normalizer", capsys)
    hf_tok = tokenizers.Tokenizer.from_str(json.dumps(changed(base_document, normalizer={"type": "NFKC"})))
    hf_tok.add_tokens([AddedToken("Ａ", normalized=True)])  # matched after NFKC: any "A" would become it
    refused(tmp_path / "t.json", json.loads(hf_tok.to_str()), "normalized=true", capsys)


def test_an_added_token_spelled_like_a_byte_level_key_is_refused(base_document, tmp_path, capsys):
    """ "Ġ" is the byte-level key of the byte 0x20: an added token "Ġ" at that id would make the text "Ġ" and the
    byte-level token of " " one id, which bbpe's separate tables cannot express."""
    document = changed(base_document)
    space = document["model"]["vocab"]["Ġ"]
    flags = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    document["added_tokens"].append({"id": space, "content": "Ġ", **flags})
    refused(tmp_path / "t.json", document, "added token 'Ġ' is also the byte-level key of the bytes b' '", capsys)


def test_overlapping_added_tokens_in_two_passes_are_refused(base_document, tmp_path, capsys):
    document = changed(base_document)
    document["added_tokens"].append(
        {
            "id": 600,
            "content": "pad>x",
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": True,
            "special": False,
        }
    )
    refused(
        tmp_path / "t.json",
        document,
        "'<pad>' \\(normalized=false\\) and 'pad>x' \\(normalized=true\\) overlap",
        capsys,
    )


def test_model_options_without_an_equivalent_are_refused(base_document, tmp_path, capsys):
    for option, value, match in (
        ("dropout", 0.1, "dropout"),
        ("continuing_subword_prefix", "##", "continuing_subword_prefix"),
        ("end_of_word_suffix", "</w>", "end_of_word_suffix"),
    ):
        document = changed(base_document)
        document["model"][option] = value
        refused(tmp_path / "t.json", document, match, capsys)


def test_merge_order_that_differs_from_the_id_order_is_refused(base_document, tmp_path, capsys):
    document = changed(base_document)
    merges = document["model"]["merges"]
    merges[3], merges[40] = merges[40], merges[3]
    refused(tmp_path / "t.json", document, "merge order differs from the id order", capsys)


def test_a_token_without_the_merge_rank_based_bpe_needs_is_refused(base_document, tmp_path, capsys):
    document = changed(base_document)
    vocab = document["model"]["vocab"]
    assert "qZ" not in vocab
    vocab["qZ"] = max(vocab.values()) + 1  # rank-based BPE joins q and Z; tokenizers has no such merge
    refused(tmp_path / "t.json", document, "the merge list lacks", capsys)


def test_ignore_merges_false_and_a_token_bpe_cannot_make_is_refused(tmp_path, capsys):
    """xyz (no two tokens spell it) is reached only whole: tiktoken-style BPE (bbpe) takes the whole piece,
    tokenizers without ignore_merges never does."""
    from bbpe.formats.hf_bytes import to_str

    vocab = {to_str(bytes([i])): i for i in range(256)} | {"xyz": 256}
    document = {
        "model": {"type": "BPE", "vocab": vocab, "merges": [], "ignore_merges": False},
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    }
    refused(tmp_path / "t.json", document, "not what BPE makes of its own text", capsys)
    document["model"]["ignore_merges"] = True
    (tmp_path / "t.json").write_text(json.dumps(document))
    tok = bbpe.load(tmp_path / "t.json")
    hf_tok = tokenizers.Tokenizer.from_file(str(tmp_path / "t.json"))
    assert tok.encode("xyz axyz") == hf_tok.encode("xyz axyz").ids == [256, 32, 97, 120, 121, 122]


def test_post_processor_and_declared_ids_warn(base_document, tmp_path, caplog):
    document = changed(
        base_document,
        post_processor=json.loads(
            processors.TemplateProcessing(
                single="<|endoftext|> $A", special_tokens=[("<|endoftext|>", 0)]
            ).__getstate__()
        ),
    )
    document["added_tokens"][2]["id"] = 9999  # tokenizers keeps the model's id, 2
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document))
    with caplog.at_level(logging.WARNING, logger="bbpe"):
        tok = bbpe.load(path)
    assert tok.special_tokens["<|im_start|>"] == 2
    assert "TemplateProcessing" in caplog.text and "has id 2 in tokenizers, not the 9999 written" in caplog.text


def test_specials_missing_from_the_vocab_get_the_ids_tokenizers_gives_them(tmp_path):
    """bbpe's old export wrote cl100k-style ids (with gaps) that tokenizers renumbers from the vocabulary's size:
    reading follows tokenizers, so bbpe and the file's tokenizer agree."""
    ranks = {bytes([i]): i for i in range(256)}
    tok = bbpe.Tokenizer(ranks, pattern="gpt2")
    document = json.loads(bbpe.formats.hf.dumps(tok))
    flags = {"single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
    document["added_tokens"] = [{"id": 300, "content": "<a>", **flags}, {"id": 310, "content": "<b>", **flags}]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document))
    back = bbpe.load(path)
    hf_tok = tokenizers.Tokenizer.from_file(str(path))
    assert back.special_tokens == {"<a>": 256, "<b>": 257} == {s: hf_tok.token_to_id(s) for s in ("<a>", "<b>")}
