"""Download one pinned package with its registry's own client: ``apt-get download``,
``npm pack`` or ``pip download``.

A download that fails raises ``FetchError`` with one line naming the registry, the
package and the client's last message.  A pinned Debian version that the archive no longer
serves (stable point releases replace security-updated packages) falls back to the current
candidate; the version actually used is returned and recorded in the manifest.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

_NETWORK = re.compile(r"refused|unreachable|timed? ?out|resolv|connection|network|ssl|certificate", re.IGNORECASE)
REGISTRY_NAMES = {
    "debian": "Debian archive (apt-get download)",
    "npm": "npm registry (npm pack)",
    "pypi": "PyPI (pip download)",
}


class FetchError(OSError):
    """A registry package could not be downloaded."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(command: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise FetchError(f"{what}: {command[0]} failed ({exc})") from None
    return result


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    """The client's most telling line: a network failure if it reports one, else its last error line."""
    lines = [
        line.strip()
        for line in (result.stderr + result.stdout).splitlines()
        if line.strip() and "complete log" not in line
    ]
    network = [line for line in lines if _NETWORK.search(line)]
    errors = [line for line in lines if re.search(r"error|failed|not found|unable", line, re.IGNORECASE)]
    chosen = (network or errors or lines or [f"exit code {result.returncode}"])[-1]
    if network or not result.returncode:
        return chosen
    if "unable to locate package" in chosen.lower():
        return chosen + " (not in the package lists: run `apt-get update` first)"
    return chosen + " (is the registry reachable?)"


def fetch(registry: str, name: str, version: str, folder: Path) -> tuple[Path, str]:
    """Download ``name`` ``version`` into ``folder`` (reused if already there); return (file, version used)."""
    folder.mkdir(parents=True, exist_ok=True)
    what = f"{REGISTRY_NAMES[registry]}: {name} {version}"
    if registry == "debian":
        return _apt_download(name, version, folder, what)
    if registry == "npm":
        cached = folder / f"{name.replace('@', '').replace('/', '-')}-{version}.tgz"
        if not cached.is_file():
            result = _run(["npm", "pack", f"{name}@{version}", "--loglevel=error"], folder, what)
            if result.returncode != 0 or not cached.is_file():
                raise FetchError(f"{what}: {_last_line(result)}")
        return cached, version
    if registry == "pypi":
        found = _wheels(folder, name, version)
        if not found:
            result = _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary",
                    ":all:",
                    f"{name}=={version}",
                    "-d",
                    str(folder),
                ],
                folder,
                what,
            )
            found = _wheels(folder, name, version)
            if result.returncode != 0 or not found:
                raise FetchError(f"{what}: {_last_line(result)}")
        return found[0], version
    raise ValueError(f"unknown registry {registry!r}")


def _wheels(folder: Path, name: str, version: str) -> list[Path]:
    prefix = f"{name.lower().replace('-', '_')}-{version}-"
    return sorted(p for p in folder.iterdir() if p.name.lower().startswith(prefix) and p.suffix == ".whl")


def deb_file(folder: Path, name: str, version: str) -> Path | None:
    """The downloaded .deb of ``name`` ``version`` in ``folder`` (apt writes an epoch's ``:`` as ``%3a``)."""
    found = sorted(folder.glob(f"{name}_{version.replace(':', '%3a')}_*.deb"))
    return found[-1] if found else None


def _apt_download(name: str, version: str, folder: Path, what: str) -> tuple[Path, str]:
    for wanted in (version, None):
        cached = deb_file(folder, name, wanted) if wanted else None
        if cached:
            return cached, wanted  # type: ignore[return-value]
        result = _run(["apt-get", "download", "-q", f"{name}={wanted}" if wanted else name], folder, what)
        if result.returncode == 0:
            got = (
                deb_file(folder, name, wanted)
                if wanted
                else max(folder.glob(f"{name}_*.deb"), key=lambda path: path.stat().st_mtime, default=None)
            )
            if got:
                return got, urllib.parse.unquote(got.name.split("_")[1])
        message = _last_line(result)
        if wanted is None or "not found" not in message.lower():
            raise FetchError(f"{what}: {message}")
        print(f"[data] {name} {version} is no longer served; using the current version instead", file=sys.stderr)
    raise FetchError(f"{what}: no version downloadable")
