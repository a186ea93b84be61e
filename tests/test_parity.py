"""Parity-aware BPE: golden merges, the hybrid variant, a from-scratch re-computation, round trips, CLI."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import bbpe
from bbpe import cli
from bbpe.errors import CorpusError
from bbpe.parallel_corpora import load_corpus
from bbpe.pretokenize.patterns import GPT2, PRESETS, pretokenize
from bbpe.training.loops import reference
from bbpe.training.methods import parity, parity_dev


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def golden(tmp_path) -> tuple[Path, Path]:
    # eng: "ab" + " ab" x 9 -> (a,b) 10, (" ",a) 9; fra: "cdcd" x 3 -> (c,d) 6, (d,c) 3.
    train = write(tmp_path / "train", {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cdcd\n" * 3})
    # dev (gpt2 pieces): eng "ab", " ab" = 5 tokens; fra "cdcdcdcd" = 8 tokens.
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab ab\n", "fra_Latn.txt": "cdcdcdcd\n"})
    return train, dev


def new_tokens(tokenizer: bbpe.Tokenizer) -> list[bytes]:
    return [tokenizer.token_bytes(i) for i in range(256, len(tokenizer.ranks))]


def test_golden_parity_merge_helps_the_worst_language(golden):
    train, dev = golden
    tok = bbpe.train([train], vocab_size=262, pattern="gpt2", parity_dev=dev, workers=1)
    # 1. fra is worst (8 > 5 dev tokens): its pair (c,d) 6 wins over the globally more frequent (a,b) 10; fra -> 4.
    # 2. eng worst (5 > 4): (a,b) -> eng 3.   3. fra worst (4 > 3): (cd,cd) 3 -> fra 2.
    # 4. eng worst (3 > 2): (" ",ab) 9 -> eng 2.   5. tie 2 = 2 goes to eng_Latn, which has no pair left, then
    # to fra_Latn, which has none either: stop.
    assert new_tokens(tok) == [b"cd", b"ab", b"cdcd", b" ab"]
    training = tok.metadata["training"]
    assert training["stop_reason"] == "min_frequency"
    assert training["parity"]["merges_per_language"] == {"fra_Latn": 2, "eng_Latn": 2}
    assert training["parity"]["variant"] == "base"
    plain = bbpe.train([train], vocab_size=257, pattern="gpt2", workers=1)
    assert new_tokens(plain) == [b"ab"]


def test_golden_hybrid_takes_the_first_merges_globally(golden):
    train, dev = golden
    tok = bbpe.train([train], vocab_size=262, pattern="gpt2", parity_dev=dev, parity_global_merges=1, workers=1)
    # global (a,b) 10; then fra (8 vs eng 3): cd, cdcd; eng (3 > 2): " ab"; tie -> eng, nothing left.
    assert new_tokens(tok) == [b"ab", b"cd", b"cdcd", b" ab"]
    assert tok.metadata["training"]["parity"]["merges_per_language"] == {"*": 1, "fra_Latn": 2, "eng_Latn": 1}


def test_a_language_without_frequent_pairs_drops_out(tmp_path):
    # fra is worst on the dev set but its only training word "cd" occurs once: it drops out and eng chooses
    # (the reference implementation would stop here with no merge at all).
    train = write(tmp_path / "train", {"eng_Latn.a.txt": "ab" + " ab" * 9 + "\n", "fra_Latn.b.txt": "cd\n"})
    dev = write(tmp_path / "dev", {"eng_Latn.txt": "ab ab\n", "fra_Latn.txt": "cdcdcdcd\n"})
    tok = bbpe.train([train], vocab_size=262, pattern="gpt2", parity_dev=dev, workers=1)
    assert new_tokens(tok) == [b"ab", b" ab"]
    assert tok.metadata["training"]["parity"]["merges_per_language"] == {"eng_Latn": 2}


def naive_parity(
    words: dict[str, Counter[str]], dev: dict[str, Counter[str]], n: int, global_merges: int, min_frequency: int = 2
) -> list[bytes]:
    """Everything recounted from scratch before every merge (the definition, slowly)."""
    vocab = [bytes([i]) for i in range(256)]
    segs = {code: {w: list(w.encode()) for w in ws} for code, ws in words.items()}
    dev_segs = {code: {w: list(w.encode()) for w in ws} for code, ws in dev.items() if code in words}
    merges: list[bytes] = []
    while len(vocab) < 256 + n:
        if len(merges) < global_merges:
            order = [list(words)]
        else:  # worst first; a language without a frequent-enough pair passes to the next
            cost = {code: sum(len(segs_) * dev[code][w] for w, segs_ in dev_segs[code].items()) for code in dev_segs}
            order = [[code] for code in sorted(cost, key=lambda code: (-cost[code], code))]
        best = None
        for pools in order:
            counts: Counter[tuple[int, int]] = Counter()
            for code in pools:
                for w, ids in segs[code].items():
                    for pair in zip(ids, ids[1:]):
                        counts[pair] += words[code][w]
            if counts and max(counts.values()) >= min_frequency:
                best = min(counts.items(), key=lambda item: (-item[1], item[0]))
                break
        if best is None:
            break
        pair, _count = best
        joined = vocab[pair[0]] + vocab[pair[1]]
        token = vocab.index(joined) if joined in vocab else len(vocab)
        if token == len(vocab):
            vocab.append(joined)
        merges.append(joined)
        for table in (*segs.values(), *dev_segs.values()):
            for w in table:
                table[w] = reference.merge_pair(table[w], pair, token)
    return vocab[256:]


TEXTS = st.text(alphabet="ab c", min_size=1, max_size=25)
CODES = ["deu", "eng", "fra"]


@st.composite
def parity_inputs(draw):
    """Training texts (mostly repeated, so pairs reach the minimum frequency) and dev texts sharing at least one
    language, and a vocabulary budget beyond the global merges: the parity choice is reached in most examples
    and moves to another language in many (the no-shared-language error is tested apart)."""
    texts = st.tuples(st.lists(TEXTS, min_size=1, max_size=5), st.sampled_from([1, 2, 2, 3])).map(lambda t: t[0] * t[1])
    train = draw(st.dictionaries(st.sampled_from(CODES), texts, min_size=1))
    shared = draw(st.lists(st.sampled_from(sorted(train)), min_size=1, unique=True))
    others = draw(st.lists(st.sampled_from([*CODES, "spa"]), unique=True))
    size = draw(st.integers(4, 25))  # dev texts of one length: a merge can make another language the worst
    dev = {code: draw(st.text(alphabet="ab c", min_size=size, max_size=size)) for code in [*shared, *others]}
    global_merges = draw(st.integers(0, 4))
    return train, dev, global_merges + draw(st.integers(1, 12)), global_merges


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parity_inputs())
def test_incremental_loop_equals_recounting_from_scratch(inputs):
    train_texts, dev_texts, n, global_merges = inputs
    words = {code: Counter(p for text in texts for p in pretokenize(text, GPT2)) for code, texts in train_texts.items()}
    as_bytes = {code: {word.encode(): count for word, count in ws.items()} for code, ws in words.items()}
    dev = {code: Counter(pretokenize(text, GPT2)) for code, text in dev_texts.items()}
    vocab = [bytes([i]) for i in range(256)]
    log = parity_dev.ParityLog()
    parity.learn_parity_merges(
        parity.language_words(as_bytes), vocab, n_new_tokens=n, dev=dev, global_merges=global_merges, log=log
    )
    chosen = log.chosen
    assert vocab[256:] == naive_parity(words, dev, n, global_merges)
    event(f"parity choice reached: {bool(set(chosen) - {'*'})}")
    event(f"languages chosen by parity: {min(len(set(chosen) - {'*'}), 2)}")


def test_no_shared_language_is_an_error():
    with pytest.raises(CorpusError, match="no language has both"):
        parity.learn_parity_merges(
            {"eng": iter([(b"ab", 2)])}, [bytes([i]) for i in range(256)], n_new_tokens=1, dev={"fra": {"ab": 1}}
        )


def test_round_trip_and_engine_equality(tmp_path):
    train = write(
        tmp_path / "train",
        {
            "eng_Latn.x.txt": "The cat sat on the mat. It is what it is.\n" * 30,
            "deu_Latn.x.txt": "Die Katze saß auf der Matte. Es ist, was es ist.\n" * 30,
            "zho_Hans.x.txt": "猫坐在垫子上。就是这样。\n" * 30,
        },
    )
    dev = write(
        tmp_path / "dev",
        {
            "eng_Latn.txt": "The cat.\nIt is.\n",
            "deu_Latn.txt": "Die Katze.\nEs ist.\n",
            "zho_Hans.txt": "猫。\n就是。\n",
        },
    )
    tok = bbpe.train([train], vocab_size=330, pattern="cl100k", parity_dev=dev, workers=1)
    python = tok.with_engine("python")
    for text in ("Die Katze sat on the mat 猫坐在 🙂\n", "", "  \t x\n\n", "é" * 7):
        ids = tok.encode_ordinary(text)
        assert ids == python.encode_ordinary(text)
        assert tok.decode(ids) == text
    assert set(tok.metadata["training"]["parity"]["merges_per_language"]) <= {"eng_Latn", "deu_Latn", "zho_Hans"}


@pytest.mark.parametrize("pattern", [PRESETS["qwen"], PRESETS["o200k"], GPT2, r"\s+|\S"])
def test_dev_words_are_the_pretokens_of_each_language_text(tmp_path, pattern):
    dev = write(
        tmp_path / "dev",
        {
            "eng_Latn.txt": "It's 2024 — naïve cafés!\n  tabs\tand   spaces, 12345 ok\n",
            "jpn_Jpan.txt": "日本語のテキスト。123\nｶﾀｶﾅ　全角 😀😀\n",
        },
    )
    got = parity_dev.load_dev(dev, pattern)
    languages = load_corpus(dev).languages
    assert {code: text.choose for code, text in got.languages.items()} == {
        language.code: Counter(pretokenize(language.text, pattern)) for language in languages
    }
    assert all(text.choose and not text.held_out for text in got.languages.values())
    assert (got.references, got.reference_of, got.split) == ([], {}, False)


def test_errors(tmp_path, golden, capsys):
    train, dev = golden
    loose = write(tmp_path / "loose", {"eng_Latn.txt": "a\nb\n", "fra_Latn.txt": "a\n"})
    with pytest.raises(CorpusError, match="line-aligned"):
        bbpe.train([train], vocab_size=260, parity_dev=loose, workers=1)
    with pytest.raises(ValueError, match="parity"):
        bbpe.train(["text"], vocab_size=260, parity_dev=dev, workers=1)
    other = write(tmp_path / "other", {"spa_Latn.txt": "x\n"})
    with pytest.raises(CorpusError, match="no language has both"):
        bbpe.train([train], vocab_size=260, parity_dev=other, workers=1)
    out = tmp_path / "v.json"
    assert (
        cli.main(
            ["train", str(train), "--vocab", "262", "--pattern", "gpt2", "--parity-dev", str(dev), "-o", str(out), "-q"]
        )
        == 0
    )
    assert new_tokens(bbpe.load(out)) == [b"cd", b"ab", b"cdcd", b" ab"]
    assert cli.main(["train", str(train), "--vocab", "262", "--parity-global-merges", "2", "-o", str(out)]) == 2
    assert "needs --parity-dev" in capsys.readouterr().err
    assert cli.main(["train", str(train), "--vocab", "262", "--parity-dev", str(other), "-o", str(out)]) == 2
    assert "no language has both" in capsys.readouterr().err


def test_main_job_trains_the_method_tokenizers(tmp_path, monkeypatch):
    import importlib.util

    from conftest import REPO

    data = tmp_path / "data"
    write(
        data / "train",
        {
            "eng_Latn.x.txt": "The quick brown fox jumps over the lazy dog.\n" * 40,
            "zho_Hans.x.txt": "我们的狐狸很快。\n" * 30,
        },
    )
    write(data / "parallel" / "ntrex128", {"eng_Latn.txt": "The fox.\n", "zho_Hans.txt": "狐狸。\n"})
    monkeypatch.setenv("BBPE_DATA_DIR", str(data))
    spec = importlib.util.spec_from_file_location("main_job", REPO / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)  # type: ignore[union-attr]
    monkeypatch.setattr(main_job, "train_cached", lambda name, settings, *rest: (name, settings))
    monkeypatch.setattr(main_job, "parity_log", lambda path: None)
    trained = main_job.train_methods(data, data / "train", "sha", tmp_path, vocab=300, common={}, quiet=True)
    assert [name for name, _ in trained] == ["bbpe-superword-300", "bbpe-parity-300"]
    assert trained[0][1]["superwords_after"] == 256 + int(44 * main_job.SUPERWORD_TRANSITION)  # of the 44 merges
    assert trained[1][1]["parity_dev"] == str(data / "parallel/ntrex128")
    assert (trained[1][1]["parity_global_merges"], trained[1][1]["parity_holdout"]) == (8, True)  # 20% of 44
    for name, options in trained:  # the settings train
        tok = bbpe.train([data / "train"], workers=1, **options)
        assert tok.decode(tok.encode("The fox 狐狸")) == "The fox 狐狸", name
    sample = tmp_path / "mix.txt"
    sample.write_text("x\n", encoding="utf-8")
    assert len(main_job.train_methods(data, sample, "sha", tmp_path, vocab=300, common={}, quiet=True)) == 1


def test_main_job_dev_set_is_ntrex_then_the_catalogue_pairs_then_a_catalogue_corpus(tmp_path):
    import importlib.util

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("main_job", REPO / "scripts" / "main_job.py")
    main_job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(main_job)  # type: ignore[union-attr]
    data = tmp_path / "data"
    write(data / "train", {"eng_Latn.x.txt": "a\n", "deu_Latn.x.txt": "b\n"})
    assert main_job.parity_dev_set(data) is None
    write(data / "parallel" / "django", {"eng_Latn.txt": "a\n", "deu_Latn.txt": "b\n"})
    assert main_job.parity_dev_set(data) == data / "parallel" / "django"
    write(data / "parity-dev" / "deu_Latn", {"eng_Latn.txt": "a\n", "deu_Latn.txt": "b\n"})
    assert main_job.parity_dev_set(data) == data / "parity-dev"
    write(data / "parallel" / "ntrex128", {"eng_Latn.txt": "a\n", "deu_Latn.txt": "b\n"})
    assert main_job.parity_dev_set(data) == data / "parallel" / "ntrex128"
