"""tokenizer.json and transformers exports: ``tokenizers`` and ``transformers`` give bbpe's ids, specials included.

Every comparison encodes text that contains special tokens (``allowed_special="all"``, which is what
``tokenizers`` does with added tokens) and checks ``token_to_id`` of every special, id gaps included.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import regex
from conftest import PARALLEL_DIR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe import Tokenizer
from bbpe.cli import main
from bbpe.formats import hf
from bbpe.formats.hf_bytes import decodes_as_itself

tokenizers = pytest.importorskip("tokenizers")
transformers = pytest.importorskip("transformers")

BYTES = {bytes([i]): i for i in range(256)}
SHIPPED = [
    "The quick brown fox; it's 2024-05-01, 3.14159 and $1,000,000.\n\n  indented\tcode()",
    "Der Größenwahn ließ Jürgen öfter über Straßen gehen. 我们在北京的大学学习中文。こんにちは、世界。",
    "नमस्ते दुनिया क़िला ज़मीन, สวัสดีครับ  Привет, как дела? 🤗👩‍💻 e\u0301 ﬁ ｆｕｌｌ",
]


def hf_tokenizer(tok: Tokenizer) -> object:
    return tokenizers.Tokenizer.from_str(hf.dumps(tok))


def texts_with_specials(tok: Tokenizer, lines: list[str]) -> list[str]:
    """Lines with special tokens before, inside and after them (every special at least once)."""
    specials = sorted(tok.special_tokens, key=tok.special_tokens.__getitem__)
    out = []
    for index, line in enumerate(lines):
        special = specials[index % len(specials)]
        middle = len(line) // 2
        out.append(f"{special}{line[:middle]}{special}{line[middle:]}{specials[(index * 7) % len(specials)]}")
    out.append("".join(specials) + "".join(reversed(specials)))
    return out


def assert_same_ids(loaded: object, tok: Tokenizer, texts: list[str]) -> None:
    for special, rank in tok.special_tokens.items():
        assert loaded.token_to_id(special) == rank, special
    theirs = [encoding.ids for encoding in loaded.encode_batch(texts, add_special_tokens=False)]
    ours = tok.encode_batch(texts, allowed_special="all")
    assert theirs == ours
    assert [loaded.decode(ids, skip_special_tokens=False) for ids in ours[:50]] == [tok.decode(i) for i in ours[:50]]


def real_lines(per_file: int) -> list[str]:
    files = sorted(PARALLEL_DIR.rglob("*.txt")) if PARALLEL_DIR.is_dir() else []
    lines = [line for path in files for line in path.read_text(encoding="utf-8").splitlines()[:per_file] if line]
    return lines or SHIPPED


# -- the cases ------------------------------------------------------------------------------------------
def test_merges_list_every_pair_that_spells_a_token_bpes_own_first():
    """By the token's rank; for one token the pair rank-based BPE builds it from, then the other spellings by the
    ranks of their parts (derived by hand: "abc" is built as ab + c, since ab has the lowest rank)."""
    ranks = {bytes([i]): i for i in range(256)} | {b"ab": 256, b"bc": 257, b"abc": 258, b"xyz": 259, b"yz": 260}
    assert hf.merges_of(ranks) == [
        (b"a", b"b"),
        (b"b", b"c"),
        (b"ab", b"c"),
        (b"a", b"bc"),
        (b"x", b"yz"),  # "xyz" below its part "yz": no pair BPE can build it from, the one spelling listed
        (b"y", b"z"),
    ]


def test_rank_table_not_built_in_rank_order():
    """bytes, abc=256, ab=257: tokenizers gave [257, 99, 100] for "abcd", bbpe [256, 100]."""
    tok = Tokenizer(BYTES | {b"abc": 256, b"ab": 257}, pattern="gpt2")
    loaded = hf_tokenizer(tok)
    assert tok.encode("abcd") == [256, 100]
    assert loaded.encode("abcd").ids == [256, 100]
    assert loaded.encode("ab abc xabcab").ids == tok.encode("ab abc xabcab")


def test_special_whose_text_is_a_regular_token(tmp_path, capsys):
    """``--special '?'``: tokenizers gave the special the regular token's id 63."""
    text = "Why? Because!\nthe end? the start.\n" * 100 + " ".join(SHIPPED) * 20
    tok = bbpe.train([text], vocab_size=400, pattern="gpt2", special_tokens=["?"], workers=1)
    question = tok.special_tokens["?"]
    assert question == 399 and tok.ranks[b"?"] == 63
    loaded = hf_tokenizer(tok)
    assert_same_ids(loaded, tok, ["Why? ok", "??", "a?b", "?"])
    assert loaded.decode([63]) == "?" and loaded.decode([question], skip_special_tokens=False) == "?"
    # --add-special the (a regular token of this vocabulary) through the transformers export.
    tok.save(tmp_path / "v.json")
    assert b"the" in tok.ranks
    argv = ["export", str(tmp_path / "v.json"), "--format", "transformers", "-o", str(tmp_path / "d")]
    assert main([*argv, "--add-special", "the"]) == 0
    auto = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "d"))
    back = bbpe.load(tmp_path / "d")
    assert back.special_tokens == {"?": question, "the": question + 1} and back.ranks == tok.ranks
    sample = "the cat? then the end"
    assert auto.encode(sample) == back.encode(sample, allowed_special="all")
    assert auto.convert_tokens_to_ids("the") == question + 1 and auto.decode(auto.encode(sample)) == sample


@pytest.mark.parametrize("engine", ["python", "tiktoken"])
def test_overlapping_and_non_ascii_specials(engine):
    tok = Tokenizer(
        BYTES | {b"ab": 256},
        pattern="gpt2",
        special_tokens={
            "<|end|>": 300,
            "<|end|>x": 302,  # overlaps: longest first in both libraries
            "<｜begin▁of▁sentence｜>": 310,  # DeepSeek style: no byte-level stand-ins
            "<unused 0>": 311,  # a space: not byte-level either
            "ab": 320,  # a regular token's text, beyond an id gap
        },
        engine=engine,
    )
    loaded = hf_tokenizer(tok)
    texts = ["<|end|>x<|end|>y", "<｜begin▁of▁sentence｜>Hi<unused 0>", "xaby ab abab<|end|>", "<|end|"]
    assert_same_ids(loaded, tok, texts)
    assert tok.encode(texts[0], allowed_special="all") == [302, 300, 121]


def test_specials_that_tokenizers_would_decode_as_other_bytes_are_refused(tmp_path, capsys):
    for special in ("é", "Ġx", "<|é|>"):
        assert not decodes_as_itself(special)
        tok = Tokenizer(BYTES, pattern="gpt2", special_tokens={special: 256})
        with pytest.raises(ValueError, match="ByteLevel decoder would decode it as the bytes"):
            hf.to_json(tok)
        tok.save(tmp_path / "v.json")
        target = tmp_path / "t.json"
        assert main(["export", str(tmp_path / "v.json"), "--format", "hf", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "rename it" in err and not target.exists()
        assert main(["export", str(tmp_path / "v.json"), "--format", "transformers", "-o", str(tmp_path / "d")]) == 2
        assert capsys.readouterr().err.count("\n") == 1 and not (tmp_path / "d").exists()


def test_export_check_catches_a_wrong_special_id(monkeypatch):
    tok = Tokenizer(BYTES, pattern="gpt2", special_tokens={"<s>": 300})
    document = hf.to_json(tok)
    del document["model"]["vocab"]["<s>"]  # as the old export wrote it: tokenizers numbers it 256
    with pytest.raises(ValueError, match="gives special token '<s>' id 256, not bbpe's 300"):
        hf.check_export(tok, json.dumps(document))


@pytest.mark.parametrize("engine", ["python", "tiktoken"])
def test_cl100k_whitespace_at_the_end_of_a_segment(engine):
    """cl100k's \\s++$ takes a whitespace run at the end of the text or before a special token whole; Oniguruma's
    $ is the end of a line, so the export writes \\z (it used llama3's pattern, which splits the run)."""
    tok = Tokenizer(BYTES | {b"\n\n": 256, b"\n\n ": 257}, pattern="cl100k", special_tokens={"<s>": 258}, engine=engine)
    texts = ["a\n\n ", "a\n\n <s>b\n\n ", "a\n\n b"]
    assert tok.encode_batch(texts, allowed_special="all") == [[97, 257], [97, 257, 258, 98, 257], [97, 256, 32, 98]]
    assert_same_ids(hf_tokenizer(tok), tok, texts)


def test_trained_vocabulary_with_gaps_in_regular_ids():
    ranks = {token: rank + (rank >= 200) * 7 for token, rank in (BYTES | {b"ab": 256, b"abc": 257}).items()}
    tok = Tokenizer(ranks, pattern="cl100k", special_tokens={"<|a|>": 300, "<|b|>": 290})
    assert_same_ids(hf_tokenizer(tok), tok, texts_with_specials(tok, SHIPPED))


# -- references: cl100k's id gaps, o200k, qwen (NFC), llama3 (tokens not built in rank order) ----------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base", "qwen", "llama3"])
def test_reference_exports_keep_every_id(name, vocabs_dir, o200k_file, tmp_path):
    tok = bbpe.load(o200k_file if name == "o200k_base" else name)
    assert (
        main(
            [
                "export",
                name if name != "o200k_base" else str(o200k_file),
                "--format",
                "transformers",
                "-o",
                str(tmp_path / "d"),
            ]
        )
        == 0
    )
    auto = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "d"))
    if name == "cl100k_base":  # the issue: eos was 100256, <|endofprompt|> 100260, decode([100257]) <|fim_prefix|>
        assert auto.eos_token_id == 100257 and auto.convert_tokens_to_ids("<|endofprompt|>") == 100276
        assert auto.decode([100257]) == "<|endoftext|>"
    texts = texts_with_specials(tok, real_lines(30)) + [Path(bbpe.__file__).read_text()]
    assert auto(texts, add_special_tokens=False)["input_ids"] == tok.encode_batch(texts, allowed_special="all")
    assert_same_ids(tokenizers.Tokenizer.from_file(str(tmp_path / "d" / "tokenizer.json")), tok, texts)
    back = bbpe.load(tmp_path / "d")
    assert (back.ranks, back.special_tokens, back.normalization) == (tok.ranks, tok.special_tokens, tok.normalization)


@pytest.mark.slow
def test_qwen_style_extension_of_cl100k_with_chat_specials(vocabs_dir, tmp_path):
    text = "\n".join(real_lines(40)) * 2
    extended = bbpe.train(
        [text],
        vocab_size=100_256 + 64 + 3,
        init="cl100k_base",
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        workers=1,
    )
    assert extended.special_tokens["<|im_end|>"] == 100_256 + 64 + 2
    extended.save_pretrained(tmp_path / "d")
    auto = transformers.AutoTokenizer.from_pretrained(str(tmp_path / "d"))
    chat = "<|im_start|>user\nBonjour, ça va ?<|im_end|>\n<|im_start|>assistant\n你好<|im_end|><|endoftext|>"
    assert auto.encode(chat) == extended.encode(chat, allowed_special="all")
    assert auto.decode(auto.encode(chat)) == chat
    texts = texts_with_specials(extended, real_lines(10))
    assert auto(texts, add_special_tokens=False)["input_ids"] == extended.encode_batch(texts, allowed_special="all")


# -- property: random vocabularies and specials -------------------------------------------------------------------
SAFE_SPECIALS = ["<|e|>", "<|e|>x", "x<|e|>", "a", "ab", "?", "<s>", "</s>", "a b", "<｜x｜>", "▁", "\n", "e\u0301"]


def random_vocabulary(seed: int, merges: int, chosen: list[str], pattern: str, normalization: str) -> Tokenizer:
    """Bytes plus ``merges`` random joins of two tokens (some not built in rank order), regular and special ids
    with gaps now and then, and the ``chosen`` specials."""
    rng = random.Random(seed)
    ranks = dict(BYTES)
    next_id = 256
    tokens = [bytes([b]) for b in b"abex <|>?\n"] + ["é".encode()]
    for _ in range(merges):
        joined = rng.choice(tokens) + rng.choice(tokens)
        if joined not in ranks and len(joined) <= 8:
            next_id += rng.choice([0, 0, 0, 1, 5])
            ranks[joined] = next_id
            tokens.append(joined)
            next_id += 1
    specials = {}
    for special in chosen:
        next_id += rng.choice([0, 1, 15])  # id gaps, as cl100k's
        specials[special] = next_id
        next_id += 1
    return Tokenizer(ranks, pattern=pattern, special_tokens=specials, normalization=normalization)  # type: ignore[arg-type]


def refused_with_a_normalizer(tok: Tokenizer) -> bool:
    """Under a normalizer, a plain-ASCII special that one character, a regular token or a whole pre-token
    can spell cannot be exported (normalized text could spell it, and tokenizers would match it in the model)."""
    if tok.normalization == "none":
        return False
    return any(
        special.isascii()
        and " " not in special
        and "\n" not in special
        and (len(special) == 1 or special.encode() in tok.ranks or regex.findall(tok.pattern, special) == [special])
        for special in tok.special_tokens
    )


vocabularies = st.builds(
    random_vocabulary,
    seed=st.integers(0, 2**32),
    merges=st.integers(0, 40),
    chosen=st.lists(st.sampled_from(SAFE_SPECIALS), unique=True, max_size=6),
    pattern=st.sampled_from(["gpt2", "cl100k", "o200k"]),
    normalization=st.sampled_from(["none", "NFC", "NFKC"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tok=vocabularies,
    pieces=st.lists(
        st.sampled_from(["a", "b", "e", "x", " ", "<", "|", ">", "?", "\n", "é", "\u0301", "ａ", *SAFE_SPECIALS]),
        max_size=30,
    ),
)
def test_random_vocabularies_and_specials_give_bbpe_ids_in_tokenizers(tok, pieces):
    text = "".join(pieces)
    if refused_with_a_normalizer(tok):
        with pytest.raises(ValueError, match="normalized text can spell it"):
            hf.to_json(tok)
        return
    loaded = hf_tokenizer(tok)
    assert_same_ids(loaded, tok, [text, text + "".join(tok.special_tokens)])


def test_random_vocabularies_in_transformers(tmp_path):
    """A few of the generated vocabularies through AutoTokenizer (slower than tokenizers, so fewer)."""
    for index in range(5):
        tok = random_vocabulary(index, 30, SAFE_SPECIALS[index : index + 6], ["gpt2", "cl100k"][index % 2], "none")
        tok.save_pretrained(tmp_path / str(index), bos=None, eos=None, pad=None, unk=None)
        auto = transformers.AutoTokenizer.from_pretrained(str(tmp_path / str(index)))
        texts = texts_with_specials(tok, ["ab <|e|>x a b", "é e\u0301ａ? x"])
        assert auto(texts)["input_ids"] == tok.encode_batch(texts, allowed_special="all")
        assert [auto.decode(ids) for ids in auto(texts)["input_ids"]] == [
            tok.decode(i) for i in tok.encode_batch(texts, allowed_special="all")
        ]
