"""A minimal Chrome DevTools protocol client for the browser tests (standard library only).

Starts headless Chromium with ``--remote-debugging-port=0``, reads the port from the profile's
``DevToolsActivePort`` file, connects to the page target over a WebSocket (RFC 6455 text
frames, client-masked) and sends commands; events that arrive meanwhile are kept in ``events``.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


class DevTools:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, chromium: str, flags: list[str], profile: Path, *, width: int = 1280, height: int = 900):
        profile.mkdir(parents=True, exist_ok=True)
        self._log = open(profile / "chromium.log", "wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [
                chromium,
                *flags,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=self._log,
            stderr=self._log,
        )
        port = self._port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(target for target in targets if target["type"] == "page")
        self._socket = _connect(page["webSocketDebuggerUrl"])
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _port(self, path: Path, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if path.is_file() and (lines := path.read_text().splitlines()):
                return int(lines[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            time.sleep(0.05)
        raise TimeoutError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (raises on a protocol error)."""
        self._next_id += 1
        self._socket.settimeout(30)
        _send(self._socket, json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(_receive(self._socket))
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first event named ``method`` (already received or arriving within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self._socket.settimeout(max(0.01, deadline - time.monotonic()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} event")
            self.events.append(json.loads(_receive(self._socket)))

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def press(self, key: str, code: int) -> None:
        """A real key press (keyDown + keyUp) sent to the focused element."""
        text = {"Enter": "\r"}.get(key, "")
        self.call("Input.dispatchKeyEvent", type="keyDown", key=key, code=key, windowsVirtualKeyCode=code, text=text)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=key, windowsVirtualKeyCode=code)

    def problems(self) -> list[str]:
        """Uncaught exceptions and console errors/warnings seen so far."""
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.exceptionThrown":
                details = event["params"]["exceptionDetails"]
                found.append((details.get("exception") or {}).get("description") or details.get("text", ""))
            if event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] in (
                "error",
                "warning",
                "assert",
            ):
                found.append(json.dumps(event["params"]["args"])[:500])
            if event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] in ("error", "warning"):
                found.append(event["params"]["entry"].get("text", "")[:500])
        return found

    def close(self) -> None:
        self._socket.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def __enter__(self) -> DevTools:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(url: str) -> socket.socket:
    parts = urlparse(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("DevTools closed the connection during the handshake")
        response += chunk
    if not response.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(f"WebSocket handshake failed: {response[:100]!r}")
    return sock


def _send(sock: socket.socket, text: str) -> None:
    payload = text.encode("utf-8")
    header = bytes([0x81])  # FIN, text frame
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 1 << 16:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    mask = os.urandom(4)
    sock.sendall(header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload)))


def _receive(sock: socket.socket) -> str:
    """One whole message (continuation frames joined); control frames are skipped."""
    message = b""
    while True:
        first, second = _exactly(sock, 2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", _exactly(sock, 2))[0]
        elif length == 127:
            length = struct.unpack(">Q", _exactly(sock, 8))[0]
        payload = _exactly(sock, length)
        if first & 0x0F >= 0x8:  # close, ping, pong
            if first & 0x0F == 0x8:
                raise ConnectionError("DevTools closed the connection")
            continue
        message += payload
        if first & 0x80:
            return message.decode("utf-8")


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        data += chunk
    return data
