"""Command line: the ``bbpe`` parser, ``main`` and its error handling (one module per command group).

``main(argv) -> int``.  Bad input ends with one ``bbpe: error: ...`` line and exit code 2;
Ctrl-C with exit code 130, SIGTERM/SIGHUP with 128 + the signal number (workers stopped,
temporary files removed); any other exception with one ``bbpe: internal error: ...`` line and
exit code 70 (``bbpe --debug ...`` shows the traceback).  Nothing is ever half-written.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any, NoReturn, TypeAlias

from bbpe._version import __version__
from bbpe.cli.count import add_count_command
from bbpe.cli.encode import add_encode_commands
from bbpe.cli.inspection import add_inspect_commands
from bbpe.cli.paths import check_paths
from bbpe.cli.report import add_report_command
from bbpe.cli.tokenize import add_tokenize_command
from bbpe.cli.train import add_train_command
from bbpe.cli.view import add_compare_text_command
from bbpe.cli.vocab import add_vocab_command
from bbpe.cli.warmup import add_warmup_command

EXIT_USAGE = 2
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130
_TERMINATING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
SignalHandler: TypeAlias = Callable[[int, FrameType | None], Any] | int | None  # what signal.signal returns


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised like Ctrl-C so the same clean-up runs (workers, temporary files)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bbpe", description="Byte-level BPE tokenizers: train, encode, decode, inspect, export.")
    parser.add_argument("--version", action="version", version=f"bbpe {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an internal error")
    commands: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser
    )

    add_train_command(commands)
    add_encode_commands(commands)
    add_inspect_commands(commands)
    add_compare_text_command(commands)
    add_count_command(commands)
    add_tokenize_command(commands)
    add_vocab_command(commands)
    add_warmup_command(commands)
    add_report_command(commands)
    parser.set_defaults(commands=commands.choices)
    return parser


def run() -> NoReturn:
    """The console entry point: ``main`` on ``sys.argv``, then the process ends at once.

    By then the command has closed its outputs; the atexit handlers run and the standard streams
    are flushed, but the interpreter is not torn down object by object, which (with numba's
    compiled code loaded) adds about 0.3 s to every run.
    """
    status = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # the reader has gone (a closed pipe) or the stream is closed
            status = status or 1
    os._exit(status)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args, _ = parser.parse_known_args(argv)
    debug = args.debug
    # Each subcommand parses its own arguments intermixed, so options may precede free text.
    rest = argv[argv.index(args.command) + 1 :]
    args = args.commands[args.command].parse_intermixed_args(rest, argparse.Namespace(command=args.command))
    logging.basicConfig(
        format="bbpe: warning: %(message)s", level=logging.ERROR if getattr(args, "quiet", False) else logging.WARNING
    )
    previous = _catch_termination()
    try:
        check_paths(args.command, args)
        status: int = args.run(args)
        return status
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


def _catch_termination() -> dict[signal.Signals, SignalHandler]:
    """Make SIGTERM and SIGHUP raise ``Terminated`` (main thread only); returns the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {number: signal.signal(number, _raise_terminated) for number in _TERMINATING_SIGNALS}
