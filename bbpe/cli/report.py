"""``bbpe compress-report``: defaults, opening tokenizers and corpora, writing the outputs.

Defaults: every reference vocabulary that can be found (missing ones are skipped with a
note), plus the tokenizers the main job trained (``.cache/bbpe-main/latest.json``); the
parallel corpora under ``$BBPE_DATA_DIR/parallel`` or ``../shared/corpora/parallel``;
baseline ``xlmr``.  All outputs are rendered in memory first and then written as one set
(``bbpe.output.write_set``): after an error (a full disk) or a caught signal every old file is as
it was; after success every file is new.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from bbpe import references
from bbpe._version import __version__
from bbpe.cli.options import engine_for_input
from bbpe.cli.paths import REPORT_FILES
from bbpe.errors import BBPEError
from bbpe.formats import detect_format, read_json
from bbpe.output import check_not_input, write_set
from bbpe.parallel_corpora import load_corpus
from bbpe.references import table
from bbpe.report import plots
from bbpe.report.html import render_page
from bbpe.report.metrics import build_report
from bbpe.report.render import display_path, to_csv, to_json, to_markdown
from bbpe.tokenizer_adapters import BBPEAdapter, open_adapter

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BASELINE = "xlmr"
MAIN_JOB_INDEX = Path(".cache") / "bbpe-main" / "latest.json"
OUTPUT_NAMES = ("compression.md", "compression.csv", "compression.json")


def add_report_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bbpe compress-report``."""
    p = commands.add_parser(
        "compress-report",
        help="per-language compression tables and figures",
        description=(
            "Encode parallel corpora with several tokenizers and report tokens, bytes/token, tokens relative to a "
            "baseline and to cl100k_base, the premium over English, vocabulary use, byte fallback and round trips. "
            "Writes compression.md/.csv/.json, PNG figures and compression.html (one self-contained page with sortable "
            "tables, the figures and a token view) to --out."
        ),
    )
    p.add_argument(
        "--tokenizer",
        action="append",
        metavar="NAME_OR_PATH",
        help="reference name or vocabulary "
        "file (repeatable; default: every reference found plus the main job's trained tokenizers)",
    )
    p.add_argument(
        "--corpus",
        action="append",
        metavar="DIR",
        help="directory of <code>.txt files or FLORES-200 "
        "dev/ + devtest/ (repeatable; default: the parallel corpora of the data directory)",
    )
    p.add_argument("--baseline", help=f"tokenizer counted as 1 (default {DEFAULT_BASELINE})")
    p.add_argument(
        "--figure",
        action="append",
        metavar="NAME",
        help="a tokenizer the figures of tokens relative to the baseline show (repeatable; default: all; the tables "
        "always show all; a name not among the tokenizers is skipped with a note)",
    )
    p.add_argument("--out", default="reports", help="output directory (default reports/)")
    p.add_argument("--workers", type=int, help="encoding threads (default: number of cores)")
    p.add_argument("--note", action="append", default=[], metavar="TEXT", help="a note for the report (repeatable)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    """The command: check the output, open inputs, measure, render everything, then write."""

    started = time.monotonic()
    out = check_out_dir(Path(args.out))
    sources = args.corpus or default_corpora()
    if not args.corpus:  # given corpora are checked with every other argument (bbpe.cli.paths)
        check_not_input(out, sources, writes_inside=REPORT_FILES)
    corpora = [load_corpus(path) for path in sources]
    names = [c.name for c in corpora]
    if len(set(names)) != len(names):
        raise BBPEError(f"two corpora are named {next(n for n in names if names.count(n) > 1)!r}; rename one")
    explicit = bool(args.tokenizer)
    encoders, info, notes = open_tokenizers(args.tokenizer or default_tokenizers(), explicit=explicit)
    notes = args.note + notes
    total = sum(language.n_bytes for corpus in corpora for language in corpus.languages)
    for encoder in encoders:  # everything the report encodes pays for compiling bbpe's encoder
        if isinstance(encoder, BBPEAdapter):
            encoder.tokenizer = engine_for_input(encoder.tokenizer, total * len(encoders))
    baseline = choose_baseline(args.baseline, [e.name for e in encoders], notes)
    shown = figure_tokenizers(args.figure or [], [e.name for e in encoders], notes)
    for note in notes:
        print(f"bbpe: note: {note}", file=sys.stderr)
    progress = None if args.quiet else _Progress(sys.stderr)
    report = build_report(
        encoders,
        corpora,
        baseline=baseline,
        workers=args.workers,
        on_progress=progress,
        curve_tokenizers=[e.name for e in encoders if e.kind == "bbpe"],
    )
    report.figure_tokenizers = shown
    report.notes = notes
    report.meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": "bbpe compress-report" + "".join(f" {flag}" for flag in _flags(args)),
        "versions": versions(),
        "tokenizers": info,
        "workers": args.workers or os.cpu_count(),
        "seconds": round(time.monotonic() - started, 1),
    }
    figures = plots.render_all(report)
    files = {
        "compression.csv": to_csv(report),
        "compression.json": to_json(report),
        "compression.md": to_markdown(report, list(figures)),
        "compression.html": render_page(report, figures),
    } | figures
    write_outputs(out, files)
    print(
        f"wrote {out / 'compression.md'} (+ .csv, .json, .html, {len(figures)} figures): {len(encoders)} tokenizers x "
        f"{sum(len(c.languages) for c in corpora)} languages in {time.monotonic() - started:.1f} s"
    )
    return 0


def check_out_dir(out: Path) -> Path:
    """Fail early (before any work) if ``out`` cannot be created or written."""
    if out.exists() and not out.is_dir():
        raise BBPEError(f"{out}: exists and is not a directory")
    existing = next(p for p in (out, *out.parents) if p.exists()) if not out.exists() else out
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise BBPEError(f"{out}: output directory is not writable ({existing} is read-only or not a directory)")
    return out


def write_outputs(out: Path, files: dict[str, str | bytes]) -> None:
    """Write the files into ``out`` as one set: all new, or all as they were (see ``bbpe.output``)."""

    out.mkdir(parents=True, exist_ok=True)
    write_set({out / name: data for name, data in files.items()})


def built_data_dir() -> Path:
    """Where ``scripts/build_data.py`` builds the default data: ``$XDG_CACHE_HOME/bbpe/data``
    (default ``~/.cache/bbpe/data``)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if base else Path.home() / ".cache") / "bbpe" / "data"


def data_dir() -> Path | None:
    """``$BBPE_DATA_DIR``, ``../shared/corpora`` (beside cwd or the repo) or the built data: first present."""
    env = os.environ.get("BBPE_DATA_DIR")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd().parent / "shared" / "corpora", REPO.parent / "shared" / "corpora", built_data_dir()]
    return next((c for c in candidates if (c / "parallel").is_dir() or (c / "train").is_dir()), None)


def default_corpora(root: Path | None = None) -> list[Path]:
    """The corpus directories under ``<root or data dir>/parallel``."""
    root = root or data_dir()
    parallel = root / "parallel" if root else None
    found = sorted(p for p in parallel.iterdir() if p.is_dir()) if parallel and parallel.is_dir() else []
    if not found:
        raise BBPEError(
            "no parallel corpora found: set $BBPE_DATA_DIR, put ../shared/corpora beside the repository, "
            "run scripts/build_data.py, or pass --corpus DIR"
        )
    return found


def default_tokenizers() -> list[str]:
    """Every reference name, then the tokenizers listed by the main job's index (if present)."""

    names = list(table.REFERENCES)
    for index in (REPO / MAIN_JOB_INDEX, Path.cwd() / MAIN_JOB_INDEX):
        if index.is_file():
            listed = json.loads(index.read_text(encoding="utf-8")).get("tokenizers", [])
            names += [str(index.parent / item) for item in listed]
            break
    return names


def open_tokenizers(specs: Sequence[str], *, explicit: bool) -> tuple[list[Any], dict[str, Any], list[str]]:
    """Open each tokenizer; references that cannot be found are skipped with a note."""

    encoders, info, notes = [], {}, []
    for spec in specs:
        try:
            encoder = open_adapter(spec)
        except references.ReferenceNotFound as exc:
            notes.append(f"skipped {spec}: {exc}")
            continue
        encoders.append(encoder)
        info[encoder.name] = _describe(spec)
    if not encoders:
        raise BBPEError(
            "no tokenizer could be opened"
            + ("" if explicit else "; run `bbpe vocab fetch NAME` or set $BBPE_VOCAB_DIR")
        )
    return encoders, info, notes


def figure_tokenizers(requested: list[str], names: list[str], notes: list[str]) -> list[str]:
    """The requested figure tokenizers that are present (a note for each that is not)."""
    missing = [name for name in requested if name not in names]
    if missing:
        notes.append(f"not in the figures (not available): {', '.join(missing)}")
    return [name for name in requested if name in names]


def choose_baseline(requested: str | None, names: list[str], notes: list[str]) -> str:
    """The requested baseline (must be present), else xlmr, else cl100k_base or the first tokenizer (noted)."""
    if requested is not None:
        if requested not in names:
            raise BBPEError(f"baseline {requested!r} is not among the tokenizers ({', '.join(names)})")
        return requested
    if DEFAULT_BASELINE in names:
        return DEFAULT_BASELINE
    fallback = "cl100k_base" if "cl100k_base" in names else names[0]
    notes.append(f"baseline {DEFAULT_BASELINE} is not available; {fallback} is the baseline instead")
    return fallback


def _describe(spec: str) -> dict[str, Any]:

    if references.is_reference_name(spec):
        found = references.locate(spec)
        where = display_path(found.source) if Path(found.source).exists() else found.source
        return {
            "source": f"reference, found in {where}",
            "sha256": found.reference.sha256,
            "note": found.reference.note or None,
        }
    known = references.identify(spec)
    return {
        "source": display_path(spec),
        "sha256": references.sha256_of(spec),
        "note": f"the {known.name} reference file" if known else _training_note(spec),
    }


def _training_note(path: str) -> str | None:

    try:
        if detect_format(path) != "bbpe":
            return None
        meta = read_json(path).get("metadata", {})
    except (ValueError, OSError):
        return None
    training, corpus = meta.get("training") or {}, meta.get("corpus") or {}
    if not training:
        return None
    parts = [f"pattern {training.get('pattern_preset') or 'custom'}"]
    init = training.get("init")
    if isinstance(init, dict):
        parts.append(f"extends {init.get('base')} (kept {init.get('kept', 0):,}, pruned {init.get('pruned', 0):,})")
    parts.append(f"{training.get('new_tokens', 0):,} merges learned, stop: {training.get('stop_reason')}")
    if corpus.get("bytes"):
        parts.append(f"trained on {corpus['bytes'] / 1e6:,.1f} MB")
    return "; ".join(parts)


def _flags(args: argparse.Namespace) -> list[str]:

    def shown(item: str) -> str:
        return display_path(item) if Path(item).exists() else item

    flags = [f"--tokenizer {shown(t)}" for t in args.tokenizer or []]
    flags += [f"--corpus {shown(c)}" for c in args.corpus or []]
    flags += [f"--baseline {args.baseline}"] if args.baseline else []
    flags += [f"--figure {name}" for name in args.figure or []]
    return flags + [f"--out {shown(args.out)}"]


def versions() -> dict[str, str]:
    versions = {"bbpe": __version__, "python": platform.python_version()}
    for package in ("tiktoken", "sentencepiece", "numpy", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


class _Progress:
    """A few progress lines per second on stderr for the encoding and curve stages."""

    def __init__(self, stream: TextIO, interval: float = 1.0) -> None:
        self._stream, self._interval, self._last = stream, interval, 0.0

    def __call__(self, event: Any) -> None:
        now = time.monotonic()
        if now - self._last < self._interval and event.done != event.total:
            return
        self._last = now
        what = "encoding" if event.stage == "encode" else "vocab-size curve"
        self._stream.write(f"{what}: {event.done:,}/{event.total:,} jobs, {event.elapsed:.1f} s\n")
        self._stream.flush()
