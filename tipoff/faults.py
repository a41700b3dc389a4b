"""Test-only fault points: hold one request at a named point so a test can kill or cut what it needs.

Inert unless the environment variable TIPOFF_FAULT_HOLD_DIR names a directory, which no deployment
sets. A test arms a point by creating the file `<dir>/<point>`; the first request to reach the point
claims it by renaming it to `<dir>/<point>.<pid>` (so the test knows which worker to kill) and waits
while that file exists, at most a minute. Every other request passes straight through.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_DIR_VARIABLE = "TIPOFF_FAULT_HOLD_DIR"
MAX_HOLD_SECONDS = 60


def hold(point: str) -> None:
    """Wait here while a test holds this point (no-op outside fault tests)."""
    directory = os.environ.get(HOLD_DIR_VARIABLE)
    if not directory:
        return
    armed = Path(directory) / point
    claimed = armed.with_name(f"{point}.{os.getpid()}")
    try:
        os.rename(armed, claimed)
    except OSError:
        return  # not armed, or another request claimed it
    deadline = time.monotonic() + MAX_HOLD_SECONDS
    while claimed.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
