"""Waiting for a server the benchmark (or a test) started to listen on its local port."""
from __future__ import annotations

import socket
import subprocess
import time


def wait_listening(process: subprocess.Popen, port: int, what: str, timeout: float,
                   settle: float = 0.0, poll: float = 0.2) -> None:
    """Return once `port` on 127.0.0.1 accepts a connection (then wait `settle` seconds more); raise
    RuntimeError if `process` exits first or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(settle)
                return
        except OSError:
            time.sleep(poll)
    raise RuntimeError(f"{what} did not listen on {port}")
