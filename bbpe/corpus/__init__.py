"""Reading corpora, for training and for ``bbpe tokenize``: finding and opening inputs (``reading``: files,
directories, JSONL, stdin, gzip/xz/bz2; ``urls``: fsspec folders and globs), planning work units cut at
safe places (``units``) and reading them inside a worker (``documents``)."""
