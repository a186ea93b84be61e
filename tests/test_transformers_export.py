"""``bbpe export --format transformers`` / ``Tokenizer.save_pretrained``: transformers gives bbpe's ids.

Checked on real multilingual text (the parallel corpora in ../shared when present, else a
multi-script sample shipped here) for a trained, an extended and the reference vocabularies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PARALLEL_DIR

import bbpe
from bbpe import references
from bbpe.cli import main
from bbpe.errors import VocabFormatError
from bbpe.formats import transformers_dir

transformers = pytest.importorskip("transformers")

SHIPPED = [
    "The quick brown fox jumps over the lazy dog; it's 2024-05-01, 3.14159 and $1,000,000.",
    "Der Größenwahn ließ Jürgen öfter über Straßen gehen.  Ça va très bien, merci !",
    "我们在北京的大学学习中文，每天早上八点上课。日本語のテキストも少し：こんにちは、世界。",
    "한국어 문장도 있습니다. Привет, как дела? Всё хорошо. مرحبا بالعالم، كيف حالك؟",
    "नमस्ते दुनिया, आप कैसे हैं? สวัสดีครับ ยินดีต้อนรับ ሰላም ለዓለም Γειά σου Κόσμε",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code\n\n\tindented\r\nemoji 🤗🧪👩‍💻 and  many   spaces   ",
]


def parallel_lines(per_file: int | None) -> list[str]:
    """Non-empty lines of every parallel corpus file (the first ``per_file`` of each), else the shipped text."""
    files = sorted(PARALLEL_DIR.rglob("*.txt")) if PARALLEL_DIR.is_dir() else []
    lines = []
    for path in files:
        found = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        lines += found[:per_file]
    return lines or SHIPPED


def assert_same_ids(directory: Path, tokenizer: bbpe.Tokenizer, texts: list[str]) -> None:
    loaded = transformers.AutoTokenizer.from_pretrained(str(directory))
    assert loaded.is_fast and isinstance(loaded, transformers.PreTrainedTokenizerFast)
    ids = loaded(texts, add_special_tokens=False)["input_ids"]
    assert ids == tokenizer.encode_batch(texts, disallowed_special=())
    assert loaded(texts[:50])["input_ids"] == ids[:50]  # the defaults add no BOS/EOS
    assert [loaded.decode(i) for i in ids[:200]] == texts[:200]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[bbpe.Tokenizer, Path]:
    text = "\n".join(parallel_lines(60) * (1 if PARALLEL_DIR.is_dir() else 30))
    tok = bbpe.train([text], vocab_size=3000, pattern="qwen", special_tokens=["<|endoftext|>"], workers=1)
    path = tmp_path_factory.mktemp("trained") / "v.json"
    tok.save(path)
    return tok, path


def test_trained_vocab_loads_in_transformers_with_same_ids(trained, tmp_path):
    tok, _ = trained
    roles = tok.save_pretrained(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(transformers_dir.FILES)
    assert roles["eos_token"] == roles["pad_token"] == "<|endoftext|>" and roles["bos_token"] is None
    assert_same_ids(tmp_path / "out", tok, parallel_lines(40))


def test_extended_vocab_loads_in_transformers_with_same_ids(trained, tmp_path):
    _, base = trained
    text = "\n".join(SHIPPED * 20)
    extended = bbpe.train([text], vocab_size=3100, init=str(base), workers=1)
    assert extended.metadata["training"]["init"]["kept"] == len(bbpe.load(base).ranks)  # every base token kept
    extended.save_pretrained(tmp_path / "ext")
    assert_same_ids(tmp_path / "ext", extended, parallel_lines(20) + SHIPPED)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["qwen", "cl100k_base"])
def test_reference_export_gives_the_reference_ids(name, tmp_path, capsys):
    try:
        references.locate(name)
    except references.ReferenceNotFound as exc:
        pytest.skip(f"{name} not found: {exc}")
    assert main(["export", name, "--format", "transformers", "-o", str(tmp_path / name)]) == 0
    assert "eos=<|endoftext|>" in capsys.readouterr().out
    reference = bbpe.load(name)
    # qwen on every line of the parallel corpora (tiktoken with Qwen's ranks and pattern is Qwen's tokenizer)
    assert_same_ids(tmp_path / name, reference, parallel_lines(None if name == "qwen" else 100))


def test_special_tokens_roles_from_the_cli(trained, tmp_path, capsys):
    tok, path = trained
    eot = tok.special_tokens["<|endoftext|>"]
    out = tmp_path / "chat"
    argv = [
        "export",
        str(path),
        "--format",
        "transformers",
        "-o",
        str(out),
        "--bos",
        "<|begin|>",
        "--pad",
        "none",
        "--add-special",
        "<|im_start|>",
        "--add-special",
        "<|im_end|>",
    ]
    assert main(argv) == 0
    assert "bos=<|begin|>, eos=<|endoftext|>, pad=None" in capsys.readouterr().out
    config = json.loads((out / "tokenizer_config.json").read_text())
    assert config["additional_special_tokens"] == ["<|im_start|>", "<|im_end|>"]
    assert config["clean_up_tokenization_spaces"] is False
    special_map = json.loads((out / "special_tokens_map.json").read_text())
    assert special_map["bos_token"] == "<|begin|>" and "pad_token" not in special_map

    hf = transformers.AutoTokenizer.from_pretrained(str(out))
    back = bbpe.load(out)  # directory detection
    assert back.special_tokens == {
        "<|endoftext|>": eot,
        "<|begin|>": eot + 1,
        "<|im_start|>": eot + 2,
        "<|im_end|>": eot + 3,
    }
    assert (hf.bos_token, hf.eos_token, hf.pad_token) == ("<|begin|>", "<|endoftext|>", None)
    assert hf.convert_tokens_to_ids(["<|begin|>", "<|im_start|>", "<|im_end|>"]) == [eot + 1, eot + 2, eot + 3]
    chat = "<|im_start|>user\nBonjour, ça va ?<|im_end|>\n<|im_start|>assistant\n你好<|im_end|><|endoftext|>"
    ids = hf.encode(chat)
    assert ids == back.encode(chat, allowed_special="all")
    assert ids.count(eot + 2) == 2 and ids[-1] == eot
    assert hf.decode(ids) == chat
    assert hf.decode(ids, skip_special_tokens=True) == "user\nBonjour, ça va ?\nassistant\n你好"


def test_load_directory_and_encode_from_the_cli(trained, tmp_path, capsys):
    tok, _ = trained
    tok.save_pretrained(tmp_path / "d")
    back = bbpe.load(tmp_path / "d")
    assert back.ranks == tok.ranks and back.special_tokens == tok.special_tokens
    assert main(["encode", str(tmp_path / "d"), "Grüße aus Köln"]) == 0
    assert capsys.readouterr().out.split() == [str(i) for i in tok.encode("Grüße aus Köln")]


def test_export_into_an_existing_model_directory_keeps_other_files(trained, tmp_path):
    tok, _ = trained
    (tmp_path / "config.json").write_text("{}")
    tok.save_pretrained(tmp_path, eos=None, pad=None)
    assert (tmp_path / "config.json").read_text() == "{}"
    assert json.loads((tmp_path / "special_tokens_map.json").read_text()) == {
        "additional_special_tokens": ["<|endoftext|>"]
    }


def test_bad_targets_and_sources(trained, tmp_path, capsys):
    _, path = trained
    (tmp_path / "file").write_text("x")
    for target, message in [(tmp_path / "missing" / "d", "does not exist"), (tmp_path / "file", "not a directory")]:
        assert main(["export", str(path), "--format", "transformers", "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    with pytest.raises(VocabFormatError, match="without tokenizer.json"):
        bbpe.load(tmp_path / "empty")
    with pytest.raises(ValueError, match="empty"):
        transformers_dir.write(bbpe.Tokenizer.from_bytes_only(), tmp_path / "e", bos="")
