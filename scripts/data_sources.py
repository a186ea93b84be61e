"""The pinned registry packages of the default training mix and how each becomes text.

Every source is one package of one registry at one version.  ``kind`` names the
extractor (see ``build_train.py``); ``label`` is the ``<source>`` part of the output
files ``train/<code>.<source>.txt``; ``cap`` bounds each output file (bytes of text) so
that no single language/source dominates.  Sources are read in table order and lines are
de-duplicated across the whole mix, so English packages come first: a translation's
untranslated (English) lines are then dropped as repeats.

Licenses are as each package's ``copyright`` file (Debian) or wheel metadata (PyPI) states
them, shortened; the files themselves are authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass

DEBIAN = "Debian 12 (bookworm)"
LO_VERSION = "4:7.4.7-1+deb12u14"  # LibreOffice 7.4 help and l10n packs
MOZILLA_VERSION = "140.12.0esr-1~deb12u1"  # Firefox ESR language packs (Thunderbird: epoch 1)
L10N_VERSION = "4.18.1-1"  # manpages-l10n


@dataclass(frozen=True)
class Source:
    """One registry package and what to read from it."""

    registry: str  # "debian" (apt-get download), "npm" (npm pack) or "pypi" (pip download)
    name: str
    version: str
    license: str
    kind: str  # extractor: man, lo-help, html-doc, gnome-help, mo, po, xpi, python
    label: str
    cap: int = 12_000_000


def _debian(names: str, version: str, license: str, kind: str, label: str, cap: int = 12_000_000) -> list[Source]:
    return [Source("debian", name, version, license, kind, label, cap) for name in names.split()]


_MAN_L10N = "GPL-3+ (manpages-l10n translations; original pages under their own free licenses)"
_LO = "MPL-2.0 (LibreOffice)"
_MOZILLA = "MPL-2.0 (Mozilla localizations)"

SOURCES: tuple[Source, ...] = (
    # English first (see the module docstring).
    Source(
        "debian",
        "manpages",
        "6.03-2",
        "per page: Linux-man-pages-copyleft, GPL-2+, GPL-1+, Expat, ... (see copyright)",
        "man",
        "manpages",
    ),
    Source("debian", "libreoffice-help-en-us", LO_VERSION, _LO, "lo-help", "libreoffice-help"),
    Source(
        "debian",
        "python3.11-doc",
        "3.11.2-6+deb12u9",
        "PSF-2.0 (Python documentation)",
        "html-doc",
        "python-3.11-docs",
        15_000_000,
    ),
    Source(
        "debian",
        "gnome-user-docs",
        "43.0-2",
        "CC-BY-SA-3.0 (GNOME Documentation Project)",
        "gnome-help",
        "gnome-user-docs",
        6_000_000,
    ),
    # Manual pages in 21 languages.
    *_debian(
        "manpages-de manpages-fr manpages-es manpages-ru manpages-uk manpages-it manpages-nl manpages-cs "
        "manpages-sv manpages-fi manpages-da manpages-vi manpages-ro manpages-id manpages-el manpages-pt-br",
        L10N_VERSION,
        _MAN_L10N,
        "man",
        "manpages",
    ),
    Source("debian", "manpages-pl", "1:4.18.1-1", _MAN_L10N, "man", "manpages"),
    Source("debian", "manpages-hu", "1:4.18.1-1", _MAN_L10N, "man", "manpages"),
    Source(
        "debian",
        "manpages-ja",
        "0.5.0.0.20221215+dfsg-1",
        "per page: the original pages' licenses (JM Project; see copyright)",
        "man",
        "manpages",
    ),
    Source(
        "debian",
        "manpages-zh",
        "1.6.4.0-1",
        "GFDL-1.2+, GPL-2+, public domain (Chinese Man Pages project; see copyright)",
        "man",
        "manpages",
    ),
    Source("debian", "manpages-tr", "2.0.6-2", "GPL (translations; originals keep their licenses)", "man", "manpages"),
    # LibreOffice help in 16 more languages.
    *_debian(
        "libreoffice-help-zh-cn libreoffice-help-zh-tw libreoffice-help-ja libreoffice-help-ko "
        "libreoffice-help-ru libreoffice-help-hi libreoffice-help-el libreoffice-help-de libreoffice-help-fr "
        "libreoffice-help-es libreoffice-help-it libreoffice-help-pt-br libreoffice-help-vi "
        "libreoffice-help-tr libreoffice-help-pl libreoffice-help-id",
        LO_VERSION,
        _LO,
        "lo-help",
        "libreoffice-help",
    ),
    # LibreOffice user-interface catalogues for languages without a help pack.
    *_debian(
        "libreoffice-l10n-ar libreoffice-l10n-he libreoffice-l10n-th libreoffice-l10n-fa libreoffice-l10n-mr "
        "libreoffice-l10n-bg libreoffice-l10n-uk libreoffice-l10n-ko libreoffice-l10n-hi libreoffice-l10n-el "
        "libreoffice-l10n-bn libreoffice-l10n-gu libreoffice-l10n-pa-in libreoffice-l10n-ta libreoffice-l10n-te "
        "libreoffice-l10n-kn libreoffice-l10n-ml libreoffice-l10n-si libreoffice-l10n-am libreoffice-l10n-km "
        "libreoffice-l10n-ka libreoffice-l10n-kk libreoffice-l10n-ne",
        LO_VERSION,
        _LO,
        "mo",
        "libreoffice-ui",
    ),
    Source("debian", "libreoffice-help-km", LO_VERSION, _LO, "lo-help", "libreoffice-help"),
    # Firefox ESR and Thunderbird language packs for scripts the catalogues above leave thin.
    *_debian(
        "firefox-esr-l10n-my firefox-esr-l10n-hy-am firefox-esr-l10n-ka firefox-esr-l10n-km firefox-esr-l10n-si "
        "firefox-esr-l10n-bn firefox-esr-l10n-ta firefox-esr-l10n-te firefox-esr-l10n-kn firefox-esr-l10n-gu-in "
        "firefox-esr-l10n-pa-in firefox-esr-l10n-ur",
        MOZILLA_VERSION,
        _MOZILLA,
        "xpi",
        "firefox-l10n",
    ),
    *_debian(
        "thunderbird-l10n-hy-am thunderbird-l10n-ka thunderbird-l10n-pa-in",
        "1:" + MOZILLA_VERSION,
        _MOZILLA,
        "xpi",
        "thunderbird-l10n",
    ),
    # Django's translation catalogues (~100 locales).
    Source("pypi", "django", "5.2.19", "BSD-3-Clause (Django)", "po", "django-po"),
    # Code: the Python standard library.
    *_debian(
        "libpython3.11-minimal libpython3.11-stdlib",
        "3.11.2-6+deb12u9",
        "PSF-2.0 (Python)",
        "python",
        "cpython-3.11-stdlib",
        15_000_000,
    ),
)

# Locale directory names (lower case, "-" as "_") -> FLORES-200 code.
LOCALES = {
    "en": "eng_Latn",
    "en_us": "eng_Latn",
    "c": "eng_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "it": "ita_Latn",
    "pt": "por_Latn",
    "pt_br": "por_Latn",
    "nl": "nld_Latn",
    "pl": "pol_Latn",
    "cs": "ces_Latn",
    "sk": "slk_Latn",
    "hu": "hun_Latn",
    "ro": "ron_Latn",
    "sv": "swe_Latn",
    "da": "dan_Latn",
    "nb": "nob_Latn",
    "fi": "fin_Latn",
    "lt": "lit_Latn",
    "lv": "lav_Latn",
    "ca": "cat_Latn",
    "eu": "eus_Latn",
    "gl": "glg_Latn",
    "tr": "tur_Latn",
    "vi": "vie_Latn",
    "id": "ind_Latn",
    "hr": "hrv_Latn",
    "sl": "slv_Latn",
    "sw": "swh_Latn",
    "ru": "rus_Cyrl",
    "uk": "ukr_Cyrl",
    "bg": "bul_Cyrl",
    "sr": "srp_Cyrl",
    "kk": "kaz_Cyrl",
    "el": "ell_Grek",
    "ar": "arb_Arab",
    "fa": "pes_Arab",
    "ur": "urd_Arab",
    "he": "heb_Hebr",
    "hi": "hin_Deva",
    "mr": "mar_Deva",
    "ne": "npi_Deva",
    "th": "tha_Thai",
    "ja": "jpn_Jpan",
    "ko": "kor_Hang",
    "zh_cn": "zho_Hans",
    "zh_hans": "zho_Hans",
    "zh_tw": "zho_Hant",
    "zh_hant": "zho_Hant",
    "bn": "ben_Beng",
    "ta": "tam_Taml",
    "te": "tel_Telu",
    "kn": "kan_Knda",
    "ml": "mal_Mlym",
    "gu": "guj_Gujr",
    "pa": "pan_Guru",
    "pa_in": "pan_Guru",  # LibreOffice's pa-IN pack
    "ka": "kat_Geor",
    "hy": "hye_Armn",
    "km": "khm_Khmr",
    "my": "mya_Mymr",
    "am": "amh_Ethi",
    "si": "sin_Sinh",
    "lo": "lao_Laoo",
}

# Scripts a line of a language must mostly be written in (Latin-script languages are not filtered:
# their untranslated English lines are removed by the cross-source de-duplication instead).
SCRIPTS = {
    "zho_Hans": "Han",
    "zho_Hant": "Han",
    "jpn_Jpan": "Han Hiragana Katakana",
    "kor_Hang": "Hangul Han",
    "rus_Cyrl": "Cyrillic",
    "ukr_Cyrl": "Cyrillic",
    "bul_Cyrl": "Cyrillic",
    "srp_Cyrl": "Cyrillic",
    "kaz_Cyrl": "Cyrillic",
    "ell_Grek": "Greek",
    "arb_Arab": "Arabic",
    "pes_Arab": "Arabic",
    "urd_Arab": "Arabic",
    "heb_Hebr": "Hebrew",
    "hin_Deva": "Devanagari",
    "mar_Deva": "Devanagari",
    "npi_Deva": "Devanagari",
    "tha_Thai": "Thai",
    "ben_Beng": "Bengali",
    "tam_Taml": "Tamil",
    "tel_Telu": "Telugu",
    "kan_Knda": "Kannada",
    "mal_Mlym": "Malayalam",
    "guj_Gujr": "Gujarati",
    "pan_Guru": "Gurmukhi",
    "kat_Geor": "Georgian",
    "hye_Armn": "Armenian",
    "khm_Khmr": "Khmer",
    "mya_Mymr": "Myanmar",
    "amh_Ethi": "Ethiopic",
    "sin_Sinh": "Sinhala",
    "lao_Laoo": "Lao",
}


def locale_code(locale: str) -> str | None:
    """FLORES-200 code of a locale directory name, or None when the mix does not use it.

    >>> locale_code("pt-BR"), locale_code("zh_CN"), locale_code("de_DE.UTF-8"), locale_code("sr@latin")
    ('por_Latn', 'zho_Hans', 'deu_Latn', None)
    """
    key = locale.lower().replace("-", "_").split(".")[0]
    if "@" in key:
        return None
    return LOCALES.get(key) or (LOCALES.get(key.split("_")[0]) if key.split("_")[0] not in {"zh"} else None)
