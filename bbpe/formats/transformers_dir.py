"""A ``transformers`` tokenizer directory: ``AutoTokenizer.from_pretrained(dir)`` gives bbpe's ids.

The directory holds ``tokenizer.json`` (the byte-level BPE of ``bbpe.formats.hf``),
``tokenizer_config.json`` (class ``PreTrainedTokenizerFast``, the special-token roles,
``clean_up_tokenization_spaces: false`` so ``decode`` round trips) and
``special_tokens_map.json``.  No post-processor is written, so ``encode(text)`` adds no
BOS/EOS: ids are exactly bbpe's ``encode(text, allowed_special="all")``.

Special-token roles (``bos``, ``eos``, ``pad``, ``unk``): ``"auto"`` picks the first of the
usual names the vocabulary has (``DEFAULT_NAMES``; ``pad`` falls back to ``eos``, as Qwen
does), ``None`` means no such token, and any other text names a token, which is appended as
a new special token when the vocabulary lacks it (so are ``additional`` tokens such as
``<|im_start|>``).  ``additional_special_tokens`` lists the ``additional`` tokens and every
other special token of the vocabulary.

>>> vocab = Vocabulary({bytes([i]): i for i in range(256)}, "gpt2", {"<|endoftext|>": 256})
>>> vocab, roles = with_roles(vocab, additional=["<|im_start|>"])
>>> roles["eos_token"], roles["pad_token"], roles["bos_token"], vocab.special_tokens["<|im_start|>"]
('<|endoftext|>', '<|endoftext|>', None, 257)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bbpe.errors import VocabFormatError
from bbpe.formats import hf, hf_read
from bbpe.output import atomic_write
from bbpe.vocabulary import Vocabulary, VocabularyLike

FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
ROLES = ("bos", "eos", "pad", "unk")
DEFAULT_NAMES = {
    "bos": ("<|begin_of_text|>", "<|startoftext|>", "<s>", "<bos>"),
    "eos": ("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>"),
    "pad": ("<|pad|>", "<pad>", "<|finetune_right_pad_id|>"),
    "unk": ("<unk>", "<|unk|>"),
}
AUTO = "auto"


def with_roles(
    tokenizer: VocabularyLike,
    *,
    bos: str | None = AUTO,
    eos: str | None = AUTO,
    pad: str | None = AUTO,
    unk: str | None = AUTO,
    additional: Sequence[str] = (),
) -> tuple[Vocabulary, dict[str, Any]]:
    """The vocabulary (with any missing named tokens appended as specials) and the role map."""
    vocabulary = Vocabulary.of(tokenizer)
    requested = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    specials = dict(tokenizer.special_tokens)
    roles: dict[str, Any] = {}
    for role in ROLES:
        choice = requested[role]
        if choice == AUTO:
            choice = next((name for name in DEFAULT_NAMES[role] if name in specials), None)
            if choice is None and role == "pad":
                choice = roles["eos_token"]
        roles[f"{role}_token"] = choice
    named = [roles[f"{role}_token"] for role in ROLES] + list(additional)
    for text in named:
        if text is not None and text not in specials:
            if not text:
                raise ValueError("a special token cannot be empty")
            specials[text] = max([vocabulary.max_token_value, *specials.values()]) + 1
    roles["additional_special_tokens"] = list(
        dict.fromkeys(
            [*additional, *(text for text in sorted(specials, key=specials.__getitem__) if text not in named)]
        )
    )
    if specials != vocabulary.special_tokens:
        vocabulary = Vocabulary(
            vocabulary.ranks,
            vocabulary.pattern,
            specials,
            vocabulary.metadata,
            vocabulary.normalization,
            vocabulary.added_tokens,
        )
    return vocabulary, roles


def write(
    tokenizer: VocabularyLike,
    directory: str | os.PathLike[str],
    *,
    bos: str | None = AUTO,
    eos: str | None = AUTO,
    pad: str | None = AUTO,
    unk: str | None = AUTO,
    additional: Sequence[str] = (),
) -> dict[str, Any]:
    """Write the three files into ``directory`` (created if missing; its parent must exist).

    Returns the role map.  Each file is written atomically; other files in the directory
    (model weights, a ``config.json``) are left alone.
    """
    vocabulary, roles = with_roles(tokenizer, bos=bos, eos=eos, pad=pad, unk=unk, additional=additional)
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise ValueError(f"{target}: exists and is not a directory")
    if not target.parent.is_dir():
        raise ValueError(f"{target}: directory {target.parent} does not exist")
    tokenizer_json = hf.dumps(vocabulary)  # checked before anything is written
    target.mkdir(exist_ok=True)
    present = {key: value for key, value in roles.items() if value}
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        **{key: roles[key] for key in (*(f"{role}_token" for role in ROLES), "additional_special_tokens")},
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    atomic_write(target / "tokenizer.json", tokenizer_json)
    atomic_write(target / "tokenizer_config.json", json.dumps(config, ensure_ascii=False, indent=1) + "\n")
    atomic_write(target / "special_tokens_map.json", json.dumps(present, ensure_ascii=False, indent=1) + "\n")
    return roles


def is_transformers_dir(path: str | os.PathLike[str]) -> bool:
    """A directory with a ``tokenizer.json``."""
    return (Path(path) / "tokenizer.json").is_file()


def read(directory: str | os.PathLike[str]) -> Vocabulary:
    """The vocabulary of a directory's ``tokenizer.json`` (specials included)."""
    source = Path(directory)
    if not is_transformers_dir(source):
        raise VocabFormatError(
            source, "a directory without tokenizer.json (expected a transformers tokenizer directory)"
        )
    return hf_read.read(source / "tokenizer.json")
