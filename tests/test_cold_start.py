""" "auto" and the cold start: compiled kernels run once they are ready (compiled in this process or in
numba's cache) or when the input pays for compiling them; otherwise the paths that need no compile give
the same results.  ``bbpe warmup`` compiles them ahead."""

from __future__ import annotations

import logging
import types
from pathlib import Path

import pytest

pytest.importorskip("numba")

import bbpe
from bbpe import _jit, cli
from bbpe.cli.options import engine_for_input
from bbpe.pretokenize.patterns import CL100K
from bbpe.tokenizer import Tokenizer
from bbpe.training.counting.pretokens import scanner_pays


@pytest.fixture
def nothing_compiled(monkeypatch):
    """No kernel counts as compiled (a new machine), and the one-time notes are fresh."""
    monkeypatch.setattr(_jit, "is_ready", lambda dispatcher: False)
    monkeypatch.setattr(_jit, "_ANNOUNCED", set())


@pytest.fixture
def all_compiled(monkeypatch):
    monkeypatch.setattr(_jit, "is_ready", lambda dispatcher: True)


def text_sample(limit: int = 300_000) -> str:
    """Real text every machine has: Python's own sources."""
    sources = sorted(Path(logging.__file__).parent.parent.glob("*.py"))
    text = "".join(path.read_text(encoding="utf-8", errors="replace") for path in sources[:40])
    return text[:limit]


def test_worth_compiling_when_ready_or_when_the_input_pays(nothing_compiled, caplog):
    kernels = [object()]
    with caplog.at_level(logging.WARNING, logger="bbpe"):
        assert not _jit.worth_compiling(kernels, None) and not _jit.worth_compiling(kernels, 1_000)
        assert not caplog.records  # a small run: no note
        for _ in range(2):
            assert not _jit.worth_compiling(kernels, _jit.COMPILE_PAYS_FROM - 1)
        assert _jit.worth_compiling(kernels, _jit.COMPILE_PAYS_FROM)
    assert _jit.worth_compiling(kernels, 10, pays_from=10) and not _jit.worth_compiling(kernels, 9, pays_from=10)
    notes = [r.getMessage() for r in caplog.records]
    assert len(notes) == 1 and "'bbpe warmup' compiles them once" in notes[0]  # once per process


def test_worth_compiling_takes_ready_kernels_at_any_size(all_compiled):
    assert _jit.worth_compiling([object()], None) and _jit.worth_compiling([object()], 0)


def test_is_ready_sees_kernels_compiled_in_this_process():
    compiled = types.SimpleNamespace(overloads={("int64",): "machine code"})
    assert _jit.is_ready(compiled)


def test_auto_encodes_with_tiktoken_until_the_compiled_engine_is_ready(nothing_compiled):
    assert Tokenizer.from_bytes_only(pattern="o200k").engine == "tiktoken"
    assert Tokenizer.from_bytes_only(pattern="o200k", engine="compiled").engine == "compiled"  # asked for: compiled


def test_auto_encodes_compiled_once_ready(all_compiled):
    assert Tokenizer.from_bytes_only(pattern="o200k").engine == "compiled"
    assert Tokenizer.from_bytes_only(pattern=r"\w+|\s+|[^\w\s]+").engine == "tiktoken"  # not a preset


def test_the_cli_compiles_the_encoder_for_an_input_that_pays(nothing_compiled, monkeypatch):
    monkeypatch.setattr(_jit, "COMPILE_PAYS_FROM", 1_000)
    tokenizer = Tokenizer.from_bytes_only(pattern="cl100k")
    assert tokenizer.engine == "tiktoken"
    assert engine_for_input(tokenizer, 999).engine == "tiktoken"
    assert engine_for_input(tokenizer, None).engine == "tiktoken"  # stdin: size unknown
    large = engine_for_input(tokenizer, 1_000)
    assert large.engine == "compiled"
    text = text_sample(5_000)
    assert large.encode_ordinary(text) == tokenizer.encode_ordinary(text)


def test_the_scanner_counts_when_ready_or_paid_for(nothing_compiled):
    assert not scanner_pays(CL100K, 1_000) and not scanner_pays(CL100K, None)
    assert scanner_pays(CL100K, _jit.COMPILE_PAYS_FROM)
    assert not scanner_pays(r"\w+|\s+", _jit.COMPILE_PAYS_FROM)  # no scanner for a custom pattern


def test_auto_trains_the_same_vocabulary_with_or_without_compiled_kernels(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(text_sample(), encoding="utf-8")
    made = {}
    for ready in (False, True):
        monkeypatch.setattr(_jit, "is_ready", lambda dispatcher, ready=ready: ready)
        made[ready] = bbpe.train([corpus], vocab_size=700, workers=1)
    assert [made[r].metadata["training"]["backend"] for r in (False, True)] == ["python", "numba"]
    assert made[False].ranks == made[True].ranks


def test_a_large_word_table_compiles_the_merge_loop(nothing_compiled, monkeypatch):
    from bbpe.training import merging
    from bbpe.training.loops import reference

    monkeypatch.setattr(merging, "MERGE_LOOP_PAYS_FROM", 3)
    assert merging.merge_backend("auto", unique_words=2) is reference.learn_merges
    assert merging.merge_backend("auto", unique_words=3) is not reference.learn_merges
    assert merging.merge_backend("numba", unique_words=2) is not reference.learn_merges  # asked for: compiled


def test_warmup_readies_every_kernel_family(capsys):
    assert cli.main(["warmup"]) == 0
    err = capsys.readouterr().err
    for what in ("the pre-tokenizer", "the merge loop", "the encoder"):
        assert f"{what}: ready" in err
    from bbpe.encoding import _kernels as encode_kernels
    from bbpe.pretokenize import _scan_kernels
    from bbpe.training.loops.compiled import KERNELS as loop_kernels

    assert all(_jit.is_ready(k) for k in (_scan_kernels.count_into, *loop_kernels, encode_kernels.encode_documents))
    assert cli.main(["warmup", "--quiet"]) == 0 and capsys.readouterr().err == ""


def test_warmup_without_numba_says_how_to_install(without_numba, capsys):
    assert cli.main(["warmup"]) == 2
    assert capsys.readouterr().err.strip() == "bbpe: error: bbpe warmup needs numba: pip install 'bbpe[fast]'"
