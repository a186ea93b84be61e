"""A PySpark recipe that writes the same word-count table as `bbpe count` (documents as the unit).

Each input file is one document (read as bytes, gzip/xz/bz2 decompressed, invalid UTF-8 replaced,
binary files skipped, as bbpe does); its pre-tokens are counted with bbpe's own counter on the
executors (bbpe must be installed there, and PYSPARK_PYTHON must name that Python), the counts are
added with reduceByKey, sorted by word bytes and streamed to one Parquet file with bbpe's metadata
and the corpus statistics bbpe records (a second pass over the files).  `bbpe count --merge` of the
result is byte-identical to that of `bbpe count` on the same files (tested);
`bbpe train --from-counts OUT` trains from it.

    spark-submit scripts/spark_counts.py OUT.parquet FILE_OR_GLOB... [--pattern cl100k] [--special TOKEN]
    python scripts/spark_counts.py --master 'local[2]' OUT.parquet FILE...       # without spark-submit

JSONL inputs and byte ranges of large files are left out of this recipe: split such corpora into files.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
from collections import Counter
from collections.abc import Iterator

from bbpe.formats import counts as counts_file
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.training.counting.pretokens import CountSettings, TextCounter

BINARY_PROBE = 8192
STAT_KEYS = ("files", "bytes", "lines", "documents", "replaced_invalid_utf8")
_DECOMPRESS = {".gz": gzip.decompress, ".xz": lzma.decompress, ".bz2": bz2.decompress}


def document_bytes(name: str, data: bytes) -> bytes:
    """A file's bytes as bbpe reads them: decompressed by suffix."""
    for suffix, decompress in _DECOMPRESS.items():
        if name.endswith(suffix):
            return decompress(data)
    return data


def is_binary(data: bytes) -> bool:
    """bbpe's rule: a NUL byte in the first 8 KiB (such files are skipped)."""
    return b"\0" in data[:BINARY_PROBE]


def count_partition(files: Iterator[tuple[str, bytes]], settings: CountSettings) -> Iterator[tuple[bytes, int]]:
    """Pre-token counts of the documents of one partition."""
    counter = TextCounter(settings)
    for name, data in files:
        document = document_bytes(name, data)
        if not is_binary(document):
            counter.add(document.decode("utf-8", errors="replace"))
    yield from counter.counts.items()


def document_stats(item: tuple[str, bytes]) -> Counter[str]:
    """The statistics bbpe records for one file: files, bytes, lines, documents, replaced characters."""
    data = document_bytes(*item)
    if is_binary(data):
        return Counter()
    text = data.decode("utf-8", errors="replace")
    return Counter(
        files=1,
        bytes=len(data),
        lines=data.count(b"\n") + (bool(data) and not data.endswith(b"\n")),
        documents=1,
        replaced_invalid_utf8=text.count("\ufffd") - data.count("\ufffd".encode()),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--pattern", default="cl100k")
    parser.add_argument("--special", action="append", default=[])
    parser.add_argument("--master", help="Spark master when run without spark-submit, e.g. local[2]")
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("bbpe-counts")
    spark = (builder.master(args.master) if args.master else builder).getOrCreate()
    settings = CountSettings(resolve_pattern(args.pattern), tuple(sorted(set(args.special))))
    files = spark.sparkContext.binaryFiles(",".join(args.inputs))
    counts = (
        files.mapPartitions(lambda part: count_partition(part, settings)).reduceByKey(lambda a, b: a + b).sortByKey()
    )
    stats = files.map(document_stats).fold(Counter(), lambda a, b: a + b)
    if not stats["bytes"]:
        raise SystemExit("spark_counts: no text in the inputs (empty or binary files only)")
    metadata = counts_file.file_metadata(
        pattern=settings.pattern,
        special_tokens=settings.special_tokens,
        corpus={key: stats[key] for key in STAT_KEYS} | {"sources": list(args.inputs)},
        unit=settings.unit,
    )
    unique, total = counts_file.write_rows(args.output, counts.toLocalIterator(), metadata=metadata)
    print(f"wrote {unique:,} unique words ({total:,} pre-tokens) to {args.output}")
    spark.stop()


if __name__ == "__main__":
    main()
