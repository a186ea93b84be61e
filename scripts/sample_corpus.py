"""Write a deterministic mixed sample of a training corpus directory.

Every input file contributes the first whole lines of its text, in proportion to its
uncompressed size, so a 10 MB sample of ../shared/corpora/train keeps its language mix.

    python scripts/sample_corpus.py ../shared/corpora/train --bytes 10e6 -o /tmp/mix10.txt
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

from bbpe.corpus.reading import expand_paths, iter_lines
from bbpe.output import atomic_write


def uncompressed_size(path: Path) -> int:
    if path.suffix == ".gz":
        with open(path, "rb") as handle:  # gzip stores the size mod 2**32 in its last 4 bytes
            handle.seek(-4, 2)
            return struct.unpack("<I", handle.read(4))[0]
    return path.stat().st_size


def sample(inputs: list[str], total: int) -> str:
    files = expand_paths(inputs)
    sizes = {path: uncompressed_size(path) for path in files}
    scale = min(1.0, total / sum(sizes.values()))
    parts = []
    for path in files:
        parts.extend(iter_lines([path], max_bytes=int(sizes[path] * scale)) if sizes[path] * scale >= 1 else [])
    return "".join(line if line.endswith("\n") else line + "\n" for line in parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--bytes", type=float, required=True, help="target sample size in bytes")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args(argv)
    text = sample(args.inputs, int(args.bytes))
    atomic_write(args.output, text)
    print(f"wrote {len(text.encode()):,} bytes to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
