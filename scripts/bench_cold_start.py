"""Cold start: how long a user's first ``bbpe`` command takes, and which compiled kernel costs what.

Each command runs as a whole process, first cold (empty numba cache, empty user cache, no
``__pycache__``: ``NUMBA_CACHE_DIR``, ``XDG_CACHE_HOME`` and ``PYTHONPYCACHEPREFIX`` point at new
empty folders), then warm (the same folders again).  The child process records every numba
compilation through numba's event API (``numba.core.event``, kind ``numba:compile``): function,
argument types and seconds, nested compilations included, so the table says where the first run's
time goes.

    python scripts/bench_cold_start.py                       # train 2 MB at 2K vocab, encode 2 MB
    python scripts/bench_cold_start.py --mb 2 --out /tmp/r   # writes OUT/bench_cold_start.md and .json

The text is a 2 MB sample of the training corpus (``../shared/corpora/train`` when present, else
this venv's Python sources).  The encode command uses the vocabulary trained by the train command
(a user's first encode after a first train), so no reference file is needed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from sample_corpus import sample  # noqa: E402

from bbpe.output import atomic_write  # noqa: E402

# Run in the child: record numba compilations, then run the bbpe command line.
_CHILD = r"""
import json, sys, time
log_path, argv = sys.argv[1], sys.argv[2:]
records, stack = [], []
try:
    from numba.core import event

    class _Log(event.Listener):
        def on_start(self, ev):
            stack.append([time.perf_counter(), 0.0])
        def on_end(self, ev):
            began, nested = stack.pop()
            spent = time.perf_counter() - began
            if stack:
                stack[-1][1] += spent
            dispatcher = ev.data["dispatcher"]
            func = getattr(dispatcher, "py_func", None)
            name = f"{func.__module__}.{func.__qualname__}" if func else str(dispatcher)
            records.append({"function": name, "args": str(ev.data["args"])[:300],
                            "seconds": spent, "own_seconds": spent - nested})

    event.register("numba:compile", _Log())
except ImportError:
    pass
from bbpe.cli import main
code = main(argv)
with open(log_path, "w") as out:
    json.dump(records, out)
sys.exit(code)
"""


def run(argv: list[str], env: dict[str, str], log: Path) -> tuple[float, int, list[dict[str, object]]]:
    """Wall time, exit code and compile records of one whole ``bbpe`` process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, str(log), *argv], env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    records = json.loads(log.read_text()) if log.exists() else []
    return wall, done.returncode, records


def top_level(records: list[dict[str, object]]) -> list[dict[str, object]]:
    """Compilations of bbpe's own kernels (nested numba internals are summed into their caller's time)."""
    return [r for r in records if str(r["function"]).startswith("bbpe.")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=2.0, help="size of the text sample in MB")
    parser.add_argument("--vocab", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="cold runs per command (each with new empty caches)")
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    parser.add_argument("--note", default="", help="a line for the report (machine state)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bbpe-cold-"))
    shared = REPO.parent / "shared" / "corpora" / "train"
    source = shared if shared.is_dir() else Path(os.__file__).parent
    text = work / "sample.txt"
    text.write_text(sample([str(source)], int(args.mb * 1e6)), encoding="utf-8")
    vocab = work / "v.json"
    commands = {
        "train": ["train", str(text), "--vocab", str(args.vocab), "-o", str(vocab), "--quiet"],
        "encode": ["encode", str(vocab), "-f", str(text)],
    }
    results: dict[str, dict[str, object]] = {}
    for name, argv in commands.items():
        cold, warm, warmup, compiled, kernels = [], [], [], [], []
        for repeat in range(args.repeats):
            caches = work / f"caches-{name}-{repeat}"
            env = dict(os.environ)
            env.update(
                NUMBA_CACHE_DIR=str(caches / "numba"),
                XDG_CACHE_HOME=str(caches / "user"),
                PYTHONPYCACHEPREFIX=str(caches / "pycache"),
            )
            wall, code, records = run(argv, env, work / f"{name}-{repeat}-cold.json")
            if code:
                raise SystemExit(f"bbpe {' '.join(argv)} failed with exit code {code}")
            cold.append(wall)
            cold_kernels = top_level(records)
            wall, code, _ = run(argv, env, work / f"{name}-{repeat}-warm.json")
            warm.append(wall)
            wall, code, records = run(["warmup", "--quiet"], env, work / f"{name}-{repeat}-warmup.json")
            warmup.append(wall)
            kernels = (cold_kernels or top_level(records)) if repeat == 0 else kernels
            wall, code, _ = run(argv, env, work / f"{name}-{repeat}-compiled.json")
            compiled.append(wall)
        results[name] = {
            "argv": argv,
            "cold_s": cold,
            "warm_s": warm,
            "warmup_s": warmup,
            "compiled_s": compiled,
            "cold_median_s": statistics.median(cold),
            "warm_median_s": statistics.median(warm),
            "warmup_median_s": statistics.median(warmup),
            "compiled_median_s": statistics.median(compiled),
            "kernels": kernels,
            "kernels_compiled_by": "the cold run" if kernels and cold_kernels else "bbpe warmup",
        }
    write_report(args.out, results, args)
    return 0


def write_report(out: Path, results: dict[str, dict[str, object]], args: argparse.Namespace) -> None:
    lines = [
        "# Cold start",
        "",
        f"`python scripts/bench_cold_start.py --mb {args.mb} --vocab {args.vocab} --repeats {args.repeats}`; "
        "whole `bbpe` processes; cold = empty numba cache, user cache and `__pycache__`; warm = the same caches "
        "after the cold run; then `bbpe warmup` (compiles every kernel family) and the command again. " + args.note,
        "",
        "| command | cold median s | cold runs s | warm median s | `bbpe warmup` s | after warmup s |",
        "|---|---|---|---|---|---|",
    ]
    for r in results.values():
        runs = ", ".join(f"{x:.1f}" for x in r["cold_s"])  # type: ignore[attr-defined]
        lines.append(
            f"| `bbpe {' '.join(r['argv'][:1])}` | {r['cold_median_s']:.1f} | {runs} | {r['warm_median_s']:.2f} "
            f"| {r['warmup_median_s']:.1f} | {r['compiled_median_s']:.2f} |"
        )  # type: ignore[index]
    for name, r in results.items():
        lines += ["", f"## Kernels compiled for `bbpe {name}` (by {r['kernels_compiled_by']}, first repeat)", ""]
        lines += ["| kernel | argument types | s (with nested) | own s |", "|---|---|---|---|"]
        for k in r["kernels"]:  # type: ignore[attr-defined]
            lines.append(
                f"| `{k['function'].removeprefix('bbpe.')}` | `{k['args'][:90]}` | {k['seconds']:.2f} | {k['own_seconds']:.2f} |"
            )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "bench_cold_start.md", "\n".join(lines) + "\n")
    atomic_write(out / "bench_cold_start.json", json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
