"""What a vocabulary holds and how it cuts text: tokens by script (``scripts``), comparison of two
vocabularies (``compare``), the token view (``token_view``) and the vocabulary figure (``plot``)."""
