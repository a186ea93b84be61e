"""Output files that are never half-written, and never destroy what ``-o`` points at.

* a regular file (or a new name) is written to a temporary file beside it, then renamed over
  it; an existing file keeps its permission bits;
* a symlink is followed: its target is written that way and the link stays a link;
* a device node or FIFO (``/dev/null``, ``/dev/stdout``, ``/dev/full``) is written directly;
* a set of files (``write_set``, or ``atomic_set`` for files written by other code, e.g. worker
  processes) is first written completely as temporary files, then renamed into place one after
  another with the catchable termination signals held back (files the set replaces, such as stale
  parts, are removed in the same step), so an error (disk full, ...) or a signal leaves every old
  file as it was, and a success leaves every new one.  Only a kill that cannot be caught (SIGKILL,
  power loss) during the renames can leave some files new and some old, never one half-written.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Fail early (ValueError) if ``path`` cannot be written: missing or read-only directory, a directory."""
    if _is_special(Path(path)):  # e.g. /dev/stdout, a link to a pipe: written through the link
        return Path(path)
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    if target.is_dir():
        raise ValueError(f"{path}: is a directory, expected a file path")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: directory {parent} is not writable")
    return target


def check_not_input(
    output: str | os.PathLike[str],
    inputs: Iterable[str | os.PathLike[str] | None],
    *,
    writes_inside: Iterable[str] = (),
) -> None:
    """Refuse (ValueError) an output that is one of the inputs or lies inside an input directory, and an
    output directory holding an input it would write over (a name matching a glob of ``writes_inside``).

    Symlinks are followed; a device node or FIFO output is never refused; "-" (stdin) and names that
    are no local path (references, URLs) are skipped.
    """
    if _is_special(Path(output)):
        return
    real = Path(os.path.realpath(output))
    patterns = list(writes_inside)
    for item in inputs:
        if item is None or str(item) == "-" or not os.path.exists(item):
            continue
        source = Path(os.path.realpath(item))
        if real == source:
            raise ValueError(f"{output}: the output is also an input ({item}); choose another output path")
        if source.is_dir() and source in real.parents:
            raise ValueError(f"{output}: the output lies inside the input directory {item}; choose another output path")
        if source.parent == real and any(fnmatch.fnmatchcase(source.name, glob) for glob in patterns):
            raise ValueError(
                f"{output}: the output directory would write over the input {item}; choose another output path"
            )


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``path`` (see the module notes), else it is removed."""
    with atomic_set([path]) as temps:
        yield temps[Path(path)]


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one, never half."""
    write_set({path: data})


def write_set(files: Mapping[str | os.PathLike[str], str | bytes]) -> None:
    """Write several files as one set: all new, or (after any error or caught signal) all as they were."""
    with atomic_set(files) as temps:
        for name, data in files.items():
            payload = data.encode("utf-8") if isinstance(data, str) else data
            with open(temps[Path(name)], "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())


@contextmanager
def atomic_set(
    paths: Iterable[str | os.PathLike[str]], *, remove: Iterable[str | os.PathLike[str]] = ()
) -> Iterator[dict[Path, Path]]:
    """Yield {path: temporary file} for the block to fill (any process may write them); when it ends
    without an error, all become their paths as one set and the files in ``remove`` are deleted (in
    the same step, signals held); after an error or a signal every temporary file is removed.
    """
    targets = {Path(p): check_writable(p) for p in paths}
    temps: dict[Path, Path] = {}
    try:
        for name, target in targets.items():
            temps[name] = _temp_beside(target)
        yield temps
        _install({targets[name]: temp for name, temp in temps.items()}, remove=[Path(p) for p in remove])
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _install(temps: Mapping[Path, Path], *, remove: Iterable[Path] = ()) -> None:
    """Copy into device targets, then move the other temporary files onto their targets and delete ``remove``,
    signals held back."""
    for target, temp in temps.items():
        if _is_special(target):
            _copy_into(temp, target)
        else:
            _copy_mode(target, temp)
    with _signals_held():
        for target, temp in temps.items():
            if not _is_special(target):
                os.replace(temp, target)
        for path in remove:
            path.unlink(missing_ok=True)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT/SIGTERM/SIGHUP until the block ends (only the main thread may change handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {
        number: signal.signal(number, lambda signum, _frame: pending.append(signum)) for number in _HELD_SIGNALS
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for signum in pending:
            signal.raise_signal(signum)


def _temp_beside(target: Path) -> Path:
    where = tempfile.gettempdir() if _is_special(target) else (target.parent if str(target.parent) else ".")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=where)
    os.close(fd)
    return Path(name)


def _is_special(path: Path) -> bool:
    """A device node, FIFO or socket (written in place, never replaced)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _copy_mode(target: Path, temp: Path) -> None:
    """The target's permission bits (and owner, when we may set it); new files get 0666 less the umask."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)
        return
    os.chmod(temp, stat.S_IMODE(info.st_mode))
    if os.geteuid() == 0:
        os.chown(temp, info.st_uid, info.st_gid)


def _copy_into(temp: Path, target: Path) -> None:
    try:
        with open(temp, "rb") as source, open(target, "wb") as sink:
            shutil.copyfileobj(source, sink)
            sink.flush()
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None
