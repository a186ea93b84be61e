"""The compression report: parallel corpora (``corpora``), metrics (``metrics``), renderers
(``render`` for md/csv/json, ``html`` for the page), figures (``plots``)."""
