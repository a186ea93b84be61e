"""Command-line options and helpers shared by several subcommands: counts, corpus and pattern options,
the vocabulary argument and how a token is shown."""

from __future__ import annotations

import argparse
import json
from decimal import Decimal, InvalidOperation

from bbpe.encoding.normalization import Normalization, check_normalization
from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import PRESETS
from bbpe.tokenizer import Tokenizer


class CountError(argparse.ArgumentTypeError, ValueError):
    """A count option that is not a whole number in range (argparse prints its message on one line)."""


_SCALES = {"k": 3, "m": 6, "g": 9}
MAX_COUNT = 2**63 - 1


def parse_count(text: str) -> int:
    """A whole non-negative count such as 32000, 32_000, 32k, 2.01k or 1.5M, parsed exactly (no floats).

    >>> parse_count("2.01k"), parse_count("1.5M"), parse_count("32_000")
    (2010, 1500000, 32000)
    """
    digits = text.strip().replace("_", "")
    exponent = _SCALES.get(digits[-1:].lower(), 0)
    if exponent:
        digits = digits[:-1]
    try:
        value = Decimal(digits)
    except InvalidOperation:
        raise CountError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise CountError(f"{text!r} is not a finite number")
    if value.adjusted() + exponent > 18 or value.scaleb(exponent) > MAX_COUNT:
        raise CountError(f"{text!r} is too large (at most {MAX_COUNT:,})")
    value = value.scaleb(exponent)
    if value < 0 or value != value.to_integral_value():
        raise CountError(f"{text!r} is not a whole non-negative number")
    return int(value)


def parse_vocab_size(text: str) -> int:
    """A vocab size: a count below 2**31 (token ids are 32-bit)."""
    value = parse_count(text)
    if value >= 2**31:
        raise CountError(f"{text!r} is too large: vocab sizes stop at 2**31 - 1 (token ids are 32-bit)")
    return value


def parse_workers(text: str) -> int:
    """A number of counting processes: 0 (all cores) to 256."""
    value = parse_count(text)
    if value > 256:
        raise CountError(f"{text!r} is too many worker processes (at most 256)")
    return value


def add_pattern_options(parser: argparse.ArgumentParser) -> None:
    """``--pattern PRESET`` or ``--regex R``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--pattern",
        default=None,
        metavar="PRESET",
        help=f"pre-tokenization preset: {', '.join(PRESETS)} (default cl100k)",
    )
    group.add_argument("--regex", default=None, metavar="R", help="custom pre-tokenization regex")


def pattern_argument(args: argparse.Namespace) -> str | None:
    """The pattern the options name (a preset name or a regex), or None."""
    if args.pattern is not None and args.pattern not in PRESETS:
        raise BBPEError(f"unknown pattern preset {args.pattern!r}; choose one of {', '.join(PRESETS)} or use --regex")
    pattern: str | None = args.regex if args.regex is not None else args.pattern
    return pattern


def normalization_argument(args: argparse.Namespace) -> Normalization | None:
    """The ``--normalize`` form given (canonical name), or None."""
    return None if args.normalize is None else check_normalization(args.normalize)


def add_corpus_options(parser: argparse.ArgumentParser, *, special_help: str) -> None:
    """How a corpus is read and pre-tokenized: pattern, digits, specials, sampling, workers, JSONL, UTF-8."""
    add_pattern_options(parser)
    parser.add_argument("--split-digits", action="store_true", help="every digit is its own pre-token")
    parser.add_argument(
        "--unit",
        choices=("document", "line"),
        default=None,
        help="what is pre-tokenized whole: a document (a file, stdin, a JSONL record; the default) or each line",
    )
    parser.add_argument("--special", action="append", default=[], metavar="TOKEN", help=special_help)
    parser.add_argument(
        "--normalize",
        type=str.lower,
        choices=("none", "nfc", "nfd", "nfkc", "nfkd"),
        default=None,
        help="Unicode normalization of the text between special tokens before pre-tokenization, stored in the "
        "vocabulary and applied when it encodes (default none; with --init the base's; with --from-counts the file's)",
    )
    parser.add_argument("--max-bytes", type=parse_count, help="read at most this many bytes of text (in input order)")
    parser.add_argument("--workers", type=parse_workers, help="counting processes (default: number of cores)")
    parser.add_argument("--jsonl-field", default="text", help="field holding the text in *.jsonl inputs")
    parser.add_argument("--strict-utf8", action="store_true", help="fail on invalid UTF-8 instead of replacing it")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def add_vocab_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "vocab",
        help="vocabulary file (bbpe JSON, .tiktoken with --pattern, tokenizer.json) "
        "or reference name (bbpe vocab list)",
    )
    add_pattern_options(parser)


def load_vocab(args: argparse.Namespace) -> Tokenizer:
    """The vocabulary named on the command line."""
    return Tokenizer.load(args.vocab, pattern=pattern_argument(args))


def engine_for_input(tokenizer: Tokenizer, input_bytes: int | None) -> Tokenizer:
    """``tokenizer`` on the compiled engine when "auto" passed it over only because its kernels are not
    compiled yet and an input of ``input_bytes`` pays for compiling them (``bbpe.tokenizer.compiled_engine_pays``)."""
    from bbpe.pretokenize.scanner_presets import supports
    from bbpe.tokenizer import compiled_engine_pays, has_numba

    if tokenizer.engine == "compiled" or supports(tokenizer.pattern) is None or not has_numba():
        return tokenizer
    return tokenizer.with_engine("compiled") if compiled_engine_pays(input_bytes) else tokenizer


def show_token(token: bytes) -> str:
    """A token as readable text: JSON-quoted if valid UTF-8, else b'...'."""
    try:
        return json.dumps(token.decode("utf-8"), ensure_ascii=False)
    except UnicodeDecodeError:
        return repr(token)
