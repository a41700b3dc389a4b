"""Sealing to a secret only the client holds (e.g. an Idempotency-Key).

The server keeps the blob and a digest of the secret for lookup, but cannot open the blob until the
client presents the secret again: a retried submit gets its first answer back (access code included)
without that answer being readable from the database.
"""
from __future__ import annotations

import os

from tipoff.crypto import primitives

VERSION = b"\x01"
PROFILE = "default"
MIN_SECRET_LENGTH = 16


def _key(secret: str) -> bytes:
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"holder secret must be at least {MIN_SECRET_LENGTH} characters")
    return primitives.hkdf(PROFILE, secret.encode("utf-8"), 32, b"tipoff holder seal v1")


def seal_for_holder(secret: str, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt `plaintext` under a key derived from the holder's high-entropy secret."""
    nonce = os.urandom(12)
    return VERSION + nonce + primitives.aead_encrypt(PROFILE, _key(secret), nonce, plaintext, VERSION + aad)


def open_for_holder(secret: str, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt a blob sealed by `seal_for_holder` (DecryptionError on a wrong secret or tampering)."""
    if not blob or blob[:1] != VERSION:
        raise primitives.DecryptionError("unknown holder blob version")
    return primitives.aead_decrypt(PROFILE, _key(secret), blob[1:13], blob[13:], VERSION + aad)
