"""Rank tables (``.tiktoken`` files) rebuilt from a model's byte-level BPE vocabulary: a GGUF or a tokenizer.json.

In each of these vocabularies a token's id is its rank: the merge that builds it comes later than the merges
building every lower id (checked against the models' own ``tokenizers`` in tests/test_reference_models.py), so
tiktoken's "merge the lowest-ranked pair" gives the model's ids.  The file is ``base64(token) id`` lines in id
order, the same bytes on every run:

* ``from_gguf``: the first ``n_regular`` tokens of a llama.cpp ``gpt2``-model GGUF (all of type normal), through
  GPT-2's byte-level alphabet, plus the bytes those lack at the ids of the one-character user-defined tokens that
  stand for them (DeepSeek LLM and Coder lack 13 bytes: 0xF8 is the added token ``ø``, id 100002 in the LLM);
* ``from_tokenizer_json``: ``model.vocab`` of a Hugging Face BPE, without the keys that are added tokens (DeepSeek
  V3's specials at ids 0-2) and, unless ``ignore_merges`` is set, without the tokens no merge builds: ``tokenizers``
  never gives them, tiktoken would (Qwen3.5 has 201 such, e.g. 加拿大; leaving them out leaves id gaps).

>>> import json
>>> vocab = {"a": 0, "b": 1, "ab": 2, "ba": 3}
>>> from_tokenizer_json(json.dumps({"model": {"vocab": vocab, "merges": ["a b"]}, "added_tokens": []}).encode())
b'YQ== 0\\nYg== 1\\nYWI= 2\\n'
"""

from __future__ import annotations

import json
import os
from typing import Any

from bbpe.errors import BBPEError
from bbpe.formats.hf_bytes import to_bytes
from bbpe.formats.tiktoken_file import dumps
from bbpe.references.spm_rebuild import NORMAL, USER_DEFINED, read_vocab


def from_gguf(path: str | os.PathLike[str], n_regular: int) -> bytes:
    """The rank table of the first ``n_regular`` tokens of a byte-level BPE GGUF and the missing bytes' stand-ins."""
    vocab = read_vocab(path)
    if vocab.tokenizer_model != "gpt2" or len(vocab.tokens) < n_regular:
        raise BBPEError(
            f"{path}: GGUF holds a {vocab.tokenizer_model!r} vocabulary of {len(vocab.tokens):,} tokens, "
            f"not a byte-level ('gpt2') one of at least {n_regular:,}"
        )
    ranks: dict[bytes, int] = {}
    for rank in range(n_regular):
        token = to_bytes(vocab.tokens[rank])
        if token is None or vocab.types[rank] != NORMAL or token in ranks:
            raise BBPEError(f"{path}: token {rank} ({vocab.tokens[rank]!r}) is not a regular byte-level token")
        ranks[token] = rank
    for rank in range(n_regular, len(vocab.tokens)):
        token = to_bytes(vocab.tokens[rank])
        if vocab.types[rank] == USER_DEFINED and token is not None and len(token) == 1 and token not in ranks:
            ranks[token] = rank
    return dumps(ranks).encode("ascii")


def from_tokenizer_json(data: bytes, *, where: str = "tokenizer.json") -> bytes:
    """The rank table of a byte-level BPE ``tokenizer.json`` (see the module docstring)."""
    try:
        document = json.loads(data)
        model = document["model"]
        vocab: dict[str, int] = model["vocab"]
        added = {entry["content"] for entry in document.get("added_tokens") or []}
        built = _merge_results(model.get("merges") or [])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BBPEError(f"{where}: not a Hugging Face BPE tokenizer.json ({type(exc).__name__}: {exc})") from None
    keep_all = model.get("ignore_merges") is True
    ranks: dict[bytes, int] = {}
    for key, rank in vocab.items():
        if key in added:
            continue
        token = to_bytes(key)
        if token is None or not isinstance(rank, int) or token in ranks:
            raise BBPEError(f"{where}: model.vocab[{key!r}] is not a byte-level token with an id of its own")
        if keep_all or len(token) == 1 or key in built:
            ranks[token] = rank
    return dumps(ranks).encode("ascii")


def _merge_results(merges: list[Any]) -> set[str]:
    results = set()
    for merge in merges:
        left, right = merge.split(" ", 1) if isinstance(merge, str) else merge
        results.add(left + right)
    return results
