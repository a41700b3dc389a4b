"""Reporter identity (举报人身份) sealed to the identity public key; only the custodian can open it.

Sealing is an ECIES construction: an ephemeral X25519 key agrees a secret with the identity public
key, HKDF (SHA-256, or SM3 in the gm profile) turns it into an AEAD key bound to both public keys,
and AES-256-GCM (or SM4-GCM) encrypts. The running server holds only the public key; the private
key stays encrypted under the custodian passphrase and is opened only by `unlock_identity_key`,
for as long as the caller keeps the returned IdentityKey. (X25519 is used in both profiles:
`cryptography` offers no SM2.)

Blob layout: version (1) | profile (1) | ephemeral public key (32) | nonce (12) | ciphertext+tag.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tipoff.crypto import keyfiles
from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.primitives import (
    AEAD_KEY_SIZES,
    NONCE_SIZE,
    PROFILE_BY_BYTE,
    PROFILE_BYTES,
    TAG_SIZE,
    Argon2Params,
    DecryptionError,
    aead_decrypt,
    aead_encrypt,
    b64decode,
    b64encode,
    fingerprint_public,
    hkdf,
)

IDENTITY_V1 = 0x1D
PUBLIC_SIZE = 32
HEADER_SIZE = 2 + PUBLIC_SIZE
MIN_PASSPHRASE_LENGTH = 16
SALT_SIZE = 16
PRIVATE_FILE_VERSION = 1


class IdentityKeyError(Exception):
    """The identity key is missing, locked with another passphrase, or does not match."""


def _aead_key(profile: str, shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    # Binding both public keys stops a blob from being re-targeted or its ephemeral key swapped.
    info = b"tipoff identity v1\x00" + ephemeral_public + recipient_public
    return hkdf(profile, shared, AEAD_KEY_SIZES[profile], info)


def seal_to(public_key: bytes, plaintext: bytes, profile: str) -> bytes:
    """Seal `plaintext` to a raw X25519 public key in `profile`."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    try:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    except ValueError as exc:
        raise IdentityKeyError("the identity public key is not usable") from exc
    header = bytes((IDENTITY_V1, PROFILE_BYTES[profile])) + ephemeral_public
    nonce = os.urandom(NONCE_SIZE)
    key = _aead_key(profile, shared, ephemeral_public, public_key)
    return header + nonce + aead_encrypt(profile, key, nonce, plaintext, header)


def seal_identity(plaintext: bytes) -> bytes:
    """Seal a reporter's identity so that only the custodian's private key can open it."""
    ring = current_keyring()
    public_key = ring.identity_public_key()
    if public_key is None:
        raise IdentityKeyError("identity public key missing (TIPOFF_IDENTITY_PUBLIC_KEY or "
                               f"{ring.identity_pub_path}); run `flask tipoff keys generate-identity`")
    return seal_to(public_key, plaintext, ring.profile)


class IdentityKey:
    """An unlocked identity private key; lives only as long as the caller holds it."""

    __slots__ = ("_private", "public_key")

    def __init__(self, private: X25519PrivateKey):
        self._private = private
        self.public_key = private.public_key().public_bytes_raw()

    def open(self, sealed: bytes) -> bytes:
        """Open a blob made by `seal_identity`; raise DecryptionError on any failure."""
        if len(sealed) < HEADER_SIZE + NONCE_SIZE + TAG_SIZE or sealed[0] != IDENTITY_V1:
            raise DecryptionError("not a tipoff identity ciphertext")
        profile = PROFILE_BY_BYTE.get(sealed[1])
        if profile is None:
            raise DecryptionError("unknown crypto profile in identity ciphertext")
        header, ephemeral_public = sealed[:HEADER_SIZE], sealed[2:HEADER_SIZE]
        nonce, body = sealed[HEADER_SIZE:HEADER_SIZE + NONCE_SIZE], sealed[HEADER_SIZE + NONCE_SIZE:]
        try:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        except ValueError as exc:  # low-order point: a forged blob
            raise DecryptionError("identity ciphertext is malformed") from exc
        key = _aead_key(profile, shared, ephemeral_public, self.public_key)
        return aead_decrypt(profile, key, nonce, body, header)

    def __repr__(self) -> str:
        return f"<IdentityKey {fingerprint_public(self.public_key)}>"

    def __reduce__(self) -> tuple:
        # Never pickled into a session, cache or task queue: the key must not outlive the request.
        raise TypeError("IdentityKey cannot be serialised")


def _derive(passphrase: str, salt: bytes, params: Argon2Params) -> bytes:
    return hash_secret_raw(passphrase.encode("utf-8"), salt, time_cost=params.time_cost,
                           memory_cost=params.memory_kib, parallelism=params.parallelism,
                           hash_len=32, type=Type.ID)


def _private_aad(public_key: bytes) -> bytes:
    return b"tipoff identity private key v1\x00" + public_key


def _archive(path: Path) -> None:
    # Identities sealed under the old pair would be lost with it: keep the old files beside the new.
    if path.exists():
        stamp = keyfiles.now_iso().replace(":", "").replace("-", "")
        os.replace(path, path.with_name(f"{path.name}.replaced-{stamp}"))


def generate_identity_keypair(passphrase: str, *, overwrite: bool = False) -> str:
    """Create the identity pair, the private half sealed under `passphrase`; return the public key (base64).

    With overwrite=True the previous files are renamed `*.replaced-<time>`, not deleted.
    """
    if len(passphrase) < MIN_PASSPHRASE_LENGTH:
        raise ValueError(f"the custodian passphrase must be at least {MIN_PASSPHRASE_LENGTH} characters")
    ring = current_keyring()
    if not overwrite and (ring.identity_pub_path.exists() or ring.identity_enc_path.exists()):
        raise IdentityKeyError(f"an identity key pair already exists in {ring.key_dir} (use --force to replace it)")
    private = X25519PrivateKey.generate()
    public_key = private.public_key().public_bytes_raw()
    params = ring.kdf_params
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE)
    ciphertext = AESGCM(_derive(passphrase, salt, params)).encrypt(
        nonce, private.private_bytes_raw(), _private_aad(public_key))
    body = {
        "version": PRIVATE_FILE_VERSION,
        "kdf": "argon2id",
        "time_cost": params.time_cost,
        "memory_kib": params.memory_kib,
        "parallelism": params.parallelism,
        "salt": b64encode(salt),
        "cipher": "AES-256-GCM",
        "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext),
        "public_key": b64encode(public_key),
        "created": keyfiles.now_iso(),
    }
    keyfiles.ensure_key_dir(ring.key_dir)
    encrypted = (json.dumps(body, indent=2) + "\n").encode("utf-8")
    public_text = (b64encode(public_key) + "\n").encode("ascii")
    if overwrite:
        _archive(ring.identity_enc_path)
        _archive(ring.identity_pub_path)
    # Private half first: a public key on disk always has its private half beside it.
    if not keyfiles.write_new_file(ring.identity_enc_path, encrypted):
        raise IdentityKeyError("another process created an identity key pair at the same time")
    if not keyfiles.write_new_file(ring.identity_pub_path, public_text):
        raise IdentityKeyError("another process created an identity public key at the same time")
    return b64encode(public_key)


def unlock_identity_key(passphrase: str) -> IdentityKey:
    """Open the encrypted identity private key with the custodian passphrase."""
    ring = current_keyring()
    text = keyfiles.read_key_file(ring.identity_enc_path)
    if text is None:
        raise IdentityKeyError(f"identity private key file missing ({ring.identity_enc_path})")
    try:
        body = json.loads(text)
        if body.get("kdf") != "argon2id" or body.get("version") != PRIVATE_FILE_VERSION:
            raise IdentityKeyError("identity private key file has an unknown format")
        params = Argon2Params(int(body["time_cost"]), int(body["memory_kib"]), int(body["parallelism"]))
        salt, nonce = b64decode(body["salt"]), b64decode(body["nonce"])
        ciphertext, public_key = b64decode(body["ciphertext"]), b64decode(body["public_key"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise IdentityKeyError("identity private key file is damaged") from None
    try:
        raw = AESGCM(_derive(passphrase, salt, params)).decrypt(nonce, ciphertext, _private_aad(public_key))
    except (InvalidTag, ValueError):
        raise IdentityKeyError("wrong passphrase") from None
    key = IdentityKey(X25519PrivateKey.from_private_bytes(raw))
    configured = ring.identity_public_key()
    if key.public_key != public_key or (configured is not None and configured != key.public_key):
        raise IdentityKeyError("the identity private key does not match the configured identity public key")
    return key
