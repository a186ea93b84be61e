"""Cross-check: bbpe and Hugging Face tokenizers, trained alike, compress held-out text alike."""

from __future__ import annotations

import pytest

import bbpe
from bbpe.pretokenize.patterns import PRESETS, to_oniguruma


def train_hf(lines: list[str], vocab_size: int, pattern: str):
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    tok = tokenizers.Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(tokenizers.Regex(to_oniguruma(pattern)), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(lines, trainer=trainer)
    return tok


@pytest.mark.parametrize(("corpus", "vocab_size"), [("portable", 2000), ("shared", 2000), ("shared", 8000)])
def test_compression_matches_hf_tokenizers_within_one_percent(corpus, vocab_size, request):
    """On the portable text (every machine) and ../shared's real text where it exists."""
    text = request.getfixturevalue("portable_text" if corpus == "portable" else "multilingual_text")
    cut = int(len(text) * 0.8)
    train_lines = text[:cut].splitlines(keepends=True)
    held_out = text[cut:]
    pattern = PRESETS["cl100k"]
    ours = bbpe.train(["".join(train_lines)], vocab_size=vocab_size, pattern=pattern, workers=1, backend="python")
    hf = train_hf(train_lines, vocab_size, pattern)
    assert hf.get_vocab_size() == ours.vocab_size == vocab_size
    n_bytes = len(held_out.encode("utf-8"))
    lines = held_out.splitlines(keepends=True)
    ours_tokens = sum(len(ours.encode_ordinary(line)) for line in lines)
    hf_tokens = sum(len(enc.ids) for enc in hf.encode_batch(lines))
    ours_bpt, hf_bpt = n_bytes / ours_tokens, n_bytes / hf_tokens
    assert abs(ours_bpt / hf_bpt - 1) < 0.01, (ours_bpt, hf_bpt)
