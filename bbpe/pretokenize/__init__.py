"""Pre-tokenization: the compiled scanner for the preset patterns, its Unicode class tables, safe cuts.

``scanner`` (needs numba): ``pretoken_spans``, ``count_pretokens_compiled``, ``count_arrays``;
``scanner_presets``: ``supports(pattern)`` and the preset keys; ``safe_cuts``: ``safe_cut``;
``unicode_tables``: class tables generated from ``regex``; ``_scan_kernels``: the numba code.
"""
