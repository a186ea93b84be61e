"""The mutation score of the test suite over bbpe's core modules, with mutmut (slow: not in CI).

    python scripts/mutation.py run [--children 2]   # mutate and test (nice -n 19; resumable, incremental)
    python scripts/mutation.py report               # reports/mutation.md from the results
    python scripts/mutation.py show NAME            # one mutant's diff

mutmut (``pip install mutmut==3.8.1``; Linux or WSL: it forks a worker per mutant) rewrites every function of
the modules below into a trampoline that runs the original or one mutant (an operator, a constant, a condition
changed), records once which tests call which function, and then runs for each mutant only those tests, fastest
first, stopping at the first failure.  A mutant is *killed* when a test fails (or it hangs past mutmut's timeout:
15x the tests' time), *survives* when they all pass.  The score is killed / (mutants - equivalent ones), where an
equivalent mutant cannot change any result (listed with the reason in ``EQUIVALENT``).

The work happens in a copy of the repository under ``.cache/mutation`` (mutmut's ``mutants/`` folder and state
live there; a rerun re-tests only the functions that changed).  The tests run are ``TEST_ARGS``: the suite
without the slow real-corpus checks and the few modules that start browsers, Ray clusters or signal children
(they call the core modules only through what the other tests cover).  numba kernels are not mutated: a mutant
inside compiled code would need a compile per mutant, and the kernels are checked against the pure-Python
reference loops by their own tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".cache" / "mutation"
REPORT = REPO / "reports" / "mutation.md"

MODULES = [
    "bbpe/bpe/reference.py",
    "bbpe/tokenizer.py",
    "bbpe/vocabulary.py",
    "bbpe/encoding/specials.py",
    "bbpe/encoding/normalization.py",
    "bbpe/encoding/coverage.py",
    "bbpe/encoding/encoder.py",
    "bbpe/encoding/python_engine.py",
    "bbpe/pretokenize/patterns.py",
    "bbpe/pretokenize/safe_cuts.py",
    "bbpe/formats/native.py",
    "bbpe/formats/tiktoken_file.py",
    "bbpe/formats/hf.py",
    "bbpe/formats/hf_read.py",
    "bbpe/formats/counts.py",
    "bbpe/training/merging.py",
    "bbpe/training/api.py",
    "bbpe/training/loops/reference.py",
    "bbpe/training/methods/extend.py",
    "bbpe/report/metrics.py",
]

SKIPPED_TEST_MODULES = [
    "tests/test_report_page.py",  # headless Chromium
    "tests/test_ray_memory.py",  # Ray clusters
    "tests/test_count_executors.py",  # Ray clusters
    "tests/test_hostile_signals.py",  # signals to child processes
    "tests/test_build_data.py",  # the data recipe (downloads simulated, corpora built)
]
TEST_ARGS = ["tests", "-m", "not slow", "-p", "no:cacheprovider", *(f"--ignore={m}" for m in SKIPPED_TEST_MODULES)]

COPIED = ["bbpe", "tests", "scripts", "corpora", "README.md"]  # the package, its tests and what they read

# Mutants that cannot change any result, with the reason (mutmut's names: module.x_function__mutmut_N).
EQUIVALENT: dict[str, str] = {}

KILLED = {1, 3}  # a test failed; pytest's internal error
TIMEOUT = {36, -24, 24, 152, 255}
CRASHED = {-11, -9}
NO_TESTS = {5, 33}


def mutmut_config() -> str:
    """The [tool.mutmut] table appended to the copy's pyproject.toml."""
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["bbpe"]\n'
        f"only_mutate = {json.dumps(MODULES)}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(TEST_ARGS)}\n"
        f"also_copy = {json.dumps(COPIED[2:])}\n"
    )


def sync_copy() -> None:
    """Copy the package, the tests, what they read and pyproject.toml (plus the mutmut table) into WORK, keeping
    modification times (mutmut regenerates the mutants of a file whose source is newer than its mutated copy)."""
    WORK.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        if (REPO / name).is_file():
            _copy_if_changed(str(REPO / name), str(WORK / name))
            continue
        shutil.copytree(
            REPO / name,
            WORK / name,
            dirs_exist_ok=True,
            copy_function=_copy_if_changed,
            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"),
        )
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8") + mutmut_config()
    if not (WORK / "pyproject.toml").is_file() or (WORK / "pyproject.toml").read_text(encoding="utf-8") != pyproject:
        (WORK / "pyproject.toml").write_text(pyproject, encoding="utf-8")


def _copy_if_changed(source: str, target: str) -> None:
    if not Path(target).is_file() or Path(target).read_bytes() != Path(source).read_bytes():
        shutil.copy2(source, target)


def run(children: int) -> None:
    sync_copy()
    env = dict(os.environ, PYTHONPATH=str(WORK / "mutants"))  # tests' subprocesses import the mutated copy too
    start = time.monotonic()
    command = ["nice", "-n", "19", sys.executable, "-m", "mutmut", "run", "--max-children", str(children)]
    done = subprocess.run(command, cwd=WORK, env=env, check=False)
    elapsed = time.monotonic() - start
    log = WORK / "runs.json"
    runs = json.loads(log.read_text()) if log.is_file() else []
    runs.append({"started": time.strftime("%Y-%m-%d %H:%M"), "seconds": round(elapsed), "children": children})
    log.write_text(json.dumps(runs, indent=1))
    print(f"mutmut ran {elapsed / 60:.1f} min (exit code {done.returncode})")


def results() -> dict[str, dict[str, int | None]]:
    """module path -> mutant name -> exit code (None: not checked yet)."""
    found = {}
    for module in MODULES:
        meta = WORK / "mutants" / (module + ".meta")
        if meta.is_file():
            found[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return found


def show(name: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name], cwd=WORK, capture_output=True, text=True, check=False
    )
    diff = [line for line in done.stdout.splitlines() if line.startswith(("+", "-")) and line[:3] not in ("---", "+++")]
    return "\n".join(diff)


def status(code: int | None) -> str:
    if code in KILLED or code in CRASHED:
        return "killed"
    if code in TIMEOUT:
        return "timeout"
    if code in NO_TESTS:
        return "no tests"
    if code is None:
        return "not checked"
    return "survived" if code == 0 else "suspicious"


def report() -> None:
    by_module = results()
    runs = json.loads((WORK / "runs.json").read_text()) if (WORK / "runs.json").is_file() else []
    lines = [
        "# Mutation score of the test suite",
        "",
        "`python scripts/mutation.py run` then `report` (mutmut 3.8.1; see the script's docstring for the method).",
        f"Tests run per mutant: `pytest {' '.join(TEST_ARGS)}` (the tests that call the mutated function).",
        "Killed = a test failed or the mutant hung past the timeout; score = killed / (mutants - equivalent).",
        "",
        "| module | mutants | killed | timeout | survived | no tests | equivalent | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals: Counter[str] = Counter()
    survivors: list[tuple[str, str]] = []
    equivalent: list[tuple[str, str]] = []
    for module, codes in by_module.items():
        counts: Counter[str] = Counter()
        for name, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
            kind = status(code)
            if kind in ("survived", "no tests", "suspicious") and name in EQUIVALENT:
                kind = "equivalent"
                equivalent.append((name, EQUIVALENT[name]))
            elif kind in ("survived", "no tests", "suspicious"):
                survivors.append((name, kind))
            counts[kind] += 1
        totals.update(counts)
        lines.append(_row(module, counts))
    lines.append(_row("**all core modules**", totals))
    lines += ["", f"Runs: {_runs(runs)}", "", f"## Surviving mutants ({len(survivors)})", ""]
    for name, kind in survivors:
        lines += [f"`{name}` ({kind})", "```diff", show(name), "```", ""]
    lines += [f"## Equivalent mutants ({len(equivalent)})", ""]
    for name, reason in equivalent:
        lines += [f"`{name}`: {reason}", "```diff", show(name), "```", ""]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {REPORT}: {_score(totals)} over {sum(totals.values())} mutants")


def _row(module: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    cells = [counts[k] for k in ("killed", "timeout", "survived", "no tests", "equivalent")]
    return f"| {module} | {total} | " + " | ".join(map(str, cells)) + f" | {_score(counts)} |"


def _score(counts: Counter[str]) -> str:
    judged = sum(counts.values()) - counts["equivalent"] - counts["not checked"]
    return f"{100 * (counts['killed'] + counts['timeout']) / judged:.1f}%" if judged else "-"


def _runs(runs: list[dict[str, object]]) -> str:
    return "; ".join(f"{r['started']}: {int(r['seconds']) / 60:.0f} min, {r['children']} workers" for r in runs)


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run").add_argument("--children", type=int, default=2)
    commands.add_parser("report")
    commands.add_parser("show").add_argument("name")
    args = parser.parse_args()
    if args.command == "run":
        run(args.children)
    elif args.command == "report":
        report()
    else:
        print(show(args.name))


if __name__ == "__main__":
    main()
