"""Structured, address-free logging."""
from __future__ import annotations

import logging

from flask import Flask
from flask.logging import default_handler

from tipoff.privacy import install_log_redaction


def configure_logging(app: Flask) -> None:
    """Set the log level and make sure no handler ever writes an IP address."""
    level = getattr(logging, str(app.config.get("TIPOFF_LOG_LEVEL", "INFO")).upper(), logging.INFO)
    logging.getLogger("tipoff").setLevel(level)
    # One handler (the root's) for every line; Flask's own would print each line twice.
    app.logger.removeHandler(default_handler)
    app.logger.setLevel(level)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The development server's request log starts with the client address; we never want that line.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    install_log_redaction()
