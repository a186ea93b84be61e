"""Wall time, CPU time and peak memory of the whole process tree for `bbpe count`, local vs Ray (issue 12),
and a projection for 1 TB on a cluster from measured per-core costs.

Per (size, engine), runs `bbpe count INPUT -o TMP/ --parts P --workers W [--executor ray]` as a child process and
samples /proc every 0.2 s for the child and all its descendants (the pool workers; for Ray the GCS, raylet,
agents and the Ray workers the raylet starts, which are all descendants of the driver when it starts the local
instance):
- CPU s: the sum over every process of the tree of utime + stime at its last sample (a process's CPU after its
  last sample, < 0.2 s, is missed); `rusage` (CPU of reaped children) is given beside it: it misses Ray's
  workers, which the raylet reaps, not our child.
- peak tree MB: the largest sum of PSS (proportional set size, /proc/PID/smaps_rollup) over the tree, so the
  object store's shared memory is counted once; peak driver MB: the driver's own VmHWM (RSS high-water mark).

Sizes: `all` is ../shared/corpora/train as it is (325 MB of text in gzip files); `100M`, `1G`, `5M` ... are
folders of copies of its files (sorted order, cycled: 1G is the training text three times and a part) until
that much text, written once into a temporary folder; whole files only, so the text size is approximate (the
table gives it).

The projection calibrates in this process on one core with the engine's own functions (`map_unit_streamed`,
`reduce_in_memory`): map rate (text bytes per CPU-second), run volume (run rows and bytes per text byte at the
flush size), reduce cost per run row and per part; it then models 1 TB on the clusters given by `--clusters`
with the assumptions in `ASSUMPTIONS` (written into the report).

    python scripts/bench_count.py                          # 100M, all, 1G; local and ray; 2 workers
    python scripts/bench_count.py --sizes 5M --calibrate-bytes 5M --out /tmp/bench   # smoke test
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bbpe.cli.options import parse_count
from bbpe.corpus.documents import UnitStats
from bbpe.corpus.reading import CorpusStats
from bbpe.corpus.units import plan_units
from bbpe.pretokenize.patterns import CL100K
from bbpe.training.counting.map_tasks import map_unit_streamed
from bbpe.training.counting.pretokens import CountSettings
from bbpe.training.counting.reduce_tasks import reduce_in_memory

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "train"
SAMPLE_SECONDS = 0.2
TICK = os.sysconf("SC_CLK_TCK")
TERABYTE = 10**12
ASSUMPTIONS = {
    "storage_read_mb_s_per_node": 500,  # compressed bytes from object storage per node
    "compression_ratio": None,  # text bytes per stored byte: measured on train/ (gzip)
    "network_mb_s_per_node": 625,  # 10 Gbit/s at 50 % efficiency, for the shuffle of the runs
    "straggler_factor": 1.3,  # slowest task / mean task, applied to the map and reduce phases
    "scheduling_ms_per_task": 1.0,  # driver-side cost per Ray task (submission, result, object refs)
    "unit_mb": 8,  # text per map task (byte ranges of uncompressed files, or files of that size)
    "parts_per_core": 2,  # reduce tasks = parts = 2 x cores
}


# --- the process tree -------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int, int] | None:
    """(parent, start time, CPU ticks) of a process, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12])


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _hwm(pid: int) -> int:
    try:
        match = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return 0
    return int(match.group(1)) * 1024 if match else 0


class TreeSampler:
    """CPU ticks per process (last sample), peak PSS of the tree and the driver's VmHWM."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.ticks: dict[tuple[int, int], int] = {}
        self.names: set[str] = set()
        self.peak_tree = 0
        self.peak_driver = 0

    def sample(self) -> None:
        parents: dict[int, list[int]] = {}
        info: dict[int, tuple[int, int, int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and (found := _stat(int(entry))) is not None:
                info[int(entry)] = found
                parents.setdefault(found[0], []).append(int(entry))
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            if pid in info:
                tree.append(pid)
                todo.extend(parents.get(pid, []))
        for pid in tree:
            _, start, ticks = info[pid]
            self.ticks[(pid, start)] = ticks
            try:
                self.names.add(Path(f"/proc/{pid}/comm").read_text().strip())
            except OSError:
                pass
        self.peak_tree = max(self.peak_tree, sum(_pss(pid) for pid in tree))
        self.peak_driver = max(self.peak_driver, _hwm(self.root))

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / TICK


def run_count(engine: str, corpus: Path, args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "bbpe", "count", str(corpus), "-o", f"{out}/", "--parts", str(args.parts)]
        argv += ["--workers", str(args.workers), "--flush-mb", str(args.flush_mb), "-q", "--executor", engine]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sampler = TreeSampler(child.pid)
        while child.poll() is None:
            sampler.sample()
            time.sleep(SAMPLE_SECONDS)
        wall = time.monotonic() - started
        out_text, err_text = child.communicate()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if child.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {err_text.strip()}")
    summary = out_text.strip()
    unique = re.search(r"counted ([\d,]+) unique words", summary)
    return {
        "engine": engine,
        "wall_s": round(wall, 1),
        "cpu_tree_s": round(sampler.cpu_seconds, 1),
        "cpu_rusage_s": round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 1),
        "peak_tree_mb": round(sampler.peak_tree / 1e6),
        "peak_driver_mb": round(sampler.peak_driver / 1e6),
        "processes": len(sampler.ticks),
        "process_names": sorted(sampler.names),
        "unique_words": int(unique.group(1).replace(",", "")) if unique else None,
        "summary": summary,
    }


# --- inputs -----------------------------------------------------------------------------------


def text_size(path: Path) -> int:
    """Uncompressed size of a corpus file."""
    if path.suffix != ".gz":
        return path.stat().st_size
    size = 0
    with gzip.open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            size += len(chunk)
    return size


def build_input(size: str, sizes: dict[Path, int], scratch: Path) -> tuple[Path, int]:
    """The folder counted for ``size`` and its text bytes: train/ itself, or copies of its files up to the size."""
    files = sorted(sizes)
    if size == "all":
        return CORPUS, sum(sizes.values())
    target = parse_count(size)
    folder = scratch / f"input-{size}"
    folder.mkdir()
    total, index = 0, 0
    while total < target:
        source = files[index % len(files)]
        shutil.copyfile(source, folder / f"r{index // len(files)}.{source.name}")
        total += sizes[source]
        index += 1
    return folder, total


# --- calibration and projection ---------------------------------------------------------------


def calibrate(sizes: dict[Path, int], budget: int, flush_bytes: int, parts: int, scratch: Path) -> dict[str, float]:
    """Per-core costs measured in this process with the engine's own map and reduce functions."""
    settings = CountSettings(CL100K)
    files, total = [], 0
    for path in sorted(sizes):  # every language's files in turn, for a mixed sample
        if total >= budget:
            break
        files.append(path)
        total += sizes[path]
    runs: list[list[bytes]] = [[] for _ in range(parts)]
    text, units = 0, 0
    started = time.process_time()
    for unit in plan_units(files, settings.rule, max_bytes=None, stats=CorpusStats()):
        units += 1
        items = list(map_unit_streamed(unit, settings, parts, flush_bytes))
        stats = items[-1]
        assert isinstance(stats, UnitStats)
        text += stats.bytes
        for index, blob in enumerate(items[:-1]):
            assert isinstance(blob, bytes)
            runs[index % parts].append(blob)
    map_cpu = time.process_time() - started
    run_bytes = sum(len(blob) for bucket in runs for blob in bucket)
    run_rows = sum(_rows(blob) for bucket in runs for blob in bucket)
    started = time.process_time()
    unique = 0
    for bucket, blobs in enumerate(runs):
        unique += reduce_in_memory(str(scratch / f"cal-{bucket}.parquet"), {"format": "bench"}, 1, *blobs)[0]
    reduce_cpu = time.process_time() - started
    started = time.process_time()
    for repeat in range(20):  # the fixed cost of a part: an empty reduce task
        reduce_in_memory(str(scratch / f"empty-{repeat}.parquet"), {"format": "bench"}, 1)
    part_cpu = (time.process_time() - started) / 20
    return {
        "text_bytes": text,
        "unit_mb": round(text / units / 1e6, 2),
        "map_cpu_s": round(map_cpu, 2),
        "map_mb_per_cpu_s": round(text / map_cpu / 1e6, 2),
        "run_rows_per_text_mb": round(run_rows / (text / 1e6)),
        "run_bytes_per_text_byte": round(run_bytes / text, 4),
        "reduce_cpu_s": round(reduce_cpu, 2),
        "reduce_us_per_run_row": round((reduce_cpu - parts * part_cpu) / run_rows * 1e6, 3),
        "reduce_ms_per_part": round(part_cpu * 1e3, 2),
        "unique_words": unique,
    }


def _rows(blob: bytes) -> int:
    count, at = 0, 0
    while at < len(blob):
        at += 12 + int.from_bytes(blob[at : at + 4], "little")
        count += 1
    return count


def project(cal: dict[str, float], cores: int, nodes: int, assume: dict[str, float]) -> dict[str, float]:
    """Seconds for 1 TB of text on ``cores`` cores in ``nodes`` nodes: map, read, shuffle, reduce, scheduling."""
    data = TERABYTE
    straggle = assume["straggler_factor"]
    tasks = data / (assume["unit_mb"] * 1e6)
    parts = cores * assume["parts_per_core"]
    map_s = data / (cal["map_mb_per_cpu_s"] * 1e6) / cores * straggle
    read_s = data / assume["compression_ratio"] / (nodes * assume["storage_read_mb_s_per_node"] * 1e6)
    shuffle_bytes = data * cal["run_bytes_per_text_byte"]
    shuffle_s = shuffle_bytes * (nodes - 1) / nodes / (nodes * assume["network_mb_s_per_node"] * 1e6)
    rows = data / 1e6 * cal["run_rows_per_text_mb"]
    reduce_cpu = rows * cal["reduce_us_per_run_row"] / 1e6 + parts * cal["reduce_ms_per_part"] / 1e3
    reduce_s = reduce_cpu / min(cores, parts) * straggle
    schedule_s = tasks * assume["scheduling_ms_per_task"] / 1e3
    total = max(map_s, read_s, schedule_s) + shuffle_s + reduce_s
    return {
        "cores": cores,
        "nodes": nodes,
        "map_tasks": round(tasks),
        "parts": parts,
        "map_s": round(map_s),
        "read_s": round(read_s),
        "scheduling_s": round(schedule_s),
        "shuffle_gb": round(shuffle_bytes / 1e9),
        "shuffle_s": round(shuffle_s),
        "reduce_s": round(reduce_s),
        "total_s": round(total),
        "total_h": round(total / 3600, 2),
    }


# --- report -----------------------------------------------------------------------------------


def write_report(
    out: Path,
    rows: list[dict[str, object]],
    cal: dict[str, float],
    plans: list[dict[str, float]],
    assume: dict[str, float],
    args: argparse.Namespace,
    load: tuple[float, ...],
) -> str:
    header = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores, "
        f"load average at start {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; Python {platform.python_version()}. "
        f"Command: `python scripts/bench_count.py --sizes {args.sizes} --engines {args.engines} --workers "
        f"{args.workers} --parts {args.parts} --flush-mb {args.flush_mb} --calibrate-bytes {args.calibrate_bytes} "
        f"--clusters {args.clusters}`"
    )
    lines = [
        "# bbpe count: local vs Ray, and a projection to 1 TB",
        "",
        header,
        "",
        *([args.note, ""] if args.note else []),
        f"`bbpe count INPUT -o TMP/ --parts {args.parts} --workers {args.workers} --flush-mb {args.flush_mb}"
        " --executor E` (cl100k, documents). CPU s = utime + stime summed over every process of the tree (driver, "
        "pool workers, Ray's GCS, raylet, agents and workers), sampled from /proc every 0.2 s; rusage = CPU of "
        "reaped children only (misses Ray's workers). Peak tree = largest sum of PSS over the tree (shared object "
        "store pages counted once); peak driver = the `bbpe` process's VmHWM.",
        "",
        "| input | text MB | engine | wall s | CPU s (tree) | CPU s (rusage) | peak tree MB | peak driver MB |"
        " processes | unique words |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['size']} | {r['text_mb']} | {r['engine']} | {r['wall_s']} | {r['cpu_tree_s']} | "
            f"{r['cpu_rusage_s']} | {r['peak_tree_mb']} | {r['peak_driver_mb']} | {r['processes']} | "
            f"{r['unique_words']:,} |"
        )
    lines += [
        "",
        "## Per-core costs (calibration)",
        "",
        f"One core, in this process, with the engine's functions on {cal['text_bytes'] / 1e6:.0f} MB of train/ "
        f"(flush {args.flush_mb} MB, {args.parts} parts; work units are its whole gzip files, "
        f"{cal['unit_mb']} MB of text each on average: the run volume depends on the unit size, as a "
        "unit's repeated words are added up before its runs leave the task):",
        "",
        f"- map: {cal['map_mb_per_cpu_s']} MB of text per CPU-second (pre-tokenize, count, sort, encode runs)",
        f"- runs: {cal['run_rows_per_text_mb']:,} rows and {cal['run_bytes_per_text_byte']} bytes per byte of text "
        "(what is shuffled)",
        f"- reduce: {cal['reduce_us_per_run_row']} µs per run row (k-way merge and Parquet writing of the unique "
        f"words) + {cal['reduce_ms_per_part']} ms per part",
        "",
        "## Projection: 1 TB of text",
        "",
        "Model: total = max(map, read, scheduling) + shuffle + reduce, with map = 1 TB / (map rate x cores) x "
        "straggler; read = stored bytes / (nodes x storage bandwidth); shuffle = run bytes x (n-1)/n / (nodes x "
        "network bandwidth), not overlapped with the map (conservative); reduce = (run rows x cost per row + "
        "parts x cost per part) / min(cores, parts) x straggler; scheduling = map tasks x driver cost per task.",
        "",
        "Assumptions: " + ", ".join(f"{k} = {v}" for k, v in assume.items()) + ".",
        "",
        "| cores | nodes | map tasks | parts | map s | read s | scheduling s | shuffle GB | shuffle s | reduce s |"
        " total |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in plans:
        lines.append(
            f"| {p['cores']} | {p['nodes']} | {p['map_tasks']:,} | {p['parts']} | {p['map_s']:,} | {p['read_s']:,} |"
            f" {p['scheduling_s']:,} | {p['shuffle_gb']:,} | {p['shuffle_s']:,} | {p['reduce_s']:,} |"
            f" {p['total_h']} h |"
        )
    lines += [
        "",
        "Caveats: the table of unique words of 1 TB is not modelled (the reduce cost follows the run rows, which "
        "bound it); each reduce task receives one object per map task and flush (125,000 refs at 1 TB with 8 MB "
        "units), which Ray handles but the driver owns every one of them: at that scale use larger units "
        "(files of ~1 GB, a few flushes each) or a two-level reduce.",
    ]
    text = "\n".join(lines) + "\n"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_count.md").write_text(text)
    data = {"runs": rows, "calibration": cal, "projection": plans, "assumptions": assume, "header": header}
    (out / "bench_count.json").write_text(json.dumps(data, indent=2) + "\n")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100M,all,1G")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--parts", type=int, default=8)
    parser.add_argument("--flush-mb", type=int, default=256)
    parser.add_argument("--calibrate-bytes", default="50M", help="text used for the per-core calibration")
    parser.add_argument("--clusters", default="64:8,512:64,800:100", help="CORES:NODES,... for the projection")
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    parser.add_argument("--note", default="", help="a line for the report (e.g. the state of the machine)")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        raise SystemExit(f"{CORPUS} not found (the shared corpora live in ../shared)")
    load = os.getloadavg()
    sizes = {path: text_size(path) for path in sorted(CORPUS.glob("*.txt.gz"))}
    assume = dict(ASSUMPTIONS)
    stored = sum(path.stat().st_size for path in sizes)
    assume["compression_ratio"] = round(sum(sizes.values()) / stored, 2)
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="bbpe-bench-") as scratch:
        for size in args.sizes.split(","):
            folder, text = build_input(size, sizes, Path(scratch))
            for engine in args.engines.split(","):
                row = run_count(engine, folder, args) | {"size": size, "text_mb": round(text / 1e6)}
                rows.append(row)
                print(f"{size} {engine}: {row['wall_s']} s wall, {row['cpu_tree_s']} CPU s", file=sys.stderr)
        cal = calibrate(sizes, parse_count(args.calibrate_bytes), args.flush_mb << 20, args.parts, Path(scratch))
    plans = [
        project(cal, int(cores), int(nodes), assume)
        for cores, nodes in (item.split(":") for item in args.clusters.split(","))
    ]
    print(write_report(args.out, rows, cal, plans, assume, args, load))


if __name__ == "__main__":
    main()
