"""A PySpark recipe that writes the same word-count table as `bbpe count` (documents as the unit).

Each input file is one document (read as bytes, gzip/xz/bz2 decompressed, invalid UTF-8 replaced,
as bbpe does); its pre-tokens are counted with bbpe's own counter on the executors (bbpe must be
installed there), the counts are added with reduceByKey, sorted by word bytes and streamed to one
Parquet file with bbpe's metadata.  `bbpe train --from-counts OUT` trains from it.

    spark-submit scripts/spark_counts.py OUT.parquet FILE_OR_GLOB... [--pattern cl100k] [--special TOKEN]

JSONL inputs and byte ranges of large files are left out of this recipe: split such corpora into files.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import lzma
from collections.abc import Iterator

from bbpe.formats import counts as counts_file
from bbpe.pretokenize.patterns import resolve_pattern
from bbpe.training.counting import CountSettings, TextCounter

_DECOMPRESS = {".gz": gzip.decompress, ".xz": lzma.decompress, ".bz2": bz2.decompress}


def document_text(name: str, data: bytes) -> str:
    """A file's bytes as bbpe reads them: decompressed by suffix, invalid UTF-8 replaced."""
    for suffix, decompress in _DECOMPRESS.items():
        if name.endswith(suffix):
            data = decompress(data)
    return data.decode("utf-8", errors="replace")


def count_partition(files: Iterator[tuple[str, bytes]], settings: CountSettings) -> Iterator[tuple[bytes, int]]:
    """Pre-token counts of the documents of one partition."""
    counter = TextCounter(settings)
    for name, data in files:
        counter.add(document_text(name, data))
    yield from counter.counts.items()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--pattern", default="cl100k")
    parser.add_argument("--special", action="append", default=[])
    args = parser.parse_args()
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.appName("bbpe-counts").getOrCreate()
    settings = CountSettings(resolve_pattern(args.pattern), tuple(sorted(set(args.special))))
    files = spark.sparkContext.binaryFiles(",".join(args.inputs))
    counts = (
        files.mapPartitions(lambda part: count_partition(part, settings)).reduceByKey(lambda a, b: a + b).sortByKey()
    )
    metadata = counts_file.file_metadata(
        pattern=settings.pattern,
        special_tokens=settings.special_tokens,
        corpus={"sources": list(args.inputs)},
        unit=settings.unit,
    )
    unique, total = counts_file.write_rows(args.output, counts.toLocalIterator(), metadata=metadata)
    print(f"wrote {unique:,} unique words ({total:,} pre-tokens) to {args.output}")
    spark.stop()


if __name__ == "__main__":
    main()
