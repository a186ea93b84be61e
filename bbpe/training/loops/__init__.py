"""The merge loops: the readable reference (``reference``, ``backend="python"``) and the compiled loop
(``compiled`` over the numba kernels in ``_kernels`` and ``_tables``, ``backend="numba"``), which give
the same merges in the same order; words as flat arrays (``flat_words``)."""
