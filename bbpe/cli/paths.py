"""Which command-line arguments name files, and the check that no output overwrites an input.

Every free-text argument of every command (``tests/test_cli_paths.py`` finds them in the parser:
string values without fixed choices) is declared here as an input path, an output path or not a
path, so a new path option cannot be added without being checked.  ``check_paths`` runs before
any work: an output that is an input, lies inside an input directory, or is a directory that would
write over an input (a file in it with a name the command writes) is one ``bbpe: error:`` line.
Symlinks are followed; device nodes and FIFOs (``/dev/stdout``) are never refused, stdin (``-``),
reference names and URLs are no local files.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from bbpe.formats.transformers_dir import FILES as TRANSFORMERS_FILES
from bbpe.output import check_not_input

INPUTS: dict[str, tuple[str, ...]] = {
    "train": ("inputs", "from_counts", "init", "parity_dev"),
    "encode": ("vocab", "file"),
    "decode": ("vocab",),
    "inspect": ("vocab", "other"),
    "export": ("vocab",),
    "compare-text": ("vocabs", "file"),
    "count": ("inputs",),
    "tokenize": ("vocab", "inputs"),
    "vocab": ("file",),
    "warmup": (),
    "compress-report": ("tokenizer", "corpus"),
}
# Output arguments, each with the names (glob patterns) the command writes inside it when it is a directory.
REPORT_FILES = ("compression.*", "*.png")
OUTPUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "train": {"output": ()},
    "inspect": {"plot": ()},
    "export": {"output": TRANSFORMERS_FILES},
    "count": {"output": ("part-*.parquet", ".part-*.tmp")},
    "tokenize": {"output": ()},
    "compress-report": {"out": REPORT_FILES},
}
NOT_PATHS: dict[str, tuple[str, ...]] = {
    "train": ("pattern", "regex", "special", "jsonl_field", "address"),
    "encode": ("pattern", "regex", "text"),
    "decode": ("pattern", "regex", "ids"),
    "inspect": ("pattern", "regex"),
    "export": ("pattern", "regex", "bos", "eos", "pad", "unk", "add_special"),
    "compare-text": ("text",),
    "count": ("pattern", "regex", "special", "jsonl_field", "address"),
    "tokenize": ("pattern", "regex", "eot", "jsonl_field", "parquet_column"),
    "vocab": (),
    "warmup": (),
    "compress-report": ("baseline", "note", "figure"),
}


def check_paths(command: str, args: argparse.Namespace) -> None:
    """Refuse (ValueError, one line) any output of ``command`` that would overwrite one of its inputs."""
    inputs = [value for dest in INPUTS[command] for value in _values(getattr(args, dest, None))]
    for dest, written in OUTPUTS.get(command, {}).items():
        for output in _values(getattr(args, dest, None)):
            check_not_input(output, inputs, writes_inside=written)


def _values(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
