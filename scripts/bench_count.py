"""Wall time, CPU time and peak memory of the whole process tree for `bbpe count` (issue 12).

Runs `bbpe count ../shared/corpora/train -o TMP/ --parts 8 [--engine E] [--max-bytes N]` as a child
process per (engine, size) and samples the resident memory of the child and all its descendants
(/proc, every 0.1 s).  Writes reports/bench_count.md and .json.

    python scripts/bench_count.py [--sizes 100M,all] [--engines local,ray] [--workers 2]

"all" is the whole folder (325 MB of text); a size is `--max-bytes`, which for gzip inputs first
decompresses each file in the main process to find where the budget ends (bytes only).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "train"
REPORTS = ROOT / "reports"


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


def run(engine: str, size: str, workers: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as out:
        argv = [
            sys.executable,
            "-m",
            "bbpe",
            "count",
            str(CORPUS),
            "-o",
            f"{out}/",
            "--parts",
            "8",
            "-q",
            "--workers",
            str(workers),
        ]
        if engine != "local":
            argv += ["--engine", engine]
        if size != "all":
            argv += ["--max-bytes", size]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        while child.poll() is None:
            peak = max(peak, tree_rss(child.pid))
            time.sleep(0.1)
        wall = time.monotonic() - started
        out_text, err_text = child.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {err_text.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "engine": engine,
        "size": size,
        "workers": workers,
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "peak_tree_mb": round(peak / 1e6),
        "summary": out_text.strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100M,all")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS} not found (the shared corpora live in ../shared)")
    rows = [run(engine, size, args.workers) for size in args.sizes.split(",") for engine in args.engines.split(",")]
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "bench_count.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "# bbpe count: wall, CPU and peak memory of the process tree",
        "",
        f"Corpus: {CORPUS.name}/ (gzip files; whole-file work units), `--parts 8 --workers {args.workers}`, "
        "cl100k, regex pre-tokenizer. Command: `python scripts/bench_count.py`.",
        "",
        "| engine | input | wall s | CPU s | peak tree MB | summary |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['engine']} | {r['size']} | {r['wall_s']} | {r['cpu_s']} | {r['peak_tree_mb']} | {r['summary']} |"
        for r in rows
    ]
    (REPORTS / "bench_count.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
