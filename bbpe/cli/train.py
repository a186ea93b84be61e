"""``bbpe train``: a vocabulary from a corpus or a word-count file, printed summary."""

from __future__ import annotations

import argparse
import time
from typing import TypedDict

from bbpe.cli.count import train_from_counts_file
from bbpe.cli.options import (
    add_corpus_options,
    normalization_argument,
    parse_count,
    parse_vocab_size,
    pattern_argument,
)
from bbpe.errors import BBPEError
from bbpe.output import check_writable
from bbpe.progress import StderrProgress, peak_memory_mb
from bbpe.training.api import path_inputs, train
from bbpe.training.counting.executors import EXECUTORS
from bbpe.training.merging import STOP_REASONS


def add_train_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "train",
        help="train a vocabulary on text files",
        description=(
            "Train a byte-level BPE vocabulary. Inputs are files, directories (*.txt, *.jsonl, optionally "
            ".gz/.xz/.bz2) or - for stdin. Each document (a file, stdin, a JSONL record) is pre-tokenized whole "
            "(--unit line: each line)."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="FILE_OR_DIR")
    p.add_argument(
        "--from-counts",
        metavar="FILE",
        help="train on a word-count file from `bbpe count` instead "
        "of a corpus (its pattern and special tokens are used)",
    )
    p.add_argument(
        "--min-count",
        type=parse_count,
        default=1,
        metavar="N",
        help="with --from-counts: train only on words counted N times or more (the others are never loaded; "
        "see the README on memory)",
    )
    p.add_argument(
        "--vocab", type=parse_vocab_size, required=True, help="vocab size: 256 bytes + merges + special tokens"
    )
    p.add_argument("-o", "--output", required=True, help="output vocabulary file (bbpe JSON)")
    add_corpus_options(p, special_help="special token (repeatable)")
    p.add_argument(
        "--init",
        metavar="NAME_OR_PATH",
        help="extend this vocabulary (reference name or file): its "
        "tokens keep their ids, new ones follow; its pattern and specials unless --pattern/--special",
    )
    p.add_argument(
        "--prune-unreachable",
        action="store_true",
        help="with --init: drop base tokens the pattern "
        "can never produce (e.g. multi-digit tokens under qwen) and renumber the rest in order",
    )
    p.add_argument(
        "--min-frequency", type=parse_count, default=2, help="stop when no pair occurs this often (default 2)"
    )
    p.add_argument("--max-merges", type=parse_count, help="stop after this many new tokens")
    p.add_argument("--backend", choices=("auto", "python", "numba"), default="auto", help="merge loop")
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="count with `bbpe count`'s map/reduce tasks: local (a process pool, bounded memory) or ray "
        "(pip install 'bbpe[ray]'); default: count in this process. Same vocabulary either way",
    )
    p.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="with --executor ray: the cluster to join (default: start a local Ray instance)",
    )
    add_method_options(p)
    p.set_defaults(run=run_train)


def run_train(args: argparse.Namespace) -> int:
    check_writable(args.output)
    progress = None if args.quiet else StderrProgress()
    started = time.monotonic()
    if not args.inputs and not args.from_counts:
        raise BBPEError("give corpus inputs (files, directories or -) or --from-counts FILE")
    methods = method_arguments(args)
    if args.address is not None and args.executor != "ray":
        raise BBPEError("--address needs --executor ray")
    if args.min_count < 1:
        raise BBPEError("--min-count must be at least 1")
    if args.min_count > 1 and not args.from_counts:
        raise BBPEError("--min-count needs --from-counts (or give it to `bbpe count`)")
    if args.from_counts and methods:
        raise BBPEError(
            "--superwords-after and --parity-dev read the corpus again; they do not work with --from-counts"
        )
    try:
        tokenizer = (
            train_from_counts_file(args, progress)
            if args.from_counts
            else train(
                path_inputs(args.inputs),
                vocab_size=args.vocab,
                pattern=pattern_argument(args),
                split_digits=args.split_digits,
                special_tokens=args.special,
                min_frequency=args.min_frequency,
                max_merges=args.max_merges,
                max_bytes=args.max_bytes,
                workers=args.workers,
                jsonl_field=args.jsonl_field,
                utf8_errors="strict" if args.strict_utf8 else "replace",
                backend=args.backend,
                on_progress=progress,
                init=args.init,
                prune_unreachable=args.prune_unreachable,
                unit=args.unit or "document",
                executor=args.executor,
                address=args.address,
                normalization=normalization_argument(args),
                **methods,
            )
        )
    finally:
        if progress:
            progress.close()
    tokenizer.save(args.output)
    info = tokenizer.metadata["training"]
    corpus = tokenizer.metadata["corpus"]
    base = f"{info['init']['kept']:,} tokens of {info['init']['base']}" if "init" in info else "256 bytes"
    print(
        f"trained {tokenizer.vocab_size:,} tokens ({base} + {info['new_tokens']:,} merges + "
        f"{len(tokenizer.special_tokens)} special) on {corpus['bytes'] / 1e6:,.1f} MB in "
        f"{time.monotonic() - started:,.1f} s (peak memory {peak_memory_mb():,.0f} MB); "
        f"stopped: {STOP_REASONS[info['stop_reason']]}; wrote {args.output}"
    )
    return 0


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """``bbpe train``'s training methods beyond classic BPE: superwords and parity-aware merges."""
    parser.add_argument(
        "--superwords-after",
        type=parse_count,
        metavar="N",
        help="SuperBPE: once N regular tokens "
        "exist, continue with merges that may cross spaces (stage-2 pattern; see docs/guide/methods.md)",
    )
    parser.add_argument(
        "--max-superword-words",
        type=parse_count,
        metavar="K",
        help="with --superwords-after: new "
        "tokens span at most K whitespace-separated words (uses the python merge loop)",
    )
    parser.add_argument(
        "--parity-dev",
        metavar="DIR",
        help="parity-aware BPE: each merge helps the language with the highest cost on this line-aligned "
        "parallel corpus (or directory of corpora, compared through English); training files are named <code>.*",
    )
    parser.add_argument(
        "--parity-global-merges",
        type=parse_count,
        metavar="M",
        help="with --parity-dev: the first M merges are classic (global) ones (the hybrid variant)",
    )
    parser.add_argument(
        "--parity-min-bytes",
        type=parse_count,
        metavar="B",
        help="with --parity-dev: languages with less than B bytes of training text do not choose merges",
    )
    parser.add_argument(
        "--parity-patience",
        type=parse_count,
        metavar="P",
        help="with --parity-dev: a language stops choosing after P merges in a row that saved none of its "
        "held-out dev tokens (its dev tokens without --parity-holdout)",
    )
    parser.add_argument(
        "--parity-holdout",
        action="store_true",
        default=None,
        help="with --parity-dev: choose on the even lines of the dev set; the odd ones are held out (reported in "
        "the metadata, watched by --parity-patience)",
    )


PARITY_OPTIONS = ("parity_global_merges", "parity_min_bytes", "parity_patience", "parity_holdout")


class MethodArguments(TypedDict, total=False):
    """The ``bbpe.train`` keywords of the training methods (only those given)."""

    superwords_after: int
    max_superword_words: int
    parity_dev: str
    parity_global_merges: int
    parity_min_bytes: int
    parity_patience: int
    parity_holdout: bool


def method_arguments(args: argparse.Namespace) -> MethodArguments:
    """The method options given, as ``bbpe.train`` keywords (checked for combinations that mean nothing)."""
    if args.max_superword_words is not None and args.superwords_after is None:
        raise BBPEError("--max-superword-words needs --superwords-after")
    for option in PARITY_OPTIONS:
        if getattr(args, option) is not None and args.parity_dev is None:
            raise BBPEError(f"--{option.replace('_', '-')} needs --parity-dev")
    if args.superwords_after is not None and args.parity_dev is not None:
        raise BBPEError("choose --superwords-after or --parity-dev, not both")
    given = MethodArguments()
    if args.superwords_after is not None:
        given["superwords_after"] = args.superwords_after
    if args.max_superword_words is not None:
        given["max_superword_words"] = args.max_superword_words
    if args.parity_dev is not None:
        given["parity_dev"] = args.parity_dev
    for option in PARITY_OPTIONS:
        if getattr(args, option) is not None:
            given[option] = getattr(args, option)  # type: ignore[literal-required]
    return given
