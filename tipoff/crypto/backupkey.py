"""The backup key pair (备份密钥): backups are sealed to a public key whose private half is kept offline.

`flask tipoff backup` runs from cron on the server, so whatever it encrypts with must not open the
archive: the server holds only `backup.pub`. The private half is written once, sealed under a backup
passphrase (argon2id with strong parameters + AES-256-GCM, the same file layout as `identity.key.enc`),
to removable media kept by the backup officer; restore and verify need that file and the passphrase.

Each archive gets a random 32-byte file key, sealed to the backup public key with the identity sealing
construction (X25519 + HKDF + AEAD). The payload is then encrypted in chunks (STREAM): AES-256-GCM under
a key derived from the file key and the archive header, the nonce being the chunk index and a
final-chunk flag, so chunks cannot be dropped, truncated, reordered or moved to another archive.
"""
from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tipoff.crypto import keyfiles
from tipoff.crypto.identity import IdentityKey, _derive, seal_to
from tipoff.crypto.primitives import (
    NONCE_SIZE,
    TAG_SIZE,
    Argon2Params,
    DecryptionError,
    b64decode,
    b64encode,
    fingerprint_public,
    hkdf,
)

# Typed once per restore, guards every backup ever made: much more than the login cost (≈1 s, 256 MiB).
BACKUP_KDF_PARAMS = Argon2Params(time_cost=4, memory_kib=256 * 1024, parallelism=2)
MIN_BACKUP_PASSPHRASE_LENGTH = 16
FILE_KEY_SIZE = 32
SALT_SIZE = 16
KEY_FILE_VERSION = 1
KEY_FILE_KIND = "tipoff-backup-private-key"
CHUNK_OVERHEAD = TAG_SIZE


class BackupKeyError(Exception):
    """The backup key file is missing, damaged, or the passphrase is wrong."""


def _private_aad(public_key: bytes) -> bytes:
    return b"tipoff backup private key v1\x00" + public_key


def generate_backup_keypair(passphrase: str, params: Argon2Params = BACKUP_KDF_PARAMS) -> tuple[str, bytes]:
    """Make a backup key pair; return (public key as base64, private key file sealed under `passphrase`)."""
    if len(passphrase) < MIN_BACKUP_PASSPHRASE_LENGTH:
        raise BackupKeyError(f"the backup passphrase must be at least {MIN_BACKUP_PASSPHRASE_LENGTH} characters")
    private = X25519PrivateKey.generate()
    public_key = private.public_key().public_bytes_raw()
    salt, nonce = os.urandom(SALT_SIZE), os.urandom(NONCE_SIZE)
    ciphertext = AESGCM(_derive(passphrase, salt, params)).encrypt(
        nonce, private.private_bytes_raw(), _private_aad(public_key))
    body = {
        "kind": KEY_FILE_KIND, "version": KEY_FILE_VERSION, "kdf": "argon2id",
        "time_cost": params.time_cost, "memory_kib": params.memory_kib, "parallelism": params.parallelism,
        "salt": b64encode(salt), "cipher": "AES-256-GCM", "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext), "public_key": b64encode(public_key), "created": keyfiles.now_iso(),
    }
    return b64encode(public_key), (json.dumps(body, indent=2) + "\n").encode("utf-8")


def unlock_backup_key(key_file_text: str, passphrase: str) -> IdentityKey:
    """Open a backup private key file with its passphrase."""
    try:
        body = json.loads(key_file_text)
        if body.get("kind") != KEY_FILE_KIND or body.get("version") != KEY_FILE_VERSION or body.get("kdf") != "argon2id":
            raise BackupKeyError("this is not a tipoff backup private key file")
        params = Argon2Params(int(body["time_cost"]), int(body["memory_kib"]), int(body["parallelism"]))
        salt, nonce = b64decode(body["salt"]), b64decode(body["nonce"])
        ciphertext, public_key = b64decode(body["ciphertext"]), b64decode(body["public_key"])
    except BackupKeyError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupKeyError("the backup private key file is damaged") from None
    try:
        raw = AESGCM(_derive(passphrase, salt, params)).decrypt(nonce, ciphertext, _private_aad(public_key))
    except (InvalidTag, ValueError):
        raise BackupKeyError("wrong backup passphrase") from None
    key = IdentityKey(X25519PrivateKey.from_private_bytes(raw))
    if key.public_key != public_key:
        raise BackupKeyError("the backup private key file is damaged (public key does not match)")
    return key


def parse_backup_public_key(text: str, what: str) -> bytes:
    """Decode a base64 backup public key or raise ConfigError naming `what`."""
    return keyfiles.decode_public(text, what)


def backup_key_fingerprint(public_key: bytes) -> str:
    """A short fingerprint that names a backup key pair (shown by keygen, stored in every archive)."""
    return fingerprint_public(public_key)


def new_file_key() -> bytes:
    """A fresh random key for one archive."""
    return secrets.token_bytes(FILE_KEY_SIZE)


def seal_file_key(public_key: bytes, file_key: bytes) -> bytes:
    """Seal an archive's file key to the backup public key."""
    return seal_to(public_key, file_key, "default")


def open_file_key(private: IdentityKey, sealed: bytes) -> bytes:
    """Open an archive's file key; raise BackupKeyError when this is not the archive's key."""
    try:
        file_key = private.open(sealed)
    except DecryptionError:
        raise BackupKeyError("this backup was not made for this backup key") from None
    if len(file_key) != FILE_KEY_SIZE:
        raise BackupKeyError("the archive's file key is malformed")
    return file_key


@dataclass
class ChunkCipher:
    """STREAM over AES-256-GCM: chunk i is sealed with nonce = i (11 bytes) | final flag (1 byte)."""

    key: bytes

    @classmethod
    def for_archive(cls, file_key: bytes, header: bytes) -> ChunkCipher:
        """The payload key of one archive, bound to its whole header."""
        return cls(hkdf("default", file_key, 32, b"tipoff backup payload v1\x00" + header))

    @staticmethod
    def _nonce(index: int, final: bool) -> bytes:
        return index.to_bytes(NONCE_SIZE - 1, "big") + (b"\x01" if final else b"\x00")

    def seal(self, index: int, plaintext: bytes, final: bool) -> bytes:
        """Encrypt chunk `index`."""
        return AESGCM(self.key).encrypt(self._nonce(index, final), plaintext, None)

    def open(self, index: int, ciphertext: bytes, final: bool) -> bytes:
        """Decrypt chunk `index`; raise DecryptionError when it was changed, moved or is not (the) last."""
        try:
            return AESGCM(self.key).decrypt(self._nonce(index, final), ciphertext, None)
        except (InvalidTag, ValueError):
            raise DecryptionError(f"chunk {index} failed authentication") from None
