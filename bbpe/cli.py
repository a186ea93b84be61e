"""Command line: ``bbpe train | encode | decode | inspect | export``.

``main(argv) -> int``.  Bad input ends with one ``bbpe: error: ...`` line and exit code 2;
Ctrl-C with exit code 130, SIGTERM/SIGHUP with 128 + the signal number (workers stopped,
temporary files removed); any other exception with one ``bbpe: internal error: ...`` line and
exit code 70 (``bbpe --debug ...`` shows the traceback).  Nothing is ever half-written.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from bbpe._cli_options import (
    add_corpus_options,
    add_pattern_options,
    parse_count,
    parse_vocab_size,
    pattern_argument,
)
from bbpe._count_cli import add_count_command, train_from_counts_file
from bbpe._io import check_not_input, check_writable
from bbpe._version import __version__
from bbpe._vocab_cli import add_vocab_command, run_compare
from bbpe.errors import BBPEError
from bbpe.patterns import preset_name
from bbpe.progress import StderrProgress, peak_memory_mb
from bbpe.report_cli import add_report_command
from bbpe.tokenizer import Tokenizer
from bbpe.train import STOP_REASONS, path_inputs, train
from bbpe.unicode_scripts import count_scripts

EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
_TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so the same clean-up runs (workers, temporary files)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bbpe", description="Byte-level BPE tokenizers: train, encode, decode, inspect, export.")
    parser.add_argument("--version", action="version", version=f"bbpe {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = commands.add_parser("train", help="train a vocabulary on text files", description=(
        "Train a byte-level BPE vocabulary. Inputs are files, directories (*.txt, *.jsonl, optionally "
        ".gz/.xz/.bz2) or - for stdin. Each document (a file, stdin, a JSONL record) is pre-tokenized whole "
        "(--unit line: each line)."))
    p.add_argument("inputs", nargs="*", metavar="FILE_OR_DIR")
    p.add_argument("--from-counts", metavar="FILE", help="train on a word-count file from `bbpe count` instead "
                   "of a corpus (its pattern and special tokens are used)")
    p.add_argument("--vocab", type=parse_vocab_size, required=True, help="vocab size: 256 bytes + merges + special tokens")
    p.add_argument("-o", "--output", required=True, help="output vocabulary file (bbpe JSON)")
    add_corpus_options(p, special_help="special token (repeatable)")
    p.add_argument("--init", metavar="NAME_OR_PATH", help="extend this vocabulary (reference name or file): its "
                   "tokens keep their ids, new ones follow; its pattern and specials unless --pattern/--special")
    p.add_argument("--prune-unreachable", action="store_true", help="with --init: drop base tokens the pattern "
                   "can never produce (e.g. multi-digit tokens under qwen) and renumber the rest in order")
    p.add_argument("--min-frequency", type=parse_count, default=2, help="stop when no pair occurs this often (default 2)")
    p.add_argument("--max-merges", type=parse_count, help="stop after this many new tokens")
    p.add_argument("--backend", choices=("auto", "python", "numba"), default="auto", help="merge loop")
    p.set_defaults(run=_cmd_train)

    p = commands.add_parser("encode", help="text -> token ids", description="Encode text (argument, --file or stdin).")
    _add_vocab_argument(p)
    p.add_argument("text", nargs="?", help="text to encode (default: read --file or stdin)")
    p.add_argument("-f", "--file", help="read the text from this file")
    p.add_argument("--tokens", action="store_true", help="show the token pieces instead of ids")
    p.add_argument("--allow-special", action="store_true", help="encode special-token text as special tokens")
    p.set_defaults(run=_cmd_encode)

    p = commands.add_parser("decode", help="token ids -> text", description="Decode ids (arguments or stdin).")
    _add_vocab_argument(p)
    p.add_argument("ids", nargs="*", help="token ids (default: read whitespace-separated ids from stdin)")
    p.set_defaults(run=_cmd_decode)

    p = commands.add_parser("inspect", help="summarize a vocabulary", description="Size, pattern, specials, "
                            "longest tokens, tokens by script and a sample.")
    _add_vocab_argument(p)
    p.add_argument("--top", type=parse_count, default=10, help="how many longest/sample tokens to show")
    p.add_argument("other", nargs="?", metavar="B", help="with --compare: the vocabulary to compare with")
    p.add_argument("--compare", action="store_true", help="compare VOCAB (A) with B: shared tokens, tokens "
                   "only in each, rank order of the shared ones, tokens by script")
    p.set_defaults(run=_cmd_inspect)

    p = commands.add_parser("export", help="write a .tiktoken or tokenizer.json file",
                            description="Export to tiktoken ranks (.tiktoken) or Hugging Face tokenizer.json.")
    _add_vocab_argument(p)
    p.add_argument("--format", choices=("tiktoken", "hf"), required=True)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(run=_cmd_export)
    add_count_command(commands)
    add_vocab_command(commands)
    add_report_command(commands)
    parser.set_defaults(commands=commands.choices)
    return parser


def _add_vocab_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("vocab", help="vocabulary file (bbpe JSON, .tiktoken with --pattern, tokenizer.json) "
                        "or reference name (bbpe vocab list)")
    add_pattern_options(parser)


def load_vocab(args: argparse.Namespace) -> Tokenizer:
    """The vocabulary named on the command line."""
    return Tokenizer.load(args.vocab, pattern=pattern_argument(args))


def _cmd_train(args: argparse.Namespace) -> int:
    check_writable(args.output)
    check_not_input(args.output, [*args.inputs, args.from_counts, args.init])
    progress = None if args.quiet else StderrProgress()
    started = time.monotonic()
    if not args.inputs and not args.from_counts:
        raise BBPEError("give corpus inputs (files, directories or -) or --from-counts FILE")
    try:
        tokenizer = train_from_counts_file(args, progress) if args.from_counts else train(
            path_inputs(args.inputs), vocab_size=args.vocab, pattern=pattern_argument(args),
            split_digits=args.split_digits, special_tokens=args.special, min_frequency=args.min_frequency,
            max_merges=args.max_merges, max_bytes=args.max_bytes, workers=args.workers,
            jsonl_field=args.jsonl_field, utf8_errors="strict" if args.strict_utf8 else "replace",
            backend=args.backend, on_progress=progress, init=args.init, prune_unreachable=args.prune_unreachable,
            unit=args.unit or "document",
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


def _read_text(args: argparse.Namespace) -> str:
    """The text to encode, read as bytes (no newline translation) and decoded as strict UTF-8."""
    if args.text is not None:
        return args.text
    source = args.file or "<stdin>"
    try:
        stream = getattr(sys.stdin, "buffer", None)  # a replaced sys.stdin may be text only
        if not args.file and stream is None:
            return sys.stdin.read()
        data = Path(args.file).read_bytes() if args.file else stream.read()
    except FileNotFoundError:
        raise BBPEError(f"{args.file}: no such file") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BBPEError(f"{source}: invalid UTF-8 at byte {exc.start}") from None


def _cmd_encode(args: argparse.Namespace) -> int:
    tokenizer = load_vocab(args)
    text = _read_text(args)
    ids = tokenizer.encode(text, allowed_special="all") if args.allow_special else tokenizer.encode(
        text, disallowed_special=())
    if args.tokens:
        print(" ".join(show_token(tokenizer.token_bytes(i)) for i in ids))
    else:
        print(" ".join(map(str, ids)))
    return 0


def show_token(token: bytes) -> str:
    """A token as readable text: JSON-quoted if valid UTF-8, else b'...'."""
    try:
        return json.dumps(token.decode("utf-8"), ensure_ascii=False)
    except UnicodeDecodeError:
        return repr(token)


def _cmd_decode(args: argparse.Namespace) -> int:
    tokenizer = load_vocab(args)
    fields = args.ids or sys.stdin.read().split()
    try:
        ids = [int(field) for field in fields]
    except ValueError as exc:
        raise BBPEError(f"token ids must be integers ({exc})") from None
    try:
        sys.stdout.write(tokenizer.decode(ids))
    except KeyError as exc:
        raise BBPEError(str(exc.args[0])) from None
    sys.stdout.write("\n")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    if args.compare or args.other is not None:
        return run_compare(args)
    tokenizer = load_vocab(args)
    regular = sorted(tokenizer.ranks.items(), key=lambda item: item[1])
    tokens = [token for token, _ in regular]
    print(f"vocabulary    {args.vocab}")
    print(f"tokens        {tokenizer.vocab_size:,} ({len(tokens):,} regular, {tokenizer.n_merges:,} multi-byte, "
          f"{len(tokenizer.special_tokens)} special)")
    print(f"pattern       {preset_name(tokenizer.pattern) or 'custom'}: {tokenizer.pattern}")
    specials = ", ".join(f"{text}={rank}" for text, rank in tokenizer.special_tokens.items())
    print(f"specials      {specials or '(none)'}")
    training = tokenizer.metadata.get("training")
    if training:
        print(f"training      stop: {training.get('stop_reason')}, backend: {training.get('backend')}, "
              f"split_digits: {training.get('split_digits')}")
    print("by script     " + ", ".join(f"{name} {count:,}" for name, count in count_scripts(tokens).most_common()))
    longest = sorted(tokens, key=lambda token: (-len(token), token))[: args.top]
    print("longest       " + " ".join(show_token(token) for token in longest))
    step = max(1, len(tokens) // max(1, args.top))
    print("sample        " + " ".join(f"{rank}:{show_token(tokens[rank])}" for rank in range(0, len(tokens), step)))
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from bbpe.formats import hf, tiktoken_file

    check_writable(args.output)
    check_not_input(args.output, [args.vocab])
    tokenizer = load_vocab(args)
    writer = tiktoken_file.write if args.format == "tiktoken" else hf.write
    writer(tokenizer, args.output)
    print(f"wrote {args.output} ({args.format}, {tokenizer.vocab_size:,} tokens)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, _ = parser.parse_known_args(argv)
    debug = args.debug
    # Each subcommand parses its own arguments intermixed, so options may precede free text.
    rest = argv[argv.index(args.command) + 1 :]
    args = args.commands[args.command].parse_intermixed_args(rest, argparse.Namespace(command=args.command))
    logging.basicConfig(format="bbpe: warning: %(message)s",
                        level=logging.ERROR if getattr(args, "quiet", False) else logging.WARNING)
    previous = _catch_termination()
    try:
        return args.run(args)
    except Terminated as exc:
        print(f"bbpe: terminated by signal {exc.signum}; unfinished outputs were not written", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("bbpe: interrupted; no output written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ValueError, KeyError, OSError, ImportError, MemoryError) as exc:
        if debug:
            traceback.print_exc()
        print(f"bbpe: error: {_one_line(error_message(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # the last line of defence: never a raw traceback by default
        if debug:
            traceback.print_exc()
        hint = "" if debug else " (rerun with bbpe --debug ... for the traceback)"
        print(f"bbpe: internal error: {_one_line(f'{type(exc).__name__}: {exc}')}{hint}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def error_message(exc: BaseException) -> str:
    """The user-facing text of an expected error."""
    if isinstance(exc, MemoryError):
        return "out of memory; try a smaller --vocab, --max-bytes or fewer --workers"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, OSError) and exc.strerror:
        where = exc.filename or "output"
        return f"{where}: {exc.strerror[:1].lower()}{exc.strerror[1:]}"
    return str(exc)


def _one_line(message: str) -> str:
    return " ".join(message.split()) if "\n" in message or "\r" in message else message


def _raise_terminated(signum: int, _frame: object) -> None:
    raise Terminated(signum)


def _catch_termination() -> dict[int, object]:
    """Make SIGTERM and SIGHUP raise ``Terminated`` (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.signal(number, _raise_terminated) for number in _TERMINATING_SIGNALS}
