"""A reusable guard: nothing a reporter told us, and no client address, reaches a log line or stderr.

Use it from any suite: `pytest_plugins = ["tests.security.logguard"]` in a conftest (or import the fixture),
then ask for `log_guard` and `log_guard.watch(value)` every secret the test used. The guard watches the
identities of `tests.intake.helpers.NAMED` and the test client address `CLIENT_IP` from the start.

It captures every log record at the root logger (level DEBUG, before any redaction filter: a record
that needed redacting was already a mistake) and everything written to file descriptors 1 and 2, and
fails the test naming the secret and the line it found.
"""
from __future__ import annotations

import logging
import re
import traceback

import pytest

from tests.intake.helpers import NAMED

# An address from TEST-NET-3 (RFC 5737): it cannot come from anywhere but our own test requests.
CLIENT_IP = "203.0.113.77"
CLIENT_ENVIRON = {"REMOTE_ADDR": CLIENT_IP}


def _variants(value: str) -> set[str]:
    """The forms a secret may take in a log line: as typed, without spaces/dashes, upper and lower case."""
    value = str(value).strip()
    compact = re.sub(r"[\s-]", "", value)
    return {v for v in (value, compact, value.lower(), compact.lower(), value.upper()) if len(v) >= 4}


class LogGuard:
    """The secrets a test used; checked against every captured line when the test ends."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.lines: list[str] = []  # what was captured so far (the fixture fills it)
        for value in (NAMED["reporter_name"], NAMED["reporter_phone"], NAMED["reporter_id_number"], CLIENT_IP):
            self.watch(value)

    def watch(self, *values: str) -> None:
        """Add values that must never appear in a log line (names, phones, ID and bank numbers, codes)."""
        for value in values:
            if value:
                self.secrets |= _variants(value)

    def leaks(self, lines: list[str]) -> list[tuple[str, str]]:
        """(secret, line) for every captured line that contains a watched secret."""
        found = []
        for line in lines:
            folded = line.lower()
            compact = re.sub(r"[\s-]", "", folded)  # "139-1234-5678" is still the phone number
            for secret in self.secrets:
                if secret.lower() in folded or (not re.search(r"[\s-]", secret) and secret.lower() in compact):
                    found.append((secret, line[:300]))
                    break
        return found


def _record_text(record: logging.LogRecord) -> str:
    """Everything a formatter could print for a record: message, arguments, traceback, stack."""
    parts = [record.getMessage()]
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


class _CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {_record_text(record)}")


@pytest.fixture
def log_guard(capfd):
    """Fail the test if a watched secret or the client address was logged or written to stdout/stderr."""
    guard = LogGuard()
    handler = _CollectingHandler()
    guard.lines = handler.lines
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # Loggers that set their own level (werkzeug, tipoff) would hide their DEBUG lines from us.
    lowered = {}
    for name in ("tipoff", "werkzeug", "flask.app"):
        logger = logging.getLogger(name)
        lowered[name] = logger.level
        logger.setLevel(logging.DEBUG)
    try:
        yield guard
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
        for name, level in lowered.items():
            logging.getLogger(name).setLevel(level)
    out, err = capfd.readouterr()
    lines = handler.lines + out.splitlines() + err.splitlines()
    leaks = guard.leaks(lines)
    assert not leaks, "sensitive data reached the logs or stderr:\n" + "\n".join(
        f"  {secret!r} in: {line}" for secret, line in leaks[:10])
