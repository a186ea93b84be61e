"""The mutation score of the test suite over bbpe's core modules, with mutmut (slow: not in CI, not in make test).

    python scripts/mutation.py run [--children 2] [--nice 5] [GROUP ...]  # mutate and test (resumable)
    python scripts/mutation.py retest GROUP NAME ...           # re-test some mutants after new tests
    python scripts/mutation.py report                          # reports/mutation.md and .json from the results
    python scripts/mutation.py show NAME                       # one mutant's diff

Why mutmut (3.8.1, ``pip install mutmut==3.8.1``; Linux/WSL: it forks a worker per mutant): it is maintained
(releases in 2025-26), needs no database or config server (cosmic-ray needs a session file, a worker setup and
one full test run per mutant unless filtered by hand; pytest-gremlins is young and runs inside pytest's process),
and it selects tests per mutant by itself: it rewrites every function of a mutated module into a trampoline that
runs the original or one mutant (an operator, a constant, a condition, an argument changed), records once which
tests call which function, and then runs for each mutant only those tests, fastest first, stopping at the first
failure.  Forking from a process that has already imported bbpe, numpy and the tests makes a mutant cost
milliseconds to seconds, which is what makes ~5,000 mutants fit in about an hour on two cores.

A mutant is *killed* when a test fails (or it hangs past mutmut's timeout: 15x the tests' time + 1 s), *survives*
when they all pass.  The score is (killed + timeout) / (mutants - equivalent - cosmetic), where an equivalent
mutant cannot change any result (listed with the reason in ``EQUIVALENT``) and a cosmetic one changes only the
wording or case of a human-readable error message, or the capacity of a bounded cache, never an id, a file, a number
or which input is refused (``COSMETIC``, each with the reason: a test pinning such a string would test nothing).

The modules run in ``GROUPS``, one after another, each in its own copy of the repository under
``.cache/mutation/GROUP`` (git-ignored; the working tree is never touched) and each with only the test files that
exercise it (``GROUPS[...].tests``, without the ``slow`` real-corpus checks); within those, mutmut runs per mutant
only the tests that reach the mutated function.  Hypothesis runs derandomized in the copies (the same examples for
every mutant, no deadline: the trampolines are slower), so a result does not depend on the luck of a draw.
numba kernels are not mutated: a mutant inside compiled code would need a compile per mutant, and the kernels are
checked against the pure-Python reference loops by their own tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / ".cache" / "mutation"
REPORT = REPO / "reports" / "mutation.md"
MUTMUT = str(Path(sys.executable).parent / "mutmut")  # the console script (``python -m mutmut`` loses its stats)


@dataclass(frozen=True)
class Group:
    """Modules mutated in one mutmut run, and the test files that exercise them."""

    modules: tuple[str, ...]
    tests: tuple[str, ...]


GROUPS = {
    "bpe": Group(
        ("bbpe/bpe/reference.py",),
        ("test_references.py", "test_reference_sources.py", "test_bpe_golden.py", "test_tokenizer.py"),
    ),
    "tokenizer": Group(
        (
            "bbpe/tokenizer.py",
            "bbpe/vocabulary.py",
            "bbpe/encoding/specials.py",
            "bbpe/encoding/normalization.py",
            "bbpe/encoding/coverage.py",
            "bbpe/encoding/encoder.py",
            "bbpe/encoding/python_engine.py",
        ),
        (
            "test_tokenizer.py",
            "test_specials.py",
            "test_token_view.py",
            "test_normalization.py",
            "test_compiled_engine.py",
            "test_added_tokens.py",
        ),
    ),
    "pretokenize": Group(
        ("bbpe/pretokenize/patterns.py", "bbpe/pretokenize/safe_cuts.py"),
        ("test_patterns.py", "test_documents.py", "test_superword.py", "test_normalization.py"),
    ),
    "training": Group(
        (
            "bbpe/training/merging.py",
            "bbpe/training/api.py",
            "bbpe/training/loops/reference.py",
            "bbpe/training/methods/extend.py",
        ),
        (
            "test_bpe_golden.py",
            "test_api_arguments.py",
            "test_extension.py",
            "test_segmenting.py",
            "test_numba_backend.py",
            "test_superword.py",
            "test_parity.py",
            "test_cli.py",
        ),
    ),
    "report": Group(("bbpe/report/metrics.py",), ("test_report.py", "test_fairness.py", "test_report_held_out.py")),
    "formats": Group(
        (
            "bbpe/formats/native.py",
            "bbpe/formats/tiktoken_file.py",
            "bbpe/formats/hf.py",
            "bbpe/formats/hf_read.py",
            "bbpe/formats/counts.py",
        ),
        (
            "test_formats.py",
            "test_hf_export.py",
            "test_hf_import.py",
            "test_transformers_export.py",
            "test_hostile_files.py",
            "test_counts.py",
            "test_word_counts.py",
            "test_added_tokens.py",
            "test_normalization.py",
        ),
    ),
}

COPIED = ["bbpe", "tests", "scripts", "corpora", "README.md"]  # the package, its tests and what they read
HYPOTHESIS_PROFILE = """
# added by scripts/mutation.py in its copy: the same examples for every mutant, no deadline
import hypothesis as _hypothesis

_hypothesis.settings.register_profile("mutation", derandomize=True, deadline=None, database=None)
_hypothesis.settings.load_profile("mutation")
"""

# Mutants no input can tell apart from the original, with the reason (mutmut's names: module.x_function__mutmut_N).
EQUIVALENT: dict[str, str] = {
    "bbpe.bpe.reference.x_bpe_split__mutmut_10": "`after` gets an extra entry at index n; only parts starting below n "
    "are ever read (`after[end]` is read only when `end < n`).",
    "bbpe.bpe.reference.x_bpe_split__mutmut_19": "`before` gets extra entries at n and n + 1; `before` is read and "
    "written only at part starts below n.",
    "bbpe.bpe.reference.x_bpe_split__mutmut_52": "a merged-away part is marked -3 instead of -2: the mark is only "
    "compared with a part start (`!= left`, never negative) and never read as `before[left]` of a live part.",
    "bbpe.encoding.python_engine.xǁPythonEngineǁ_encode_piece__mutmut_1": "the piece cache is never read: every "
    "piece is encoded again by bpe_encode, the same ids, only slower.",
    "bbpe.encoding.python_engine.xǁPythonEngineǁ_encode_piece__mutmut_13": "the cache stores None, so every lookup "
    "misses and the piece is encoded again: the same ids, only slower.",
    "bbpe.encoding.python_engine.xǁPythonEngineǁ__init____mutmut_6": "needs_check(None) is True: the coverage check "
    "also runs for the presets, which match every character (test_the_patterns_that_skip_the_check_match_every_"
    "character), so it never raises for them; only slower.",
    "bbpe.encoding.encoder.x_new_engine__mutmut_13": "the tiktoken engine only encodes ordinary text (no special "
    "tokens reach it) and decodes; decoding a special token's id without them raises KeyError in tiktoken, which "
    "Tokenizer.decode_bytes catches and answers by the Python path: the same bytes.",
    "bbpe.encoding.encoder.xǁEncoderǁ__init____mutmut_13": "the set of regular ids is built also without added "
    "tokens; it is only read for added tokens, so own_ids is empty either way.",
    "bbpe.report.metrics.x_build_report__mutmut_26": "the encode jobs run shortest first instead of longest first: "
    "only how the threads are balanced changes; every result is stored under its (tokenizer, corpus, language).",
    "bbpe.report.metrics.x_vocab_curve__mutmut_35": "the progress stage named 'CURVE' instead of 'curve': its only "
    "reader (the report's progress printer) tells 'encode' from anything else, so it prints the same line.",
    "bbpe.training.merging.x__preload__mutmut_11": "the warm-up call only compiles the numba loop; its result is "
    "discarded and b'AB' has the same argument types as b'ab'.",
    "bbpe.training.merging.x__preload__mutmut_16": "the warm-up call's result is discarded; n_new_tokens=2 compiles "
    "the same loop.",
    "bbpe.training.methods.extend.x_extend_from_counts__mutmut_32": "the segmenter's default engine instead of the "
    "base's: both engines give the same ids (test_tiktoken_segmenter_equals_the_python_encoder); only speed differs.",
}

# Mutants that change only a human-readable message's wording or a bounded cache's capacity, with the reason.
COSMETIC: dict[str, str] = {
    "bbpe.encoding.coverage.x_dropped_text__mutmut_12": "the case of an error message (the branch where Python's "
    "regex covers the text and tiktoken's engine does not); the error and its type are unchanged.",
    "bbpe.encoding.specials.xǁSpecialTokensǁsegments__mutmut_22": "the case of the disallowed-special error's advice; "
    "the error, its type and the token it names (tested) are unchanged.",
    "bbpe.encoding.specials.xǁSpecialTokensǁ_with_added__mutmut_7": "the cut-set cache keeps 65 entries instead of 64: "
    "still bounded (tested with 300 distinct arguments), the same segments.",
    "bbpe.formats.native.x_read__mutmut_16": "the refusal's message wrapped in XX; the error, its type and the file "
    "it names are unchanged (tests match the words, which remain).",
    "bbpe.formats.native.x__normalization__mutmut_11": "the refusal's message wrapped in XX; the error, its type and "
    "the file it names are unchanged.",
}

# Survivors of the last run killed since by a new test (checked by applying the mutant by hand and running it).
KILLED_SINCE: dict[str, str] = {
    "bbpe.bpe.reference.x_bpe_encode__mutmut_1": "test_bpe_golden::test_a_pre_token_that_is_a_token_is_one_id_even_"
    "when_merging_cannot_reach_it",
    "bbpe.bpe.reference.x_bpe_encode__mutmut_2": "test_bpe_golden::test_a_pre_token_that_is_a_token_is_one_id_even_"
    "when_merging_cannot_reach_it",
    "bbpe.bpe.reference.x_bpe_split__mutmut_28": "test_bpe_golden::test_bpe_split_below_a_tokens_own_rank_gives_the_"
    "pair_it_is_built_from",
    "bbpe.training.methods.extend.x_load_base__mutmut_3": "test_extension::test_a_tiktoken_file_base_takes_the_given_"
    "pattern_and_is_named_in_the_metadata",
    "bbpe.training.methods.extend.x_load_base__mutmut_5": "test_extension::test_a_tiktoken_file_base_takes_the_given_"
    "pattern_and_is_named_in_the_metadata",
    "bbpe.training.methods.extend.x_load_base__mutmut_23": "test_extension::test_a_tiktoken_file_base_takes_the_given_"
    "pattern_and_is_named_in_the_metadata",
    "bbpe.training.methods.extend.x_load_base__mutmut_24": "test_extension::test_a_tiktoken_file_base_takes_the_given_"
    "pattern_and_is_named_in_the_metadata",
    "bbpe.training.methods.extend.x_extend_from_counts__mutmut_55": "test_extension::test_a_tiktoken_file_base_"
    "takes_the_given_pattern_and_is_named_in_the_metadata",
    "bbpe.training.methods.extend.x_unreachable_tokens__mutmut_8": "test_extension::test_unreachable_tokens_are_"
    "judged_in_rank_order",
    "bbpe.vocabulary.xǁVocabularyǁ__post_init____mutmut_35": "test_tokenizer::test_a_vocabulary_keeps_copies_of_what_"
    "it_is_given",
    "bbpe.vocabulary.xǁVocabularyǁof__mutmut_12": "test_added_tokens::test_another_engine_keeps_the_added_tokens",
    "bbpe.vocabulary.x_check_tokens__mutmut_14": "test_tokenizer::test_a_bad_id_is_named_with_its_token",
    "bbpe.encoding.specials.xǁSpecialTokensǁresolve__mutmut_28": "test_specials::test_special_tokens_resolve_and_cache",
    "bbpe.encoding.specials.xǁSpecialTokensǁ_as_set__mutmut_23": "test_specials::test_an_unknown_special_token_is_"
    "named_with_the_known_ones_or_a_sign_that_there_are_more",
    "bbpe.encoding.encoder.xǁEncoderǁencode_batch_flat__mutmut_15": "test_tokenizer::test_batches_to_numpy_equal_"
    "tiktoken_on_every_engine",
    "bbpe.formats.hf_read.x__regular_tokens__mutmut_11": "test_hf_import::test_an_added_token_spelled_like_a_byte_"
    "level_key_is_refused",
    "bbpe.formats.counts.x_read__mutmut_24": "test_counts::test_a_different_pattern_than_requested_is_refused",
    "bbpe.formats.counts.x__columns__mutmut_59": "test_counts::test_a_zero_count_is_an_unsigned_count_like_any_other",
    "bbpe.formats.tiktoken_file.x_write__mutmut_3": "test_normalization::test_tiktoken_export_warns_that_it_drops_the_"
    "normalization (an existing test; its file joined the group)",
    "bbpe.formats.hf.x_merges_of__mutmut_16": "test_hf_export::test_merges_list_every_pair_that_spells_a_token_bpes_"
    "own_first",
    "bbpe.formats.native.x__added_tokens__mutmut_17": "test_normalization::test_native_file_with_normalization_is_"
    "version_2 (an existing test; its file joined the group)",
    "bbpe.report.metrics.xǁCompressionReportǁas_dict__mutmut_11": "test_report::test_the_json_holds_the_vocab_curve_"
    "and_the_other_tokenizers_points",
    "bbpe.report.metrics.x__summary__mutmut_74": "test_report::test_summary_totals_progress_and_throughput_on_hand_"
    "counted_corpora",
    "bbpe.report.metrics.x__summary__mutmut_110": "test_report::test_summary_totals_progress_and_throughput_on_hand_"
    "counted_corpora",
    "bbpe.report.metrics.x__run_parallel__mutmut_14": "test_report::test_summary_totals_progress_and_throughput_on_"
    "hand_counted_corpora",
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout", 37: "type check"}
STATUS |= {code: "timeout" for code in (-24, 24, 152, 255)} | {-11: "crashed", -9: "crashed"}
CAUGHT = ("killed", "timeout", "crashed", "killed since")


# A test about where the repository sits (false in a copy), and one that opens every reference adapter (100+ s,
# its bpe use is covered by test_tokenizer and test_reference_sources).
DESELECTED = [
    "tests/test_references.py::test_shared_dirs_look_beside_cwd_and_repo",
    "tests/test_references.py::test_open_encoder_kinds_and_flags",
]


def test_args(group: Group) -> list[str]:
    files = [f"tests/{name}" for name in group.tests]
    deselected = [f"--deselect={test}" for test in DESELECTED if test.split("::")[0] in files]
    return [*files, "-m", "not slow", "-p", "no:cacheprovider", *deselected]


def mutmut_config(group: Group) -> str:
    """The [tool.mutmut] table appended to the copy's pyproject.toml."""
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["bbpe"]\n'
        f"only_mutate = {json.dumps(list(group.modules))}\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(test_args(group))}\n"
        f"also_copy = {json.dumps(COPIED[2:])}\n"
        "use_git_change_detection = false\n"
    )


def sync_copy(name: str) -> Path:
    """Copy the package, the tests, what they read and pyproject.toml (plus the mutmut table) into WORK/name,
    keeping modification times (mutmut regenerates the mutants of a file whose source is newer than its copy)."""
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    for item in COPIED:
        if (REPO / item).is_file():
            _copy_if_changed(str(REPO / item), str(work / item))
            continue
        shutil.copytree(
            REPO / item,
            work / item,
            dirs_exist_ok=True,
            copy_function=_copy_if_changed,
            ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"),
        )
    conftest = work / "tests" / "conftest.py"
    text = conftest.read_text(encoding="utf-8")
    if HYPOTHESIS_PROFILE not in text:
        conftest.write_text(text + HYPOTHESIS_PROFILE, encoding="utf-8")
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8") + mutmut_config(GROUPS[name])
    if not (work / "pyproject.toml").is_file() or (work / "pyproject.toml").read_text(encoding="utf-8") != pyproject:
        (work / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    return work


def _copy_if_changed(source: str, target: str) -> None:
    with_profile = (
        Path(source).read_text(encoding="utf-8") + HYPOTHESIS_PROFILE if target.endswith("conftest.py") else ""
    )
    if Path(target).is_file() and Path(target).read_text(encoding="utf-8") == with_profile:
        return  # the copy's conftest.py, with the hypothesis profile added
    if not Path(target).is_file() or Path(target).read_bytes() != Path(source).read_bytes():
        shutil.copy2(source, target)


def run(names: list[str], *, children: int, niceness: int, sample: int = 0, mutants: list[str] | None = None) -> None:
    """Mutate and test each group in turn: every mutant, ``sample`` mutants per module, or the given ``mutants``."""
    for name in names:
        work = sync_copy(name)
        env = dict(os.environ, PYTHONPATH=str(work / "mutants"))  # tests' subprocesses import the mutated copy too
        start, started = time.monotonic(), time.strftime("%Y-%m-%d %H:%M")
        kind = "retest" if mutants else "sample" if sample else "all"
        command = ["nice", "-n", str(niceness), MUTMUT, "run", "--max-children", str(children)]
        if sample and not mutants:
            # mutmut makes the mutants and records which tests reach them, then finds no mutant of this name
            subprocess.run([*command, "none-such-mutant"], cwd=work, env=env, check=False, capture_output=True)
            mutants = sampled(name, sample)
        done = subprocess.run([*command, *(mutants or [])], cwd=work, env=env, check=False)
        elapsed = time.monotonic() - start
        log = WORK / "runs.json"
        runs = json.loads(log.read_text()) if log.is_file() else []
        runs.append({"group": name, "started": started, "seconds": round(elapsed), "children": children})
        runs[-1] |= {"kind": kind, "exit": done.returncode} | ({"mutants": len(mutants)} if mutants else {})
        log.write_text(json.dumps(runs, indent=1))
        print(f"{name}: mutmut ran {elapsed / 60:.1f} min (exit code {done.returncode})", flush=True)
        mutants = None


def sampled(name: str, size: int) -> list[str]:
    """``size`` mutants of each module of group ``name``, drawn with a fixed seed (the same on every run)."""
    chosen: list[str] = []
    for module in GROUPS[name].modules:
        meta = WORK / name / "mutants" / (module + ".meta")
        keys = sorted(json.loads(meta.read_text())["exit_code_by_key"], key=_natural)
        chosen += random.Random(f"mutation {module}").sample(keys, min(size, len(keys)))
    return chosen


def results() -> dict[str, dict[str, int | None]]:
    """module path -> mutant name -> exit code (None: not checked yet)."""
    found = {}
    for name, group in GROUPS.items():
        for module in group.modules:
            meta = WORK / name / "mutants" / (module + ".meta")
            if meta.is_file():
                found[module] = json.loads(meta.read_text())["exit_code_by_key"]
    return found


def group_of(mutant: str) -> str:
    """The group whose run holds ``mutant``."""
    for name, group in GROUPS.items():
        for module in group.modules:
            meta = WORK / name / "mutants" / (module + ".meta")
            if meta.is_file() and mutant in json.loads(meta.read_text())["exit_code_by_key"]:
                return name
    raise SystemExit(f"no mutant {mutant} in {WORK}")


def show(mutant: str) -> str:
    done = subprocess.run(
        [MUTMUT, "show", mutant],
        cwd=WORK / group_of(mutant),
        capture_output=True,
        text=True,
        check=False,
    )
    diff = [line for line in done.stdout.splitlines() if line.startswith(("+", "-")) and line[:3] not in ("---", "+++")]
    return "\n".join(diff)


def status(code: int | None) -> str:
    return "not checked" if code is None else STATUS.get(code, "suspicious")


def report(status_note: str = "") -> None:
    by_module = results()
    runs = json.loads((WORK / "runs.json").read_text()) if (WORK / "runs.json").is_file() else []
    lines = [
        "# Mutation score of the test suite",
        "",
        "`python scripts/mutation.py run` then `report` (mutmut 3.8.1; the script's docstring gives the method).",
        "Each group of modules is tested with its own test files (`-m 'not slow'`), and each mutant only with those",
        "of them that reach the mutated function. Killed = a test failed, the mutant hung past the timeout or",
        "crashed the worker; *killed since*: a survivor of the run that a test added afterwards kills (checked by",
        "applying the mutant by hand); *cosmetic*: changes only an error message's wording or case, or a bounded",
        "cache's capacity (each listed with the reason); score = (killed + timeout + crashed + killed since) /",
        "(mutants - equivalent - cosmetic - not checked).",
        "A module with mutants *not checked* was sampled (`run --sample N`: N mutants per module, fixed seed), so its",
        "score is an estimate on the sample. The copies have no `../shared` beside them: the tests run as on a user's",
        "machine (portable text; reference vocabularies fetched once into the user cache).",
        "",
        *([f"**Status.** {status_note}", ""] if status_note else []),
        "| group | tests |",
        "| --- | --- |",
        *(f"| {name} | {', '.join(group.tests)} |" for name, group in GROUPS.items()),
        "",
        "| module | mutants | killed | timeout | crashed | killed since | survived | no tests | equivalent | cosmetic "
        "| not checked | score |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals: Counter[str] = Counter()
    survivors: list[tuple[str, str]] = []
    equivalent: list[tuple[str, str]] = []
    cosmetic: list[tuple[str, str]] = []
    killed_since: list[tuple[str, str]] = []
    table: dict[str, dict[str, int | str]] = {}
    for module, codes in by_module.items():
        counts: Counter[str] = Counter()
        for name, code in sorted(codes.items(), key=lambda item: _natural(item[0])):
            kind = status(code)
            if kind not in CAUGHT and kind != "not checked" and name in KILLED_SINCE:
                kind = "killed since"
                killed_since.append((name, KILLED_SINCE[name]))
            elif kind not in CAUGHT and kind != "not checked" and name in EQUIVALENT:
                kind = "equivalent"
                equivalent.append((name, EQUIVALENT[name]))
            elif kind not in CAUGHT and kind != "not checked" and name in COSMETIC:
                kind = "cosmetic"
                cosmetic.append((name, COSMETIC[name]))
            elif kind not in CAUGHT and kind != "not checked":
                survivors.append((name, kind))
            counts[kind] += 1
        totals.update(counts)
        lines.append(_row(module, counts))
        table[module] = {**counts, "mutants": sum(counts.values()), "score": _score(counts)}
    lines.append(_row("**all core modules** (score: the checked mutants only)", totals))
    table["all"] = {**totals, "mutants": sum(totals.values()), "score": _score(totals)}
    lines += ["", "Runs (machine shared with other engineers, load 4-10 on 2 cores):", "", _runs(runs)]
    lines += ["", f"## Surviving mutants ({len(survivors)})", ""]
    for name, kind in survivors:
        lines += [f"`{name}` ({kind})", "```diff", show(name), "```", ""]
    lines += [f"## Survivors killed since by a new test ({len(killed_since)})", ""]
    for name, test in killed_since:
        lines += [f"`{name}`: {test}", "```diff", show(name), "```", ""]
    lines += [f"## Equivalent mutants ({len(equivalent)})", ""]
    for name, reason in equivalent:
        lines += [f"`{name}`: {reason}", "```diff", show(name), "```", ""]
    lines += [f"## Cosmetic mutants ({len(cosmetic)})", ""]
    for name, reason in cosmetic:
        lines += [f"`{name}`: {reason}", "```diff", show(name), "```", ""]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = {
        "modules": table,
        "survived": [n for n, _ in survivors],
        "killed_since": dict(killed_since),
        "equivalent": dict(equivalent),
        "cosmetic": dict(cosmetic),
        "runs": runs,
    }
    REPORT.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {REPORT}: {_score(totals)} over {sum(totals.values())} mutants")


COLUMNS = (
    "killed",
    "timeout",
    "crashed",
    "killed since",
    "survived",
    "no tests",
    "equivalent",
    "cosmetic",
    "not checked",
)


def _row(module: str, counts: Counter[str]) -> str:
    cells = [counts[k] for k in COLUMNS]
    return f"| {module} | {sum(counts.values())} | " + " | ".join(map(str, cells)) + f" | {_score(counts)} |"


def _score(counts: Counter[str]) -> str:
    """Caught / judged mutants; on a sample, with its 95% Wilson interval."""
    judged = sum(counts.values()) - counts["equivalent"] - counts["cosmetic"] - counts["not checked"]
    if not judged:
        return "-"
    share = sum(counts[k] for k in CAUGHT) / judged
    if not counts["not checked"]:
        return f"{100 * share:.1f}%"
    z = 1.96
    centre = (share + z * z / (2 * judged)) / (1 + z * z / judged)
    half = z * math.sqrt(share * (1 - share) / judged + z * z / (4 * judged * judged)) / (1 + z * z / judged)
    return f"{100 * share:.1f}% ({100 * (centre - half):.0f}-{100 * (centre + half):.0f}%)"


def _runs(runs: list[dict[str, object]]) -> str:
    """One line per run: group, start, minutes, workers, what was tested, and how it ended."""
    lines = []
    for r in runs:
        workers = f"{r['children']} worker{'s' if r['children'] != 1 else ''}"
        tested = {"sample": f"{r.get('mutants')} sampled", "retest": f"{r.get('mutants')} re-tested"}.get(
            str(r.get("kind")), "all mutants"
        )
        ended = f"; {r['note']}" if "note" in r else ""
        lines.append(
            f"- {r['group']}, {r['started']}: {int(str(r['seconds'])) / 60:.0f} min, {workers}, {tested}{ended}"
        )
    return "\n".join(lines)


def _natural(name: str) -> tuple[str, int]:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    running = commands.add_parser("run")
    running.add_argument("--children", type=int, default=2)
    running.add_argument("--nice", type=int, default=5, help="niceness of mutmut and its workers (default 5)")
    running.add_argument("--sample", type=int, default=0, help="test this many mutants per module (default: all)")
    running.add_argument("groups", nargs="*", help=f"some of {', '.join(GROUPS)} (default: all)")
    retest = commands.add_parser("retest")
    retest.add_argument("--children", type=int, default=2)
    retest.add_argument("--nice", type=int, default=5)
    retest.add_argument("group", choices=list(GROUPS))
    retest.add_argument("mutants", nargs="+")
    commands.add_parser("report").add_argument("--status", default="", help="a status paragraph for the report")
    commands.add_parser("show").add_argument("name")
    args = parser.parse_args()
    if args.command == "run":
        unknown = set(args.groups) - set(GROUPS)
        if unknown:
            parser.error(f"unknown groups: {', '.join(sorted(unknown))}")
        run(args.groups or list(GROUPS), children=args.children, niceness=args.nice, sample=args.sample)
    elif args.command == "retest":
        run([args.group], children=args.children, niceness=args.nice, mutants=args.mutants)
    elif args.command == "report":
        report(args.status)
    else:
        print(show(args.name))


if __name__ == "__main__":
    main()
