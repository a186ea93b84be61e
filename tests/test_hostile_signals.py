"""Signals (issue 9): SIGTERM/SIGHUP end the CLI like Ctrl-C (exit 128 + n, workers stopped, no temporary
file), and counting workers exit by themselves when the main process is killed (SIGKILL, OOM killer).

The CLI runs as a subprocess in its own session, counting ``-`` (stdin) with two workers: the test writes
a few MB, keeps the pipe open (the main process waits for more text, the workers are up), then signals
the main process only and polls /proc until no process of the group is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

TEXT = ("Counting workers must never outlive the main process. 0123456789\n" * 16_000).encode()  # ~1 MB


def group_members(pgid: int) -> list[int]:
    """Process ids whose process group is ``pgid`` (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def start_counting(tmp_path: Path, env: dict[str, str], reap: list[int]) -> subprocess.Popen:
    """``bbpe train -`` with two workers, fed 3 MB and left waiting for more; returns once the workers run."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bbpe",
            "train",
            "-",
            "--vocab",
            "300",
            "--workers",
            "2",
            "-q",
            "-o",
            str(tmp_path / "v.json"),
        ],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
        cwd=tmp_path,
    )
    reap.append(process.pid)
    assert process.stdin is not None
    for _ in range(3):
        process.stdin.write(TEXT)
    process.stdin.flush()
    assert wait_until(lambda: len(group_members(process.pid)) >= 3), "the counting workers did not start"
    return process


@pytest.fixture(autouse=True)
def reap():
    """After each test, kill whatever a failing test left in the groups it started."""
    started: list[int] = []
    yield started
    for pgid in started:
        for pid in group_members(pgid):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    return {**os.environ, "TMPDIR": str(temp)}


def no_temp_files(tmp_path: Path) -> list[str]:
    return sorted(str(p) for p in tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_terminate_while_counting(tmp_path, env, reap, signum):
    process = start_counting(tmp_path, env, reap)
    os.kill(process.pid, signum)
    code = process.wait(timeout=30)
    err = process.stderr.read().decode()  # type: ignore[union-attr]
    process.stdin.close()  # type: ignore[union-attr]
    assert code == 128 + signum, err
    assert [line for line in err.splitlines() if line.strip()] == [
        f"bbpe: terminated by signal {signum}; unfinished outputs were not written"
    ]
    assert wait_until(lambda: group_members(process.pid) == []), group_members(process.pid)
    assert not (tmp_path / "v.json").exists() and no_temp_files(tmp_path) == []


def test_workers_exit_when_the_main_process_is_killed(tmp_path, env, reap):
    process = start_counting(tmp_path, env, reap)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdin.close()  # type: ignore[union-attr]
    assert wait_until(lambda: group_members(process.pid) == []), f"workers left: {group_members(process.pid)}"


def test_terminate_while_writing(tmp_path, env, reap):
    """The output is a FIFO nobody reads: the write blocks; SIGTERM then leaves no temporary file."""
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(TEXT[:20_000])
    process = subprocess.Popen(
        [sys.executable, "-m", "bbpe", "train", str(corpus), "--vocab", "300", "--workers", "1", "-q", "-o", str(fifo)],
        stderr=subprocess.PIPE,
        start_new_session=True,
        env=env,
        cwd=tmp_path,
    )
    reap.append(process.pid)
    assert wait_until(lambda: no_temp_files(tmp_path) != []), "the write did not start"
    os.kill(process.pid, signal.SIGTERM)
    code = process.wait(timeout=30)
    assert code == 128 + signal.SIGTERM, process.stderr.read().decode()  # type: ignore[union-attr]
    assert no_temp_files(tmp_path) == []
    assert wait_until(lambda: group_members(process.pid) == [])
