"""Translated strings out of Mozilla language packs (Firefox ESR / Thunderbird ``.xpi``).

A language pack is a zip of Fluent (``.ftl``), Java-style ``.properties`` and XML ``.dtd``
files, one translated message per entry.  Every extractor yields the messages' text, one
line per value, attribute or variant, with placeables (``{ $name }``), printf-style
placeholders (``%S``, ``%1$S``) and access keys left out: the words a translator wrote,
roughly (good enough for counting pre-tokens).
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections.abc import Iterator

_FLUENT_ENTRY = re.compile(r"-?[A-Za-z][\w-]*\s*=(.*)")
_FLUENT_ATTRIBUTE = re.compile(r"\.([\w-]+)\s*=(.*)")
_FLUENT_VARIANT = re.compile(r"\*?\[[^\]]*\](.*)")
_PLACEABLE = re.compile(r"\{[^{}]*\}")
_PRINTF = re.compile(r"%(?:\d+\$)?[Sdsu@]")
_DTD_ENTITY = re.compile(r"""<!ENTITY\s+([\w.-]+)\s+(?:"([^"]*)"|'([^']*)')\s*>""")
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})|\\(.)")


def _fluent_text(text: str) -> str:
    while _PLACEABLE.search(text):
        text = _PLACEABLE.sub(" ", text)
    return " ".join(text.split("{", 1)[0].split())  # an open selector ("{ $n ->") ends the text


def fluent_lines(source: str) -> Iterator[str]:
    r"""The text of every message value, attribute and selector variant of a Fluent file.

    Continuation lines join their value; comments, access keys and placeables are dropped.

    >>> list(fluent_lines("# c\nopen = Open { $name }\n    .accesskey = O\nsel =\n    { $n ->\n"
    ...                   "        [one] One tab\n       *[other] { $n } tabs\n    }\nlong = A\n    b c\n"))
    ['Open', 'One tab', 'tabs', 'A b c']
    """
    parts: list[str] = []
    skipping = False  # inside an access key (its value may be a selector over single letters)
    for raw in [*source.splitlines(), ""]:
        line, indented = raw.strip(), raw[:1].isspace()
        entry = None if indented else _FLUENT_ENTRY.fullmatch(raw.rstrip())
        attribute = _FLUENT_ATTRIBUTE.fullmatch(line) if indented else None
        variant = _FLUENT_VARIANT.fullmatch(line) if indented else None
        if entry or attribute or variant or not line or raw.startswith("#") or line == "}":
            text = _fluent_text(" ".join(parts))
            if text:
                yield text
            parts = []
        if entry or attribute:
            skipping = attribute is not None and attribute.group(1) == "accesskey"
        if skipping or not line or raw.startswith("#") or line == "}":
            continue
        if entry or variant:
            parts.append((entry or variant).group(1))  # type: ignore[union-attr]
        elif attribute:
            parts.append(attribute.group(2))
        elif indented:
            parts.append(line)


def _unescape(match: re.Match[str]) -> str:
    if match.group(1):
        return chr(int(match.group(1), 16))
    return {"n": " ", "t": " ", "r": " "}.get(match.group(2), match.group(2))


def properties_lines(source: str) -> Iterator[str]:
    r"""The values of a ``.properties`` file (``key = value``; ``\\uXXXX`` escapes decoded, continuation
    lines joined, placeholders such as ``%S`` dropped, access keys skipped).

    >>> list(properties_lines("# c\nsave = Save %S now\nsave.accesskey = S\nlong = first \\\n  second\nu = caf\\u00e9"))
    ['Save now', 'first second', 'café']
    """
    logical: list[str] = []
    pending = ""
    for raw in source.splitlines():
        line = pending + raw.lstrip() if pending else raw.strip()
        if line.endswith("\\") and not line.endswith("\\\\"):
            pending = line[:-1]
            continue
        pending = ""
        logical.append(line)
    for line in logical:
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep or key.strip().endswith("accesskey"):
            continue
        text = _UNICODE_ESCAPE.sub(_unescape, value)
        text = " ".join(_PRINTF.sub(" ", text).split())
        if text:
            yield text


def dtd_lines(source: str) -> Iterator[str]:
    """The entity values of a ``.dtd`` file (character references decoded; access keys skipped).

    >>> list(dtd_lines('<!ENTITY save.label "Save &amp; close">\\n<!ENTITY save.accesskey "S">'))
    ['Save & close']
    """
    for match in _DTD_ENTITY.finditer(source):
        if not match.group(1).endswith("accesskey"):
            text = " ".join(html.unescape(match.group(2) if match.group(2) is not None else match.group(3)).split())
            if text:
                yield text


def langpack_lines(data: bytes) -> Iterator[str]:
    """The translated strings of a language pack (the bytes of an ``.xpi``), file by file in name order."""
    readers = {".ftl": fluent_lines, ".properties": properties_lines, ".dtd": dtd_lines}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            reader = readers.get(name[name.rfind(".") :])
            if reader is not None:
                yield from reader(archive.read(name).decode("utf-8", errors="replace"))
