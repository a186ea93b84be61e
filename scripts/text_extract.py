"""Plain text out of registry artifacts, streamed member by member.

Archives: Debian ``.deb`` (an ``ar`` archive around ``data.tar.*``), npm tarballs and
wheels.  Formats: roff man pages, HTML / Mallard XML help pages, gettext ``.mo`` and
``.po`` catalogues.  Every extractor yields lines of natural text, markup stripped
roughly (good enough for counting pre-tokens, not a typesetter).
"""

from __future__ import annotations

import gzip
import html
import re
import struct
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def deb_members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(name, file) for every regular file of a .deb's data archive, in archive order."""
    with open(path, "rb") as handle:
        if handle.read(8) != b"!<arch>\n":
            raise ValueError(f"{path.name}: not a Debian package (no ar header)")
        while header := handle.read(60):
            name, size = header[:16].decode().strip().rstrip("/"), int(header[48:58])
            if name.startswith("data.tar"):
                with tarfile.open(fileobj=_Bounded(handle, size), mode="r|*") as archive:
                    yield from _tar_files(archive)
                return
            handle.seek(size + size % 2, 1)
    raise ValueError(f"{path.name}: no data.tar member")


def tar_members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(name, file) for every regular file of a (compressed) tarball, in archive order."""
    with tarfile.open(path, mode="r|*") as archive:
        yield from _tar_files(archive)


def zip_members(path: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(name, file) for every file of a zip archive (a wheel), in name order."""
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if not name.endswith("/"):
                with archive.open(name) as member:
                    yield name, member


def _tar_files(archive: tarfile.TarFile) -> Iterator[tuple[str, IO[bytes]]]:
    for member in archive:
        if member.isfile():
            handle = archive.extractfile(member)
            if handle is not None:
                yield member.name.removeprefix("./"), handle


class _Bounded:
    """A read-only view of the next ``size`` bytes of a file (one ar member)."""

    def __init__(self, handle: IO[bytes], size: int) -> None:
        self._handle, self._left = handle, size

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._handle.read(n)
        self._left -= len(data)
        return data


# ---- roff (man pages) -------------------------------------------------------------------------

_TEXT_MACROS = {
    "SH",
    "SS",
    "B",
    "I",
    "BI",
    "IB",
    "BR",
    "RB",
    "IR",
    "RI",
    "SM",
    "SB",
    "TP",
    "IP",
    "Nm",
    "Nd",
    "Sh",
    "Ss",
    "Dt",
    "Fn",
    "Ar",
    "Fl",
    "Pa",
    "Xr",
    "Em",
    "Sy",
    "Dl",
    "It",
}
_HEADINGS = {"SH", "SS", "Sh", "Ss"}
_BREAK_MACROS = {
    "PP",
    "LP",
    "P",
    "SH",
    "SS",
    "TP",
    "IP",
    "HP",
    "sp",
    "br",
    "nf",
    "fi",
    "RS",
    "RE",
    "TS",
    "TE",
    "EX",
    "EE",
    "Pp",
    "Sh",
    "Ss",
    "Bl",
    "El",
    "It",
    "Bd",
    "Ed",
    "Dl",
}
_NAMED = {
    "em": "—",
    "en": "–",
    "aq": "'",
    "dq": '"',
    "lq": "“",
    "rq": "”",
    "oq": "‘",
    "cq": "’",
    "bu": "•",
    "co": "©",
    "rg": "®",
    "hy": "-",
    "mi": "-",
    "ti": "~",
    "ha": "^",
    "rs": "\\",
    "sl": "/",
    "at": "@",
    "sh": "#",
    "Do": "$",
    "lB": "[",
    "rB": "]",
    "lC": "{",
    "rC": "}",
    "Fo": "«",
    "Fc": "»",
    "pl": "+",
    "eq": "=",
    "<=": "≤",
    ">=": "≥",
    "mu": "×",
    "de": "°",
    "->": "→",
    "<-": "←",
    "ga": "`",
    "fm": "′",
}
_ESCAPE = re.compile(
    r"\\(?:f(?:\[[^\]]*\]|\(..|.)|s[-+]?\d+|s\(\d\d|\*(?:\[[^\]]*\]|\(..|.)|\((..)|\[([^\]]*)\]"
    r"|[nkg](?:\(..|\[[^\]]*\]|.)|[hvwlLDoxXbNRZ]'[^']*'|(.))"
)


def _unescape(match: re.Match[str]) -> str:
    two, bracket, single = match.group(1), match.group(2), match.group(3)
    name = two or bracket
    if name is not None:
        return _NAMED.get(name, "")
    if single is None:
        return ""  # font, size, string, number-register and drawing escapes
    return {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "'": "'", "`": "`", ".": "."}.get(single, "")


def roff_text(line: str) -> str:
    r"""One line of roff text without its escapes.

    >>> roff_text(r"\fBls\fR \- list \(lqdirectory\(rq contents")
    'ls - list “directory” contents'
    """
    return _ESCAPE.sub(_unescape, line)


def _macro_args(rest: str) -> str:
    args = re.findall(r'"([^"]*)"|(\S+)', rest)
    return " ".join(quoted or bare for quoted, bare in args)


def man_lines(source: str) -> Iterator[str]:
    """Paragraphs of a man page (man or mdoc macros) as lines of text; nothing for a ``.so`` alias."""
    if source.lstrip().startswith(".so "):
        return
    paragraph: list[str] = []
    fill = True
    for raw in source.splitlines():
        if raw.startswith(('.\\"', "'\\\"", '.\\"', '\\"')) or raw.strip() in {".", "'"}:
            continue
        if raw.startswith((".", "'")):
            macro, _, rest = raw[1:].strip().partition(" ")
            if macro in _BREAK_MACROS and paragraph:
                yield " ".join(paragraph)
                paragraph = []
            fill = {"nf": False, "EX": False, "fi": True, "EE": True}.get(macro, fill)
            if macro in _HEADINGS and rest.strip():
                yield roff_text(_macro_args(rest))
            elif macro in _TEXT_MACROS and rest.strip():
                paragraph.append(roff_text(_macro_args(rest)))
            continue
        text = roff_text(raw).strip()
        if not text:
            if paragraph:
                yield " ".join(paragraph)
            paragraph = []
        elif fill:
            paragraph.append(text)
        else:
            yield text
    if paragraph:
        yield " ".join(paragraph)


def read_man_page(name: str, handle: IO[bytes]) -> str | None:
    """The roff source of a (gzipped) man page, or None when it is not UTF-8."""
    data = handle.read()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


# ---- HTML and Mallard XML -------------------------------------------------------------------------

_BLOCKS = (
    "p",
    "h[1-6]",
    "li",
    "td",
    "th",
    "dt",
    "dd",
    "title",
    "div",
    "br",
    "tr",
    "pre",
    "item",
    "desc",
    "caption",
    "section",
    "note",
    "table",
    "ul",
    "ol",
    "screen",
    "listing",
)
_BLOCK_TAG = re.compile(r"</?(?:" + "|".join(_BLOCKS) + r")\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?-->|<!\[CDATA\[|\]\]>", re.DOTALL)


def markup_lines(
    markup: str, *, skip: tuple[str, ...] = ("script", "style", "head"), start_id: str | None = None
) -> list[str]:
    """Block-level text of an HTML or XML page, one line per block, whitespace collapsed.

    Regular expressions, not a parser: fast, and rough in the way the mix can afford (a ``<``
    inside an attribute value may cut a tag short).  ``skip`` elements are dropped with their
    content; with ``start_id``, text before the element with that ``id`` is dropped.

    >>> markup_lines("<html><head><title>T</title></head><body><p>Hello <b>big</b>\\n world</p></body></html>")
    ['Hello big world']
    """
    if start_id is not None:
        found = markup.find(f'id="{start_id}"')
        markup = markup[markup.find(">", found) + 1 :] if found >= 0 else ""
    markup = _COMMENT.sub("", markup)
    for tag in skip:
        markup = re.sub(rf"<{tag}\b[^>]*>.*?</{tag}\s*>", "\0", markup, flags=re.DOTALL | re.IGNORECASE)
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\0", markup)))
    return [line for line in (" ".join(part.split()) for part in text.split("\0")) if line]


# ---- gettext catalogues ---------------------------------------------------------------------------


def mo_translations(data: bytes) -> Iterator[str]:
    """The translated strings of a gettext ``.mo`` file (plural forms separately; header and
    untranslated entries skipped)."""
    for original, translated in mo_entries(data):
        if translated != original.split(b"\x04")[-1]:
            for form in translated.split(b"\0"):
                yield form.decode("utf-8", errors="replace")


def mo_entries(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(original, translation) of every entry of a ``.mo`` file but the header; the original is
    ``context\x04msgid`` when there is a context, plural forms are joined by NUL bytes."""
    magic = data[:4]
    order = "<" if magic == b"\xde\x12\x04\x95" else ">" if magic == b"\x95\x04\x12\xde" else None
    if order is None:
        raise ValueError("not a gettext .mo file")
    count, originals, translations = struct.unpack(order + "3I", data[8:20])
    for index in range(count):
        o_len, o_off = struct.unpack(order + "2I", data[originals + 8 * index : originals + 8 * index + 8])
        t_len, t_off = struct.unpack(order + "2I", data[translations + 8 * index : translations + 8 * index + 8])
        original, translated = data[o_off : o_off + o_len], data[t_off : t_off + t_len]
        if original:
            yield original, translated


_PO_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PO_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": ""}


def _po_unquote(line: str) -> str:
    body = "".join(_PO_STRING.findall(line))
    return re.sub(r"\\(.)", lambda m: _PO_ESCAPES.get(m.group(1), m.group(1)), body)


def po_translations(source: str) -> Iterator[str]:
    """The translated strings of a ``.po`` file (not fuzzy, not the header, not equal to the msgid).

    >>> list(po_translations('msgid ""\\nmsgstr "x"\\n\\n#, fuzzy\\nmsgid "a"\\nmsgstr "b"\\n\\nmsgid "Yes"\\nmsgstr "Ja"\\n'))
    ['Ja']
    """
    for fields in po_entries(source):
        msgid = fields["msgid"]
        for name, value in fields.items():
            if name.startswith("msgstr") and value and value != msgid:
                yield value


def po_entries(source: str) -> Iterator[dict[str, str]]:
    """The fields (``msgctxt``, ``msgid``, ``msgstr``, ``msgstr[0]``, ...) of every entry of a ``.po``
    file that is not fuzzy and not the header, unquoted."""
    for entry in source.split("\n\n"):
        lines = entry.strip().splitlines()
        if any(line.startswith("#,") and "fuzzy" in line for line in lines):
            continue
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            if line.startswith(("msgid", "msgstr", "msgctxt")):
                key = line.split(" ", 1)[0]
                fields[key] = _po_unquote(line)
            elif line.startswith('"') and key:
                fields[key] += _po_unquote(line)
        if fields.get("msgid"):
            yield fields


def python_files(members: Iterator[tuple[str, IO[bytes]]], prefix: str) -> Iterator[str]:
    """Python sources under ``prefix`` (no test directories), each preceded by a ``# ---- path`` line."""
    for name, handle in members:
        parts = Path(name).parts
        if (
            name.startswith(prefix)
            and name.endswith(".py")
            and "site-packages" not in parts
            and not {"test", "tests", "idle_test"} & set(parts)
        ):
            yield f"# ---- {name.removeprefix(prefix)}\n" + handle.read().decode("utf-8", errors="replace")
