"""``bbpe warmup``: compile the numba kernels for this machine ahead of the first run that needs them.

"auto" runs compiled kernels only once they are in numba's cache or when the input pays for compiling
them (``bbpe._jit.worth_compiling``); this command puts them there (e.g. when building a container
image or a CI cache), and says per kernel family how long it took.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bbpe.errors import BBPEError


def add_warmup_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "warmup",
        help="compile the numba kernels for this machine once (later runs load them from numba's cache)",
        description="Compile bbpe's numba kernels (the pre-tokenizer, the merge loop, the encoder) into numba's "
        "cache, so that every later run, small ones included, uses them. Needs numba (pip install 'bbpe[fast]').",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing")
    p.set_defaults(run=_cmd_warmup)


def _count_pretokens() -> None:
    from bbpe.pretokenize.patterns import CL100K
    from bbpe.training.counting.pretokens import CountSettings, TextCounter

    counter = TextCounter(CountSettings(CL100K, compiled=True))
    counter.add("warm up 123")
    counter.count(["warm up 123"])


def _learn_merges() -> None:
    from bbpe.training.loops.compiled import learn_merges

    learn_merges([(b"ab", 2)], [bytes([i]) for i in range(256)], n_new_tokens=1)


def _encode() -> None:
    from bbpe.tokenizer import Tokenizer

    Tokenizer.from_bytes_only(engine="compiled").encode_ordinary("warm up 123")


KERNELS: dict[str, Callable[[], None]] = {
    "the pre-tokenizer": _count_pretokens,
    "the merge loop": _learn_merges,
    "the encoder": _encode,
}


def _cmd_warmup(args: argparse.Namespace) -> int:
    try:
        import bbpe._jit  # noqa: F401  (numba, or the message below)
    except ImportError:
        raise BBPEError("bbpe warmup needs numba: pip install 'bbpe[fast]'") from None
    for what, run in KERNELS.items():
        started = time.monotonic()
        run()
        if not args.quiet:
            print(f"{what}: ready ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    return 0
