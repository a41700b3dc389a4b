"""Structured, address-free logging.

`TIPOFF_LOG_FORMAT=text` (the default) writes "time LEVEL logger: message" lines; `json` writes one
JSON object per line — time, level, logger, message, request_id (when in a request) and the
exception, if any — for a log collector. Either way the address filter of tipoff.privacy runs first,
and the formatter redacts once more over the exception text, which the filter does not see.

Each request gets a random id (never derived from the client), sent back as `X-Request-ID` and put
on every line logged while it is handled, so one request's lines can be found without an address.
"""
from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone

from flask import Flask, g, has_request_context
from flask.logging import default_handler

from tipoff.privacy import install_log_redaction, redact_addresses

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID_HEADER = "X-Request-ID"


def new_request_id() -> str:
    """A request's id: random, never derived from the client (tipoff.intake.busy_gate's refusals use it too)."""
    return secrets.token_hex(8)


def current_request_id() -> str | None:
    """The id of the request being handled, or None outside a request."""
    if not has_request_context():
        return None
    return g.get("request_id")


class TextFormatter(logging.Formatter):
    """The plain format, redacted as a whole: a traceback can quote an address the filter never saw."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact_addresses(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; no field can carry an address past the redaction."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_addresses(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = redact_addresses(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact_addresses(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)


def formatter_for(name: str | None) -> logging.Formatter:
    """The formatter for a TIPOFF_LOG_FORMAT value ("text" or "json")."""
    return JsonFormatter() if (name or "text").strip().lower() == "json" else TextFormatter()


def configure_logging(app: Flask) -> None:
    """Set the level and format, add request ids, and make sure no handler ever writes an IP address."""
    level = getattr(logging, str(app.config.get("TIPOFF_LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logging.getLogger("tipoff").setLevel(level)
    # One handler (the root's) for every line; Flask's own would print each line twice.
    app.logger.removeHandler(default_handler)
    app.logger.setLevel(level)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(formatter_for(app.config.get("TIPOFF_LOG_FORMAT")))
        root.addHandler(handler)
        root.setLevel(level)
    # The development server's request log starts with the client address; we never want that line.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    install_log_redaction()

    @app.before_request
    def _assign_request_id() -> None:
        # Random, never taken from the client's own X-Request-ID: a client could otherwise plant an
        # identifier (or an address) in every line about its requests.
        g.request_id = new_request_id()

    @app.after_request
    def _send_request_id(response):
        if g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response
