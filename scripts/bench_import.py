"""Import cost: ``import bbpe`` and the first use of each public name, in fresh processes.

Each measurement is a new ``python -X importtime`` process (no module cached in memory; the ``__pycache__``
files stay warm, as for a user's second command).  The figure is the cumulative microseconds of the
``bbpe`` line that ``-X importtime`` prints (what the import itself costs, without interpreter start-up), plus
the number of modules the import loaded.

    python scripts/bench_import.py                    # 15 runs each, writes reports/bench_import.md and .json
    python scripts/bench_import.py --runs 3 --out /tmp/i
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bbpe.output import atomic_write  # noqa: E402

CASES = {
    "import bbpe": "import bbpe",
    "bbpe.Tokenizer": "import bbpe; bbpe.Tokenizer",
    "bbpe.train": "import bbpe; bbpe.train",
    "bbpe.load": "import bbpe; bbpe.load",
}
_MARK = "-- the statement starts --"
_COUNT = f"import sys; before = set(sys.modules); print({_MARK!r}, file=sys.stderr); {{code}}; print(len(set(sys.modules) - before))"


def one_run(code: str) -> tuple[float, int]:
    """(milliseconds of the imports ``code`` triggers, modules it loaded) in a new process."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", _COUNT.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    total = 0
    after_start = done.stderr.split(_MARK, 1)[1]  # interpreter start-up (site, ...) excluded
    for line in after_start.splitlines():  # "import time: self [us] | cumulative | imported package"
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue  # the header line
        depth = len(fields[2]) - len(fields[2].lstrip()) - 1  # two more spaces per nesting level
        if depth == 0:  # top-level imports only: nested ones are in their parent's cumulative time
            total += int(fields[1])
    return total / 1000, int(done.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    parser.add_argument("--note", default="", help="a line for the report (machine state)")
    args = parser.parse_args()
    results = {}
    for name, code in CASES.items():
        runs = [one_run(code) for _ in range(args.runs)]
        results[name] = {
            "median_ms": statistics.median(ms for ms, _ in runs),
            "min_ms": min(ms for ms, _ in runs),
            "modules": runs[0][1],
        }
    lines = [
        "# Import cost",
        "",
        f"`python scripts/bench_import.py --runs {args.runs}`: new processes, `python -X importtime`, top-level "
        "imports the statement triggers (interpreter start-up excluded), `__pycache__` warm. " + args.note,
        "",
        "| statement | median ms | min ms | modules loaded |",
        "|---|---|---|---|",
    ]
    for name, row in results.items():
        lines.append(f"| `{CASES[name]}` | {row['median_ms']:.1f} | {row['min_ms']:.1f} | {row['modules']} |")
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / "bench_import.md", "\n".join(lines) + "\n")
    atomic_write(args.out / "bench_import.json", json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
