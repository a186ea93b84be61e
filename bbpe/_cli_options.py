"""Command-line options shared by several subcommands (``train``, ``count``, the vocab commands)."""

from __future__ import annotations

import argparse

from bbpe.errors import BBPEError
from bbpe.patterns import PRESETS


def parse_count(text: str) -> int:
    """A positive count such as 32000, 32_000, 32k or 1.5M."""
    scale = {"k": 1_000, "m": 1_000_000, "g": 1_000_000_000}.get(text[-1:].lower(), 1)
    try:
        value = float(text[:-1] if scale > 1 else text.replace("_", "")) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value != int(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole non-negative number")
    return int(value)


def add_pattern_options(parser: argparse.ArgumentParser) -> None:
    """``--pattern PRESET`` or ``--regex R``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--pattern", default=None, metavar="PRESET",
                       help=f"pre-tokenization preset: {', '.join(PRESETS)} (default cl100k)")
    group.add_argument("--regex", default=None, metavar="R", help="custom pre-tokenization regex")


def pattern_argument(args: argparse.Namespace) -> str | None:
    """The pattern the options name (a preset name or a regex), or None."""
    if args.pattern is not None and args.pattern not in PRESETS:
        raise BBPEError(f"unknown pattern preset {args.pattern!r}; choose one of {', '.join(PRESETS)} or use --regex")
    return args.regex or args.pattern


def add_corpus_options(parser: argparse.ArgumentParser, *, special_help: str) -> None:
    """How a corpus is read and pre-tokenized: pattern, digits, specials, sampling, workers, JSONL, UTF-8."""
    add_pattern_options(parser)
    parser.add_argument("--split-digits", action="store_true", help="every digit is its own pre-token")
    parser.add_argument("--special", action="append", default=[], metavar="TOKEN", help=special_help)
    parser.add_argument("--max-bytes", type=parse_count, help="read at most this many bytes of text (in input order)")
    parser.add_argument("--workers", type=parse_count, help="counting processes (default: number of cores)")
    parser.add_argument("--jsonl-field", default="text", help="field holding the text in *.jsonl inputs")
    parser.add_argument("--strict-utf8", action="store_true", help="fail on invalid UTF-8 instead of replacing it")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def add_method_options(parser: argparse.ArgumentParser) -> None:
    """``bbpe train``'s training methods beyond classic BPE: superwords and parity-aware merges."""
    parser.add_argument("--superwords-after", type=parse_count, metavar="N", help="SuperBPE: once N regular tokens "
                        "exist, continue with merges that may cross spaces (stage-2 pattern; see README)")
    parser.add_argument("--max-superword-words", type=parse_count, metavar="K", help="with --superwords-after: new "
                        "tokens span at most K whitespace-separated words (uses the python merge loop)")
    parser.add_argument("--parity-dev", metavar="DIR", help="parity-aware BPE: each merge helps the language with the "
                        "most tokens on this line-aligned parallel corpus; training files are named <code>.*")
    parser.add_argument("--parity-global-merges", type=parse_count, metavar="M", help="with --parity-dev: the first "
                        "M merges are classic (global) ones (the hybrid variant)")


def method_arguments(args: argparse.Namespace) -> dict[str, object]:
    """The method options given, as ``bbpe.train`` keywords (checked for combinations that mean nothing)."""
    if args.max_superword_words is not None and args.superwords_after is None:
        raise BBPEError("--max-superword-words needs --superwords-after")
    if args.parity_global_merges is not None and args.parity_dev is None:
        raise BBPEError("--parity-global-merges needs --parity-dev")
    if args.superwords_after is not None and args.parity_dev is not None:
        raise BBPEError("choose --superwords-after or --parity-dev, not both")
    given = {"superwords_after": args.superwords_after, "max_superword_words": args.max_superword_words,
             "parity_dev": args.parity_dev, "parity_global_merges": args.parity_global_merges}
    return {name: value for name, value in given.items() if value is not None}
