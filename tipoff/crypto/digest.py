"""Hashes, random tokens and constant-time comparison."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, has_app_context

from tipoff.crypto import primitives
from tipoff.crypto.keyring import EXTENSION

SUPPORTED = ("sha256", "sm3")


def default_hash_alg() -> str:
    """"sm3" under the gm profile, else "sha256" (also outside an application)."""
    if has_app_context() and EXTENSION in current_app.extensions:
        return "sm3" if current_app.extensions[EXTENSION].profile == "gm" else "sha256"
    return "sha256"


def hash_hex(data: bytes, alg: str) -> str:
    """Hex digest of `data` with "sha256" or "sm3"."""
    return primitives.hash_hex(data, alg)


def token_digest(token: str) -> str:
    """SHA-256 hex of a high-entropy token (API tokens are stored only as this digest)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random token with `nbytes` of entropy."""
    return secrets.token_urlsafe(nbytes)


def random_digits(n: int) -> str:
    """`n` uniformly random decimal digits (e.g. a reporter's access code)."""
    if n < 1:
        raise ValueError("n must be at least 1")
    return "".join(secrets.choice("0123456789") for _ in range(n))


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Compare two secrets without leaking where they differ."""
    a_bytes = a.encode("utf-8") if isinstance(a, str) else a
    b_bytes = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(a_bytes, b_bytes)
