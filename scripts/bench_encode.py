"""Encode throughput: bbpe's compiled engine against the exact encoders, one run, the same text, ids checked.

Encoders (single thread, ``encode_ordinary`` of ~4 KB documents, Python list of ids out, as tiktoken's API
gives): bbpe ``compiled`` and ``tiktoken`` engines, tiktoken itself (built from the same ranks), quicktok
(``quicktok-v1``), bpe-openai and gigatoken (``pip install quicktok-v1 bpe-openai gigatoken``).  A peer that
cannot load a vocabulary (quicktok and bpe-openai bring their own files; the trained one goes through a
``tokenizer.json`` export where the peer reads one) is left out of that table with the reason.  Every
encoder's ids are compared with tiktoken's on every document before it is timed; one that differs is
reported and not timed.

Text: a mixed sample of the training corpus (``../shared/corpora/train`` when present, else the default
data's ``train``), cut into ~4 KB documents at line ends; per script (the file's language code) the same
documents are timed again so the table shows where each encoder is fast or slow.  Also timed: 1 MB of one
letter, of spaces, of digits and of unspaced CJK (bbpe's linear worst case against ordinary text), and
``encode_batch`` on 1 and 2 threads.

    python scripts/bench_encode.py                        # 20 MB, cl100k_base, o200k_base and a trained 152K vocab
    python scripts/bench_encode.py --mb 2 --repeats 1 --vocab cl100k_base --out /tmp/b    # smoke test

Writes OUT/bench_encode.md and .json.  Quote it only from a run on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

import bbpe  # noqa: E402
from bbpe.output import atomic_write  # noqa: E402
from bbpe.tokenizer import Tokenizer  # noqa: E402

Encode = Callable[[str], list[int]]
WORST_CASES = {
    "one letter": "a",
    "spaces": " ",
    "digits": "7",
    "unspaced CJK": "的一是不了人我在有他这为之大来以个中上们",
}


def documents(train: Path, total: int, size: int = 4000) -> list[tuple[str, str]]:
    """(script, document) pairs: a proportional sample of every training file, cut at line ends into ~``size`` bytes."""
    from sample_corpus import uncompressed_size

    from bbpe.corpus.reading import expand_paths, iter_lines

    files = expand_paths([train])
    sizes = {path: uncompressed_size(path) for path in files}
    scale = min(1.0, total / sum(sizes.values()))
    docs: list[tuple[str, str]] = []
    for path in files:
        script = path.name.split(".")[0].split("_")[-1]
        current: list[str] = []
        length = 0
        for line in iter_lines([path], max_bytes=int(sizes[path] * scale)):
            current.append(line)
            length += len(line.encode())
            if length >= size:
                docs.append((script, "".join(current)))
                current, length = [], 0
        if current:
            docs.append((script, "".join(current)))
    return docs


def peers(name: str, tokenizer: Tokenizer, work: Path) -> dict[str, Encode | str]:
    """The encoders for one vocabulary: a function, or a string saying why the peer is left out."""
    import tiktoken

    encoding = tiktoken.Encoding(
        "bench", pat_str=tokenizer.pattern, mergeable_ranks=tokenizer.ranks, special_tokens=tokenizer.special_tokens
    )
    found: dict[str, Encode | str] = {
        "bbpe (compiled)": tokenizer.with_engine("compiled").encode_ordinary,
        "bbpe (tiktoken engine)": tokenizer.with_engine("tiktoken").encode_ordinary,
        "tiktoken": encoding.encode_ordinary,
    }
    exported: Path | None = work / f"{name}.tokenizer.json"
    try:
        from bbpe.formats import hf

        hf.write(tokenizer, exported)  # type: ignore[arg-type]
    except ValueError:
        exported = None
    found["quicktok"] = _quicktok(name, exported)
    found["bpe-openai"] = _bpe_openai(name)
    found["gigatoken"] = _gigatoken(name, tokenizer, work)
    return found


def _quicktok(name: str, exported: Path | None) -> Encode | str:
    try:
        import quicktok
    except ImportError:
        return "not installed"
    bundled = {"cl100k_base": "cl100k_base", "o200k_base": "o200k_base", "llama3": "llama3"}
    try:
        if name in bundled:
            return quicktok.get_encoding(bundled[name]).encode_ordinary  # type: ignore[no-any-return]
        if exported is None:
            return "no tokenizer.json export"
        os.environ.setdefault("QUICKTOK_DATA", str(exported.parent / "quicktok"))
        quicktok.import_tokenizer(str(exported), f"bench_{name}")
        return quicktok.get_encoding(f"bench_{name}").encode_ordinary  # type: ignore[no-any-return]
    except Exception as exc:  # its own error types; the reason goes into the report
        return f"cannot load it: {str(exc).splitlines()[0][:120]}"


def _bpe_openai(name: str) -> Encode | str:
    try:
        import bpe_openai
    except ImportError:
        return "not installed"
    if name not in bpe_openai.list_encoding_names():
        return "ships only OpenAI's encodings"
    encoding = bpe_openai.get_encoding(name)
    return lambda text: list(encoding.encode_ordinary(text))


def _gigatoken(name: str, tokenizer: Tokenizer, work: Path) -> Encode | str:
    """gigatoken from a ``.tiktoken`` file and its named pre-tokenizer (it reads only the schemes it knows)."""
    try:
        import gigatoken
    except ImportError:
        return "not installed"
    from bbpe.pretokenize.patterns import CL100K, O200K, QWEN

    scheme = {CL100K: "cl100k", O200K: "o200k", QWEN: "qwen2"}.get(tokenizer.pattern)
    if scheme is None:
        return "no gigatoken pre-tokenizer for this pattern"
    path = work / f"{name}.tiktoken"
    from bbpe.formats import tiktoken_file

    tiktoken_file.write(tokenizer, path)
    try:
        encoder = gigatoken.Tokenizer.from_tiktoken(str(path), pretokenizer=scheme)
    except Exception as exc:  # its own error types
        return f"cannot load it: {str(exc).splitlines()[0][:120]}"
    return lambda text: encoder.encode(text).tolist()


def time_encoder(encode: Encode, texts: list[str], repeats: int) -> float:
    """Median seconds to encode all ``texts`` once (after one untimed pass: caches warm, as in steady use)."""
    for text in texts[:50]:
        encode(text)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for text in texts:
            encode(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_vocabulary(
    name: str, tokenizer: Tokenizer, docs: list[tuple[str, str]], repeats: int, work: Path
) -> dict[str, Any]:
    texts = [text for _, text in docs]
    n_bytes = sum(len(t.encode()) for t in texts)
    encoders = peers(name, tokenizer, work)
    reference = encoders["tiktoken"]
    assert callable(reference)
    expected = [reference(text) for text in texts]
    rows: dict[str, Any] = {}
    for label, encode in encoders.items():
        if not callable(encode):
            rows[label] = {"skipped": encode}
            continue
        wrong = sum(encode(text) != ids for text, ids in zip(texts, expected))
        if wrong:
            rows[label] = {"skipped": f"ids differ from tiktoken on {wrong} of {len(texts)} documents"}
            continue
        seconds = time_encoder(encode, texts, repeats)
        rows[label] = {"seconds": seconds, "mb_per_s": n_bytes / seconds / 1e6}
    by_script: dict[str, list[str]] = defaultdict(list)
    for script, text in docs:
        by_script[script].append(text)
    scripts: dict[str, dict[str, float]] = {}
    for script, group in sorted(by_script.items()):
        size = sum(len(t.encode()) for t in group)
        scripts[script] = {"mb": size / 1e6}
        for label in ("bbpe (compiled)", "tiktoken", "gigatoken"):
            encode = encoders[label]
            if callable(encode) and "seconds" in rows[label]:
                scripts[script][label] = size / time_encoder(encode, group, max(1, repeats // 2)) / 1e6
    return {"bytes": n_bytes, "documents": len(texts), "encoders": rows, "scripts": scripts}


def bench_worst_cases(tokenizer: Tokenizer, ordinary_mb_per_s: float) -> dict[str, Any]:
    fast = tokenizer.with_engine("compiled")
    fast.encode_ordinary("warm up: the engine builds its tables on first use")
    results = {}
    for label, unit in WORST_CASES.items():
        text = unit * (1_000_000 // len(unit.encode()))
        started = time.perf_counter()
        fast.encode_ordinary(text)
        rate = len(text.encode()) / (time.perf_counter() - started) / 1e6
        results[label] = {"mb_per_s": rate, "slower_than_ordinary": ordinary_mb_per_s / rate}
    return results


def bench_threads(tokenizer: Tokenizer, docs: list[tuple[str, str]], repeats: int) -> dict[str, float]:
    """``encode_batch_to_numpy`` of all documents at once on 1 and 2 threads, timed as ``time_encoder`` times
    one document at a time (median of the repeats after a warm-up, so caches are warm in both)."""
    texts = [text for _, text in docs]
    n_bytes = sum(len(t.encode()) for t in texts)
    fast = tokenizer.with_engine("compiled")
    rates = {}
    for threads in (1, 2):
        fast.encode_batch_to_numpy(texts[:100], threads=threads)
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            fast.encode_batch_to_numpy(texts, threads=threads)
            times.append(time.perf_counter() - started)
        rates[f"{threads} thread(s)"] = n_bytes / statistics.median(times) / 1e6
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--vocab", action="append", help="vocabularies (default: cl100k_base, o200k_base, a trained 152K)"
    )
    parser.add_argument("--trained", help="the trained vocabulary file (default: the main job's bbpe-scratch-152k)")
    parser.add_argument("--out", type=Path, default=REPO / "reports")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    shared = REPO.parent / "shared" / "corpora" / "train"
    from bbpe.cli.report import data_dir

    train = shared if shared.is_dir() else data_dir() / "train"
    docs = documents(train, int(args.mb * 1e6))
    work = Path(tempfile.mkdtemp(prefix="bbpe-bench-encode-"))
    names = args.vocab or ["cl100k_base", "o200k_base", "trained-152k"]
    results: dict[str, Any] = {"note": args.note, "machine": platform.platform(), "versions": _versions()}
    for name in names:
        if name == "trained-152k":
            path = args.trained or _main_job_vocab()
            if path is None:
                results[name] = {"skipped": "no trained 152K vocabulary (run make report, or pass --trained)"}
                continue
            tokenizer = bbpe.load(path)
        else:
            tokenizer = bbpe.load(name)
        print(f"{name}: {len(docs)} documents", file=sys.stderr)
        result = bench_vocabulary(name, tokenizer, docs, args.repeats, work)
        ordinary = result["encoders"]["bbpe (compiled)"].get("mb_per_s")
        if ordinary:
            result["worst_cases"] = bench_worst_cases(tokenizer, ordinary)
            result["threads"] = bench_threads(tokenizer, docs, args.repeats)
        results[name] = result
    write_report(args.out, results, args)
    return 0


def _main_job_vocab() -> str | None:
    found = sorted((REPO / ".cache" / "bbpe-main").glob("*/bbpe-scratch-152k.json"))
    return str(found[-1]) if found else None


def _versions() -> dict[str, str]:
    versions = {}
    for package in ("bbpe", "numba", "tiktoken", "quicktok-v1", "bpe-openai", "gigatoken"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def write_report(out: Path, results: dict[str, Any], args: argparse.Namespace) -> None:
    lines = [
        "# Encode throughput",
        "",
        f"`python scripts/bench_encode.py --mb {args.mb} --repeats {args.repeats}`; single thread, "
        "`encode_ordinary` of ~4 KB documents of mixed real text (ids as a Python list), medians of the repeats "
        "after one warm-up pass; every encoder's ids checked equal to tiktoken's first. " + args.note,
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()) + ".",
    ]
    for name, result in results.items():
        if name in ("note", "machine", "versions"):
            continue
        lines += ["", f"## {name}", ""]
        if "skipped" in result:
            lines.append(f"skipped: {result['skipped']}")
            continue
        tiktoken_rate = result["encoders"]["tiktoken"]["mb_per_s"]
        lines += [f"{result['bytes'] / 1e6:.1f} MB in {result['documents']:,} documents.", ""]
        lines += ["| encoder | MB/s | x tiktoken |", "|---|---|---|"]
        for label, row in result["encoders"].items():
            if "skipped" in row:
                lines.append(f"| {label} | — | {row['skipped']} |")
            else:
                lines.append(f"| {label} | {row['mb_per_s']:.1f} | {row['mb_per_s'] / tiktoken_rate:.2f} |")
        labels = [
            label for label in ("bbpe (compiled)", "tiktoken", "gigatoken") if "mb_per_s" in result["encoders"][label]
        ]
        lines += [
            "",
            "Per script (MB/s):",
            "",
            "| script | MB | " + " | ".join(labels) + " |",
            "|---|---|" + "---|" * len(labels),
        ]
        for script, row in result["scripts"].items():
            lines.append(
                f"| {script} | {row['mb']:.2f} | " + " | ".join(f"{row.get(label, 0):.1f}" for label in labels) + " |"
            )
        if "worst_cases" in result:
            lines += [
                "",
                "Worst cases (1 MB, compiled engine):",
                "",
                "| input | MB/s | times slower than ordinary text |",
                "|---|---|---|",
            ]
            for label, row in result["worst_cases"].items():
                lines.append(f"| {label} | {row['mb_per_s']:.1f} | {row['slower_than_ordinary']:.2f} |")
            lines += [
                "",
                "encode_batch_to_numpy: " + ", ".join(f"{k} {v:.1f} MB/s" for k, v in result["threads"].items()),
            ]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "bench_encode.md", "\n".join(lines) + "\n")
    atomic_write(out / "bench_encode.json", json.dumps(results, indent=1, default=str) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
