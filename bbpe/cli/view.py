"""CLI glue for seeing tokens and handing vocabularies on.

``bbpe compare-text``, ``bbpe encode --tokens --color``, ``bbpe export --format transformers``
and ``bbpe inspect --plot``.  The work itself lives in ``bbpe.analysis.token_view``,
``bbpe.formats.transformers_dir`` and ``bbpe.analysis.plot``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bbpe.analysis.plot import vocab_figure
from bbpe.analysis.token_view import COLOR_CHOICES, Piece, count_line, pieces, render, use_color
from bbpe.errors import BBPEError
from bbpe.formats import transformers_dir
from bbpe.output import atomic_write, check_writable
from bbpe.tokenizer import Tokenizer
from bbpe.tokenizer_adapters import open_adapter


def add_color_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="with --tokens: draw pieces on "
        "alternating background colours (auto: only on a terminal and without NO_COLOR)",
    )


def add_compare_text_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bbpe compare-text VOCAB... (--text TEXT | -f FILE | stdin)``."""
    p = commands.add_parser(
        "compare-text",
        help="token counts of one text under several tokenizers",
        description=(
            "Encode one text with each tokenizer (reference names, vocabulary files, transformers directories, "
            "SentencePiece models) and print one line per tokenizer: tokens, UTF-8 bytes/token, chars/token. "
            "No BOS/EOS; special-token text counts as text."
        ),
    )
    p.add_argument("vocabs", nargs="+", metavar="VOCAB")
    source = p.add_mutually_exclusive_group()
    source.add_argument("-t", "--text", help="the text (default: read --file or stdin)")
    source.add_argument("-f", "--file", help="read the text from this file")
    p.add_argument("--tokens", action="store_true", help="also show each tokenizer's pieces")
    add_color_option(p)
    p.set_defaults(run=run_compare_text)


def run_compare_text(args: argparse.Namespace) -> int:

    text = read_text(args.text, args.file)
    encoders = [open_adapter(spec) for spec in args.vocabs]
    color = use_color(args.color, sys.stdout)
    width = max(len(encoder.name) for encoder in encoders)
    for encoder in encoders:
        found = pieces(encoder, text)
        print(count_line(encoder.name, text, found, width=width))
        if args.tokens:
            print(render(found, color=color))
    return 0


def print_tokens(tokenizer: Tokenizer, ids: list[int], when: str) -> None:
    """``bbpe encode --tokens``: the pieces, coloured when ``when`` allows it."""
    found = [Piece(token_id, tokenizer.token_bytes(token_id)) for token_id in ids]
    print(render(found, color=use_color(when, sys.stdout)))


def read_text(text: str | None, file: str | None) -> str:
    """The argument, the file's content or stdin."""
    if text is not None:
        return text
    if file:
        try:
            return Path(file).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BBPEError(f"{file}: no such file") from None
        except UnicodeDecodeError as exc:
            raise BBPEError(f"{file}: invalid UTF-8 at byte {exc.start}") from None
    return sys.stdin.read()


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Special-token roles for ``--format transformers``."""
    group = parser.add_argument_group("--format transformers (a directory for AutoTokenizer.from_pretrained)")
    for role in transformers_dir.ROLES:
        names = ", ".join(transformers_dir.DEFAULT_NAMES[role])
        extra = "; else the eos token" if role == "pad" else ""
        group.add_argument(
            f"--{role}",
            default=transformers_dir.AUTO,
            metavar="TOKEN",
            help=(
                f"{role} token (added as a special token if the vocabulary lacks it; 'none': no {role} token; "
                f"default: the first of {names} the vocabulary has{extra})"
            ),
        )
    group.add_argument(
        "--add-special",
        action="append",
        default=[],
        metavar="TOKEN",
        help="an additional special token such as <|im_start|> (repeatable; added if the vocabulary lacks it)",
    )


def run_export_transformers(args: argparse.Namespace, tokenizer: Tokenizer) -> int:
    roles = {role: None if getattr(args, role) == "none" else getattr(args, role) for role in transformers_dir.ROLES}
    written = transformers_dir.write(tokenizer, args.output, additional=args.add_special, **roles)
    shown = ", ".join(f"{role}={written[f'{role}_token']}" for role in transformers_dir.ROLES)
    extra = len(written["additional_special_tokens"])
    print(
        f"wrote {args.output}/ (transformers: {', '.join(transformers_dir.FILES)}; {shown}; "
        f"{extra} additional special tokens)"
    )
    return 0


def write_vocab_plot(tokenizer: Tokenizer, name: str, output: str) -> None:
    """``bbpe inspect --plot out.png``."""
    check_writable(output)
    regular = [token for token, _ in sorted(tokenizer.ranks.items(), key=lambda item: item[1])]
    atomic_write(output, vocab_figure(regular, title=f"{name}: {len(regular):,} regular tokens"))
    print(f"wrote {output}")
