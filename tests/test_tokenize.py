"""``bbpe tokenize``: the token file is every document's ids plus the end-of-text id, in input order, the same
for every worker count and range size; outputs are one set (nothing partial after a failure)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from _samples import MULTILINGUAL, sample_text

import bbpe
from bbpe.cli import main
from bbpe.corpus import documents
from bbpe.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def vocab(tmp_path_factory) -> Path:
    """A small vocabulary (ids fit uint16) with an end-of-text token and another special."""
    tok = bbpe.train(
        [sample_text(200_000)], vocab_size=700, pattern="cl100k", special_tokens=["<|endoftext|>", "<s>"], workers=1
    )
    path = tmp_path_factory.mktemp("vocab") / "v.json"
    tok.save(path)
    return path


@pytest.fixture
def corpus(tmp_path) -> tuple[Path, list[str]]:
    """A directory of text files (one document each), a JSONL file (one per record) and a .gz file, and the
    documents in the order bbpe reads them (sorted paths)."""
    root = tmp_path / "corpus"
    root.mkdir()
    text = sample_text(60_000)
    (root / "a.txt").write_text(text, encoding="utf-8")
    (root / "a2.txt").write_text(text[:9000], encoding="utf-8")  # two text documents one after the other
    records = [{"text": t} for t in MULTILINGUAL] + [{"text": ""}, {"text": "x <s> y <|endoftext|>"}]
    (root / "b.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n\n", encoding="utf-8"
    )
    with gzip.open(root / "c.txt.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n\n".join(MULTILINGUAL))
    return root, [text, text[:9000], *(r["text"] for r in records), "\n\n".join(MULTILINGUAL)]


def read_back(out: Path) -> tuple[list[int], list[int], dict[str, object]]:
    manifest = json.loads(out.with_name(out.stem + ".json").read_text())
    ids = np.memmap(out, dtype=manifest["dtype"], mode="r") if out.stat().st_size else np.zeros(0, np.uint16)
    ends = np.load(out.with_name(out.stem + ".idx.npy")).tolist()
    return ids.tolist(), ends, manifest


def expected_ids(
    vocab: Path, docs: list[str], eot: str | None, *, allow_special: bool = False
) -> tuple[list[int], list[int]]:
    tok = Tokenizer.load(vocab, engine="python")  # the readable reference, document by document
    ids: list[int] = []
    ends: list[int] = []
    for doc in docs:
        ids += tok.encode(doc, allowed_special="all") if allow_special else tok.encode_ordinary(doc)
        if eot is not None:
            ids.append(tok.special_tokens[eot])
        ends.append(len(ids))
    return ids, ends


@pytest.mark.parametrize(("workers", "range_bytes"), [(1, 8 << 20), (2, 4000), (3, 1500)])
def test_the_file_is_every_document_then_the_end_of_text_id(vocab, corpus, tmp_path, monkeypatch, workers, range_bytes):
    monkeypatch.setattr(documents, "RANGE_BYTES", range_bytes)  # small ranges: one text document spans units
    root, docs = corpus
    out = tmp_path / "train.bin"
    assert main(["tokenize", str(vocab), str(root), "-o", str(out), "--workers", str(workers), "--quiet"]) == 0
    ids, ends, manifest = read_back(out)
    assert (ids, ends) == expected_ids(vocab, docs, "<|endoftext|>")
    assert manifest["dtype"] == "uint16" and out.stat().st_size == 2 * len(ids)
    assert manifest["tokens"] == len(ids) and manifest["documents"] == len(docs)
    assert manifest["eot"] == "<|endoftext|>" and manifest["eot_id"] == 698
    assert manifest["vocabulary"]["sha256"] == __import__("hashlib").sha256(vocab.read_bytes()).hexdigest()


def test_special_tokens_are_text_unless_allowed_and_the_end_of_text_token_can_change(vocab, corpus, tmp_path):
    root, docs = corpus
    out = tmp_path / "t.bin"
    assert main(["tokenize", str(vocab), str(root), "-o", str(out), "--allow-special", "--eot", "<s>", "-q"]) == 0
    assert read_back(out)[:2] == expected_ids(vocab, docs, "<s>", allow_special=True)
    assert main(["tokenize", str(vocab), str(root), "-o", str(out), "--no-eot", "--dtype", "uint32", "-q"]) == 0
    ids, ends, manifest = read_back(out)
    assert (ids, ends) == expected_ids(vocab, docs, None)
    assert manifest["dtype"] == "uint32" and out.stat().st_size == 4 * len(ids)


def test_stdin_is_one_document(vocab, tmp_path, monkeypatch):
    import io
    import sys

    text = "\n".join(MULTILINGUAL * 3)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    out = tmp_path / "s.bin"
    assert main(["tokenize", str(vocab), "-", "-o", str(out), "-q", "--workers", "1"]) == 0
    assert read_back(out)[:2] == expected_ids(vocab, [text], "<|endoftext|>")


def test_parquet_rows_are_documents(vocab, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = MULTILINGUAL + ["", "tail"]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"body": rows, "n": list(range(len(rows)))}), path, row_group_size=3)
    out = tmp_path / "p.bin"
    assert main(["tokenize", str(vocab), str(path), "-o", str(out), "--parquet-column", "body", "-q"]) == 0
    assert read_back(out)[:2] == expected_ids(vocab, rows, "<|endoftext|>")
    assert main(["tokenize", str(vocab), str(path), "-o", str(out), "--parquet-column", "nope", "-q"]) == 2


def test_bad_options_are_one_line(vocab, corpus, tmp_path, capsys):
    out = tmp_path / "x.bin"
    assert main(["tokenize", str(vocab), str(corpus[0]), "-o", str(out), "-q", "--eot", "nope"]) == 2
    err = capsys.readouterr().err
    assert "is not a special token of the vocabulary" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exit_:
        main(["tokenize", str(vocab), str(corpus[0]), "-o", str(out), "--dtype", "uint8"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err
    assert not out.exists()


def test_a_vocabulary_without_an_end_of_text_token_needs_eot_or_no_eot(tmp_path, capsys):
    path = tmp_path / "bytes.json"
    Tokenizer.from_bytes_only().save(path)
    (tmp_path / "a.txt").write_text("hello")
    assert main(["tokenize", str(path), str(tmp_path / "a.txt"), "-o", str(tmp_path / "o.bin"), "-q"]) == 2
    assert "--no-eot" in capsys.readouterr().err
    assert main(["tokenize", str(path), str(tmp_path / "a.txt"), "-o", str(tmp_path / "o.bin"), "-q", "--no-eot"]) == 0
    assert read_back(tmp_path / "o.bin")[0] == list(b"hello")


def test_uint16_that_cannot_hold_the_ids_is_refused(tmp_path, capsys):
    big = {bytes([i]): i for i in range(256)} | {
        bytes([a, b]): 256 + 256 * a + b for a in range(256) for b in range(256)
    }
    path = tmp_path / "big.json"
    Tokenizer(big, pattern="cl100k", special_tokens={"<|endoftext|>": 65_792}).save(path)
    (tmp_path / "a.txt").write_text("AB")
    assert (
        main(["tokenize", str(path), str(tmp_path / "a.txt"), "-o", str(tmp_path / "o.bin"), "--dtype", "uint16"]) == 2
    )
    assert "cannot hold id 65792" in capsys.readouterr().err
    assert main(["tokenize", str(path), str(tmp_path / "a.txt"), "-o", str(tmp_path / "o.bin"), "-q"]) == 0
    ids, _, manifest = read_back(tmp_path / "o.bin")
    assert manifest["dtype"] == "uint32" and ids == [256 + 256 * 65 + 66, 65_792]


def test_a_failed_run_leaves_the_old_files_and_no_temporaries(vocab, corpus, tmp_path, monkeypatch):
    from bbpe import token_files

    root, _ = corpus
    out = tmp_path / "train.bin"
    assert main(["tokenize", str(vocab), str(root), "-o", str(out), "-q", "--workers", "1"]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    calls = []

    def fail_on_second(unit, reading):
        calls.append(unit)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return original(unit, reading)

    original = token_files._encode_unit
    monkeypatch.setattr(token_files, "_encode_unit", fail_on_second)
    assert main(["tokenize", str(vocab), str(root), "-o", str(out), "-q", "--workers", "1"]) == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_an_output_over_an_input_is_refused(vocab, corpus, tmp_path, capsys):
    root, _ = corpus
    target = root / "a.txt"
    before = target.read_bytes()
    assert main(["tokenize", str(vocab), str(root), "-o", str(target), "-q"]) == 2
    assert main(["tokenize", str(vocab), str(root), "-o", str(root / "a.bin"), "-q"]) == 2
    assert target.read_bytes() == before and "input" in capsys.readouterr().err
