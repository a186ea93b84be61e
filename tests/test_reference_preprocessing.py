"""Each reference does before BPE what its own tokenizer does: normalizer, prefix space, unknown characters.

tiktoken kinds are compared with tiktoken over the reference's ranks, pattern and specials (built here, with
the normalization each model's own code applies, written out by hand); SentencePiece kinds are checked
against the facts the table states, through the ``sentencepiece`` library.
"""

from __future__ import annotations

import unicodedata

import pytest
from conftest import PARALLEL_DIR

import bbpe
from bbpe import references
from bbpe.encoding.tiktoken_engine import tiktoken_encoding
from bbpe.formats.tiktoken_file import read_ranks
from bbpe.tokenizer_adapters import open_adapter

# The nukta letters U+0958-U+095F are composition exclusions: NFC writes them as consonant + U+093C.
NUKTA = {chr(0x0958 + i): unicodedata.normalize("NFC", chr(0x0958 + i)) for i in range(8)}
SHIPPED_HINDI = "क़िला और ज़मीन, फ़िल्म, ग़ज़ल, ड़ ढ़ — नमस्ते दुनिया! "


def non_nfc_hindi() -> str:
    """Hindi with every nukta letter written as one code point (not NFC), as much real text as there is."""
    path = PARALLEL_DIR / "ntrex128" / "hin_Deva.txt"
    text = path.read_text(encoding="utf-8") if path.is_file() else SHIPPED_HINDI * 50
    for single, pair in NUKTA.items():
        text = text.replace(pair, single)
    assert not unicodedata.is_normalized("NFC", text)
    return text


def reference_encoding(name: str, vocabs_dir) -> object:
    reference = references.get(name)
    path = references.locate(name).path
    return tiktoken_encoding(read_ranks(path), pattern=reference.pattern, special_tokens=reference.special_tokens)


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "llama3"])
def test_tiktoken_references_encode_the_raw_text(name, vocabs_dir, o200k_file):
    """OpenAI's tiktoken and Meta's llama3 tokenizer.py encode the text as given: no normalizer, no prefix space,
    every byte a token (so any character round trips)."""
    reference = references.get(name)
    assert (reference.normalization, reference.preprocessing.split(":")[0]) == ("none", "none")
    tok = bbpe.load(name)
    encoding = reference_encoding(name, vocabs_dir)
    text = non_nfc_hindi()[:20_000]
    assert (
        tok.encode(text)
        == encoding.encode_ordinary(text)
        != encoding.encode_ordinary(unicodedata.normalize("NFC", text))
    )
    for sample in ("  leading spaces", "\U0010fffd\U000e0001 unknown", "e\u0301 ｆｕｌｌ", " <|endoftext|> x"):
        ids = tok.encode(sample, allowed_special="all")
        assert ids == encoding.encode(sample, allowed_special="all") and tok.decode(ids) == sample


def qwen_1(encoding: object, text: str) -> list[int]:
    """Qwen-1's tokenization_qwen.py: NFC over the whole text, then tiktoken finds the special tokens."""
    return encoding.encode(unicodedata.normalize("NFC", text), allowed_special="all", disallowed_special=())


def qwen_2(encoding: object, text: str, specials: dict[str, int]) -> list[int]:
    """Qwen2's tokenizer.json (transformers' Qwen2Tokenizer): special tokens (added tokens, normalized=false) cut
    out of the raw text, longest first, then NFC on each remaining segment."""
    ids: list[int] = []
    at = start = 0
    while at < len(text):
        found = max((s for s in specials if text.startswith(s, at)), key=len, default=None)
        if found is None:
            at += 1
            continue
        ids += encoding.encode_ordinary(unicodedata.normalize("NFC", text[start:at])) + [specials[found]]
        at = start = at + len(found)
    return ids + encoding.encode_ordinary(unicodedata.normalize("NFC", text[start:]))


def test_qwen_normalizes_like_qwen(vocabs_dir):
    """The issue's case: bbpe's qwen encoded the raw text, so its counts on non-NFC Hindi were not Qwen's."""
    reference = references.get("qwen")
    assert reference.normalization == "NFC" and "NFC" in reference.preprocessing
    tok = bbpe.load("qwen")
    encoding = reference_encoding("qwen", vocabs_dir)
    text = non_nfc_hindi()
    ids = tok.encode(text)
    assert ids == encoding.encode_ordinary(unicodedata.normalize("NFC", text))
    assert len(ids) > len(encoding.encode_ordinary(text))  # what bbpe counted before: fewer tokens
    chat = "<|im_start|>user\nक़िला e\u0301<|im_end|>\n<|im_start|>assistant\nज़मीन<|im_end|><|endoftext|>"
    assert (
        tok.encode(chat, allowed_special="all") == qwen_1(encoding, chat) == qwen_2(encoding, chat, tok.special_tokens)
    )


def test_qwen_1_and_qwen_2_differ_only_where_a_mark_follows_a_special(vocabs_dir):
    """NFC composes ">" + U+0338 into "≯": Qwen-1 normalizes first and loses the special token; Qwen2 (and bbpe,
    as tokenizers does) cuts the special out first."""
    tok = bbpe.load("qwen")
    encoding = reference_encoding("qwen", vocabs_dir)
    text = "a<|im_end|>\u0338b"
    ids = tok.encode(text, allowed_special="all")
    assert ids == qwen_2(encoding, text, tok.special_tokens)
    assert tok.special_tokens["<|im_end|>"] in ids
    assert tok.special_tokens["<|im_end|>"] not in qwen_1(encoding, text)


SENTENCEPIECE = {
    # name: (normalizer, extra spaces kept, byte fallback)
    "llama2": ("identity", True, True),
    "mistral_v1": ("identity", True, True),
    "xlmr": ("nmt_nfkc", False, False),
    "baichuan": ("nmt_nfkc", False, True),
}


@pytest.mark.parametrize("name", sorted(SENTENCEPIECE))
def test_sentencepiece_references_do_what_the_table_says(name, vocabs_dir):
    normalizer, keeps_spaces, byte_fallback = SENTENCEPIECE[name]
    reference = references.get(name)
    words = reference.preprocessing
    assert normalizer in words and "'▁' prefix" in words
    assert ("byte fallback" in words and "no byte fallback" not in words) == byte_fallback
    assert ("extra spaces kept" in words) == keeps_spaces
    encoder = open_adapter(name)
    sp = encoder._sp
    hindi = non_nfc_hindi()[:2000].replace("\n", " ")
    normalized = sp.normalize(hindi + "  ｆｕｌｌ")
    if normalizer == "identity":  # the text is kept: spaces become ▁ after a ▁ prefix
        assert normalized == "▁" + (hindi + "  ｆｕｌｌ").replace(" ", "▁")
        assert encoder.decode(encoder.encode(hindi)) == hindi
    else:  # NFKC (nukta letters decomposed, full-width folded), extra spaces removed
        assert normalized == "▁" + "▁".join(unicodedata.normalize("NFKC", hindi + "  ｆｕｌｌ").split())
    assert sp.id_to_piece(sp.encode("  a")[0]) == ("▁▁" if keeps_spaces else "▁a")
    unknown = sp.encode("\U0010fffd")
    if byte_fallback:
        assert [sp.id_to_piece(i) for i in unknown if sp.is_byte(i)] == ["<0xF4>", "<0x8F>", "<0xBF>", "<0xBD>"]
    else:
        assert sp.unk_id() in unknown and not any(sp.is_byte(i) for i in unknown)
