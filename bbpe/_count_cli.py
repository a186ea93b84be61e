"""``bbpe count`` (corpus -> word-count file, or adding count files up) and ``train --from-counts``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bbpe._cli_options import add_corpus_options, pattern_argument
from bbpe._io import check_not_input, check_writable
from bbpe.corpora import CorpusStats
from bbpe.counting import CountSettings, count_corpus
from bbpe.errors import BBPEError
from bbpe.formats import counts as counts_file
from bbpe.patterns import resolve_pattern
from bbpe.progress import ProgressEvent, StderrProgress, peak_memory_mb
from bbpe.tokenizer import Tokenizer
from bbpe.train import train_from_counts

_COUNTING_OPTIONS = {"pattern": None, "regex": None, "split_digits": False, "special": [], "max_bytes": None,
                     "workers": None, "jsonl_field": "text", "strict_utf8": False, "unit": None}


def add_count_command(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``bbpe count CORPUS... -o FILE`` and ``bbpe count --merge A B... -o FILE``."""
    p = commands.add_parser("count", help="count pre-tokens into a word-count file (Parquet)", description=(
        "Count the pre-tokens of a corpus (files, directories or -) into a Parquet word-count file for "
        "`bbpe train --from-counts`; with --merge, add up count files made with the same settings "
        "(e.g. one per shard)."))
    p.add_argument("inputs", nargs="+", metavar="FILE_OR_DIR", help="corpus inputs, or count files with --merge")
    p.add_argument("-o", "--output", required=True, help="output word-count file (.parquet)")
    p.add_argument("--merge", action="store_true", help="the inputs are count files: write their sum")
    add_corpus_options(p, special_help="special token whose text is cut out and not counted (repeatable)")
    p.set_defaults(run=run_count)


def run_count(args: argparse.Namespace) -> int:
    check_writable(args.output)
    check_not_input(args.output, args.inputs)
    started = time.monotonic()
    if args.merge:
        used = [name for name, default in _COUNTING_OPTIONS.items() if getattr(args, name) != default]
        if used:
            raise BBPEError(f"--merge adds up finished count files; --{used[0].replace('_', '-')} applies to "
                            "counting a corpus")
        result = counts_file.merge(args.inputs)
        counts_file.write(args.output, result.counts, pattern=result.pattern, special_tokens=result.special_tokens,
                          split_digits=result.split_digits, corpus=result.corpus, unit=result.unit)
        print(f"added up {len(args.inputs)} count files: {len(result.counts):,} unique words "
              f"({sum(result.counts.values()):,} pre-tokens) in {time.monotonic() - started:,.1f} s; "
              f"wrote {args.output}")
        return 0
    requested = pattern_argument(args)
    pattern = resolve_pattern("cl100k" if requested is None else requested, split_digits=args.split_digits)
    stats = CorpusStats()
    progress = None if args.quiet else StderrProgress()

    def counted(done: int) -> None:
        if progress:
            progress(ProgressEvent("count", done, None, time.monotonic() - started))

    unit = args.unit or "document"
    settings = CountSettings(pattern, tuple(sorted(set(args.special))), unit, args.jsonl_field,
                             "strict" if args.strict_utf8 else "replace")
    try:
        counts = count_corpus([Path(p) for p in args.inputs], settings, max_bytes=args.max_bytes,
                              workers=args.workers, stats=stats, on_bytes=counted)
    finally:
        if progress:
            progress.close()
    corpus = stats.as_dict() | {"sources": list(args.inputs)}
    counts_file.write(args.output, counts, pattern=pattern, special_tokens=args.special,
                      split_digits=args.split_digits, corpus=corpus, unit=unit)
    print(f"counted {len(counts):,} unique words ({sum(counts.values()):,} pre-tokens) in "
          f"{stats.bytes / 1e6:,.1f} MB of text in {time.monotonic() - started:,.1f} s (peak memory "
          f"{peak_memory_mb():,.0f} MB); wrote {args.output}")
    return 0


def train_from_counts_file(args: argparse.Namespace, on_progress: StderrProgress | None) -> Tokenizer:
    """``bbpe train --from-counts FILE``: the pattern and special tokens come from the file."""
    if args.inputs:
        raise BBPEError("give corpus inputs or --from-counts, not both")
    corpus_only = [name for name in ("max_bytes", "workers", "strict_utf8") if getattr(args, name)]
    if args.jsonl_field != "text":
        corpus_only.append("jsonl_field")
    if corpus_only:
        raise BBPEError(f"--{corpus_only[0].replace('_', '-')} applies to counting; with --from-counts the "
                        "words are already counted (use it with `bbpe count`)")
    data = counts_file.read(args.from_counts)
    if args.unit is not None and args.unit != data.unit:
        raise BBPEError(f"{args.from_counts}: counted with unit {data.unit!r}, not the requested {args.unit!r}; "
                        "leave out --unit to use the file's")
    requested = pattern_argument(args)
    if requested is not None or args.split_digits:
        wanted = resolve_pattern(data.pattern if requested is None else requested, split_digits=args.split_digits)
        if wanted != data.pattern:
            raise BBPEError(f"{args.from_counts}: counted with pattern {counts_file.describe(data.pattern)}, not "
                            f"the requested {counts_file.describe(wanted)}; leave out --pattern/--regex/"
                            "--split-digits to use the file's")
    specials = list(data.special_tokens) + [s for s in args.special if s not in data.special_tokens]
    corpus = {"bytes": 0} | data.corpus | {"counts_file": str(args.from_counts)}
    return train_from_counts(
        data.counts, vocab_size=args.vocab, pattern=data.pattern, special_tokens=specials,
        min_frequency=args.min_frequency, max_merges=args.max_merges, backend=args.backend,
        on_progress=on_progress, corpus_summary=corpus, split_digits=data.split_digits,
        init=args.init, prune_unreachable=args.prune_unreachable,
    )
