"""``bbpe encode`` and ``bbpe decode``: text to ids and back, read as bytes (no newline translation)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import BinaryIO

from bbpe.cli.options import add_vocab_argument, engine_for_input, load_vocab
from bbpe.cli.view import add_color_option, print_tokens
from bbpe.errors import BBPEError


def add_encode_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("encode", help="text -> token ids", description="Encode text (argument, --file or stdin).")
    add_vocab_argument(p)
    p.add_argument("text", nargs="?", help="text to encode (default: read --file or stdin)")
    p.add_argument("-f", "--file", help="read the text from this file")
    p.add_argument("--tokens", action="store_true", help="show the token pieces instead of ids")
    p.add_argument("--allow-special", action="store_true", help="encode special-token text as special tokens")
    add_color_option(p)
    p.set_defaults(run=_cmd_encode)

    p = commands.add_parser("decode", help="token ids -> text", description="Decode ids (arguments or stdin).")
    add_vocab_argument(p)
    p.add_argument("ids", nargs="*", help="token ids (default: read whitespace-separated ids from stdin)")
    p.set_defaults(run=_cmd_decode)


def _read_text(args: argparse.Namespace) -> str:
    """The text to encode, read as bytes (no newline translation) and decoded as strict UTF-8."""
    if args.text is not None:
        text: str = args.text
        return text
    source = args.file or "<stdin>"
    try:
        stream: BinaryIO | None = getattr(sys.stdin, "buffer", None)  # a replaced sys.stdin may be text only
        if args.file:
            data = Path(args.file).read_bytes()
        elif stream is None:
            return sys.stdin.read()
        else:
            data = stream.read()
    except FileNotFoundError:
        raise BBPEError(f"{args.file}: no such file") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BBPEError(f"{source}: invalid UTF-8 at byte {exc.start}") from None


def _cmd_encode(args: argparse.Namespace) -> int:
    text = _read_text(args)
    tokenizer = engine_for_input(load_vocab(args), len(text))
    ids = (
        tokenizer.encode(text, allowed_special="all")
        if args.allow_special
        else tokenizer.encode(text, disallowed_special=())
    )
    if args.tokens:
        print_tokens(tokenizer, ids, args.color)
    else:
        print(" ".join(map(str, ids)))
    return 0


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
