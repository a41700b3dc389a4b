"""Keep the public's addresses out of tipoff: rate-limit buckets and logs never see a raw IP.

A client is known only by a keyed hash of its address that changes every day, so a limiter can
count requests per client without anyone being able to list who used the service.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
from datetime import datetime, timezone

from flask import current_app, has_request_context, request


def client_fingerprint() -> str:
    """Return today's pseudonym for the requesting client (for per-client rate limits)."""
    if not has_request_context():
        return "no-request"
    address = _bucket(request.remote_addr or "unknown")
    day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    key = (current_app.config.get("SECRET_KEY") or "").encode()
    return hmac.new(key, f"{day}|{address}".encode(), hashlib.sha256).hexdigest()[:32]


def _bucket(address: str) -> str:
    """An IPv6 client is its /64 (one household or phone gets a whole /64 to rotate through)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_H = r"[0-9A-Fa-f]{1,4}"
_IPV6 = re.compile(
    rf"(?<![\w:])(?:(?:{_H}:){{7}}{_H}"          # full form
    rf"|(?:{_H}:){{1,7}}:(?:{_H}(?::{_H}){{0,6}})?"  # compressed: 2001:db8::1, fe80::
    rf"|::{_H}(?::{_H}){{0,6}})(?![\w:])"          # leading: ::1
)


def redact_addresses(text: str) -> str:
    """Replace anything that looks like an IPv4 or IPv6 address."""
    return _IPV6.sub("[addr]", _IPV4.sub("[addr]", text))


class RedactAddressesFilter(logging.Filter):
    """Logging filter: no log line leaves the process with an IP address in it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_addresses(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Attach the address filter to every handler of the root and server loggers."""
    redactor = RedactAddressesFilter()
    for name in ("", "werkzeug", "gunicorn.error", "gunicorn.access", "tipoff", "flask.app"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactAddressesFilter) for f in logger.filters):
            logger.addFilter(redactor)
        for handler in logger.handlers:
            if not any(isinstance(f, RedactAddressesFilter) for f in handler.filters):
                handler.addFilter(redactor)
