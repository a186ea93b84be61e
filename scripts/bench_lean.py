"""Memory and speed of the lean merge state, and what --min-count pruning costs (issue 27).

Three parts, each comparing whole processes:

* ``speed``: ``bbpe train`` of a baseline checkout (``--baseline``, e.g. main's venv) and this one on the same
  mixed samples of the corpus, alternating, ``--repeats`` times: wall, CPU, peak RSS (process tree) and whether
  the two vocabulary files are byte-identical;
* ``loop``: the merge loop alone on counted words, in a fresh process per checkout: its peak RSS above the
  process before the words were loaded, per unique pre-token;
* ``prune``: the corpus counted once (``bbpe count``), then ``bbpe train --from-counts --min-count N``: peak
  RSS, wall, held-out bytes per token (on text the tokenizer did not train on: ``--heldout``, by default
  the NTREX-128 news sentences, which are not in the training corpus) and how many tokens differ from the
  vocabulary trained without pruning.

Timings on a shared machine are noisy (the load average at the start is recorded); peak RSS is not.

    python scripts/bench_lean.py --baseline /work/main/.venv/bin/python --corpus ../shared/corpora/train
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_train import measure
from sample_corpus import sample

from bbpe.output import atomic_write

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOOP_PROGRAM = """
import gc, json, sys
import numpy as np
from bbpe.training.loops import compiled
from bbpe.training.loops.flat_words import FlatWords
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
prefix, vocab = sys.argv[1], int(sys.argv[2])
compiled.learn_merges([(b"ab", 2)], [bytes([i]) for i in range(256)], n_new_tokens=1)  # compile first
gc.collect()
base = rss("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the high-water mark
words = FlatWords(np.load(prefix + ".ids.npy"), np.load(prefix + ".starts.npy"), np.load(prefix + ".counts.npy"))
unique = len(words)
try:
    from bbpe.training.loops.flat_words import WordTable
    words = WordTable(words)  # handed over: the loop frees the byte ids once it has its own store
except ImportError:  # before: the loop copies the byte ids into its own int32 store
    pass
vocab_bytes = [bytes([i]) for i in range(256)]
merges, _ = compiled.learn_merges(words, vocab_bytes, n_new_tokens=vocab - 256, min_frequency=2)
print(json.dumps({"unique": unique, "merges": len(merges), "loop_peak": rss("VmHWM:") - base}))
"""


def load() -> float:
    return os.getloadavg()[0]


def bbpe_of(python: str) -> str:
    return str(Path(python).with_name("bbpe"))


def sample_file(corpus: str, size: int, work: Path) -> Path:
    path = work / f"sample_{size}.txt"
    if not path.exists():
        atomic_write(path, sample([corpus], size))
    return path


def train_argv(python: str, source: list[str], vocab: int, out: Path) -> list[str]:
    return [bbpe_of(python), "train", *source, "--vocab", str(vocab), "-o", str(out), "-q", "--backend", "numba"]


def speed(args: argparse.Namespace, work: Path) -> list[dict]:
    rows = []
    for size in args.sizes:
        text = sample_file(args.corpus, size, work)
        for vocab in args.vocabs:
            runs: dict[str, list] = {"baseline": [], "lean": []}
            identical = []
            for repeat in range(args.repeats):
                order = [("baseline", args.baseline), ("lean", sys.executable)]
                for name, python in order if repeat % 2 == 0 else order[::-1]:
                    out = work / f"{name}_{size}_{vocab}.json"
                    run, why = measure(train_argv(python, [str(text)], vocab, out), 3600, work / f"{name}.log")
                    if run is None:
                        raise SystemExit(f"{name}: {why}")
                    runs[name].append(run)
                    print(
                        f"{size / 1e6:.0f} MB {vocab} {name}: {run.wall:.1f} s wall {run.cpu:.1f} s CPU "
                        f"{run.rss_tree_mb:.0f} MB (load {load():.1f})",
                        flush=True,
                    )
                identical.append(
                    (work / f"baseline_{size}_{vocab}.json").read_bytes()
                    == (work / f"lean_{size}_{vocab}.json").read_bytes()
                )
            row = {"bytes": size, "vocab": vocab, "identical_vocab_files": all(identical)}
            for name, measured in runs.items():
                for key in ("wall", "cpu", "rss_tree_mb"):
                    row[f"{name}_{key}"] = statistics.median(getattr(run, key) for run in measured)
                    row[f"{name}_{key}_all"] = [round(getattr(run, key), 2) for run in measured]
            rows.append(row)
    return rows


def count_words(python: str, source: list[str], out: Path, work: Path) -> Path:
    """``bbpe count`` into ``out`` (a directory of parts) unless it is there."""
    if not out.exists():
        argv = [bbpe_of(python), "count", *source, "-o", f"{out}/", "-q"]
        subprocess.run(argv, check=True)
    return out


def word_arrays(counts: Path, prefix: Path) -> Path:
    """The counted words as .npy arrays (ids, starts, counts) for the loop program."""
    import numpy as np

    from bbpe.formats.count_arrays import read_arrays

    if not Path(f"{prefix}.ids.npy").exists():
        words = read_arrays(counts)
        np.save(f"{prefix}.ids.npy", words.data)
        np.save(f"{prefix}.starts.npy", words.starts)
        np.save(f"{prefix}.counts.npy", words.counts)
    return prefix


def loop_memory(args: argparse.Namespace, work: Path) -> list[dict]:
    rows = []
    for size in args.loop_sizes:
        source = [str(sample_file(args.corpus, size, work))] if size else [args.corpus]
        counts = count_words(sys.executable, source, work / f"counts_{size or 'all'}", work)
        prefix = word_arrays(counts, work / f"words_{size or 'all'}")
        for name, python in (("baseline", args.baseline), ("lean", sys.executable)):
            started = time.monotonic()
            result = subprocess.run(
                [python, "-c", LOOP_PROGRAM, str(prefix), str(args.loop_vocab)],
                check=True,
                capture_output=True,
                text=True,
                cwd=work,
            )
            row = json.loads(result.stdout.strip().splitlines()[-1]) | {"checkout": name, "bytes": size}
            row["bytes_per_pretoken"] = row["loop_peak"] / row["unique"]
            row["wall"] = time.monotonic() - started
            print(
                f"loop {size / 1e6:.0f} MB {name}: {row['bytes_per_pretoken']:.0f} B per unique pre-token "
                f"({row['unique']:,} words, {row['merges']:,} merges)",
                flush=True,
            )
            rows.append(row)
    return rows


def heldout_text(paths: list[str]) -> str:
    files = sorted(p for path in paths for p in (Path(path).glob("*.txt") if Path(path).is_dir() else [Path(path)]))
    return "".join(p.read_text(encoding="utf-8") for p in files)


def prune(args: argparse.Namespace, work: Path) -> list[dict]:
    import bbpe

    size = args.prune_size
    source = [str(sample_file(args.corpus, size, work))] if size else [args.corpus]
    counts = count_words(sys.executable, source, work / f"counts_{size or 'all'}", work)
    text = heldout_text(args.heldout)
    text_bytes = len(text.encode("utf-8"))
    rows = []
    for vocab in args.vocabs:
        unpruned: list[bytes] | None = None
        for min_count in args.min_counts:
            out = work / f"prune_{vocab}_{min_count}.json"
            argv = [
                bbpe_of(sys.executable),
                "train",
                "--from-counts",
                f"{counts}/",
                "--vocab",
                str(vocab),
                "-o",
                str(out),
                "-q",
                "--backend",
                "numba",
                "--min-count",
                str(min_count),
            ]
            run, why = measure(argv, 3600, work / "prune.log")
            if run is None:
                raise SystemExit(f"--min-count {min_count}: {why}")
            tokenizer = bbpe.Tokenizer.load(out)
            learned = [token for token, rank in sorted(tokenizer.ranks.items(), key=lambda item: item[1])][256:]
            unpruned = learned if unpruned is None else unpruned
            first_difference = next((i for i, (a, b) in enumerate(zip(learned, unpruned)) if a != b), None)
            n_tokens = sum(len(ids) for ids in tokenizer.encode_batch(text.splitlines(keepends=True)))
            training = tokenizer.metadata["training"]
            row = {
                "vocab": vocab,
                "min_count": min_count,
                "unique_pretokens_kept": training["unique_pretokens"],
                "wall": run.wall,
                "cpu": run.cpu,
                "rss_tree_mb": run.rss_tree_mb,
                "heldout_bytes_per_token": text_bytes / n_tokens,
                "tokens_not_in_unpruned": len(set(learned) - set(unpruned)),
                "first_differing_merge": first_difference,
                "learned": len(learned),
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def markdown(report: dict) -> str:
    lines = [
        "# The lean merge state and --min-count pruning (scripts/bench_lean.py)",
        "",
        f"Command: `{report['command']}`; load average at the start {report['load_at_start']:.1f} on "
        f"{os.cpu_count()} cores (a shared, busy machine: wall times are noisy, CPU times less so, peak RSS is not).",
        "",
    ]
    if report.get("speed"):
        lines += [
            "## Speed: baseline vs lean, whole `bbpe train` processes (medians)",
            "",
            "| sample | vocab | wall base / lean (s) | CPU base / lean (s) | CPU ratio lean/base | peak RSS tree base / lean (MB) | identical vocab files |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in report["speed"]:
            lines.append(
                f"| {r['bytes'] / 1e6:.0f} MB | {r['vocab']:,} | {r['baseline_wall']:.1f} / {r['lean_wall']:.1f} | "
                f"{r['baseline_cpu']:.1f} / {r['lean_cpu']:.1f} | {r['lean_cpu'] / r['baseline_cpu']:.2f} | "
                f"{r['baseline_rss_tree_mb']:,.0f} / {r['lean_rss_tree_mb']:,.0f} | {r['identical_vocab_files']} |"
            )
        lines.append("")
    if report.get("loop"):
        lines += [
            "## Merge loop peak RSS per unique pre-token",
            "",
            "| sample | checkout | unique pre-tokens | merges | loop peak (MB) | bytes per unique pre-token |",
            "|---|---|---|---|---|---|",
        ]
        for r in report["loop"]:
            sample_name = f"{r['bytes'] / 1e6:.0f} MB" if r["bytes"] else "whole corpus"
            lines.append(
                f"| {sample_name} | {r['checkout']} | {r['unique']:,} | {r['merges']:,} | "
                f"{r['loop_peak'] / 1e6:,.0f} | {r['bytes_per_pretoken']:.0f} |"
            )
        lines.append("")
    if report.get("prune"):
        lines += [
            f"## --min-count pruning ({report['prune_corpus']}; held-out: {report['heldout']})",
            "",
            "| vocab | --min-count | pre-tokens kept | held-out bytes/token | tokens not in the unpruned vocab | first differing merge | peak RSS tree (MB) | wall (s) |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in report["prune"]:
            lines.append(
                f"| {r['vocab']:,} | {r['min_count']} | {r['unique_pretokens_kept']:,} | "
                f"{r['heldout_bytes_per_token']:.4f} | {r['tokens_not_in_unpruned']:,} | "
                f"{r['first_differing_merge'] if r['first_differing_merge'] is not None else '-'} | "
                f"{r['rss_tree_mb']:,.0f} | {r['wall']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, help="the python of the checkout to compare with (its venv)")
    parser.add_argument("--corpus", default=str(REPO.parent / "shared" / "corpora" / "train"))
    parser.add_argument(
        "--heldout", nargs="+", default=[str(REPO.parent / "shared" / "corpora" / "parallel" / "ntrex128")]
    )
    parser.add_argument("--parts", nargs="+", default=["speed", "loop", "prune"], choices=["speed", "loop", "prune"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000_000])
    parser.add_argument("--vocabs", type=int, nargs="+", default=[32_000, 152_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-sizes", type=int, nargs="+", default=[100_000_000, 0], help="0: the whole corpus")
    parser.add_argument("--loop-vocab", type=int, default=152_000)
    parser.add_argument("--prune-size", type=int, default=0, help="bytes of the corpus to count (0: all of it)")
    parser.add_argument("--min-counts", type=int, nargs="+", default=[1, 2, 5, 20])
    parser.add_argument("--work", default="/tmp/bbpe-bench-lean")
    parser.add_argument("--out", default=str(REPO / "reports"))
    parser.add_argument("--name", default="bench_lean")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "command": "python scripts/bench_lean.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "load_at_start": load(),
        "corpus": args.corpus,
    }
    if "speed" in args.parts:
        report["speed"] = speed(args, work)
    if "loop" in args.parts:
        report["loop"] = loop_memory(args, work)
    if "prune" in args.parts:
        report |= {
            "prune_corpus": f"{args.prune_size / 1e6:.0f} MB of the corpus" if args.prune_size else "the whole corpus",
            "heldout": ", ".join(args.heldout),
        }
        report["prune"] = prune(args, work)
    out = Path(args.out)
    atomic_write(out / f"{args.name}.json", json.dumps(report, indent=1) + "\n")
    atomic_write(out / f"{args.name}.md", markdown(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
