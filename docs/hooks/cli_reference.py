"""MkDocs hook: the command-line reference, generated from bbpe's argparse parser at every build.

A page holding the line ``<!-- bbpe-cli-reference -->`` gets, in its place, one section per command (nested
commands such as ``bbpe vocab fetch`` included): its description, its usage line and a table of its arguments
with their help text, choices and defaults, all read from ``bbpe.cli.main.build_parser()``. The reference
therefore cannot drift from the parser; ``tests/test_docs.py`` checks that every option of every command appears.
"""

from __future__ import annotations

import argparse
import html
import os
from collections.abc import Iterator
from typing import Any

MARKER = "<!-- bbpe-cli-reference -->"
USAGE_WIDTH = "88"  # argparse wraps usage lines at $COLUMNS


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace the marker with the generated reference (other pages are returned unchanged)."""
    if MARKER not in markdown:
        return markdown
    from bbpe.cli.main import build_parser

    return markdown.replace(MARKER, cli_markdown(build_parser()))


def cli_markdown(parser: argparse.ArgumentParser) -> str:
    """Markdown for every command of ``parser``, depth first, in the parser's order."""
    return "\n".join(_section(name, sub, summary) for name, sub, summary in _commands(parser, parser.prog))


def _commands(parser: argparse.ArgumentParser, prog: str) -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
    yield prog, parser, parser.description or ""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            summaries = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, sub in action.choices.items():
                for full, nested, summary in _commands(sub, f"{prog} {name}"):
                    yield full, nested, summary if nested is not sub else summaries.get(name, summary)


def _section(name: str, parser: argparse.ArgumentParser, summary: str) -> str:
    level = "#" * min(2 + name.count(" "), 4)
    lines = [f"{level} `{name}`", ""]
    description = parser.description or summary
    if description:
        lines += [_escape(description), ""]
    lines += ["```text", _usage(parser), "```", ""]
    rows = [row for row in (_row(action) for action in parser._actions) if row]
    if rows:
        lines += ["| argument | meaning |", "|---|---|", *rows, ""]
    return "\n".join(lines)


def _usage(parser: argparse.ArgumentParser) -> str:
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = USAGE_WIDTH
    try:
        usage = parser.format_usage().strip().removeprefix("usage: ")
        return usage.replace("\n" + " " * len("usage: "), "\n")  # continuation lines keep their alignment
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def _row(action: argparse.Action) -> str | None:
    if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
        return None
    if isinstance(action, argparse._SubParsersAction):
        names = ", ".join(f"`{name}`" for name in action.choices)
        return f"| command | one of {names} (each below) |"
    if action.option_strings:
        metavar = _metavar(action)
        spelled = ", ".join(f"`{option}{' ' + metavar if metavar else ''}`" for option in action.option_strings)
    else:
        spelled = f"`{_metavar(action) or action.dest}`"
    notes = []
    if action.required and action.option_strings:
        notes.append("required")
    listed = action.metavar is None and action.option_strings  # the choices are spelled in the metavar
    if action.choices is not None and not isinstance(action.choices, dict) and not listed:
        notes.append("one of " + ", ".join(f"`{choice}`" for choice in action.choices))
    mentioned = "default" in (action.help or "")
    if action.default not in (None, False, [], argparse.SUPPRESS) and action.nargs != 0 and not mentioned:
        notes.append(f"default `{action.default}`")
    repeatable = action.nargs in ("*", "+") or isinstance(action, argparse._AppendAction)
    if repeatable and "repeatable" not in (action.help or ""):
        notes.append("repeatable" if action.option_strings else "one or more" if action.nargs == "+" else "any number")
    text = _escape(action.help or "")
    if notes:
        text += f" ({'; '.join(notes)})" if text else "; ".join(notes)
    return f"| {spelled} | {text} |"


def _metavar(action: argparse.Action) -> str:
    if action.nargs == 0:
        return ""
    if isinstance(action.metavar, tuple):
        return " ".join(action.metavar)
    if action.metavar:
        return action.metavar
    if action.choices is not None and action.option_strings:
        return "{" + ",".join(str(choice) for choice in action.choices) + "}"
    return action.dest.upper() if action.option_strings else action.dest


def _escape(text: str) -> str:
    """Help text as Markdown text: HTML characters, emphasis markers and table pipes are literal."""
    text = html.escape(text, quote=False)
    for char in "\\*_[]|":
        text = text.replace(char, "\\" + char)
    return text.replace("%%", "%")
