"""Shared fixtures: paths to ../shared data and real multilingual text samples."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN_DIR = SHARED / "corpora" / "train"
PARALLEL_DIR = SHARED / "corpora" / "parallel"


def require(path: Path) -> Path:
    """Skip the test (with the reason) when shared data is not beside the repo."""
    if not path.exists():
        pytest.skip(f"{path} not found (the shared corpora live in ../shared)")
    return path


def real_text(max_bytes_per_file: int, *, names: tuple[str, ...] | None = None) -> str:
    """The first lines of several training files (English, Chinese, Japanese, code, ...)."""
    files = sorted(require(TRAIN_DIR).glob("*.txt.gz"))
    if names:
        files = [f for f in files if f.name.split(".")[0] in names]
    parts = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            parts.append(handle.read(max_bytes_per_file))
    return "".join(parts)


MIX = ("eng_Latn", "zho_Hans", "jpn_Jpan", "kor_Hang", "rus_Cyrl", "arb_Arab", "hin_Deva", "tha_Thai",
       "code_python", "code_c", "deu_Latn", "vie_Latn")


@pytest.fixture(scope="session")
def multilingual_text() -> str:
    """About 3 MB of real text in a dozen languages and code."""
    return real_text(120_000, names=MIX)
