"""What the exactness steps around BPE cost when encoding: the runtime coverage check and normalization.

Encodes about 20 MB of real text (../shared/corpora/train, a slice of every file, so many scripts) with
cl100k_base's ranks on the tiktoken engine, and a tenth of it on the python engine, each way interleaved
``--repeats`` times, and reports medians:

* ``preset``: cl100k's pattern, which matches every character, so the check is skipped;
* ``custom regex, checked``: the same pattern written ``(?:...)``, which is not a preset: the engine
  checks coverage (tiktoken: the ids' bytes against the text's UTF-8 length; python: the pieces' lengths);
* ``custom regex, no check``: the same with the check replaced by nothing;
* ``NFC``: cl100k normalizing to NFC (most of this text already is NFC, which the quick check sees);
* ``tiktoken itself``: tiktoken's own ``encode_ordinary`` on the same ranks, for reference;
* ``the check alone``: the tiktoken engine's check on the text's ids, timed by itself.

    python scripts/bench_encode_checks.py [--mb 20] [--repeats 5] [--out reports/bench_encode_checks.md]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import bbpe
from bbpe.encoding import python_engine, tiktoken_engine
from bbpe.encoding.tiktoken_engine import tiktoken_encoding

TRAIN = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "train"


def corpus(megabytes: float) -> str:
    files = sorted(TRAIN.glob("*.txt.gz"))
    per_file = int(megabytes * 1e6 / max(1, len(files)))
    parts = []
    for path in files:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            parts.append(handle.read(per_file))
    return "".join(parts)


def timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def median_times(cases: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            times[name].append(timed(case))
    return {name: statistics.median(values) for name, values in times.items()}


def without_checks(function: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        saved = tiktoken_engine.check_byte_count, python_engine.check_pieces
        tiktoken_engine.check_byte_count = python_engine.check_pieces = lambda *args: None  # type: ignore[assignment]
        try:
            return function()
        finally:
            tiktoken_engine.check_byte_count, python_engine.check_pieces = saved

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="reports/bench_encode_checks.md")
    args = parser.parse_args()
    text = corpus(args.mb)
    small = text[: len(text) // 10]
    base = bbpe.load("cl100k_base")
    custom = f"(?:{base.pattern})"

    def tokenizer(pattern: str, engine: str, normalization: str = "none") -> bbpe.Tokenizer:
        return bbpe.Tokenizer(base.ranks, pattern=pattern, engine=engine, normalization=normalization)  # type: ignore[arg-type]

    preset, checked, nfc = (
        tokenizer(base.pattern, "tiktoken"),
        tokenizer(custom, "tiktoken"),
        tokenizer(base.pattern, "tiktoken", "NFC"),
    )
    python = tokenizer(custom, "python")
    reference = tiktoken_encoding(base.ranks, pattern=base.pattern)
    for warm in (preset, checked, nfc):
        warm.encode_ordinary("warm up")
    python.encode_ordinary(small)  # the piece cache is filled once, before any timing
    ids = reference.encode_ordinary(text)
    results = median_times(
        {
            "tiktoken itself": lambda: reference.encode_ordinary(text),
            "tiktoken engine, preset": lambda: preset.encode_ordinary(text),
            "tiktoken engine, custom regex, checked": lambda: checked.encode_ordinary(text),
            "tiktoken engine, custom regex, no check": without_checks(lambda: checked.encode_ordinary(text)),
            "tiktoken engine, preset, NFC": lambda: nfc.encode_ordinary(text),
            "the check alone (decode_bytes of the ids, UTF-8 length)": lambda: (
                len(reference.decode_bytes(ids)) == len(text.encode())
            ),
        },
        args.repeats,
    )
    slow = median_times(
        {
            "python engine, custom regex, checked": lambda: python.encode_ordinary(small),
            "python engine, custom regex, no check": without_checks(lambda: python.encode_ordinary(small)),
        },
        max(1, args.repeats // 2),
    )
    size = len(text.encode())
    lines = [
        "# Encoding: cost of the coverage check and of normalization",
        "",
        f"`python scripts/bench_encode_checks.py --mb {args.mb:g} --repeats {args.repeats}`; cl100k_base on "
        f"{size / 1e6:.1f} MB of ../shared/corpora/train (python engine: {len(small.encode()) / 1e6:.1f} MB); medians. "
        "The machine was shared with other jobs: compare rows of one run, not runs.",
        "",
        "| case | seconds | vs tiktoken itself / vs no check |",
        "|---|---|---|",
    ]
    for name, seconds in results.items():
        lines.append(f"| {name} | {seconds:.3f} | {seconds / results['tiktoken itself']:.3f}x |")
    for name, seconds in slow.items():
        lines.append(f"| {name} | {seconds:.3f} | {seconds / slow['python engine, custom regex, no check']:.3f}x |")
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
