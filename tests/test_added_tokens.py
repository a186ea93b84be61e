"""Added tokens: always cut out of the text (also with special tokens as ordinary text), ids of their own or a
regular token's (DeepSeek's missing bytes), kept by every format, equal in both engines.

Expected ids are derived by hand from byte-level vocabularies (id = byte unless stated) or taken from tiktoken /
Hugging Face ``tokenizers`` on the same cut, never from the code under test.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from _samples import MULTILINGUAL, sample_text
from hypothesis import given, settings
from hypothesis import strategies as st

import bbpe
from bbpe import Tokenizer
from bbpe.encoding.tiktoken_engine import tiktoken_encoding
from bbpe.errors import BBPEError, VocabFormatError
from bbpe.formats import hf, native
from bbpe.vocabulary import Vocabulary

ENGINES = ("python", "tiktoken")
BYTES = {bytes([i]): i for i in range(256)}
# DeepSeek's case in small: byte 0xF8 (never in UTF-8) sits at id 300, where the added token "ø" also is.
ALIASED = {bytes([i]): i for i in range(256) if i != 0xF8} | {b"\xf8": 300, b"ab": 256, b"K\xc3": 257}


def deepseek_like(engine: str = "tiktoken") -> Tokenizer:
    return Tokenizer(
        ALIASED,
        pattern="cl100k",
        special_tokens={"<s>": 301},
        added_tokens={"ø": 300, "<think>": 302, "<tool>": 303},
        engine=engine,
    )


# -- golden values ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_added_tokens_are_cut_out_whatever_allowed_special_says(engine):
    tok = deepseek_like(engine)
    # "Køln": K=75, then "ø" (U+00F8, UTF-8 C3 B8) is the added token 300, not the bytes 0xC3 0xB8 (and not "K\xc3")
    assert tok.encode("Køln") == [75, 300, 108, 110]
    assert tok.encode_ordinary("Køln") == [75, 300, 108, 110]
    assert tok.encode("a<think>ab", disallowed_special=()) == [97, 302, 256]
    assert tok.encode_ordinary("<think><s>") == [302, 60, 115, 62]  # the special as text, the added token cut out
    assert tok.encode("<think><s>", allowed_special="all") == [302, 301]
    assert tok.encode_batch(["ø", "x<tool>"], allowed_special="all") == [[300], [120, 303]]
    assert tok.encode_bytes(b"\xf8\xc3\xb8") == [300, 300]  # the lone byte 0xF8 is token 300 too
    with pytest.raises(ValueError, match="disallowed special token '<s>'"):
        tok.encode("<think><s>")  # added tokens never excuse a disallowed special


@pytest.mark.parametrize("engine", ENGINES)
def test_decoding_an_alias_gives_the_regular_tokens_bytes(engine):
    tok = deepseek_like(engine)
    assert tok.token_bytes(300) == b"\xf8" and tok.token_bytes(302) == b"<think>"
    assert tok.decode(tok.encode("Køln <think>")) == "K\ufffdln <think>"  # as Hugging Face decodes DeepSeek's ids
    assert tok.vocab_size == len(ALIASED) + 3 == tok.max_token_value + 1 - 43  # ids 248, 258..299 are unused


def test_added_and_special_tokens_share_one_leftmost_longest_pass():
    tok = Tokenizer(BYTES, pattern="gpt2", special_tokens={"<|end|>": 300}, added_tokens={"end": 301, "<|e": 302})
    assert tok.encode("<|end|>", allowed_special="all") == [300]  # the longest at the leftmost place
    assert tok.encode_ordinary("<|end|>") == [302, 110, 100, 124, 62]  # "<|e" + "nd|>": leftmost beats longer "end"
    assert tok.encode_ordinary("the end") == [116, 104, 101, 32, 301]


@pytest.mark.parametrize(
    ("added", "specials", "problem"),
    [
        ({"": 300}, {}, "must be a non-empty string"),
        ({"x": -1}, {}, "ids are integers"),
        ({"<s>": 301}, {"<s>": 300}, "both a special token and an added token"),
        ({"<a>": 300}, {"<s>": 300}, "added token id 300 is also a special token id"),
        ({"<a>": 300, "<b>": 300}, {}, "two added tokens share one id"),
    ],
)
def test_vocabulary_checks_added_tokens(added, specials, problem):
    with pytest.raises(ValueError, match=problem):
        Vocabulary(BYTES, "gpt2", specials, added_tokens=added)


# -- both engines agree, against tiktoken on an independent cut --------------------------------------------------
ADDED_TEXTS = ["<tool_call>", "ö", "ü", "<|fim_prefix|>", "tool", "e\u0301", "é"]
SPECIAL_TEXTS = ["<|endoftext|>", "<|im_start|>", "<tool_call>x"]


@pytest.fixture(scope="module")
def small_vocab() -> dict[bytes, int]:
    return bbpe.train([sample_text(200_000)], vocab_size=800, pattern="cl100k", workers=1).ranks


def independent_cut(text: str, cut: dict[str, int]) -> list[str | int]:
    """The text as ordinary strings and ids: a plain scan, the longest token at the leftmost place."""
    out: list[str | int] = []
    ordinary, at = "", 0
    while at < len(text):
        found = max((token for token in cut if text.startswith(token, at)), key=len, default=None)
        if found is None:
            ordinary += text[at]
            at += 1
            continue
        out += [ordinary, cut[found]]
        ordinary, at = "", at + len(found)
    return out + [ordinary]


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.one_of(st.text(max_size=10), st.sampled_from(ADDED_TEXTS + SPECIAL_TEXTS)), max_size=12),
    normalization=st.sampled_from(["none", "NFC", "NFKD"]),
    added=st.sets(st.sampled_from(ADDED_TEXTS), min_size=1),
    aliased=st.booleans(),
)
def test_engines_equal_with_added_tokens(small_vocab, pieces, normalization, added, aliased):
    text = "".join(pieces)
    specials = {token: 900 + index for index, token in enumerate(SPECIAL_TEXTS)}
    added_ids = {token: 950 + index for index, token in enumerate(sorted(added))}
    if aliased:  # the first added token takes a regular token's id instead
        added_ids[min(added)] = 500
    kwargs = {"pattern": "cl100k", "special_tokens": specials, "normalization": normalization}
    python = Tokenizer(small_vocab, engine="python", added_tokens=added_ids, **kwargs)
    fast = Tokenizer(small_vocab, engine="tiktoken", added_tokens=added_ids, **kwargs)
    reference = tiktoken_encoding(small_vocab, pattern=python.pattern)

    def expected(cut: dict[str, int]) -> list[int]:
        ids: list[int] = []
        for part in independent_cut(text, cut):
            if isinstance(part, int):
                ids.append(part)
            elif part:
                ids += reference.encode_ordinary(
                    part if normalization == "none" else unicodedata.normalize(normalization, part)
                )
        return ids

    with_specials = python.encode(text, allowed_special="all")
    assert with_specials == fast.encode(text, allowed_special="all") == expected(specials | added_ids)
    ordinary = python.encode_ordinary(text)
    assert ordinary == fast.encode_ordinary(text) == expected(added_ids)
    assert python.encode_batch([text, text[:4]], disallowed_special=()) == fast.encode_batch(
        [text, text[:4]], disallowed_special=()
    )
    if not aliased and normalization == "none":
        assert fast.decode(ordinary) == text == python.decode(with_specials)


# -- files: bbpe JSON, tokenizer.json, transformers ----------------------------------------------------------------
def test_native_file_keeps_added_tokens_and_id_gaps(tmp_path):
    tok = deepseek_like()
    tok.save(tmp_path / "t.json")
    document = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert document["version"] == native.VERSION_ADDED and document["added_tokens"] == tok.added_tokens
    assert document["tokens"][0xF8] is None and document["tokens"][258:300] == [None] * 42
    back = bbpe.load(tmp_path / "t.json")
    assert (back.ranks, back.special_tokens, back.added_tokens) == (tok.ranks, tok.special_tokens, tok.added_tokens)
    assert back.encode("Køln<think>") == [75, 300, 108, 110, 302]
    plain = Tokenizer(BYTES, pattern="gpt2")  # no added tokens, no gaps: still version 1
    assert json.loads(native.dumps(plain))["version"] == native.VERSION


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"version": 2}, r"field 'tokens'\[248\]: not the base64"),  # null (a gap) only in version 3
        ({"added_tokens": {"x": 1, "y": 1}}, "two added tokens share one id"),
        ({"added_tokens": {"x": "1"}}, "must be an integer"),
        ({"added_tokens": {"<s>": 5}}, "both a special token and an added token"),
        ({"tokens": [None] * 3}, "lacks 256 single-byte tokens"),
    ],
)
def test_native_file_with_bad_added_tokens_is_one_error(tmp_path, change, problem):
    document = json.loads(native.dumps(deepseek_like()))
    (tmp_path / "bad.json").write_text(json.dumps(document | change))
    with pytest.raises(VocabFormatError, match=problem):
        bbpe.load(tmp_path / "bad.json")
    del document["added_tokens"]
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(VocabFormatError, match="'added_tokens' is missing"):
        bbpe.load(tmp_path / "bad.json")
    gap_free = json.loads(native.dumps(Tokenizer(BYTES, pattern="gpt2", added_tokens={"<x>": 256})))
    (tmp_path / "bad.json").write_text(json.dumps(gap_free | {"version": 2}))
    with pytest.raises(VocabFormatError, match="field 'added_tokens' needs file version 3"):
        bbpe.load(tmp_path / "bad.json")


def test_tokenizer_json_export_gives_tokenizers_the_same_ids_and_reads_back(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    tok = deepseek_like()
    hf.write(tok, tmp_path / "tokenizer.json")
    document = json.loads((tmp_path / "tokenizer.json").read_text(encoding="utf-8"))
    flags = {entry["content"]: (entry["id"], entry["special"]) for entry in document["added_tokens"]}
    assert flags == {"ø": (300, False), "<s>": (301, True), "<think>": (302, False), "<tool>": (303, False)}
    theirs = tokenizers.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    texts = [*MULTILINGUAL, "Køln <think>ab<s><tool>", "\u00f8\u00f8x"]
    assert [tok.encode(t, allowed_special="all") for t in texts] == [theirs.encode(t).ids for t in texts]
    theirs.encode_special_tokens = True
    assert [tok.encode_ordinary(t) for t in texts] == [theirs.encode(t).ids for t in texts]
    back = bbpe.load(tmp_path / "tokenizer.json")
    assert (back.ranks, back.special_tokens, back.added_tokens) == (tok.ranks, tok.special_tokens, tok.added_tokens)


def test_an_alias_that_tokenizer_json_cannot_hold_is_refused(tmp_path):
    tok = Tokenizer(BYTES, pattern="gpt2", added_tokens={"<x>": 65})  # id 65 is "A": one id, two texts
    with pytest.raises(ValueError, match="shares id 65 with a regular token"):
        hf.write(tok, tmp_path / "tokenizer.json")
    assert not (tmp_path / "tokenizer.json").exists()


def test_tokenizer_json_reads_deepseeks_missing_bytes_as_aliases(tmp_path):
    """A file as DeepSeek's: model.vocab (ids 0..255) lacks the byte 0xF8; the added token 'ø' (special: false,
    numbered 257 by tokenizers after the special 256) stands for it."""
    pytest.importorskip("tokenizers")
    others = [bytes([i]) for i in range(256) if i != 0xF8] + [b"ab"]
    ranks = {token: rank for rank, token in enumerate(others)} | {b"\xf8": 257}
    document = hf.to_json(Tokenizer(ranks, pattern="cl100k", special_tokens={"<s>": 256}))
    del document["model"]["vocab"]["ø"], document["model"]["vocab"]["<s>"]
    flags = {"single_word": False, "lstrip": False, "rstrip": False}
    document["added_tokens"] = [
        {"id": 256, "content": "<s>", "special": True, "normalized": False, **flags},
        {"id": 257, "content": "ø", "special": False, "normalized": True, **flags},
    ]
    (tmp_path / "tokenizer.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    tok = bbpe.load(tmp_path / "tokenizer.json")  # also compared with tokenizers itself on a probe text
    assert tok.ranks == ranks and tok.added_tokens == {"ø": 257} and tok.special_tokens == {"<s>": 256}
    assert tok.encode("øab") == [257, 255] and tok.decode([257]) == "\ufffd"


@pytest.mark.slow
def test_transformers_directory_keeps_added_tokens(tmp_path):
    transformers = pytest.importorskip("transformers")
    tok = deepseek_like()
    tok.save_pretrained(tmp_path / "d", eos="<s>")
    auto = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "d"))
    for text in ["Køln <think>ab<s><tool>", *MULTILINGUAL]:
        assert auto.encode(text) == tok.encode(text, allowed_special="all")
    assert bbpe.load(tmp_path / "d").added_tokens == tok.added_tokens


def test_extension_refuses_a_base_with_added_tokens():
    with pytest.raises(BBPEError, match="base vocabulary has 3 added tokens"):
        bbpe.train([sample_text(20_000)], vocab_size=400, init=deepseek_like(), workers=1)
