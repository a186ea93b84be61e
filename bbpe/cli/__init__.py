"""Command line: ``bbpe COMMAND``; ``main(argv) -> int``, ``run()`` for the console, one module per command group."""

from bbpe.cli.main import main, run

__all__ = ["main", "run"]
