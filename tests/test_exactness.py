"""Exactness on real text, document by document, against the reference implementations.

* tiktoken-kind references (cl100k_base, qwen, llama3): bbpe's pure-Python engine and its
  tiktoken engine give exactly the ids of a ``tiktoken.Encoding`` built from the file with
  the pattern and special tokens of ``../shared/vocabs/VOCABS.md``: on every file of
  ``../shared/corpora/parallel`` (ntrex128 + udhr, every language) and on the first lines
  of every training file (a few MB for the Python engine, about 20 MB for tiktoken's).
* SentencePiece references: ``SentencePieceAdapter`` gives exactly sentencepiece's ids.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

import bbpe
from bbpe import references
from bbpe.tokenizer_adapters import SentencePieceAdapter

SHARED = Path(__file__).resolve().parents[2] / "shared"
PARALLEL = SHARED / "corpora" / "parallel"
TRAIN = SHARED / "corpora" / "train"
PYTHON_ENGINE_BYTES = 20_000  # per training file: ~2.6 MB in all
TIKTOKEN_ENGINE_BYTES = 150_000  # per training file: ~20 MB in all

# pat_str and special tokens exactly as VOCABS.md gives them (independent of bbpe.pretokenize.patterns).
PATTERNS = {
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    "qwen": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
    "llama3": r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""",
}
SPECIALS = {
    "cl100k_base": {
        "<|endoftext|>": 100257,
        "<|fim_prefix|>": 100258,
        "<|fim_middle|>": 100259,
        "<|fim_suffix|>": 100260,
        "<|endofprompt|>": 100276,
    },
    "qwen": {
        "<|endoftext|>": 151643,
        "<|im_start|>": 151644,
        "<|im_end|>": 151645,
        **{f"<|extra_{i}|>": 151646 + i for i in range(205)},
    },
    "llama3": {"<|begin_of_text|>": 128000, "<|end_of_text|>": 128001},  # the other 254 do not affect ordinary text
}
FILES = {"cl100k_base": "cl100k_base.tiktoken", "qwen": "qwen.tiktoken", "llama3": "llama3.tiktoken"}


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} not found (shared data lives in ../shared)")
    return path


def parallel_documents() -> Iterator[tuple[str, str]]:
    files = sorted(require(PARALLEL).glob("*/*.txt"))
    assert len(files) >= 100, "expected ntrex128 and udhr files for every language"
    for path in files:
        yield f"{path.parent.name}/{path.name}", path.read_text(encoding="utf-8")


def train_documents(max_bytes: int) -> Iterator[tuple[str, str]]:
    """The first whole lines (about ``max_bytes``) of every training file."""
    for path in sorted(require(TRAIN).glob("*.txt.gz")):
        lines, size = [], 0
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                lines.append(line)
                size += len(line)
                if size >= max_bytes:
                    break
        yield path.name, "".join(lines)


def tiktoken_reference(name: str, vocabs: Path):
    import tiktoken

    ranks = {}
    for line in (vocabs / FILES[name]).read_bytes().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(name, pat_str=PATTERNS[name], mergeable_ranks=ranks, special_tokens=SPECIALS[name])


def first_difference(got: list[int], expected: list[int]) -> str:
    index = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
    return f"first difference at token {index}: {got[index : index + 5]} != {expected[index : index + 5]}"


def test_reference_patterns_are_the_vocabs_md_ones():
    for name, pattern in PATTERNS.items():
        assert references.get(name).pattern == pattern


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FILES))
@pytest.mark.parametrize("corpus", ["parallel", "train"])
def test_bbpe_engines_equal_tiktoken(name, corpus, vocabs_dir):
    expected_encoding = tiktoken_reference(name, vocabs_dir)
    fast = bbpe.Tokenizer.from_vocabulary(
        references.reference_vocabulary(name, path=vocabs_dir / FILES[name]), engine="tiktoken"
    )
    slow = fast.with_engine("python")
    assert (fast.engine, slow.engine) == ("tiktoken", "python")
    if corpus == "parallel":
        documents = [(doc, True) for doc in parallel_documents()]
    else:
        small = dict(train_documents(PYTHON_ENGINE_BYTES))
        documents = [((label, text), True) for label, text in small.items()]
        documents += [((label, text), False) for label, text in train_documents(TIKTOKEN_ENGINE_BYTES)]
    checked = 0
    for (label, text), with_python in documents:
        expected = expected_encoding.encode(text, disallowed_special=())
        got = fast.encode(text, disallowed_special=())
        assert got == expected, f"{name} tiktoken engine, {label}: {first_difference(got, expected)}"
        if with_python:
            got = slow.encode_ordinary(text)
            assert got == expected, f"{name} python engine, {label}: {first_difference(got, expected)}"
        checked += len(text.encode("utf-8"))
    assert checked > (20_000_000 if corpus == "parallel" else 15_000_000)


SPM_NAMES = [name for name, ref in references.REFERENCES.items() if ref.kind == "sentencepiece"]


@pytest.mark.slow
@pytest.mark.parametrize("name", SPM_NAMES)
def test_sentencepiece_encoder_equals_sentencepiece(name, vocabs_dir):
    import sentencepiece

    path = vocabs_dir / references.get(name).filename
    encoder = SentencePieceAdapter(path, name)
    processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
    for label, text in parallel_documents():
        if label.startswith("ntrex128/"):
            text = text[:20_000]
        expected = processor.encode(text)
        got = encoder.encode(text)
        assert got == expected, f"{name}, {label}: {first_difference(got, expected)}"
        assert processor.bos_id() not in got and processor.eos_id() not in got
        if not encoder.normalizes:
            assert encoder.decode(got) == text, f"{name} round trip, {label}"
