"""Pre-tokenization: the compiled scanner for the preset patterns and its Unicode class tables."""
