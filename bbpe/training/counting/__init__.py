"""Counting pre-tokens: in this process or a process pool for training (``pretokens``), and ``bbpe count``'s
map and reduce tasks (``map_tasks``, ``reduce_tasks``) run on a local process pool (``process_pool``) or on
Ray (``ray_tasks``); ``executors`` counts a training corpus with those tasks."""
