"""Low-level building blocks shared by the crypto modules: profiles, AEAD, HKDF, HMAC, hashes, base64.

Two profiles exist. "default": AES-256-GCM, SHA-256, HMAC-SHA-256. "gm" (国密): SM4-GCM, SM3,
HMAC-SM3. Each ciphertext carries a profile byte so the reader never depends on today's setting.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PROFILES = ("default", "gm")
PROFILE_BYTES = {"default": 0x01, "gm": 0x02}
PROFILE_BY_BYTE = {value: name for name, value in PROFILE_BYTES.items()}
# Symmetric key size of each profile's AEAD: AES-256 takes 32 bytes, SM4 only 16.
AEAD_KEY_SIZES = {"default": 32, "gm": 16}
PROFILE_DESCRIPTIONS = {
    "default": "default (AES-256-GCM, SHA-256, HMAC-SHA-256)",
    "gm": "gm 国密 (SM4-GCM, SM3, HMAC-SM3)",
}
NONCE_SIZE = 12
TAG_SIZE = 16


class DecryptionError(Exception):
    """A ciphertext could not be opened (wrong key, tampering, destroyed key); never holds plaintext."""


@dataclass(frozen=True)
class Argon2Params:
    """argon2id cost parameters."""

    time_cost: int
    memory_kib: int
    parallelism: int


# OWASP's minimum for interactive logins (matches config.Config).
DEFAULT_PASSWORD_PARAMS = Argon2Params(time_cost=2, memory_kib=19 * 1024, parallelism=1)
# The custodian passphrase is typed rarely and guards every identity: make guessing expensive.
CUSTODIAN_KDF_PARAMS = Argon2Params(time_cost=3, memory_kib=64 * 1024, parallelism=1)
# Test suites only (TIPOFF_FAST_CRYPTO); production config refuses that flag.
FAST_PARAMS = Argon2Params(time_cost=1, memory_kib=8, parallelism=1)


def check_profile(profile: str) -> str:
    """Return the profile name if known, else raise ValueError."""
    if profile not in PROFILE_BYTES:
        raise ValueError(f"unknown crypto profile {profile!r} (use 'default' or 'gm')")
    return profile


def _hash_algorithm(profile: str) -> hashes.HashAlgorithm:
    return hashes.SM3() if profile == "gm" else hashes.SHA256()


def aead_encrypt(profile: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with the profile's AEAD; returns ciphertext followed by the 16-byte tag."""
    if profile == "default":
        return AESGCM(key).encrypt(nonce, plaintext, aad)
    check_profile(profile)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def aead_decrypt(profile: str, key: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    """Decrypt and authenticate; raise DecryptionError on any failure."""
    try:
        if profile == "default":
            return AESGCM(key).decrypt(nonce, data, aad)
        check_profile(profile)
        if len(data) < TAG_SIZE:
            raise DecryptionError("ciphertext too short")
        body, tag = data[:-TAG_SIZE], data[-TAG_SIZE:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("authentication failed: wrong key or tampered ciphertext") from exc


def hkdf(profile: str, secret: bytes, length: int, info: bytes) -> bytes:
    """Derive `length` bytes with HKDF-SHA-256 (default) or HKDF-SM3 (gm)."""
    return HKDF(algorithm=_hash_algorithm(profile), length=length, salt=None, info=info).derive(secret)


def hmac_digest(profile: str, key: bytes, message: bytes) -> bytes:
    """HMAC-SHA-256 (default) or HMAC-SM3 (gm)."""
    mac = hmac.HMAC(key, _hash_algorithm(profile))
    mac.update(message)
    return mac.finalize()


def hash_hex(data: bytes, alg: str) -> str:
    """Hex digest of `data` with "sha256" or "sm3"."""
    if alg == "sha256":
        return hashlib.sha256(data).hexdigest()
    if alg == "sm3":
        digest = hashes.Hash(hashes.SM3())
        digest.update(data)
        return digest.finalize().hex()
    raise ValueError(f"unsupported hash algorithm {alg!r} (use 'sha256' or 'sm3')")


def fingerprint_public(raw: bytes) -> str:
    """First 16 hex digits of SHA-256 over a public key."""
    return hashlib.sha256(raw).hexdigest()[:16]


def fingerprint_secret(raw: bytes) -> str:
    """First 16 hex digits of an HMAC keyed by the secret: identifies it without revealing it."""
    return hmac_digest("default", raw, b"tipoff key fingerprint v1").hex()[:16]


def b64encode(raw: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(raw).decode("ascii")


def b64decode(text: str) -> bytes:
    """Strict standard base64 (raise ValueError on anything else)."""
    try:
        return base64.b64decode(text.strip().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("not valid base64") from exc
