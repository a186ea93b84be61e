"""MkDocs hook: the figures under reports/ are part of the site as they are (no copies in docs/ to drift).

Pages link them as ``../reports/NAME.png`` (from a page one folder deep)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parents[2]


def on_files(files: Files, *, config: MkDocsConfig, **_: Any) -> Files:
    for figure in sorted((REPO / "reports").glob("*.png")):
        files.append(File(f"reports/{figure.name}", str(REPO), config.site_dir, config.use_directory_urls))
    return files
