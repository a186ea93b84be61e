"""``compression.html`` in a real browser: headless Chromium loads it from file://, runs its script
without console errors, draws the expected number of pieces per tokenizer, and takes a screenshot.

Skipped (with the reason) when Chromium is not installed; ``.ci/run`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from _devtools import DevTools

import bbpe
from bbpe.cli import main

ENGLISH = "The committee approved the new budget on Tuesday afternoon."
THAI = "คณะกรรมการอนุมัติงบประมาณใหม่เมื่อบ่ายวันอังคาร 🤗"
CHROMIUM = next(
    (found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))), None
)
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]
# Chromium's log line for a page's console message or uncaught exception: "...:INFO:CONSOLE(12)] ..."
CONSOLE = re.compile(r":CONSOLE\(\d+\)\]|Uncaught")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: apt-get install chromium)")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if CONSOLE.search(line)]


class _Rows(HTMLParser):
    """Token pieces per ``data-tokenizer`` row of the rendered DOM, and the body's data-ready flag."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: dict[str, list[str]] = {}
        self.ready = False
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "body":
            self.ready = attributes.get("data-ready") == "1"
        if tag == "div" and "data-tokenizer" in attributes:
            self._row = attributes["data-tokenizer"]
            self.pieces[self._row] = []
        if tag == "span" and self._row and "tok" in (attributes.get("class") or "").split():
            self.pieces[self._row].append(attributes.get("title") or "")


def rendered(tmp_path: Path, url: str) -> _Rows:
    result = chromium(tmp_path, url, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    rows = _Rows()
    rows.feed(result.stdout)
    assert rows.ready, "the page script did not finish"
    return rows


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> tuple[Path, bbpe.Tokenizer]:
    root = tmp_path_factory.mktemp("page")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "eng_Latn.txt").write_text(f"\n{ENGLISH}\nA second line.\n", encoding="utf-8")
    (corpus / "tha_Thai.txt").write_text(f"{THAI}\nบรรทัดที่สอง\n", encoding="utf-8")
    trained = bbpe.train([(ENGLISH + " " + THAI + "\n") * 20], vocab_size=300, pattern="cl100k", workers=1)
    trained.save(root / "small.json")
    bbpe.Tokenizer.from_bytes_only().save(root / "bytes.json")
    argv = [
        "compress-report",
        "--tokenizer",
        str(root / "small.json"),
        "--tokenizer",
        str(root / "bytes.json"),
        "--corpus",
        str(corpus),
        "--baseline",
        "bytes",
        "--out",
        str(root / "out"),
        "-q",
    ]
    assert main(argv) == 0
    return root / "out" / "compression.html", trained


def test_page_is_self_contained(page):
    html, _ = page
    text = html.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "<link" not in text
    figures = sorted(html.parent.glob("*.png"))
    # bars, heatmap, Lorenz curves (the test corpus is line-aligned), vocab curve: every figure inlined
    assert len(figures) == 4 and text.count("data:image/png;base64,") == len(figures)
    assert 'id="tv-language"' in text and 'id="tv-tokenizer"' in text
    assert text.count('<button type="button" class="sort">') > 10  # every table header is a focusable button


def test_token_view_in_chromium(page, tmp_path):
    html, trained = page
    english = rendered(tmp_path, html.as_uri())  # English is chosen by default
    assert len(english.pieces["small"]) == len(trained.encode(ENGLISH))
    assert len(english.pieces["bytes"]) == len(ENGLISH.encode())
    thai = rendered(tmp_path, html.as_uri() + "#lang=tha_Thai")
    assert len(thai.pieces["small"]) == len(trained.encode(THAI))
    assert len(thai.pieces["bytes"]) == len(THAI.encode())
    first_id = trained.encode(THAI)[0]
    assert thai.pieces["small"][0].startswith(f"id {first_id} · bytes {trained.token_bytes(first_id).hex(' ')}")
    assert all(title.endswith("partial UTF-8") for title in thai.pieces["bytes"][:3])  # Thai letters are 3 bytes
    only = rendered(tmp_path, html.as_uri() + "#lang=tha_Thai&tokenizer=small")
    assert list(only.pieces) == ["small"]


def test_console_errors_are_detected(tmp_path):
    """Both checks would see a broken script: a page that throws shows up in Chromium's log and in DevTools."""
    broken = tmp_path / "broken.html"
    broken.write_text(
        "<!DOCTYPE html><html><body><script>console.error('oops'); undefinedFunction();</script></body></html>"
    )
    assert any(
        "undefinedFunction" in line
        for line in console_messages(chromium(tmp_path, broken.as_uri(), "--dump-dom").stderr)
    )
    with DevTools(str(CHROMIUM), FLAGS[:-2], tmp_path / "devtools") as browser:
        browser.call("Runtime.enable")
        browser.call("Page.enable")
        browser.call("Page.navigate", url=broken.as_uri())
        browser.wait_for("Page.loadEventFired")
        problems = browser.problems()
        assert len(problems) == 2 and "oops" in problems[0] and "undefinedFunction" in problems[1]


def test_screenshot(page, tmp_path):
    html, _ = page
    shot = tmp_path / "page.png"
    result = chromium(tmp_path, html.as_uri() + "#lang=tha_Thai", "--window-size=1280,1600", f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", data[16:24]) == (1280, 1600)


def test_sorting_keyboard_and_dark_mode_through_devtools(page, tmp_path):
    """Drive the page like a user: real key presses for Tab, Enter and arrows; no console problems."""
    html, trained = page
    with DevTools(str(CHROMIUM), FLAGS[:-2], tmp_path / "devtools") as browser:  # no logging flags
        browser.call("Runtime.enable")
        browser.call("Log.enable")
        browser.call("Page.enable")
        browser.call("Page.navigate", url=html.as_uri())
        browser.wait_for("Page.loadEventFired")
        assert browser.evaluate("document.body.dataset.ready") == "1"

        # Tab order: the section links, then the summary table's header buttons, then the two pickers, then a token.
        stops = []
        for _ in range(40):
            browser.press("Tab", 9)
            stops.append(browser.evaluate("(e => e.id || e.className || e.textContent.trim())(document.activeElement)"))
        assert stops[:4] == ["Summary", "Token view", "Figures", "Per language"]
        assert stops.index("tv-language") < stops.index("tv-tokenizer") < stops.index("tok t0")
        assert stops.index("sort") < stops.index("tv-language")

        # Enter on a focused header sorts the table by that column; again reverses it.
        column = "(t => Array.from(t.tBodies[0].rows, r => r.children[2].dataset.v))(document.querySelector('table'))"
        browser.evaluate("document.querySelectorAll('table')[0].querySelectorAll('button.sort')[2].focus()")
        browser.press("Enter", 13)
        ascending = [float(v) for v in browser.evaluate(column)]
        assert ascending == sorted(ascending) and len(ascending) == 2
        browser.press("Enter", 13)
        assert [float(v) for v in browser.evaluate(column)] == sorted(ascending, reverse=True)
        assert browser.evaluate("document.querySelector('th[aria-sort]').textContent") == "bytes/token"

        # Arrow keys move between the pieces of a row and show the focused piece's id and bytes.
        browser.evaluate("document.querySelector('[data-tokenizer=small] .tok').focus()")
        browser.press("ArrowRight", 39)
        second = trained.encode(ENGLISH)[1]
        assert browser.evaluate("document.activeElement.title").startswith(f"id {second} ")
        assert browser.evaluate("document.getElementById('tv-detail').textContent").startswith(f"id {second} ")

        # The language picker redraws the view and records the choice in the URL.
        browser.evaluate(
            "(s => { s.value = 'tha_Thai'; s.dispatchEvent(new Event('change')); })"
            "(document.getElementById('tv-language'))"
        )
        assert browser.evaluate("document.querySelectorAll('[data-tokenizer=bytes] .tok').length") == len(THAI.encode())
        assert "lang=tha_Thai" in browser.evaluate("location.hash")

        # Dark mode: the page follows prefers-color-scheme.
        background = "getComputedStyle(document.body).backgroundColor"
        light = browser.evaluate(background)
        browser.call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
        dark = browser.evaluate(background)
        assert (light, dark) == ("rgb(255, 255, 255)", "rgb(15, 19, 23)")
        assert browser.problems() == []
