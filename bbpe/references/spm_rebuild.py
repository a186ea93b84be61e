"""Rebuild SentencePiece ``.model`` files from llama.cpp's GGUF vocabulary files.

llama.cpp's vocabulary GGUFs keep every piece, score and piece type of a SentencePiece
model (and, for unigram models, the normalizer's precompiled character map).  A recipe
says which GGUF a reference comes from, how its ids map to SentencePiece ids and which
trainer and normalizer settings the original model has (``../shared/vocabs/VOCABS.md``
records the evidence for each).  The output is a serialized ``ModelProto``, built with
sentencepiece's own protobuf module, and is the same bytes on every run.

Piece types use SentencePiece's numbering, which GGUF's ``token_type`` shares:
1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.

Gemma 4's GGUF holds a BPE model given by its merges (no SentencePiece scores): ``rebuild_from_merges``
keeps every token at its id and scores a piece by its first merge (``-(1 + index)``: the earlier the merge,
the higher the score, so SentencePiece merges in the order llama.cpp does).  A multi-character piece that no
merge builds can never come out of llama.cpp's BPE: it is written as unused (6,298 in Gemma 4:
``<unused0>``..., ``[multimodal]``, 70 HTML tags).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import regex
from sentencepiece import sentencepiece_model_pb2 as model_pb2

from bbpe.errors import BBPEError
from bbpe.references.gguf_fields import read_fields

NORMAL, UNKNOWN, USER_DEFINED, UNUSED = 1, 2, 4, 5
_SPM_SPECIALS = (("<unk>", 2), ("<s>", 3), ("</s>", 3))  # SentencePiece ids 0, 1, 2
_COMMON_IDS: Mapping[str, Any] = MappingProxyType(
    {
        "unk_id": 0,
        "bos_id": 1,
        "eos_id": 2,
        "pad_id": -1,
        "unk_surface": " \u2047 ",
        "unk_piece": "<unk>",
        "bos_piece": "<s>",
        "eos_piece": "</s>",
        "pad_piece": "<pad>",
    }
)


@dataclass(frozen=True)
class Recipe:
    """How one reference is rebuilt from one GGUF file.

    ``first``/``stop``: the GGUF ids that become SentencePiece ids 3, 4, ... (the three
    SentencePiece specials are written first); ``user_defined``: SentencePiece ids whose
    type is restored to user-defined; ``charsmap_from_gguf``: take the normalizer's
    precompiled character map from the GGUF.
    """

    tokenizer_model: str
    n_pieces: int
    first: int
    stop: int
    trainer: Mapping[str, Any] = field(repr=False)
    normalizer: Mapping[str, Any] = field(repr=False)
    user_defined: range = range(0)
    charsmap_from_gguf: bool = False


# Llama-2: the trainer settings recorded in Meta's tokenizer.model (printed by
# sentencepiece for that file, VOCABS.md "Spec"); with them the rebuilt file is the
# genuine one, byte for byte (sha256 9e556afd...).
_LLAMA2_TRAINER: Mapping[str, Any] = MappingProxyType(
    {
        "input": ["/large_experiments/theorem/datasets/MERGED/all.test1.merged"],
        "model_prefix": "spm_model_32k_200M_charcov099995_allowWSO__v2",
        "model_type": 2,
        "vocab_size": 32_000,
        "self_test_sample_size": 0,
        "input_format": "text",
        "character_coverage": 0.99995,
        "input_sentence_size": 200_000_000,
        "seed_sentencepiece_size": 1_000_000,
        "shrinking_factor": 0.75,
        "num_threads": 80,
        "num_sub_iterations": 2,
        "max_sentence_length": 4192,
        "shuffle_input_sentence": True,
        "max_sentencepiece_length": 16,
        "split_by_unicode_script": True,
        "split_by_whitespace": True,
        "split_by_number": True,
        "treat_whitespace_as_suffix": False,
        "split_digits": True,
        "allow_whitespace_only_pieces": True,
        "vocabulary_output_piece_score": True,
        "hard_vocab_limit": True,
        "use_all_vocab": False,
        "byte_fallback": True,
        "required_chars": "",
        **_COMMON_IDS,
        "train_extremely_large_corpus": False,
        "enable_differential_privacy": False,
        "differential_privacy_noise_level": 0.0,
        "differential_privacy_clipping_threshold": 0,
    }
)
_SPLITS: Mapping[str, Any] = MappingProxyType(
    {"split_by_unicode_script": True, "split_by_whitespace": True, "split_by_number": True}
)

RECIPES: Mapping[str, Recipe] = MappingProxyType(
    {
        "llama2": Recipe(
            "llama",
            32_000,
            3,
            32_000,
            _LLAMA2_TRAINER,
            {
                "name": "identity",
                "precompiled_charsmap": b"",
                "add_dummy_prefix": True,
                "remove_extra_whitespaces": False,
                "normalization_rule_tsv": "",
            },
        ),
        # XLM-R: GGUF ids are fairseq's (<s> <pad> </s> <unk>, pieces from 4, <mask> 250001);
        # SentencePiece id = fairseq id - 1 for pieces.  nmt_nfkc map from the GGUF.
        "xlmr": Recipe(
            "t5",
            250_000,
            4,
            250_001,
            {"model_type": 1, "vocab_size": 250_000, **_SPLITS, **_COMMON_IDS},
            {
                "name": "nmt_nfkc",
                "add_dummy_prefix": True,
                "remove_extra_whitespaces": True,
                "escape_whitespaces": True,
            },
            charsmap_from_gguf=True,
        ),
        # Baichuan-7B: ids 3..392 were user-defined symbols (the GGUF stores them as normal,
        # score 0); nmt_nfkc as compiled into sentencepiece 0.1.99, the release of its day
        # (VOCABS.md gives the evidence for these inferred settings).
        "baichuan": Recipe(
            "llama",
            64_000,
            3,
            64_000,
            {
                "model_type": 2,
                "vocab_size": 64_000,
                **_SPLITS,
                "split_digits": True,
                "byte_fallback": True,
                **_COMMON_IDS,
            },
            {
                "name": "nmt_nfkc",
                "add_dummy_prefix": True,
                "remove_extra_whitespaces": True,
                "escape_whitespaces": True,
            },
            user_defined=range(3, 393),
        ),
    }
)


@dataclass(frozen=True)
class MergesRecipe:
    """How a SentencePiece BPE model is rebuilt from a GGUF's merges (``rebuild_from_merges``): the GGUF's
    tokenizer model, its size, the special ids and the normalizer (identity, spaces as ``▁``)."""

    tokenizer_model: str
    n_pieces: int
    unk_id: int
    bos_id: int
    eos_id: int
    pad_id: int
    add_dummy_prefix: bool


MERGE_RECIPES: Mapping[str, MergesRecipe] = MappingProxyType(
    {"gemma4": MergesRecipe("gemma4", 262_144, unk_id=3, bos_id=2, eos_id=1, pad_id=0, add_dummy_prefix=False)}
)


@dataclass(frozen=True)
class GGUFVocab:
    """The vocabulary fields of a GGUF file (``merges``: empty unless it holds a merge list)."""

    tokenizer_model: str
    tokens: list[str]
    scores: list[float]
    types: list[int]
    charsmap: bytes
    merges: list[str] = field(default_factory=list)


def read_vocab(path: str | os.PathLike[str]) -> GGUFVocab:
    """Read the tokenizer fields of a GGUF file (BBPEError naming the file if it is not one)."""
    fields = read_fields(path, _TOKENIZER_FIELDS)
    try:
        tokens, types = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.token_type"]
        model = str(fields["tokenizer.ggml.model"])
    except KeyError as exc:
        raise BBPEError(f"{path}: GGUF file has no tokenizer field {exc}; not a vocabulary GGUF") from None
    scores = fields.get("tokenizer.ggml.scores", [])  # BPE GGUFs may have none
    charsmap = fields.get("tokenizer.ggml.precompiled_charsmap", b"")
    merges = fields.get("tokenizer.ggml.merges", [])
    lists = (tokens, types, scores, merges)
    if not all(isinstance(item, list) for item in lists) or not isinstance(charsmap, bytes):
        raise BBPEError(f"{path}: GGUF tokenizer fields of the wrong type; not a vocabulary GGUF")
    if len(tokens) != len(types) or (scores and len(scores) != len(tokens)):
        raise BBPEError(f"{path}: GGUF vocabulary arrays differ in length")
    return GGUFVocab(model, tokens, [float(score) for score in scores], types, charsmap, merges)


_TOKENIZER_FIELDS = frozenset(
    "tokenizer.ggml." + name for name in ("tokens", "token_type", "model", "scores", "precompiled_charsmap", "merges")
)


def rebuild(name: str, gguf_path: str | os.PathLike[str], *, charsmap: bytes | None = None) -> bytes:
    """The serialized SentencePiece model for reference ``name`` rebuilt from ``gguf_path``.

    ``charsmap``: the normalizer's precompiled map when the recipe does not take it from
    this GGUF (Baichuan takes XLM-R's).
    """
    recipe = RECIPES[name]
    vocab = read_vocab(gguf_path)
    n_gguf = recipe.stop - recipe.first + len(_SPM_SPECIALS)
    if vocab.tokenizer_model != recipe.tokenizer_model or len(vocab.tokens) < recipe.stop:
        raise BBPEError(
            f"{gguf_path}: GGUF holds a {vocab.tokenizer_model!r} vocabulary of {len(vocab.tokens):,} tokens, "
            f"not the {recipe.tokenizer_model!r} one of {n_gguf:,} pieces that {name!r} is rebuilt from"
        )
    if recipe.charsmap_from_gguf:
        charsmap = vocab.charsmap
    if recipe.normalizer["name"] != "identity" and not charsmap:
        raise BBPEError(f"{gguf_path}: no normalizer character map for {name!r}")
    model = model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf module, no stubs
    for piece, kind in _SPM_SPECIALS:
        model.pieces.add(piece=piece, score=0.0, type=kind)
    for index in range(recipe.first, recipe.stop):
        spm_id = len(model.pieces)
        kind = USER_DEFINED if spm_id in recipe.user_defined else vocab.types[index]
        piece = model.pieces.add(piece=vocab.tokens[index], score=vocab.scores[index])
        if kind != NORMAL:  # SentencePiece leaves the default type unset
            piece.type = kind
    if len(model.pieces) != recipe.n_pieces:
        raise BBPEError(f"{gguf_path}: rebuilt {len(model.pieces):,} pieces, expected {recipe.n_pieces:,}")
    for key, value in recipe.trainer.items():
        if isinstance(value, list):
            getattr(model.trainer_spec, key).extend(value)
        else:
            setattr(model.trainer_spec, key, value)
    for key, value in recipe.normalizer.items():
        setattr(model.normalizer_spec, key, value)
    if recipe.normalizer["name"] != "identity":
        model.normalizer_spec.precompiled_charsmap = charsmap  # serialized in field order, after the name
    return bytes(model.SerializeToString())


def rebuild_from_merges(name: str, gguf_path: str | os.PathLike[str]) -> bytes:
    """The serialized SentencePiece BPE model for reference ``name`` rebuilt from the merges of ``gguf_path``
    (the module docstring says how)."""
    recipe = MERGE_RECIPES[name]
    vocab = read_vocab(gguf_path)
    if vocab.tokenizer_model != recipe.tokenizer_model or len(vocab.tokens) != recipe.n_pieces or not vocab.merges:
        raise BBPEError(
            f"{gguf_path}: GGUF holds a {vocab.tokenizer_model!r} vocabulary of {len(vocab.tokens):,} tokens and "
            f"{len(vocab.merges):,} merges, not the {recipe.tokenizer_model!r} one of {recipe.n_pieces:,} that "
            f"{name!r} is rebuilt from"
        )
    first_merge: dict[str, int] = {}
    for index, merge in enumerate(vocab.merges):
        left, _, right = merge.partition(" ")
        first_merge.setdefault(left + right, index)
    model = model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated protobuf module, no stubs
    for index, (text, kind) in enumerate(zip(vocab.tokens, vocab.types)):
        if index == recipe.unk_id:
            kind = UNKNOWN
        elif kind == NORMAL and len(text) > 1 and text not in first_merge:
            kind = UNUSED  # no merge builds it: llama.cpp's BPE never gives it
        score = -1.0 - first_merge[text] if kind == NORMAL and text in first_merge else 0.0
        piece = model.pieces.add(piece=text, score=score)
        if kind != NORMAL:
            piece.type = kind
    trainer = model.trainer_spec
    trainer.model_type = 2  # BPE
    trainer.vocab_size = recipe.n_pieces
    trainer.byte_fallback = True
    for key in ("unk_id", "bos_id", "eos_id", "pad_id"):
        setattr(trainer, key, getattr(recipe, key))
    normalizer = model.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = recipe.add_dummy_prefix
    normalizer.remove_extra_whitespaces = False
    normalizer.escape_whitespaces = True
    return bytes(model.SerializeToString())


def charsmap_from_header(path: str | os.PathLike[str], rule: str) -> bytes:
    """A compiled normalization rule from sentencepiece's generated ``normalization_rule.h``.

    The header holds the rules as one array of little-endian 64-bit words and a table of
    ``{"name", size, words + offset}`` entries (the form built on Windows; the same bytes).
    """
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    start = text.find("kNormalizationRules_blob_uint64[] = {")
    entry = regex.search(
        rf'\{{"{rule}", (\d+),\s*reinterpret_cast<const char \*>\('
        r"kNormalizationRules_blob_uint64 \+ (\d+)\)\}",
        text,
    )
    end = text.find("};", start)
    if start < 0 or end < 0 or entry is None:
        raise BBPEError(f"{path}: no compiled {rule!r} rule; not sentencepiece's normalization_rule.h")
    words = [int(word, 16) for word in regex.findall(r"0x([0-9A-Fa-f]+)", text[start:end])]
    blob = struct.pack(f"<{len(words)}Q", *words)
    size, offset = int(entry[1]), int(entry[2]) * 8
    if offset + size > len(blob):
        raise BBPEError(f"{path}: the {rule!r} rule runs past the end of the data (truncated?)")
    return blob[offset : offset + size]
