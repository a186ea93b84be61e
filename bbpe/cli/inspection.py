"""``bbpe inspect`` (a summary of a vocabulary, or ``--compare`` two) and ``bbpe export`` (other formats)."""

from __future__ import annotations

import argparse

from bbpe.analysis.unicode_scripts import count_scripts
from bbpe.cli.options import add_vocab_argument, load_vocab, parse_count, show_token
from bbpe.cli.view import add_export_options, run_export_transformers, write_vocab_plot
from bbpe.cli.vocab import run_compare
from bbpe.errors import BBPEError
from bbpe.formats import hf, tiktoken_file
from bbpe.output import check_writable
from bbpe.pretokenize.patterns import preset_name


def add_inspect_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "inspect",
        help="summarize a vocabulary",
        description="Size, pattern, specials, longest tokens, tokens by script and a sample.",
    )
    add_vocab_argument(p)
    p.add_argument("--top", type=parse_count, default=10, help="how many longest/sample tokens to show")
    p.add_argument("other", nargs="?", metavar="B", help="with --compare: the vocabulary to compare with")
    p.add_argument(
        "--compare",
        action="store_true",
        help="compare VOCAB (A) with B: shared tokens, tokens "
        "only in each, rank order of the shared ones, tokens by script",
    )
    p.add_argument("--plot", metavar="PNG", help="also write the tokens-by-script and length histogram figure")
    p.set_defaults(run=_cmd_inspect)

    p = commands.add_parser(
        "export",
        help="write a .tiktoken file, a tokenizer.json or a transformers directory",
        description="Export to tiktoken ranks (.tiktoken), Hugging Face tokenizer.json, or a "
        "directory that transformers.AutoTokenizer.from_pretrained loads (same ids).",
    )
    add_vocab_argument(p)
    p.add_argument("--format", choices=("tiktoken", "hf", "transformers"), required=True)
    p.add_argument("-o", "--output", required=True, help="output file (a directory for --format transformers)")
    add_export_options(p)
    p.set_defaults(run=_cmd_export)


def _cmd_inspect(args: argparse.Namespace) -> int:
    if args.compare or args.other is not None:
        if args.plot:
            raise BBPEError("--plot draws one vocabulary; it does not combine with --compare")
        return run_compare(args)
    if args.plot:
        check_writable(args.plot)
    tokenizer = load_vocab(args)
    regular = sorted(tokenizer.ranks.items(), key=lambda item: item[1])
    tokens = [token for token, _ in regular]
    print(f"vocabulary    {args.vocab}")
    print(
        f"tokens        {tokenizer.vocab_size:,} ({len(tokens):,} regular, {tokenizer.n_merges:,} multi-byte, "
        f"{len(tokenizer.special_tokens)} special)"
    )
    print(f"pattern       {preset_name(tokenizer.pattern) or 'custom'}: {tokenizer.pattern}")
    print(f"normalization {tokenizer.normalization}")
    specials = ", ".join(f"{text}={rank}" for text, rank in tokenizer.special_tokens.items())
    print(f"specials      {specials or '(none)'}")
    training = tokenizer.metadata.get("training")
    if training:
        print(
            f"training      stop: {training.get('stop_reason')}, backend: {training.get('backend')}, "
            f"split_digits: {training.get('split_digits')}"
        )
    print("by script     " + ", ".join(f"{name} {count:,}" for name, count in count_scripts(tokens).most_common()))
    longest = sorted(tokens, key=lambda token: (-len(token), token))[: args.top]
    print("longest       " + " ".join(show_token(token) for token in longest))
    step = max(1, len(tokens) // max(1, args.top))
    print("sample        " + " ".join(f"{rank}:{show_token(tokens[rank])}" for rank in range(0, len(tokens), step)))
    if args.plot:
        write_vocab_plot(tokenizer, args.vocab, args.plot)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    check_writable(args.output)
    tokenizer = load_vocab(args)
    if args.format == "transformers":
        return run_export_transformers(args, tokenizer)
    writer = tiktoken_file.write if args.format == "tiktoken" else hf.write
    writer(tokenizer, args.output)
    print(f"wrote {args.output} ({args.format}, {tokenizer.vocab_size:,} tokens)")
    return 0
