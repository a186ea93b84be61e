"""Benchmark of the training methods beyond classic BPE (issues 14 and 24): superwords and parity-aware merges.

Trains at each vocab size, on a per-language sample of ``<data>/train`` (``--train-bytes``: every file
gives its first lines, in proportion to its size; file names keep their language code) or on all of it
(``--all``, as the main job does):

* ``plain``: classic BPE (pattern qwen, numba backend when available);
* ``superword@T``: SuperBPE with the transition at T x the vocab (``--transition``, repeatable);
* ``parity@G``: parity-aware BPE, the first G x the merges global (``--global-share``, repeatable; 0 is
  the base variant), with ``--holdout`` (choose on the even dev lines), ``--min-bytes`` and
  ``--patience`` as ``bbpe train`` has them.  The dev set: ``--parity-dev``, else the first half of
  NTREX-128's lines when the data has NTREX-128, else the default data's ``parity-dev/``.

and measures, on text none of them trained or chose merges on:

* every held-out corpus: UDHR (``<data>/parallel/udhr``: not line-aligned, its Gini approximate),
  NTREX-128 (its second half when the first is the dev set; or the whole corpus given by
  ``--measure DIR``, measured only): tokens per language, bytes/token, the Gini of per-language token
  counts over the languages with training text and over all;
* held-out English prose: with NTREX-128 as the dev set, its English held-out half + the last 300 KB
  of the Gutenberg books file (no sample reaches it); otherwise ``scripts/english_prose.py`` (Debian
  ``debian-history`` + ``fortunes``, not in the default mix), or ``--english FILE``;
* parity runs: merges chosen per language, languages left out or stopped, the dev cost (premium over
  English) of every candidate at the start, the switch to parity merges and four points after it on
  up to 400 held-out dev lines, and the vocabulary's tokens by script (``bbpe.analysis.unicode_scripts``);
* training wall time (one run each, on whatever else the machine is doing).

Writes ``reports/<name>.md`` and ``.json`` (``--name``; ``--render JSON`` only rewrites the Markdown).

    python scripts/bench_methods.py --train-bytes 5M --vocab 32000
    BBPE_DATA_DIR=~/.cache/bbpe/data python scripts/bench_methods.py --all --vocab 152000 --skip parity \\
        --transition 0.6 --transition 0.7 --transition 0.8 --transition 0.9 --name bench_superword_default_152k
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# Held-out English prose includes the last 300 KB of this file; samples stop before them.
GUTENBERG, GUTENBERG_TAIL_BYTES = "eng_Latn.gutenberg", 300_000
TRAJECTORY_LINES = 400  # held-out dev lines per language for the dev-cost trajectory
sys.path.insert(0, str(REPO / "scripts"))

import bench_methods_render  # noqa: E402
import english_prose  # noqa: E402
from sample_corpus import uncompressed_size  # noqa: E402

import bbpe  # noqa: E402
from bbpe.analysis.unicode_scripts import count_scripts  # noqa: E402
from bbpe.cli.options import parse_count  # noqa: E402
from bbpe.cli.report import built_data_dir, data_dir  # noqa: E402
from bbpe.corpus.reading import expand_paths, iter_lines  # noqa: E402
from bbpe.output import atomic_write  # noqa: E402
from bbpe.parallel_corpora import ENGLISH, Corpus, join_lines, load_corpus  # noqa: E402
from bbpe.report.fairness import gini  # noqa: E402
from bbpe.report.metrics import truncate  # noqa: E402
from bbpe.report.provenance import MIN_CHARS, find_lines  # noqa: E402
from bbpe.training.methods.parity import language_of  # noqa: E402
from bbpe.training.methods.parity_dev import dev_corpora  # noqa: E402


def per_language_sample(train_dir: Path, total: int, out: Path, languages: set[str] | None = None) -> Path:
    """Every training file's first lines (of ``languages`` only, if given), in proportion to its size,
    as ``out/<same name>.txt``."""
    files = [path for path in expand_paths([train_dir]) if languages is None or language_of(path) in languages]
    if not files:
        raise ValueError(f"no training files of {', '.join(sorted(languages or ()))} in {train_dir}")
    sizes = {path: uncompressed_size(path) for path in files}
    scale = total / sum(sizes.values())
    out.mkdir(parents=True, exist_ok=True)
    for path, size in sizes.items():
        budget, lines = int(size * scale), []
        if path.name.startswith(GUTENBERG):  # never reach the held-out tail (whole lines: stops before it)
            budget = min(budget, size - GUTENBERG_TAIL_BYTES)
        for line in iter_lines([path]):
            budget -= len(line.encode("utf-8"))
            if budget < 0:
                break
            lines.append(line)
        name = path.name.removesuffix(".gz")
        (out / (name if name.endswith(".txt") else name + ".txt")).write_text("".join(lines), encoding="utf-8")
    return out


def split_parallel(corpus_dir: Path, out: Path) -> tuple[Path, Path]:
    """The first half of every language's lines (dev) and the second half (held out), in the report layout."""
    dev, held = out / "dev", out / "held"
    dev.mkdir(parents=True, exist_ok=True)
    held.mkdir(parents=True, exist_ok=True)
    for file in sorted(corpus_dir.glob("*.txt")):
        lines = [line for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        half = len(lines) // 2
        (dev / file.name).write_text("\n".join(lines[:half]) + "\n", encoding="utf-8")
        (held / file.name).write_text("\n".join(lines[half:]) + "\n", encoding="utf-8")
    return dev, held


def gutenberg_tail(train_dir: Path) -> str:
    """The whole lines in the last ``GUTENBERG_TAIL_BYTES`` of the English books file (never sampled)."""
    path = next(iter(sorted(train_dir.glob(GUTENBERG + "*"))), None)
    if path is None:
        return ""
    with gzip.open(path, "rb") as handle:
        tail = handle.read()[-GUTENBERG_TAIL_BYTES:]
    return join_lines(tail.split(b"\n", 1)[-1].decode("utf-8"))[0]


def measure(tokenizer: bbpe.Tokenizer, held: dict[str, Corpus], english: str, trained: set[str]) -> dict[str, Any]:
    """Tokens per language of every held-out corpus, bytes/token, Gini (trained languages, all), English prose."""
    result: dict[str, Any] = {"english_prose_tokens": len(tokenizer.encode_ordinary(english))}
    for name, corpus in held.items():
        tokens = {lang.code: len(tokenizer.encode_ordinary(lang.text)) for lang in corpus.languages}
        result[name] = {
            "tokens": tokens,
            "bytes_per_token": round(sum(lang.n_bytes for lang in corpus.languages) / sum(tokens.values()), 4),
            "gini_trained": round(gini([n for code, n in tokens.items() if code in trained]), 4),
            "gini_all": round(gini(list(tokens.values())), 4),
        }
    return result


def dev_trajectory(tokenizer: bbpe.Tokenizer, dev: Path, global_merges: int) -> dict[str, Any]:
    """Every dev language's premium over English (its tokens / the English of the same lines; one corpus:
    over the corpus's English) on up to ``TRAJECTORY_LINES`` held-out (odd) lines, at the start, at the
    switch to parity merges and at four points after it."""
    pairs: dict[str, tuple[str, str]] = {}
    for folder in dev_corpora(dev):
        corpus = load_corpus(folder)
        english = corpus.language(ENGLISH)
        for lang in corpus.languages:
            if lang.code != ENGLISH and english is not None and lang.code not in pairs:
                pairs[lang.code] = (_odd_lines(lang.files), _odd_lines(english.files))
    full = len(tokenizer.ranks)
    points = sorted(
        {256, 256 + global_merges, *(256 + global_merges + k * (full - 256 - global_merges) // 4 for k in (1, 2, 3, 4))}
    )
    premiums: dict[str, list[float]] = {code: [] for code in pairs}
    for size in points:
        cut = truncate(tokenizer, size) if size < full else tokenizer
        for code, (text, english) in pairs.items():
            premiums[code].append(round(len(cut.encode_ordinary(text)) / max(1, len(cut.encode_ordinary(english))), 3))
    return {"merges": [size - 256 for size in points], "premiums": premiums}


def _odd_lines(files: tuple[Path, ...]) -> str:
    lines = [line.strip() for file in files for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
    return " ".join(lines[1::2][:TRAJECTORY_LINES])


def timed_train(sample: Path, **settings: Any) -> tuple[bbpe.Tokenizer, float]:
    start = time.monotonic()
    tokenizer = bbpe.train([sample], pattern="qwen", **settings)
    return tokenizer, time.monotonic() - start


def methods(args: argparse.Namespace, vocab: int, dev: Path | None) -> dict[str, dict[str, Any]]:
    """Method name -> ``bbpe.train`` settings for one vocab size."""
    runs: dict[str, dict[str, Any]] = {"plain": {}}
    for share in [] if "superword" in args.skip else args.transition:
        runs[f"superword@{share:g}"] = {"superwords_after": int(vocab * share), "max_superword_words": args.max_words}
    if "parity" in args.skip or dev is None:
        return runs
    for share in args.global_share:
        settings: dict[str, Any] = {"parity_dev": dev, "parity_global_merges": int((vocab - 256) * share)}
        settings |= {"parity_holdout": True} if args.holdout else {}
        settings |= {"parity_min_bytes": args.min_bytes} if args.min_bytes else {}
        settings |= {"parity_patience": args.patience} if args.patience else {}
        runs[f"parity@{share:g}"] = settings
    return runs


def run_one(
    name: str, settings: dict[str, Any], train: Path, vocab: int, measured: Callable[[bbpe.Tokenizer], dict[str, Any]]
) -> dict[str, Any]:
    print(f"vocab {vocab}: training {name} ...", file=sys.stderr, flush=True)
    tokenizer, seconds = timed_train(train, vocab_size=vocab, **settings)
    info = tokenizer.metadata["training"]
    run = {
        "seconds": round(seconds, 1),
        "vocab_size": tokenizer.vocab_size,
        "stop_reason": info["stop_reason"],
        "vocab_scripts": dict(count_scripts(tokenizer.token_bytes(i) for i in range(256, len(tokenizer.ranks)))),
        **measured(tokenizer),
    }
    if "parity" in info:
        parity = info["parity"]
        keep = ("merges_per_language", "excluded", "stopped", "dev_tokens", "global_merges", "held_out")
        run["parity"] = {key: parity[key] for key in keep}
        run["trajectory"] = dev_trajectory(tokenizer, Path(parity["dev"]), parity["global_merges"])
    print(f"  {name}: {seconds:.1f} s, {run['english_prose_tokens']:,} English prose tokens", file=sys.stderr)
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-bytes", type=parse_count, default=5_000_000, help="sample size (5M)")
    parser.add_argument("--all", action="store_true", help="train on all of <data>/train (no sample)")
    parser.add_argument("--vocab", type=parse_count, action="append", help="vocab sizes (default 32000)")
    parser.add_argument("--transition", type=float, action="append", help="superword transition share (0.9)")
    parser.add_argument("--global-share", type=float, action="append", help="parity: share of global merges (0.5)")
    parser.add_argument("--parity-dev", type=Path, help="parity dev set (see above)")
    parser.add_argument("--holdout", action="store_true", help="parity: choose on the even dev lines only")
    parser.add_argument("--min-bytes", type=parse_count, help="parity: languages with less training text left out")
    parser.add_argument("--patience", type=parse_count, help="parity: the stop rule (see bbpe train --help)")
    parser.add_argument("--max-words", type=parse_count, help="superword word limit (python merge loop)")
    parser.add_argument("--languages", help="train on the files of these languages only (comma-separated)")
    parser.add_argument("--measure", type=Path, action="append", default=[], help="another held-out corpus")
    parser.add_argument("--english", type=Path, help="held-out English prose file (see above)")
    parser.add_argument("--skip", action="append", default=[], choices=("superword", "parity"))
    parser.add_argument("--out", default=str(REPO / "reports"))
    parser.add_argument(
        "--note",
        default="single runs on a busy shared 2-core machine; times are indicative only",
        help="for the report",
    )
    parser.add_argument("--name", default="bench_methods", help="output file stem (default: bench_methods)")
    parser.add_argument("--render", metavar="JSON", help="only rewrite the Markdown from an earlier JSON result")
    args = parser.parse_args(argv)
    if args.render:
        results = json.loads(Path(args.render).read_text(encoding="utf-8"))
        atomic_write(Path(args.out) / f"{args.name}.md", bench_methods_render.render(results))
        return 0
    data = data_dir()
    if data is None:
        parser.error("no data directory ($BBPE_DATA_DIR, ../shared/corpora or the default data)")
    args.vocab, args.transition = args.vocab or [32_000], args.transition or [0.9]
    args.global_share = args.global_share or [0.5]
    results: dict[str, Any] = {"settings": vars(args) | {"data": str(data)}, "note": args.note, "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        chosen = set(args.languages.split(",")) if args.languages else None
        train = (
            data / "train"
            if args.all
            else per_language_sample(data / "train", args.train_bytes, Path(tmp) / "s", chosen)
        )
        trained = {language_of(path) for path in expand_paths([train])}
        held, dev, lines = held_out_text(args, data, Path(tmp))
        english = " ".join(lines)
        results["settings"] |= {"dev": str(dev), "held_out": {k: str(c.path) for k, c in held.items()}}
        results["english_prose_bytes"] = len(english.encode())
        results["english_prose_lines_in_training"] = english_in_training(lines, data / "train")
        bbpe.train(["warm up the compiled merge loop " * 20], vocab_size=300)  # not timed: numba's first load
        for vocab in args.vocab:
            runs = {
                name: run_one(name, settings, train, vocab, lambda tok: measure(tok, held, english, trained))
                for name, settings in methods(args, vocab, dev if len(trained) > 1 else None).items()
            }
            results["runs"][str(vocab)] = runs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / f"{args.name}.json", json.dumps(results, indent=1, default=str) + "\n")
    atomic_write(out / f"{args.name}.md", bench_methods_render.render(results))
    print(f"wrote {out / args.name}.md and .json", file=sys.stderr)
    return 0


def english_in_training(lines: list[str], train_dir: Path) -> str:
    """How many of the prose's lines (of at least ``MIN_CHARS`` characters) are lines of the training files
    (as ``bbpe.report.provenance`` looks them up)."""
    wanted = {line.strip().encode() for line in lines if len(line.strip()) >= MIN_CHARS}
    found, _missing = find_lines([str(train_dir)], wanted)
    return f"{len(found)} of {len(wanted)}"


def held_out_text(args: argparse.Namespace, data: Path, tmp: Path) -> tuple[dict[str, Corpus], Path | None, list[str]]:
    """The held-out corpora, the parity dev set and the lines of held-out English prose (see the docstring)."""
    held: dict[str, Corpus] = {}
    if (data / "parallel" / "udhr").is_dir():
        held["udhr"] = load_corpus(data / "parallel" / "udhr")
    dev, english = args.parity_dev, None
    ntrex = data / "parallel" / "ntrex128"
    if ntrex.is_dir() and dev is None:
        dev, ntrex_held = split_parallel(ntrex, tmp / "ntrex")
        held["ntrex-held-half"] = load_corpus(ntrex_held)
        english = [*_lines(ntrex_held / f"{ENGLISH}.txt"), gutenberg_tail(data / "train")]
    if dev is None and (data / "parity-dev").is_dir():
        dev = data / "parity-dev"
    for path in args.measure:
        held[path.name] = load_corpus(path)
    if args.english is not None:
        english = _lines(args.english)
    elif english is None:
        prose = english_prose.ensure(english_prose.default_folder(), built_data_dir().parent / "downloads", print)
        english = _lines(prose)
    return held, dev, english


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
