"""Encoding: what happens to text before and around BPE, the same for every engine.

``specials`` (the one special-token splitter, ``allowed_special`` rules), ``normalization``
(Unicode forms applied to the ordinary segments), ``coverage`` (the pieces must cover the text),
and the engines: ``python_engine`` (the readable reference) and ``tiktoken_engine`` (tiktoken's
Rust core; the one builder of ``tiktoken.Encoding``).
"""
