"""Held-out bytes/token of --unit document vs --unit line on whole Python source files (issue 11).

Corpus: the .py files of the running interpreter's site-packages, sorted by path; every fifth file
(until 2 MB) is held out, the others (until 8 MB) are the training set.  Both vocabularies are
trained with the same settings (cl100k pattern, --vocab 32k); held-out files are encoded whole.
Writes reports/unit_quality.md and .json.

    python scripts/bench_unit_quality.py [--vocab 32000] [--train-mb 8] [--heldout-mb 2]
"""

from __future__ import annotations

import argparse
import json
import site
import time
from pathlib import Path

import bbpe

REPORTS = Path(__file__).resolve().parents[1] / "reports"


def python_files(train_bytes: int, heldout_bytes: int) -> tuple[list[Path], list[Path]]:
    files = sorted(p for root in site.getsitepackages() for p in Path(root).rglob("*.py") if p.is_file())
    train: list[Path] = []
    heldout: list[Path] = []
    sizes = [0, 0]
    for index, path in enumerate(files):
        size = path.stat().st_size
        if size == 0 or size > 1 << 20:
            continue
        held = index % 5 == 0
        if held and sizes[1] + size <= heldout_bytes:
            heldout.append(path)
            sizes[1] += size
        elif not held and sizes[0] + size <= train_bytes:
            train.append(path)
            sizes[0] += size
    return train, heldout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=int, default=32_000)
    parser.add_argument("--train-mb", type=float, default=8)
    parser.add_argument("--heldout-mb", type=float, default=2)
    args = parser.parse_args()
    train, heldout = python_files(int(args.train_mb * 1e6), int(args.heldout_mb * 1e6))
    texts = [p.read_bytes().decode("utf-8", "replace") for p in heldout]
    held_bytes = sum(len(t.encode()) for t in texts)
    rows = {}
    for unit in ("document", "line"):
        started = time.monotonic()
        tok = bbpe.train(train, vocab_size=args.vocab, unit=unit, workers=2)
        tokens = sum(len(tok.encode_ordinary(text)) for text in texts)
        rows[unit] = {
            "bytes_per_token": held_bytes / tokens,
            "tokens": tokens,
            "seconds": round(time.monotonic() - started, 1),
        }
    gain = rows["document"]["bytes_per_token"] / rows["line"]["bytes_per_token"] - 1
    result = {
        "vocab": args.vocab,
        "train_files": len(train),
        "train_bytes": sum(p.stat().st_size for p in train),
        "heldout_files": len(heldout),
        "heldout_bytes": held_bytes,
        "units": rows,
        "document_over_line": gain,
    }
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "unit_quality.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Held-out bytes/token: --unit document vs --unit line (Python source)",
        "",
        f"Training: {len(train)} .py files of site-packages ({result['train_bytes'] / 1e6:.1f} MB), cl100k "
        f"pattern, vocab {args.vocab}; held out: {len(heldout)} other files ({held_bytes / 1e6:.1f} MB), "
        "each encoded whole. Command: `python scripts/bench_unit_quality.py`.",
        "",
        "| unit | held-out bytes/token | tokens | train+encode s |",
        "|---|---|---|---|",
        *(f"| {u} | {r['bytes_per_token']:.4f} | {r['tokens']:,} | {r['seconds']} |" for u, r in rows.items()),
        "",
        f"Documents give {gain * 100:+.2f}% bytes/token over lines.",
        "",
    ]
    (REPORTS / "unit_quality.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
