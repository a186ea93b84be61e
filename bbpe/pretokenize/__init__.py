"""Pre-tokenization: presets and custom patterns, their validation, digit splitting (``patterns``)."""

from bbpe.pretokenize.patterns import PRESETS, resolve_pattern

__all__ = ["PRESETS", "resolve_pattern"]
