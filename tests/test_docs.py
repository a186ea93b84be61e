"""The documentation cannot rot: every example of every page runs, and the generated references cover everything.

Each page in ``docs/`` (and the README) runs in a fresh temporary directory, as a reader would run it top to bottom: its
```` ```bash ```` blocks as one script (``bash -e -u``, with this venv's ``bbpe`` and ``python`` first on
``PATH``), then its ```` ```python ```` blocks as one program (mktestdocs collects the blocks). A page is written so
that its Python needs only the files its shell blocks made (or makes its own), so the two runs see what the
reader sees. ```` ```console ```` blocks are shown, not run: commands that need a cluster (``ray job submit``,
``spark-submit``), and nothing else. A page that uses reference vocabularies says so in a
``<!-- needs-references: NAME ... -->`` line and is skipped (with the reason) when one cannot be found
without the network (``../shared/vocabs`` or the user cache; ``bbpe vocab fetch`` puts them there).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from pathlib import Path

import mktestdocs
import pytest

from bbpe import references
from bbpe.cli.main import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]
RUN = ("bash", "python")
SHOWN = ("console", "text", "json", "pycon", "")
FENCE = re.compile(r"^ {0,3}```+\s*([\w+-]*)", re.MULTILINE)
NEEDS = re.compile(r"<!-- needs-references: ([\w ]+) -->")


def _hook(name: str):  # the site's build hooks are plain modules in docs/hooks
    spec = importlib.util.spec_from_file_location(name, DOCS / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _opening_fences(text: str) -> list[str]:
    """The language tag of every opening fence (every other fence line closes one)."""
    return [match.group(1) for match in FENCE.finditer(text)][::2]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page.read_text(encoding="utf-8")
    tags = _opening_fences(text)
    unknown = sorted(set(tags) - set(RUN) - set(SHOWN))
    assert not unknown, f"{page.name}: code blocks tagged {unknown} would not run; tag them bash or python"
    if not set(tags) & set(RUN):
        pytest.skip("no examples on this page")
    for line in NEEDS.findall(text):
        for name in line.split():
            try:
                references.locate(name)
            except references.ReferenceNotFound:
                pytest.skip(f"reference {name} not found without the network (bbpe vocab fetch {name})")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("NO_COLOR", "1")
    for lang in RUN:
        mktestdocs.check_md_file(page, memory=True, lang=lang)


def test_every_example_is_collected() -> None:
    """mktestdocs finds blocks by their opening line; a block it skipped would silently go untested."""
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        tags = _opening_fences(text)
        for lang in RUN:
            assert len(mktestdocs.grab_code_blocks(text, lang=lang)) == tags.count(lang), (page.name, lang)


def _parsers(parser: argparse.ArgumentParser, prog: str):
    yield prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{prog} {name}")


def test_cli_reference_covers_every_command_and_option() -> None:
    page = _hook("cli_reference").cli_markdown(build_parser())
    for prog, parser in _parsers(build_parser(), "bbpe"):
        assert f"`{prog}`" in page, prog
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            for option in action.option_strings:
                assert f"`{option}" in page.split(f"`{prog}`", 1)[1], (prog, option)
            if action.help and not isinstance(action, argparse._SubParsersAction):
                words = action.help.split()[0]
                assert words in page, (prog, action.dest)


def test_cli_reference_escapes_markdown() -> None:
    escape = _hook("cli_reference")._escape
    assert escape("files named <code>.* | a_b") == r"files named &lt;code&gt;.\* \| a\_b"


def test_doctest_lines_become_code_blocks() -> None:
    pytest.importorskip("griffe", reason="the docs extra (make docs installs it)")
    fence = _hook("doctest_blocks").fence_doctests
    text = "Train.\n\n>>> f(1)\n[b'lo']\n\nMore text.\n    >>> indented literal\n"
    assert fence(text) == "Train.\n\n```pycon\n>>> f(1)\n[b'lo']\n```\n\nMore text.\n    >>> indented literal"
