"""``bbpe count`` (corpus -> word-count file, or adding count files up) and ``train --from-counts``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bbpe.cli.options import add_corpus_options, normalization_argument, parse_count, pattern_argument
from bbpe.corpus.documents import is_url
from bbpe.corpus.reading import CorpusStats
from bbpe.errors import BBPEError
from bbpe.formats import counts as counts_file
from bbpe.output import check_writable
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.progress import ProgressEvent, StderrProgress, peak_memory_mb
from bbpe.tokenizer import Tokenizer
from bbpe.training.api import train_from_counts
from bbpe.training.counting.pretokens import CountSettings
from bbpe.training.counting.process_pool import count_local
from bbpe.training.counting.ray_tasks import count_ray
from bbpe.training.methods.extend import load_base

_COUNTING_OPTIONS: dict[str, object] = {
    "pattern": None,
    "regex": None,
    "split_digits": False,
    "special": [],
    "max_bytes": None,
    "workers": None,
    "jsonl_field": "text",
    "strict_utf8": False,
    "unit": None,
    "normalize": None,
    "parts": None,
    "min_count": 1,
    "flush_mb": 256,
    "executor": "local",
    "address": None,
}
DEFAULT_PARTS = 8
MAX_PARTS = 4096


def add_count_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bbpe count CORPUS... -o FILE`` and ``bbpe count --merge A B... -o FILE``."""
    p = commands.add_parser(
        "count",
        help="count pre-tokens into a word-count file (Parquet)",
        description=(
            "Count the pre-tokens of a corpus (files, directories or -) into a Parquet word-count file for "
            "`bbpe train --from-counts`; with --merge, add up count files made with the same settings "
            "(e.g. one per shard)."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR", help="corpus inputs, or count files with --merge")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output word-count file (.parquet), or a directory of "
        "parts (part-NNNNN.parquet) when it ends with / or --parts is given",
    )
    p.add_argument("--merge", action="store_true", help="the inputs are count files: write their sum")
    p.add_argument(
        "--parts",
        type=parse_count,
        default=None,
        metavar="P",
        help=f"hash buckets: P part files with disjoint words in the output directory (default "
        f"{DEFAULT_PARTS} for a directory)",
    )
    p.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="local: a process pool (default); ray: Ray tasks (pip install 'bbpe[ray]')",
    )
    p.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="with --executor ray: the cluster to join (default: start a local Ray instance)",
    )
    p.add_argument("--min-count", type=parse_count, default=1, metavar="N", help="drop words counted fewer times")
    p.add_argument(
        "--flush-mb",
        type=parse_count,
        default=256,
        metavar="MB",
        help="a counting task writes its table to disk when it holds about this much (default 256)",
    )
    add_corpus_options(p, special_help="special token whose text is cut out and not counted (repeatable)")
    p.set_defaults(run=run_count)


def run_count(args: argparse.Namespace) -> int:
    if is_url(args.output):
        raise BBPEError(
            f"-o {args.output}: count files are written to a local path (on a cluster: a folder every node "
            "mounts); URL outputs are not supported"
        )
    directory = args.parts is not None or args.output.endswith("/") or Path(args.output).is_dir()
    if directory and not args.merge:
        check_writable(
            Path(args.output) / "part-00000.parquet"
            if Path(args.output).is_dir()
            else Path(args.output.rstrip("/") or "/")
        )
    else:
        check_writable(args.output)
    started = time.monotonic()
    if args.merge:
        used = [name for name, default in _COUNTING_OPTIONS.items() if getattr(args, name) != default]
        if used:
            raise BBPEError(
                f"--merge adds up finished count files; --{used[0].replace('_', '-')} applies to counting a corpus"
            )
        result = counts_file.merge(args.inputs)
        counts_file.write(
            args.output,
            result.counts,
            pattern=result.pattern,
            special_tokens=result.special_tokens,
            split_digits=result.split_digits,
            corpus=result.corpus,
            unit=result.unit,
            normalization=result.normalization,
        )
        print(
            f"added up {len(args.inputs)} count files: {len(result.counts):,} unique words "
            f"({sum(result.counts.values()):,} pre-tokens) in {time.monotonic() - started:,.1f} s; "
            f"wrote {args.output}"
        )
        return 0
    requested = pattern_argument(args)
    pattern = resolve_pattern("cl100k" if requested is None else requested, split_digits=args.split_digits)
    stats = CorpusStats()
    progress = None if args.quiet else StderrProgress()

    def counted(done: int) -> None:
        if progress:
            progress(ProgressEvent("count", done, None, time.monotonic() - started))

    def tasks_done(done: int, total: int, read: int) -> None:
        if progress:
            progress(ProgressEvent("tasks", done, total, time.monotonic() - started, read))

    unit = args.unit or "document"
    settings = CountSettings(
        pattern,
        tuple(sorted(set(args.special))),
        unit,
        args.jsonl_field,
        "strict" if args.strict_utf8 else "replace",
        normalization_argument(args) or "none",
    )
    parts = (args.parts or DEFAULT_PARTS) if directory else 1
    if not 1 <= parts <= MAX_PARTS:
        raise BBPEError(f"--parts must be 1 to {MAX_PARTS}, got {parts}")
    if args.min_count < 1 or args.flush_mb < 1:
        raise BBPEError("--min-count and --flush-mb must be at least 1")
    if args.address is not None and args.executor != "ray":
        raise BBPEError("--address needs --executor ray")
    common: dict[str, Any] = {
        "buckets": parts,
        "directory": directory,
        "split_digits": args.split_digits,
        "max_bytes": args.max_bytes,
        "min_count": args.min_count,
        "workers": args.workers,
        "flush_bytes": args.flush_mb << 20,
        "stats": stats,
    }
    inputs = [p if is_url(p) else Path(p) for p in args.inputs]
    try:
        if args.executor == "ray":
            unique, total = count_ray(
                inputs, settings, Path(args.output), address=args.address, on_tasks=tasks_done, **common
            )
        else:
            unique, total = count_local(inputs, settings, Path(args.output), on_bytes=counted, **common)
    finally:
        if progress:
            progress.close()
    print(
        f"counted {unique:,} unique words ({total:,} pre-tokens) in "
        f"{stats.bytes / 1e6:,.1f} MB of text in {time.monotonic() - started:,.1f} s (peak memory "
        f"{peak_memory_mb():,.0f} MB); wrote {args.output}" + (f" ({parts} parts)" if directory else "")
    )
    return 0


def train_from_counts_file(args: argparse.Namespace, on_progress: StderrProgress | None) -> Tokenizer:
    """``bbpe train --from-counts FILE``: the pattern and special tokens come from the file."""
    if args.inputs:
        raise BBPEError("give corpus inputs or --from-counts, not both")
    corpus_only = [name for name in ("max_bytes", "workers", "strict_utf8", "executor") if getattr(args, name)]
    if args.jsonl_field != "text":
        corpus_only.append("jsonl_field")
    if corpus_only:
        raise BBPEError(
            f"--{corpus_only[0].replace('_', '-')} applies to counting; with --from-counts the "
            "words are already counted (use it with `bbpe count`)"
        )
    from bbpe.formats.count_arrays import read_arrays  # numpy and pyarrow: imported when used
    from bbpe.training.loops.flat_words import FlatWords, WordTable

    arrays = read_arrays(args.from_counts, min_count=args.min_count)
    data, unique = arrays.settings, arrays.unique
    words = WordTable(FlatWords(arrays.data, arrays.starts, arrays.counts))  # handed to the merge loop
    del arrays
    if args.unit is not None and args.unit != data.unit:
        raise BBPEError(
            f"{args.from_counts}: counted with unit {data.unit!r}, not the requested {args.unit!r}; "
            "leave out --unit to use the file's"
        )
    requested = pattern_argument(args)
    if requested is not None or args.split_digits:
        wanted = resolve_pattern(data.pattern if requested is None else requested, split_digits=args.split_digits)
        if wanted != data.pattern:
            raise BBPEError(
                f"{args.from_counts}: counted with pattern {counts_file.describe(data.pattern)}, not "
                f"the requested {counts_file.describe(wanted)}; leave out --pattern/--regex/"
                "--split-digits to use the file's"
            )
    specials = list(data.special_tokens) + [s for s in args.special if s not in data.special_tokens]
    corpus = {"bytes": 0} | data.corpus | {"counts_file": str(args.from_counts)}
    if args.min_count > 1:
        corpus |= {"min_count": args.min_count, "unique_words_counted": unique}
    init = None if args.init is None else load_base(args.init, pattern=data.pattern)
    wanted = normalization_argument(args) or (init.normalization if init is not None else data.normalization)
    if wanted != data.normalization:
        given = "--normalize" if args.normalize is not None else f"the base {args.init}"
        raise BBPEError(
            f"{args.from_counts}: counted with normalization {data.normalization}, but {given} uses {wanted}; "
            f"count again with --normalize {wanted.lower()} (or give --normalize {data.normalization.lower()})"
        )
    return train_from_counts(
        words,
        vocab_size=args.vocab,
        pattern=data.pattern,
        special_tokens=specials,
        min_frequency=args.min_frequency,
        max_merges=args.max_merges,
        backend=args.backend,
        on_progress=on_progress,
        corpus_summary=corpus,
        split_digits=data.split_digits,
        init=init,
        prune_unreachable=args.prune_unreachable,
        normalization=data.normalization,
    )
