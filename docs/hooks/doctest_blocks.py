"""Griffe extension for the API reference: docstring examples (``>>>`` lines and their output) become
``pycon`` code blocks, so the site shows them as code, as ``python -m doctest`` and pytest run them."""

from __future__ import annotations

from typing import Any

import griffe


class DoctestBlocks(griffe.Extension):
    """Wrap every run of doctest lines (a ``>>>`` line up to the next blank line) in a fenced block."""

    def on_instance(self, *, obj: griffe.Object, **_: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)


def fence_doctests(text: str) -> str:
    """``text`` with each doctest run fenced (runs inside existing fences or literal blocks are left alone)."""
    out: list[str] = []
    in_example = in_fence = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        starts = not in_fence and not in_example and stripped.startswith(">>>") and not line.startswith("    ")
        if starts:
            out.append("```pycon")
            in_example = True
        elif in_example and not stripped:
            out.append("```")
            in_example = False
        out.append(line)
    if in_example:
        out.append("```")
    return "\n".join(out)
