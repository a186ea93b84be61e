"""Training methods beyond BPE from bytes: extending a base vocabulary (``extend``), superword tokens
(``superword``) and parity-aware merges (``parity``, its compiled loop in ``parity_compiled``)."""
