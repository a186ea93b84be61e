"""``bbpe tokenize``: a corpus to token files for model training (``bbpe.token_files``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bbpe.cli.options import add_vocab_argument, engine_for_input, load_vocab, parse_count, parse_workers
from bbpe.corpus.reading import OPENERS
from bbpe.errors import BBPEError
from bbpe.formats.transformers_dir import DEFAULT_NAMES
from bbpe.output import check_not_input
from bbpe.progress import ProgressEvent, StderrProgress


def add_tokenize_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "tokenize",
        help="a corpus -> token files for model training (OUT.bin, OUT.idx.npy, OUT.json)",
        description="Encode every document of a corpus, an end-of-text id after each, into one flat binary file "
        "of ids (OUT.bin: uint16 or uint32, little-endian), the end offset of each document in tokens "
        "(OUT.idx.npy, uint64) and a manifest (OUT.json). Read it back with numpy.memmap.",
    )
    add_vocab_argument(p)
    p.add_argument("inputs", nargs="+", help="files, directories (sorted), *.jsonl, .gz/.xz/.bz2, *.parquet, or -")
    p.add_argument("-o", "--output", required=True, help="OUT.bin (OUT.idx.npy and OUT.json are written beside it)")
    eot = p.add_mutually_exclusive_group()
    eot.add_argument(
        "--eot",
        metavar="TEXT",
        help="special token after each document (default: the vocabulary's end-of-text token, e.g. <|endoftext|>)",
    )
    eot.add_argument("--no-eot", action="store_true", help="no token between documents")
    p.add_argument(
        "--dtype",
        choices=("auto", "uint16", "uint32"),
        default="auto",
        help="id type (auto: uint16 when every id fits)",
    )
    p.add_argument(
        "--allow-special",
        action="store_true",
        help="special-token text in documents becomes special ids (default: ordinary text)",
    )
    p.add_argument("--jsonl-field", default="text", help="field holding the text in *.jsonl inputs")
    p.add_argument("--parquet-column", metavar="C", help="read *.parquet inputs; each row's column C is a document")
    p.add_argument("--max-bytes", type=parse_count, help="read at most this many bytes of text (in input order)")
    p.add_argument("--workers", type=parse_workers, help="encoding processes (default: number of cores)")
    p.add_argument("--strict-utf8", action="store_true", help="fail on invalid UTF-8 instead of replacing it")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=_cmd_tokenize)


def _cmd_tokenize(args: argparse.Namespace) -> int:
    from bbpe.token_files import output_paths, tokenize_corpus

    for output in output_paths(args.output)[1:]:  # OUT.bin itself is checked with every output option
        check_not_input(output, args.inputs + [args.vocab])
    total = _total_bytes(args.inputs) if args.parquet_column is None else None
    tokenizer = engine_for_input(load_vocab(args), total)
    eot = None if args.no_eot else args.eot or _default_eot(tokenizer.special_tokens)
    progress = None if args.quiet else StderrProgress()
    started = time.monotonic()

    def report(read: int, tokens: int) -> None:
        if progress:
            progress(ProgressEvent("tokenize", read, total, time.monotonic() - started, tokens=tokens))

    try:
        manifest = tokenize_corpus(
            tokenizer,
            args.inputs,
            args.output,
            eot=eot,
            dtype=args.dtype,
            workers=args.workers,
            jsonl_field=args.jsonl_field,
            parquet_column=args.parquet_column,
            max_bytes=args.max_bytes,
            errors="strict" if args.strict_utf8 else "replace",
            allow_special=args.allow_special,
            on_progress=report,
        )
    finally:
        if progress:
            progress.close()
    seconds = time.monotonic() - started
    mb = manifest["corpus"]["bytes"] / 1e6
    paths = ", ".join(str(p) for p in output_paths(args.output))
    print(
        f"tokenized {manifest['documents']:,} documents, {mb:,.1f} MB, into {manifest['tokens']:,} {manifest['dtype']} "
        f"ids in {seconds:.1f} s ({mb / max(seconds, 1e-9):,.1f} MB/s); wrote {paths}",
        file=sys.stderr,
    )
    return 0


def _default_eot(special_tokens: dict[str, int]) -> str:
    name = next((name for name in DEFAULT_NAMES["eos"] if name in special_tokens), None)
    if name is None:
        raise BBPEError(
            "the vocabulary has no end-of-text token ("
            + ", ".join(DEFAULT_NAMES["eos"])
            + "): name a special token with --eot TEXT, or pass --no-eot"
        )
    return name


def _total_bytes(inputs: list[str]) -> int | None:
    """The bytes to read when every input is an uncompressed local file or directory (for the ETA), else None."""
    from bbpe.corpus.reading import expand_paths

    try:
        files = expand_paths(inputs)
    except ValueError:
        return None  # the run itself reports the problem
    if any(str(path) == "-" or Path(path).suffix in OPENERS for path in files):
        return None
    return sum(Path(path).stat().st_size for path in files)
