"""Signatures (Ed25519) for proofs of filing (受理回执) a reporter can show later.

Ed25519 is used in both profiles: `cryptography` offers no SM2.
"""
from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.primitives import b64encode

SIGNATURE_SIZE = 64


def public_key_from_seed(seed: bytes) -> bytes:
    """The raw Ed25519 public key for a 32-byte private seed."""
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def sign(payload: bytes) -> str:
    """Sign `payload`; URL-safe base64 without padding (fits in a URL or QR code)."""
    signature = current_keyring().signing_key().sign(payload)
    return base64.urlsafe_b64encode(signature).rstrip(b"=").decode("ascii")


def verify_signature(payload: bytes, signature: str) -> bool:
    """True when `signature` is ours over `payload`; False for anything else, never raises on bad input."""
    if not isinstance(payload, bytes) or not isinstance(signature, str) or len(signature) > 100:
        return False
    try:
        raw = base64.urlsafe_b64decode(signature.strip().rstrip("=") + "==")
    except (binascii.Error, ValueError):
        return False
    if len(raw) != SIGNATURE_SIZE:
        return False
    public = current_keyring().signing_key().public_key()
    try:
        public.verify(raw, payload)
    except InvalidSignature:
        return False
    return True


def signing_public_key_b64() -> str:
    """The signing public key (standard base64 of the raw 32 bytes), for publishing."""
    return b64encode(public_key_from_seed(current_keyring().signing_seed()))
