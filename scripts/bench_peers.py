"""How bench_train.py calls each peer trainer, and scores every trained vocabulary.

Learned from each package's documentation and installed interface (``help()``, stubs):
``tokenizers`` BpeTrainer with a ByteLevel alphabet; ``rustbpe.Tokenizer.train_from_iterator``;
``bpeasy.train_bpe``; ``sentencepiece.SentencePieceTrainer.train``; ``gigatoken.train_bpe`` (scaling runs only:
it pre-tokenizes with its own GPT-2-style pattern, no option for cl100k, so its vocabularies are not scored).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from bbpe.pretokenize.patterns import CL100K, to_oniguruma

PEERS = ("tokenizers", "rustbpe", "bpeasy", "sentencepiece")
CHILD_TOOLS = (*PEERS, "gigatoken")
BPEASY_MAX_TOKEN_BYTES = 1 << 16  # no practical limit (bpeasy's default is 128)
SP_CHARACTER_COVERAGE = 0.995  # rarer characters fall back to bytes


def train_child(tool: str, train_file: str, vocab: int, model: str) -> None:
    """Train one peer (in the child process) and write its model file."""
    if tool == "tokenizers":
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(to_oniguruma(CL100K)), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
        )
        tokenizer.train([train_file], trainer)
        tokenizer.save(model)
    elif tool == "rustbpe":
        import rustbpe

        trainer = rustbpe.Tokenizer()
        with open(train_file, encoding="utf-8") as lines:
            trainer.train_from_iterator(lines, vocab, pattern=CL100K)
        _write_ranks(model, [token for token, _ in sorted(trainer.get_mergeable_ranks(), key=lambda t: t[1])])
    elif tool == "bpeasy":
        from bpeasy import train_bpe

        with open(train_file, encoding="utf-8") as lines:
            ranks = train_bpe(lines, CL100K, BPEASY_MAX_TOKEN_BYTES, vocab)
        _write_ranks(model, sorted(ranks, key=ranks.__getitem__))
    elif tool == "sentencepiece":
        import sentencepiece as spm

        spm.SentencePieceTrainer.train(
            input=train_file,
            model_prefix=model.removesuffix(".model"),
            vocab_size=vocab,
            model_type="bpe",
            byte_fallback=True,
            character_coverage=SP_CHARACTER_COVERAGE,
            normalization_rule_name="identity",
            add_dummy_prefix=False,
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True,
            input_sentence_size=0,
            max_sentence_length=1 << 16,
            num_threads=os.cpu_count() or 1,
            minloglevel=2,
        )
    elif tool == "gigatoken":
        import gigatoken

        os.dup2(2, 1)  # its progress lines (unique words, timings) go to stdout: keep them in the log
        vocab_of_id, _ = gigatoken.train_bpe(gigatoken.TextFileSource([train_file]), vocab, [])
        _write_ranks(model, [vocab_of_id[i] for i in sorted(vocab_of_id)])
    else:
        raise SystemExit(f"unknown tool {tool}")


def _write_ranks(path: str, tokens: list[bytes]) -> None:
    Path(path).write_text(json.dumps({"tokens": [base64.b64encode(t).decode() for t in tokens]}))


def evaluate(tool: str, model: Path, lines: list[str]) -> tuple[float, int]:
    """(UTF-8 bytes per token on the held-out lines, vocabulary size produced)."""
    n_bytes = sum(len(line.encode("utf-8")) for line in lines)
    if tool.startswith("bbpe-") or tool in ("rustbpe", "bpeasy"):
        import bbpe

        if tool.startswith("bbpe-"):
            tokenizer = bbpe.Tokenizer.load(model)
        else:
            tokens = [base64.b64decode(t) for t in json.loads(model.read_text())["tokens"]]
            tokenizer = bbpe.Tokenizer({t: rank for rank, t in enumerate(tokens)}, pattern=CL100K)
        n_tokens = sum(len(tokenizer.encode_ordinary(line)) for line in lines)
        return n_bytes / n_tokens, tokenizer.vocab_size
    if tool == "tokenizers":
        from tokenizers import Tokenizer

        hf = Tokenizer.from_file(str(model))
        return n_bytes / sum(len(e.ids) for e in hf.encode_batch(lines, add_special_tokens=False)), hf.get_vocab_size()
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(model))
    return n_bytes / sum(len(ids) for ids in sp.encode(lines)), sp.get_piece_size()
