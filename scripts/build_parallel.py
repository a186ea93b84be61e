"""A line-aligned multi-parallel corpus from the translation catalogues of the default data.

The default data has no NTREX-128 (no registry package ships it) and UDHR is not line
aligned, but its gettext catalogues are: a message (its catalogue's path with the locale
left out, its context and its msgid) has one translation per language.  For one family of
catalogues (the LibreOffice UI packs, one package per language; Django, one folder per
locale) this writes ``parallel/<name>/<code>.txt``: English is the msgid, every other
language its translation, one message per line, for the messages translated in every
chosen language.  A language is chosen when it translates at least ``MIN_SHARE`` of the
family's messages, so one sparse locale cannot shrink the set to nothing.

Kept: single-form messages (no plurals), not fuzzy, with a non-empty translation (an
intended identical translation such as "OK" included); LibreOffice's accelerator marks
are removed and whitespace is collapsed, so every line is one line.  Locales map to the
training files' codes (``<code>.*`` in ``train/``) through ``data_sources.LOCALES``, by
their exact name only (``sr_Latn`` is not Serbian Cyrillic); when two locales give one
code (``pt`` and ``pt_BR``), the shorter name wins.  The lines are also training text of
the default mix: figures on this corpus are not held out for any tokenizer.

The same catalogues also give the parity-aware dev set of the default data (``parity-dev/``): one
two-language corpus per language, ``parity-dev/<code>/<code>.txt`` with every message it translates
(all families, at any coverage) and ``parity-dev/<code>/eng_Latn.txt`` with their msgids, so a
language's cost is its premium over English on its own messages (``bbpe.training.methods.parity_dev``) and a
language translating a third of the messages takes part as well as one translating all.

>>> names = [("de", "k1", "Öffnen"), ("fr", "k1", "Ouvrir"), ("de", "k2", "Ja")]
>>> aligned({"k1": "Open", "k2": "Yes"}, names, min_share=0.5)
({'eng_Latn': ['Open'], 'deu_Latn': ['Öffnen'], 'fra_Latn': ['Ouvrir']}, 2)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

import text_extract as te
from build_train import MNEMONIC, members
from data_sources import LOCALES

from bbpe.output import atomic_write

MIN_SHARE = 0.8  # a language must translate this share of the family's messages to be chosen
ENGLISH = "eng_Latn"
# parallel/<name>: the source labels (data_sources.SOURCES) whose catalogues form one family
FAMILIES = {"libreoffice-ui": ("libreoffice-ui",), "django": ("django-po",)}
_CATALOGUE = re.compile(r"(?:resource|locale)/([^/]+)/LC_MESSAGES/[^/]+\.(mo|po)$")

Message = tuple[str, str, str]  # (locale, key, translation)


def clean(text: str) -> str:
    """One line: accelerator marks removed, whitespace collapsed."""
    return " ".join(MNEMONIC.sub("", text).split())


def catalogue_messages(files: Iterable[tuple[str, IO[bytes]]], kind: str) -> Iterator[tuple[Message, str]]:
    """((locale, key, translation), msgid) for every single-form translated message of ``.mo``
    (``kind="mo"``) or ``.po`` files; key = catalogue path without the locale + context + msgid."""
    for name, handle in files:
        match = _CATALOGUE.search(name)
        if not match or match.group(2) != kind:
            continue
        path = name[: match.start(1)] + "*" + name[match.end(1) :]
        data = handle.read()
        if kind == "mo":
            for original, translated in te.mo_entries(data):
                if b"\0" not in original and translated:
                    msgid = original.split(b"\x04")[-1].decode("utf-8", errors="replace")
                    key = f"{path}\n{original.decode('utf-8', errors='replace')}"
                    yield (match.group(1), key, translated.decode("utf-8", errors="replace")), msgid
        else:
            for fields in te.po_entries(data.decode("utf-8", errors="replace")):
                if "msgid_plural" not in fields and fields.get("msgstr"):
                    key = f"{path}\n{fields.get('msgctxt', '')}\x04{fields['msgid']}"
                    yield (match.group(1), key, fields["msgstr"]), fields["msgid"]


def chosen_locales(locales: Iterable[str]) -> dict[str, str]:
    """Locale -> code for the locales that name a language of the mix (not English); one locale per code."""
    best: dict[str, str] = {}
    for locale in sorted(set(locales), key=lambda name: (len(name), name)):
        code = LOCALES.get(locale.lower().replace("-", "_"))
        if code and code != ENGLISH and code not in best:
            best[code] = locale
    return {locale: code for code, locale in best.items()}


def aligned(
    english: dict[str, str], messages: Iterable[Message], *, min_share: float = MIN_SHARE
) -> tuple[dict[str, list[str]], int]:
    """Code -> lines (English first, then the chosen languages by code) and the number of messages."""
    by_locale: dict[str, dict[str, str]] = {}
    for locale, key, text in messages:
        line = clean(text)
        if line and key in english:
            by_locale.setdefault(locale, {})[key] = line
    codes = chosen_locales(by_locale)
    tables = {code: by_locale[locale] for locale, code in codes.items()}
    chosen = {code: table for code, table in tables.items() if len(table) >= min_share * len(english)}
    keys = sorted(key for key in english if clean(english[key]) and all(key in t for t in chosen.values()))
    lines: dict[str, list[str]] = {ENGLISH: []} | {code: [] for code in sorted(chosen)}
    seen: set[tuple[str, ...]] = set()
    for key in keys:
        row = (clean(english[key]), *(chosen[code][key] for code in sorted(chosen)))
        if row not in seen:
            seen.add(row)
            for code, line in zip(lines, row):
                lines[code].append(line)
    return lines, len(english)


def language_pairs(english: dict[str, str], messages: Iterable[Message]) -> dict[str, list[tuple[str, str]]]:
    """Code -> (English line, its translation) for every message the language translates, sorted, distinct.

    >>> language_pairs({"k1": "Open", "k2": "Yes"}, [("de", "k1", "Öffnen"), ("de", "k2", "Ja"), ("fr", "k2", "Oui")])
    {'deu_Latn': [('Open', 'Öffnen'), ('Yes', 'Ja')], 'fra_Latn': [('Yes', 'Oui')]}
    """
    by_locale: dict[str, dict[str, str]] = {}
    for locale, key, text in messages:
        line, source = clean(text), clean(english.get(key, ""))
        if line and source:
            by_locale.setdefault(locale, {})[key] = line
    pairs: dict[str, list[tuple[str, str]]] = {}
    for locale, code in sorted(chosen_locales(by_locale).items(), key=lambda item: item[1]):
        table = by_locale[locale]
        pairs[code] = sorted({(clean(english[key]), table[key]) for key in table})
    return pairs


def write_pairs(out: Path, pairs: dict[str, list[tuple[str, str]]]) -> dict[str, object]:
    """``out/<code>/<code>.txt`` + ``out/<code>/eng_Latn.txt`` per language; the manifest record."""
    for code, rows in pairs.items():
        (out / code).mkdir(parents=True, exist_ok=True)
        atomic_write(out / code / f"{code}.txt", "".join(f"{text}\n" for _, text in rows))
        atomic_write(out / code / f"{ENGLISH}.txt", "".join(f"{source}\n" for source, _ in rows))
    return {"path": out.name, "languages": {code: len(rows) for code, rows in pairs.items()}}


def read_family(artifacts: list[tuple[Path, str]]) -> tuple[dict[str, str], list[Message]]:
    """The msgid of every message key, and every (locale, key, translation) of the catalogues of ``artifacts``."""
    english: dict[str, str] = {}
    messages: list[Message] = []
    for artifact, kind in artifacts:
        for message, msgid in catalogue_messages(members(artifact), kind):
            english.setdefault(message[1], msgid)
            messages.append(message)
    return english, messages


def build_family(out: Path, english: dict[str, str], messages: list[Message]) -> dict[str, object] | None:
    """Write ``out/<code>.txt`` from a family's messages (``read_family``); its manifest record."""
    lines, n_messages = aligned(english, messages)
    if len(lines) < 2 or not lines[ENGLISH]:
        return None
    out.mkdir(parents=True, exist_ok=True)
    for code, rows in lines.items():
        atomic_write(out / f"{code}.txt", "".join(f"{row}\n" for row in rows))
    return {
        "path": f"parallel/{out.name}",
        "languages": list(lines),
        "lines": len(lines[ENGLISH]),
        "messages": n_messages,
        "min_share": MIN_SHARE,
    }


def build_catalogue_corpora(
    parallel: Path, sources: list[dict], downloads: Path, pairs: Path | None = None
) -> tuple[list[dict[str, object]], dict[str, object] | None]:
    """``parallel/<family>/`` for every family whose packages were fetched, and with ``pairs`` the parity dev
    set there (every family's messages per language); their manifest records."""
    records = []
    every: dict[str, list[tuple[str, str]]] = {}
    for name, labels in FAMILIES.items():
        artifacts = [(downloads / s["artifact"], s["kind"]) for s in sources if s["label"] in labels]
        if not artifacts:
            continue
        english, messages = read_family(artifacts)
        record = build_family(parallel / name, english, messages)
        if record is not None:
            records.append(record | {"from": sorted(artifact.name for artifact, _ in artifacts)})
        for code, rows in language_pairs(english, messages).items():
            every.setdefault(code, []).extend(rows)
    if pairs is None or not every:
        return records, None
    return records, write_pairs(pairs, {code: sorted(set(rows)) for code, rows in sorted(every.items())})
