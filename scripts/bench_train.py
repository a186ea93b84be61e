"""Benchmark BPE trainers: same corpus, same vocab size, same cl100k pre-tokenization, one run.

Trainers: bbpe (numba and python backends, via the ``bbpe train`` CLI), Hugging Face
``tokenizers`` (BpeTrainer + ByteLevel with a cl100k Split pre-tokenizer), ``rustbpe``,
``bpeasy``, and ``sentencepiece`` (BPE with byte fallback; its own whitespace handling, so
for reference only).  Each training runs in a child process, timed from the outside:
wall time, CPU time (user + sys of the child and its workers), peak RSS of its largest
process (its VmHWM from /proc, polled every 0.1 s) and of its whole process tree (sampled from /proc every 0.1 s: the
main process's resident set plus the private memory of its workers).
Every result is scored by bytes/token on held-out text (a mixed sample disjoint from
all training samples).  Medians over ``--repeats`` runs; ratios of bbpe against each peer.

    python scripts/bench_train.py                     # 32k@10MB, 32k@100MB, 152k@100MB (idle machine!)
    python scripts/bench_train.py --settings 4000@1MB --repeats 1 --out /tmp/bench   # smoke test
    python scripts/bench_train.py --scaling 100MB,325MB,1GB,3GB --max-seconds 900 --max-rss-gb 20   # vs size

Writes OUT/bench_train.md, OUT/bench_train.json (raw runs, versions, machine) and
OUT/bench_train.png.  Peers are the ``bench`` extra: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import bench_train_scaling as scaling
from bench_peers import CHILD_TOOLS, PEERS, evaluate, train_child
from sample_corpus import sample, uncompressed_size

from bbpe.corpus.reading import expand_paths, iter_lines
from bbpe.output import atomic_write

TOOLS = ("bbpe-numba", "bbpe-python", *PEERS)
PACKAGES = ("bbpe", "numba", "tokenizers", "rustbpe", "bpeasy", "sentencepiece", "tiktoken")


@dataclass
class Run:
    wall: float
    cpu: float
    rss_process_mb: float
    rss_tree_mb: float


@dataclass
class Result:
    tool: str
    vocab: int
    corpus_bytes: int
    runs: list[Run] = field(default_factory=list)
    note: str = ""
    bytes_per_token: float | None = None
    vocab_produced: int | None = None

    def median(self, name: str) -> float | None:
        values = [getattr(run, name) for run in self.runs]
        return statistics.median(values) if values else None


# ---------------------------------------------------------------- parent side: runs and measurements


def command(tool: str, train_file: Path, vocab: int, model: Path) -> list[str]:
    if tool.startswith("bbpe-"):
        return [
            sys.executable,
            "-m",
            "bbpe",
            "train",
            str(train_file),
            "--vocab",
            str(vocab),
            "-o",
            str(model),
            "--pattern",
            "cl100k",
            "--backend",
            tool.removeprefix("bbpe-"),
            "-q",
        ]
    return [
        sys.executable,
        __file__,
        "--child",
        tool,
        "--train-file",
        str(train_file),
        "--vocab",
        str(vocab),
        "--model",
        str(model),
    ]


def measure(
    argv: list[str], max_seconds: float, log: Path, *, max_rss_mb: float | None = None
) -> tuple[Run | None, str]:
    """Run one training; (measurements, "") or (None, why it failed or was stopped)."""
    started = time.monotonic()
    with open(log, "wb") as errors:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors, start_new_session=True)
    tree_peak = process_peak = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        tree_peak = max(tree_peak, _tree_memory(child.pid))
        process_peak = max(process_peak, _high_water_mark(child.pid))
        if time.monotonic() - started > max_seconds:
            os.killpg(child.pid, signal.SIGKILL)
            os.wait4(child.pid, 0)
            child.returncode = -9
            return None, f"stopped after --max-seconds {max_seconds:g}"
        if max_rss_mb is not None and max(tree_peak, process_peak) > max_rss_mb * 1024**2:
            os.killpg(child.pid, signal.SIGKILL)
            os.wait4(child.pid, 0)
            return None, f"stopped above --max-rss-gb {max_rss_mb / 1024:g} after {time.monotonic() - started:.0f} s"
        time.sleep(0.1)
    wall = time.monotonic() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no message"]
        return None, f"failed (exit {child.returncode}): {tail[0][:200]}"
    # Not usage.ru_maxrss: Linux carries the forking parent's high-water mark across exec into it.
    rss_process = process_peak / 1024**2
    return Run(wall, usage.ru_utime + usage.ru_stime, rss_process, max(tree_peak, process_peak) / 1024**2), ""


def _high_water_mark(pid: int) -> int:
    """Peak resident bytes of the process's own (post-exec) memory, from /proc/PID/status VmHWM."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _tree_memory(root: int) -> int:
    """Bytes in memory for ``root``'s run right now: its resident set plus the private memory of
    its descendants (forked workers share the parent's pages; those are not counted twice)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as handle:
                    parents[int(entry.name)] = int(handle.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    descendants, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - descendants
        descendants |= frontier
    try:
        with open(f"/proc/{root}/statm") as handle:
            total = int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0
    for pid in descendants:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                total += 1024 * sum(int(line.split()[1]) for line in handle if line.startswith("Private_"))
        except (OSError, IndexError, ValueError):
            continue
    return total


# ---------------------------------------------------------------- data


def heldout_lines(inputs: list[str], skip_bytes: int, total: int) -> list[str]:
    """Lines of every file after its share of the largest training sample, in proportion to its size."""
    files = expand_paths(inputs)
    sizes = {path: uncompressed_size(path) for path in files}
    whole = sum(sizes.values())
    if skip_bytes + total > whole:
        raise SystemExit(
            f"the corpus ({whole / 1e6:.0f} MB) is too small for {skip_bytes / 1e6:.0f} MB of "
            f"training text plus {total / 1e6:.0f} MB held out"
        )
    lines: list[str] = []
    for path in files:
        skip, take = int(sizes[path] * skip_bytes / whole), int(sizes[path] * total / whole)
        seen = taken = 0
        for line in iter_lines([path]):
            size = len(line.encode("utf-8"))
            seen += size
            if seen <= skip:  # the same lines sample() takes for training
                continue
            if taken + size > take:
                break
            lines.append(line)
            taken += size
    return lines


def parse_setting(text: str) -> tuple[int, int]:
    """ "32000@10MB" -> (32000, 10_000_000)."""
    vocab, _, size = text.upper().partition("@")
    scale = {"KB": 10**3, "MB": 10**6, "GB": 10**9}.get(size[-2:], 1)
    return int(vocab), int(float(size[:-2] if scale > 1 else size) * scale)


# ---------------------------------------------------------------- report


def machine() -> dict[str, object]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory / 1024**2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict[str, str]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def ratio_lines(results: list[Result]) -> list[str]:
    by_tool = {r.tool: r for r in results if r.runs}
    lines = []
    for ours in ("bbpe-numba", "bbpe-python"):
        if ours not in by_tool:
            continue
        for peer in PEERS:
            if peer in by_tool:
                mine, theirs = by_tool[ours], by_tool[peer]
                lines.append(
                    f"{ours} vs {peer}: wall {mine.median('wall') / theirs.median('wall'):.2f}x, "
                    f"CPU {mine.median('cpu') / theirs.median('cpu'):.2f}x, "
                    f"peak RSS (largest process) {mine.median('rss_process_mb') / theirs.median('rss_process_mb'):.2f}x, "
                    f"(process tree) {mine.median('rss_tree_mb') / theirs.median('rss_tree_mb'):.2f}x"
                    + (
                        f", bytes/token {mine.bytes_per_token / theirs.bytes_per_token:.4f}x"
                        if mine.bytes_per_token and theirs.bytes_per_token
                        else ""
                    )
                )
    return lines


def target_lines(results: list[Result]) -> list[str]:
    """Issue 11's targets, each checked from this run's figures (or said to be missing from it)."""

    def get(tool: str, vocab: int, size: int) -> Result | None:
        return next((r for r in results if (r.tool, r.vocab, r.corpus_bytes) == (tool, vocab, size) and r.runs), None)

    def ratio(label: str, vocab: int, size: int, key: str, limit: float) -> str:
        ours, rust = get("bbpe-numba", vocab, size), get("rustbpe", vocab, size)
        where = f"vocab {vocab:,} on {size / 1e6:,.0f} MB"
        if not (ours and rust):
            return f"{label}, {where}: <= {limit:g}x rustbpe: not measured in this run"
        value = ours.median(key) / rust.median(key)
        verdict = "met" if value <= limit else f"MISSED by {value / limit - 1:.0%}"
        return f"{label}, {where}: {value:.2f}x rustbpe (target <= {limit:g}x) {verdict}"

    mb = 10**6
    lines = [
        ratio("wall (CLI, whole process)", 32_000, 10 * mb, "wall", 0.8),
        ratio("wall", 32_000, 100 * mb, "wall", 0.5),
        ratio("wall", 152_000, 100 * mb, "wall", 0.5),
        ratio("peak RSS (process tree)", 32_000, 100 * mb, "rss_tree_mb", 1.0),
        ratio("peak RSS (process tree)", 152_000, 100 * mb, "rss_tree_mb", 1.0),
    ]
    for r in results:
        if r.tool == "bbpe-numba" and r.bytes_per_token:
            for peer in ("tokenizers", "rustbpe"):
                theirs = get(peer, r.vocab, r.corpus_bytes)
                if theirs and theirs.bytes_per_token:
                    equal = f"{r.bytes_per_token:.4f}" == f"{theirs.bytes_per_token:.4f}"
                    lines.append(
                        f"held-out bytes/token equal to {peer}'s to 4 decimals, vocab {r.vocab:,} on "
                        f"{r.corpus_bytes / 1e6:,.0f} MB: {r.bytes_per_token:.4f} vs {theirs.bytes_per_token:.4f} "
                        + ("met" if equal else "MISSED")
                    )
    return lines


def markdown(report: dict, results: list[Result]) -> str:
    out = [
        "# Training benchmark",
        "",
        f"Machine: {report['machine']['cpu']}, {report['machine']['cores']} cores, "
        f"{report['machine']['memory_gb']} GB; load average (1, 5, 15 min) at start "
        f"{report['machine']['load_at_start']}, at end {report['machine']['load_at_end']}.  ",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in report["versions"].items()) + ".  ",
        f"Median of {report['repeats']} runs per trainer; pre-tokenization cl100k for all but sentencepiece. "
        "Wall and CPU time include reading the corpus and counting. Peak RSS: the largest single process "
        "(its VmHWM, polled every 0.1 s) and the whole process tree (sampled every 0.1 s: the main process's resident set plus the "
        "private memory of worker processes; bbpe counts in forked workers, the peers in threads). "
        f"Bytes/token on {report['heldout_bytes'] / 1e6:.1f} MB of held-out text disjoint from the training text.",
        "",
    ]
    for vocab, size in report["settings"]:
        rows = [r for r in results if (r.vocab, r.corpus_bytes) == (vocab, size)]
        out += [
            f"## vocab {vocab:,} on {size / 1e6:,.0f} MB",
            "",
            "| trainer | wall s | CPU s | peak RSS MB (process) | peak RSS MB (tree) | bytes/token | vocab | note |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in rows:
            cells = [f"{r.median(k):,.1f}" if r.runs else "-" for k in ("wall", "cpu", "rss_process_mb", "rss_tree_mb")]
            bpt = f"{r.bytes_per_token:.4f}" if r.bytes_per_token else "-"
            out.append(f"| {r.tool} | {' | '.join(cells)} | {bpt} | {r.vocab_produced or '-'} | {r.note} |")
        equal = report["numba_equals_python"].get(f"{vocab}@{size}", "not checked (bbpe-numba not run)")
        out += ["", f"bbpe numba == python (same tokens, same order): {equal}", ""]
        out += [f"- {line}" for line in ratio_lines(rows)] + [""]
    targets = target_lines(results)
    if targets:
        out += ["## Targets", ""] + [f"- {line}" for line in targets] + [""]
    return "\n".join(out)


def chart(path: Path, report: dict, results: list[Result]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = report["settings"]
    fig, axes = plt.subplots(2, len(settings), figsize=(4.5 * len(settings), 7), squeeze=False)
    for column, (vocab, size) in enumerate(settings):
        rows = [r for r in results if (r.vocab, r.corpus_bytes) == (vocab, size) and r.runs]
        names = [r.tool for r in rows]
        for row, (key, label) in enumerate((("wall", "wall time (s)"), ("rss_tree_mb", "peak RSS, tree (MB)"))):
            ax = axes[row][column]
            colors = ["tab:blue" if n.startswith("bbpe") else "tab:gray" for n in names]
            ax.bar(names, [r.median(key) for r in rows], color=colors)
            ax.set_ylabel(label)
            ax.set_title(f"vocab {vocab:,} on {size / 1e6:,.0f} MB" if row == 0 else "")
            plt.setp(ax.get_xticklabels(), rotation=40, ha="right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(Path(__file__).resolve().parents[2] / "shared/corpora/train"))
    parser.add_argument("--settings", default="32000@10MB,32000@100MB,152000@100MB", help="VOCAB@SIZE,...")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--single-run-above",
        type=float,
        default=float("inf"),
        help="do not repeat a trainer whose run took longer than this (noted)",
    )
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of " + ", ".join(TOOLS))
    parser.add_argument("--skip", action="append", default=[], metavar="TOOL", help="leave a trainer out")
    parser.add_argument("--max-seconds", type=float, default=3600, help="stop a run after this long (noted)")
    parser.add_argument("--heldout-bytes", type=float, default=2e6)
    parser.add_argument(
        "--equality-bytes",
        type=float,
        default=2e6,
        help="without bbpe-python in --tools: check numba == python on this prefix of each sample (default 2e6)",
    )
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "reports"))
    parser.add_argument("--workdir", default="/tmp/bbpe-bench", help="samples and trained models")
    parser.add_argument(
        "--scaling",
        metavar="SIZE,...",
        help="scaling mode: --scaling-tools at --scaling-vocab on these sizes (e.g. 100MB,325MB,1GB)",
    )
    parser.add_argument(
        "--scaling-tools",
        default=",".join(scaling.SCALING_TOOLS),
        help="comma-separated subset of " + ", ".join(scaling.SCALING_TOOLS),
    )
    parser.add_argument("--max-rss-gb", type=float, default=None, help="scaling mode: stop a run above this RSS")
    parser.add_argument("--scaling-vocab", type=int, default=152_000, help="vocab size of the scaling mode")
    parser.add_argument("--child", choices=CHILD_TOOLS, help=argparse.SUPPRESS)
    parser.add_argument("--train-file", help=argparse.SUPPRESS)
    parser.add_argument("--vocab", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        train_child(args.child, args.train_file, args.vocab, args.model)
        return 0

    if args.scaling:
        return scaling.run(args, argv if argv is not None else sys.argv[1:])
    tools = [t for t in args.tools.split(",") if t and t not in args.skip]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools {sorted(unknown)}; choose from {', '.join(TOOLS)}")
    settings = [parse_setting(s) for s in args.settings.split(",")]
    work, out = Path(args.workdir), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {
        "settings": settings,
        "repeats": args.repeats,
        "tools": tools,
        "machine": machine(),
        "versions": versions(),
        "heldout_bytes": int(args.heldout_bytes),
        "numba_equals_python": {},
    }
    samples = {}
    for size in sorted({size for _, size in settings}):
        samples[size] = work / f"train_{size}.txt"
        if not samples[size].exists():
            atomic_write(samples[size], sample([args.corpus], size))
    heldout = heldout_lines([args.corpus], max(samples), int(args.heldout_bytes))
    if "bbpe-numba" in tools:  # load (or, on a fresh checkout, compile) the numba cache before timing
        warm = work / "warm_up.txt"
        atomic_write(warm, "".join(heldout[:200]))
        subprocess.run(command("bbpe-numba", warm, 300, work / "warm_up.json"), check=True)

    results: list[Result] = []
    for vocab, size in settings:
        for tool in tools:
            result = Result(tool, vocab, size)
            model = work / (f"{tool}_{vocab}_{size}" + (".model" if tool == "sentencepiece" else ".json"))
            for repeat in range(args.repeats):
                run, problem = measure(
                    command(tool, samples[size], vocab, model), args.max_seconds, work / f"{tool}_{vocab}_{size}.log"
                )
                if run is None:
                    result.note = problem
                    break
                result.runs.append(run)
                print(
                    f"{tool:14s} vocab {vocab:>7,} on {size / 1e6:>5,.0f} MB  run {repeat + 1}: "
                    f"{run.wall:8.1f} s wall {run.cpu:8.1f} s CPU {run.rss_tree_mb:8.0f} MB",
                    flush=True,
                )
                if run.wall > args.single_run_above:
                    result.note = f"{len(result.runs)} run(s): a run took over {args.single_run_above:g} s"
                    break
            if result.runs:
                try:
                    result.bytes_per_token, result.vocab_produced = evaluate(tool, model, heldout)
                except Exception as exc:  # a peer's odd vocabulary must not sink the whole benchmark
                    result.note = f"held-out scoring failed: {type(exc).__name__}: {exc}"[:200]
            else:
                print(f"{tool:14s} vocab {vocab:>7,} on {size / 1e6:>5,.0f} MB  {result.note}", flush=True)
            results.append(result)
        rows = {r.tool: r for r in results if (r.vocab, r.corpus_bytes) == (vocab, size) and r.runs}
        if "bbpe-numba" in rows:
            equal = backends_equal(rows, work, samples[size], vocab, size, int(args.equality_bytes), args.max_seconds)
            report["numba_equals_python"][f"{vocab}@{size}"] = equal
            print(f"  bbpe numba == python: {equal}")
        for line in ratio_lines(list(rows.values())):
            print("  " + line)
    for line in target_lines(results):
        print(line)

    report["machine"]["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["results"] = [
        asdict(r) | {"median": {k: r.median(k) for k in ("wall", "cpu", "rss_process_mb", "rss_tree_mb")}}
        for r in results
    ]
    atomic_write(out / "bench_train.json", json.dumps(report, indent=1))
    scaling_json = out / "bench_train_scaling.json"  # keep the scaling section of an earlier --scaling run
    kept = scaling.section(json.loads(scaling_json.read_text())) if scaling_json.exists() else ""
    atomic_write(
        out / "bench_train.md",
        scaling.with_section(markdown(report, results), kept) if kept else markdown(report, results),
    )
    chart(out / "bench_train.png", report, results)
    print(f"wrote {out / 'bench_train.md'}, .json and .png")
    return 0


def _tokens(path: Path) -> list[str]:
    return json.loads(path.read_text())["tokens"]


def backends_equal(
    rows: dict[str, Result], work: Path, train_file: Path, vocab: int, size: int, prefix: int, max_seconds: float
) -> str:
    """Whether the numba and python backends learn the same tokens in the same order, and on what.

    Compares the two models of this setting when bbpe-python ran; else trains both backends on the
    first ``prefix`` bytes of the sample (``--max-bytes``) with the same vocab size.
    """
    if "bbpe-python" in rows:
        same = _tokens(work / f"bbpe-numba_{vocab}_{size}.json") == _tokens(work / f"bbpe-python_{vocab}_{size}.json")
        return "yes" if same else "NO"
    models = {}
    for backend in ("numba", "python"):
        models[backend] = work / f"equality_{backend}_{vocab}_{size}.json"
        argv = command(f"bbpe-{backend}", train_file, vocab, models[backend]) + ["--max-bytes", str(prefix)]
        run, problem = measure(argv, max_seconds, work / f"equality_{backend}.log")
        if run is None:
            return f"not checked: the {backend} backend {problem}"
    same = _tokens(models["numba"]) == _tokens(models["python"])
    checked = min(prefix, train_file.stat().st_size)
    return ("yes" if same else "NO") + f" (checked on the first {checked / 1e6:.3g} MB of the sample, same vocab size)"


if __name__ == "__main__":
    sys.exit(main())
