"""``bbpe vocab list`` and ``bbpe vocab add NAME FILE``: every reference and every tokenizer with no registry
source is listed; a file is added to the user cache only when its SHA-256 is the reference's."""

from __future__ import annotations

import base64
import hashlib
from types import MappingProxyType

import pytest

from bbpe import cli
from bbpe.references import Reference, table

pytestmark = pytest.mark.references

RANKS = "".join(f"{base64.b64encode(bytes([i])).decode()} {i}\n" for i in range(256)).encode()
FAKE = Reference("fake", "fake.tiktoken", hashlib.sha256(RANKS).hexdigest(), "tiktoken", 256, "gpt2", {}, "t", "x")


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BBPE_NO_SHARED", "1")
    monkeypatch.delenv("BBPE_VOCAB_DIR", raising=False)
    return tmp_path


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("bbpe: error: "), err
    return err[0]


def test_list_shows_every_reference_and_the_ones_no_registry_ships(sandbox, capsys):
    assert cli.main(["vocab", "list"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(rows) == {*table.REFERENCES, *table.NO_REGISTRY_SOURCE}
    for name in ("qwen2.5", "qwen3.5", "deepseek_llm", "deepseek_coder", "deepseek_v3", "glm4", "gemma4"):
        assert f"{table.get(name).vocab_size:,}" in rows[name]
    for name in ("chatglm", "chatglm2", "internlm", "internlm2", "baichuan2", "yi"):
        assert "no registry source: Hugging Face" in rows[name]
        assert table.NO_REGISTRY_SOURCE[name].where in rows[name]


def test_add_puts_a_file_with_the_right_sha256_into_the_cache(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": FAKE}))
    (sandbox / "mine.tiktoken").write_bytes(RANKS)
    assert cli.main(["vocab", "add", "fake", str(sandbox / "mine.tiktoken")]) == 0
    assert (sandbox / "xdg/bbpe/vocabs/fake.tiktoken").read_bytes() == RANKS
    assert f"sha256 {FAKE.sha256} ok" in capsys.readouterr().out
    assert cli.main(["vocab", "verify", "fake"]) == 0


def test_add_refuses_other_files_in_one_line_and_writes_nothing(sandbox, monkeypatch, capsys):
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": FAKE, **table.REFERENCES}))
    (sandbox / "other.tiktoken").write_bytes(RANKS + b"YWI= 256\n")
    assert cli.main(["vocab", "add", "fake", str(sandbox / "other.tiktoken")]) == 2
    line = one_error(capsys)
    assert f"is not reference 'fake''s ({FAKE.sha256}); not added" in line
    assert cli.main(["vocab", "add", "yi", str(sandbox / "other.tiktoken")]) == 2
    line = one_error(capsys)
    assert "'yi' (Yi) has no registry source and no known SHA-256" in line and "01-ai/Yi-6B" in line
    assert cli.main(["vocab", "add", "fake", str(sandbox / "absent.model")]) == 2
    assert "no such file to add as reference 'fake'" in one_error(capsys)
    assert cli.main(["vocab", "add", "fake"]) == 2
    assert "vocab add needs a reference name and a file" in one_error(capsys)
    assert cli.main(["vocab", "fetch", "fake", str(sandbox / "other.tiktoken")]) == 2
    assert "takes no file argument" in one_error(capsys)
    assert not (sandbox / "xdg").exists()
