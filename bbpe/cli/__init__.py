"""Command line: ``bbpe COMMAND``; ``main(argv) -> int``, one module per command group."""

from bbpe.cli.main import main

__all__ = ["main"]
