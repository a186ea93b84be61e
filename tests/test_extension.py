"""Vocabulary extension (``train(init=...)``, ``bbpe train --init``), pruning and ``inspect --compare``."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import bbpe
from bbpe import cli, references
from bbpe.errors import BBPEError
from bbpe.formats.tiktoken_file import read_ranks
from bbpe.pretokenize.patterns import CL100K, QWEN, compile_pattern
from bbpe.training.loops import reference
from bbpe.training.methods import extend

SHARED = Path(__file__).resolve().parents[2] / "shared"
BYTES = {bytes([i]): i for i in range(256)}


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found (shared data lives in ../shared)")
    return path


@pytest.fixture(params=["python", "numba"])
def backend(request) -> str:
    """Both merge backends (the numba one is skipped when it cannot be imported)."""
    if request.param == "numba":
        try:
            importlib.import_module("bbpe.training.api").merge_backend("numba")
        except ImportError as exc:
            pytest.skip(str(exc))
    return request.param


def new_tokens(tokenizer: bbpe.Tokenizer, start: int) -> list[bytes]:
    return [tokenizer.token_bytes(i) for i in range(start, len(tokenizer.ranks))]


# -- small bases, hand-derived merges ---------------------------------------------------------
def test_hand_derived_merges_keep_base_ids_and_move_specials_last(backend):
    base = bbpe.Tokenizer({**BYTES, b"ab": 256}, pattern="gpt2", special_tokens={"<s>": 257})
    counts = {"abc": 1, " abc": 2, " abd": 1, " 123": 2}
    # Segmented by the base: [ab c] x1, [' ' ab c] x2, [' ' ab d] x1, [' ' 1 2 3] x2.
    # Pairs: (ab,c)=3 (' ',ab)=3 (' ',1)=2 (1,2)=2 (2,3)=2 (ab,d)=1.
    # 1. tie at 3 -> smaller ids (32,256) < (256,99): " ab" = 257.
    # 2. ( ab,c)=2 (' ',1)=2 (1,2)=2 (2,3)=2 -> smallest (32,49): " 1" = 258.
    # 3. ( ab,c)=(257,99) ( 1,2)=(258,50) (2,3)=(50,51), all 2 -> (50,51): "23" = 259.
    tok = bbpe.train_from_counts(counts, vocab_size=261, init=base, backend=backend)
    assert new_tokens(tok, 256) == [b"ab", b" ab", b" 1", b"23"]
    assert tok.special_tokens == {"<s>": 260} and tok.vocab_size == 261
    assert tok.pattern == base.pattern  # the base's pattern when none is given
    info = tok.metadata["training"]
    assert info["new_tokens"] == 3 and info["init"]["kept"] == 257 and info["init"]["pruned"] == 0
    assert info["stop_reason"] == "vocab_size"


def test_alias_merge_onto_a_base_token_creates_no_id(backend):
    base = bbpe.Tokenizer({**BYTES, b"abc": 256}, pattern="gpt2")  # "abc" cannot be built by merging
    counts = {"abx": 5, "abcy": 3, "abcz": 1}
    # (a,b)=9 -> "ab" 257; (ab,x)=5 -> "abx" 258; (ab,c)=4 spells "abc": alias of 256, no new id;
    # (abc,y)=3 -> "abcy" 259.
    tok = bbpe.train_from_counts(counts, vocab_size=260, init=base, backend=backend)
    assert new_tokens(tok, 256) == [b"abc", b"ab", b"abx", b"abcy"]
    assert tok.metadata["training"]["merge_steps"] == 4 and tok.metadata["training"]["new_tokens"] == 3


PRUNE_BASE = {**BYTES, b"12": 256, b"ab": 257, b"12\xe4": 258, b"a\xe4": 259}


def test_unreachable_rules():
    # "12" splits under qwen (rule 1); b"12\xe4" is built from "12" (rule 2); b"a\xe4" from "a" and b"\xe4".
    assert extend.unreachable_tokens(PRUNE_BASE, "qwen") == {b"12", b"12\xe4"}
    assert extend.unreachable_tokens(PRUNE_BASE, "cl100k") == set()


def test_unreachable_tokens_are_judged_in_rank_order():
    # " b" 256, "a b" 257 (a + " b": gpt2 splits it, dead), R = b"a b\xe4" 258 (built from "a b": dead), and
    # b" a b\xe4" 259 (built from " " + R: dead), which sorts first by its bytes: judged before R, it would live.
    ranks = BYTES | {b" b": 256, b"a b": 257, b"a b\xe4": 258, b" a b\xe4": 259}
    assert bbpe.bpe.bpe_split(b" a b\xe4", ranks, max_rank=259) == [b" ", b"a b\xe4"]
    assert extend.unreachable_tokens(ranks, "gpt2") == {b"a b", b"a b\xe4", b" a b\xe4"}


@pytest.mark.parametrize("prune", [False, True])
def test_extension_with_and_without_pruning(prune, backend):
    base = bbpe.Tokenizer(PRUNE_BASE, pattern="cl100k", special_tokens={"<|end|>": 300})
    counts = {"abab": 3, " ab": 2, "1": 4, "2": 4}  # qwen pre-tokens
    # [ab ab] x3, [' ' ab] x2 -> "abab" (count 3), then " ab" (count 2).
    kept = 258 if prune else 260
    tok = bbpe.train_from_counts(
        counts, vocab_size=kept + 3, init=base, pattern="qwen", prune_unreachable=prune, backend=backend
    )
    assert new_tokens(tok, kept) == [b"abab", b" ab"]
    assert tok.special_tokens == {"<|end|>": kept + 2}
    assert tok.pattern == QWEN
    base_order = [t for t, _ in sorted(PRUNE_BASE.items(), key=lambda item: item[1])]
    expected_base = [t for t in base_order if not (prune and t in {b"12", b"12\xe4"})]
    assert [tok.token_bytes(i) for i in range(kept)] == expected_base
    assert tok.metadata["training"]["init"]["pruned"] == (2 if prune else 0)


def test_given_specials_replace_the_base_ones():
    base = bbpe.Tokenizer({**BYTES}, pattern="gpt2", special_tokens={"<s>": 256, "</s>": 257})
    tok = bbpe.train_from_counts({"aa": 2}, vocab_size=258, init=base, special_tokens=["<|x|>"], backend="python")
    assert tok.special_tokens == {"<|x|>": 257}
    assert bbpe.train_from_counts({"aa": 2}, vocab_size=259, init=base, backend="python").special_tokens == {
        "<s>": 257,
        "</s>": 258,
    }


def test_a_tiktoken_file_base_takes_the_given_pattern_and_is_named_in_the_metadata(tmp_path):
    """A .tiktoken file that is no reference holds no pattern: the one given is used to load it (and kept)."""
    path = tmp_path / "base.tiktoken"
    path.write_text("".join(f"{line} {rank}\n" for rank, line in enumerate(tiktoken_lines(BYTES))), encoding="ascii")
    tok = bbpe.train_from_counts({"abc": 3}, vocab_size=258, init=path, pattern="gpt2", backend="python")
    assert new_tokens(tok, 256) == [b"ab", b"abc"]
    assert tok.pattern == bbpe.PRESETS["gpt2"]
    assert tok.metadata["training"]["init"]["base"] == str(path)
    assert tok.metadata["training"]["init"]["base_sha256"] is None


def tiktoken_lines(ranks: dict[bytes, int]) -> list[str]:
    import base64

    return [base64.b64encode(token).decode("ascii") for token, _ in sorted(ranks.items(), key=lambda item: item[1])]


def test_errors():
    base = bbpe.Tokenizer({**BYTES, b"ab": 256}, pattern="gpt2")
    with pytest.raises(ValueError, match="smaller than the 257 base tokens"):
        bbpe.train_from_counts({"ab": 2}, vocab_size=256, init=base)
    gappy = bbpe.Tokenizer({**BYTES, b"ab": 300}, pattern="gpt2")
    with pytest.raises(BBPEError, match="0..n-1 without gaps"):
        bbpe.train_from_counts({"ab": 2}, vocab_size=400, init=gappy)
    with pytest.raises(ValueError, match="prune_unreachable needs init"):
        bbpe.train(["ab ab"], vocab_size=300, prune_unreachable=True)


def test_extension_goes_through_merge_backend(monkeypatch):
    asked = []

    def spy(name, **options):
        asked.append(name)
        return reference.learn_merges

    monkeypatch.setattr(importlib.import_module("bbpe.training.merging"), "merge_backend", spy)
    base = bbpe.Tokenizer({**BYTES}, pattern="gpt2")
    tok = bbpe.train(["aaa aaa"], vocab_size=258, init=base, backend="numba", workers=1)
    assert asked[0] == "numba" and tok.token_bytes(256) == b"aa"


# -- real vocabularies ------------------------------------------------------------------------
def real_pieces(pattern: str, text: str, max_chars: int) -> set[str]:
    """The pieces of ``pattern`` in the first ``max_chars`` of ``text`` (the portable or ../shared's text)."""
    return set(compile_pattern(pattern).findall(text[:max_chars]))


@pytest.fixture(scope="module")
def cl100k(vocabs_dir) -> bbpe.Tokenizer:
    return bbpe.Tokenizer.from_vocabulary(
        references.reference_vocabulary("cl100k_base", path=vocabs_dir / "cl100k_base.tiktoken")
    )


def test_tiktoken_segmenter_equals_the_python_encoder(cl100k, any_text):
    tokens = [t for t, _ in sorted(cl100k.ranks.items(), key=lambda item: item[1])]
    fast, slow = extend.segmenter(tokens), extend.segmenter(tokens, engine="python")
    assert fast is not slow
    for piece in sorted(real_pieces(CL100K, any_text, 400_000)):
        data = piece.encode("utf-8")
        assert fast(data) == slow(data), piece


def test_pruning_cl100k_under_qwen_matches_qwen(cl100k, vocabs_dir):
    """VOCABS.md: Qwen = cl100k without its 1,100 multi-digit tokens, order kept, then 52,487 new tokens.

    The exact rule also drops "１０" and "２０" (full-width digits): the qwen pattern makes
    every digit its own pre-token, so Qwen can never produce these two although it kept them.
    """
    qwen = read_ranks(vocabs_dir / "qwen.tiktoken")
    dead = extend.unreachable_tokens(cl100k.ranks, "qwen")
    ascii_digits = {t for t in cl100k.ranks if len(t) > 1 and t.isdigit()}
    assert len(ascii_digits) == 1_100
    assert dead == ascii_digits | {"１０".encode(), "２０".encode()}
    kept = extend.base_tokens(cl100k, pattern="qwen", prune_unreachable=True)
    qwen_order = [t for t, _ in sorted(qwen.items(), key=lambda item: item[1])]
    assert len(kept) == 99_154
    assert kept == [t for t in qwen_order[:99_156] if t not in dead]
    assert not set(qwen_order[:99_156]) - set(kept) - dead
    qwen_tok = bbpe.load("qwen")
    assert len(qwen_tok.encode_ordinary("１０")) == 2  # Qwen itself never emits its token "１０"


def test_pruning_never_changes_a_segmentation(cl100k, any_text):
    """Every qwen pre-token is segmented alike by full and pruned cl100k (the pruned tokens are dead)."""
    full = [t for t, _ in sorted(cl100k.ranks.items(), key=lambda item: item[1])]
    kept = extend.base_tokens(cl100k, pattern="qwen", prune_unreachable=True)
    by_full, by_kept = extend.segmenter(full), extend.segmenter(kept)
    for piece in real_pieces(QWEN, any_text, 2_000_000):
        data = piece.encode("utf-8")
        assert [full[i] for i in by_full(data)] == [kept[i] for i in by_kept(data)], piece


def test_backends_agree_on_a_real_extension(cl100k, any_text):
    """The compiled merge loop against the reference loop (the reference loop itself is checked against the
    brute-force trainer on base vocabularies with aliases in test_bpe_golden)."""
    pytest.importorskip("numba", reason="numba is not installed (pip install 'bbpe[fast]')")
    text = "".join(sorted(real_pieces(QWEN, any_text, 200_000)))
    made = {
        backend: bbpe.train(
            [text],
            vocab_size=99_154 + 2_000 + 5,
            init=cl100k,
            pattern="qwen",
            prune_unreachable=True,
            backend=backend,
            workers=1,
        )
        for backend in ("numba", "python")
    }
    assert [made[b].metadata["training"]["backend"] for b in made] == ["numba", "python"]
    assert made["numba"].ranks == made["python"].ranks and len(made["numba"].ranks) == 101_154


def test_extending_cl100k_keeps_every_id_and_round_trips(cl100k, tmp_path):
    text = "示例文本，中文分词。" * 30 + " hello world 2024 " * 10
    tok = bbpe.train([text], vocab_size=100_256 + 5 + 5, init="cl100k_base", backend="python", workers=1)
    ranks = tok.ranks
    assert all(ranks[t] == i for t, i in cl100k.ranks.items())
    assert len(ranks) == 100_261 and tok.pattern == CL100K
    assert list(tok.special_tokens) == list(cl100k.special_tokens)
    assert sorted(tok.special_tokens.values()) == list(range(100_261, 100_266))
    assert all(len(t) > 1 for t in new_tokens(tok, 100_256))
    sample = "示例文本 hello <|endoftext|> 2024"
    for engine in ("python", "tiktoken"):
        again = tok.with_engine(engine)
        assert again.decode(again.encode(sample, disallowed_special=())) == sample
    tok.save(tmp_path / "ext.json")
    assert bbpe.load(tmp_path / "ext.json").ranks == tok.ranks
    assert tok.metadata["training"]["init"]["base"] == "cl100k_base"


def test_cli_extends_cl100k_qwen_style(capsys, tmp_path, vocabs_dir):
    corpus = tmp_path / "c.txt"
    corpus.write_text("我们的数据 2024 年 12 月\n" * 20, encoding="utf-8")
    out = tmp_path / "ext.json"
    assert (
        cli.main(
            [
                "train",
                str(corpus),
                "--init",
                "cl100k_base",
                "--pattern",
                "qwen",
                "--prune-unreachable",
                "--vocab",
                "99200",
                "-o",
                str(out),
                "--backend",
                "python",
                "--workers",
                "1",
                "-q",
            ]
        )
        == 0
    )
    assert "(99,154 tokens of cl100k_base + " in capsys.readouterr().out
    tok = bbpe.load(out)
    assert tok.pattern == QWEN and tok.vocab_size <= 99_200 and len(tok.special_tokens) == 5
    assert cli.main(["train", str(corpus), "--prune-unreachable", "--vocab", "300", "-o", str(out)]) == 2
    assert "prune_unreachable needs init" in capsys.readouterr().err


# -- inspect --compare ------------------------------------------------------------------------------
def test_inspect_compare_small(capsys, tmp_path):
    first = bbpe.Tokenizer({**BYTES, b"ab": 256, b"12": 257, b"cd": 258}, pattern="gpt2")
    second = bbpe.Tokenizer({**BYTES, b"cd": 256, b"ab": 257, "你好".encode(): 258}, pattern="gpt2")
    first.save(tmp_path / "a.json")
    second.save(tmp_path / "b.json")
    assert cli.main(["inspect", "--compare", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"A             {tmp_path / 'a.json'}: 259 regular tokens",
        f"B             {tmp_path / 'b.json'}: 259 regular tokens",
        "shared        258 (256 at the same id; the first 256 ids are identical)",
        'shared order  not preserved; first break at "cd" (id 258 in A, 256 in B)',
        'only in A     1: "12"',
        "  by script   digits 1",
        'only in B     1: "你好"',
        "  by script   Han 1",
    ]
    assert cli.main(["inspect", str(tmp_path / "a.json"), str(tmp_path / "b.json")]) == 2
    assert "bbpe inspect --compare A B" in capsys.readouterr().err


def test_inspect_compare_references(capsys, vocabs_dir):
    assert cli.main(["inspect", "--compare", "cl100k_base", "qwen", "--top", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "shared        99,156 (410 at the same id; the first 410 ids are identical)"
    assert lines[3] == "shared order  preserved"
    assert lines[4] == 'only in A     1,100: "00" "20" "10"'
    assert lines[5] == "  by script   digits 1,100"
    assert lines[6].startswith("only in B     52,487: ")
    assert lines[7].startswith("  by script   Han 24,624, ")
    assert cli.main(["inspect", "--compare", "cl100k_base", "llama3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2] == "shared        100,256 (100,256 at the same id; the first 100,256 ids are identical)"
    assert lines[4] == "only in A     0: (none)"
