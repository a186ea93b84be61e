"""Pre-tokenization: presets and custom patterns, their validation, digit splitting (``patterns``);
the compiled scanner for the presets (``scanner``, ``scanner_presets``, ``unicode_tables``) and the
positions where a document may be cut without changing its pre-tokens (``safe_cuts``)."""

from bbpe.pretokenize.patterns import PRESETS, resolve_pattern

__all__ = ["PRESETS", "resolve_pattern"]
