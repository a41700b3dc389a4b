"""Envelope encryption (信封加密): each record gets its own data key, wrapped by a content key (KEK).

Blob layout: version (1) | profile (1) | data key id (8, big-endian) | nonce (12) | ciphertext+tag.
The first 10 bytes are authenticated with the caller's AAD. Data keys are unwrapped for each call and
never cached: one AEAD operation is cheap, and a cache would keep shredded keys alive in memory.
"""
from __future__ import annotations

import os

from sqlalchemy import insert, select, update

from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.models import DataKey
from tipoff.crypto.primitives import (
    AEAD_KEY_SIZES,
    NONCE_SIZE,
    PROFILE_BY_BYTE,
    PROFILE_BYTES,
    TAG_SIZE,
    DecryptionError,
    aead_decrypt,
    aead_encrypt,
    hkdf,
)
from tipoff.db import utcnow
from tipoff.extensions import db

__all__ = ["DataKeyDestroyed", "DecryptionError", "decrypt", "destroy_data_key", "encrypt", "insert_data_key",
           "new_data_key", "rewrap_data_keys"]

ENVELOPE_V1 = 0xE1
HEADER_SIZE = 10  # version, profile, data key id
MAX_PURPOSE_LENGTH = 32  # DataKey.purpose is String(32)
MAX_KEY_ID = 2**63 - 1  # the largest id any SQL integer column can hold


class DataKeyDestroyed(DecryptionError):
    """The blob's data key was destroyed (crypto-shredded at the end of retention): gone by design, not tampered."""


def _kek_for_profile(kek: bytes, profile: str) -> bytes:
    # SM4 takes a 16-byte key: derive it from the 32-byte KEK with HKDF-SM3 rather than truncating.
    if profile == "gm":
        return hkdf("gm", kek, AEAD_KEY_SIZES["gm"], b"tipoff kek wrap v1 sm4")
    return kek


def _wrap_aad(kek_id: str, purpose: str, profile: str) -> bytes:
    # Binds the wrapped key to its KEK, purpose and profile: a row edited in the database will not unwrap.
    return b"\x00".join((b"tipoff data key v1", kek_id.encode(), purpose.encode(), profile.encode()))


def _wrap(dek: bytes, kek_id: str, kek: bytes, purpose: str, profile: str) -> bytes:
    nonce = os.urandom(NONCE_SIZE)
    return nonce + aead_encrypt(profile, _kek_for_profile(kek, profile), nonce, dek,
                                _wrap_aad(kek_id, purpose, profile))


def _unwrap(kek_id: str, wrapped: bytes, purpose: str, profile: str) -> bytes:
    try:
        kek = current_keyring().content_key(kek_id)
    except LookupError:
        raise DecryptionError(f"content key {kek_id!r} is not available") from None
    dek = aead_decrypt(profile, _kek_for_profile(kek, profile), wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:],
                       _wrap_aad(kek_id, purpose, profile))
    if len(dek) != AEAD_KEY_SIZES[profile]:
        raise DecryptionError("data key has the wrong length")
    return dek


def _unwrap_row(data_key: DataKey) -> bytes:
    if data_key.wrapped is None or data_key.destroyed_at is not None:
        raise DataKeyDestroyed(f"data key {data_key.id} was destroyed (crypto-shredded)")
    if data_key.profile not in PROFILE_BYTES:
        raise DecryptionError(f"data key {data_key.id} has an unknown profile")
    return _unwrap(data_key.kek_id, data_key.wrapped, data_key.purpose, data_key.profile)


def new_data_key(purpose: str) -> DataKey:
    """Create a data key for `purpose` under the active content key, added to the session and flushed."""
    data_key = _made_data_key(purpose)
    db.session.add(data_key)
    db.session.flush()
    return data_key


_INSERT_DATA_KEY = insert(DataKey.__table__)  # built once: building it per call cost more than running it


def insert_data_key(purpose: str) -> DataKey:
    """Create a data key and insert its row at once with one Core statement, in the session's transaction.

    For the submit path, which writes its rows without the ORM's unit of work: the returned DataKey has its
    id and can `encrypt`, but is not in the session (read it back through the session to change it).
    """
    data_key = _made_data_key(purpose)
    data_key.created_at = utcnow()
    columns = {name: getattr(data_key, name) for name in ("purpose", "profile", "kek_id", "wrapped", "created_at")}
    data_key.id = db.session.connection().execute(_INSERT_DATA_KEY, columns).inserted_primary_key[0]
    return data_key


def _made_data_key(purpose: str) -> DataKey:
    if not purpose or len(purpose) > MAX_PURPOSE_LENGTH or "\x00" in purpose:
        raise ValueError(f"purpose must be 1 to {MAX_PURPOSE_LENGTH} characters")
    ring = current_keyring()
    kek_id, kek = ring.active_content_key()
    dek = os.urandom(AEAD_KEY_SIZES[ring.profile])
    return DataKey(purpose=purpose, profile=ring.profile, kek_id=kek_id,
                   wrapped=_wrap(dek, kek_id, kek, purpose, ring.profile))


def encrypt(plaintext: bytes, data_key: DataKey, aad: bytes = b"") -> bytes:
    """Encrypt under `data_key` (in the profile the data key was made for) into a self-describing blob."""
    if data_key.id is None:
        raise ValueError("data key has no id yet (create it with new_data_key)")
    if data_key.wrapped is None:
        raise ValueError(f"data key {data_key.id} was destroyed; it cannot encrypt")
    dek = _unwrap_row(data_key)
    header = bytes((ENVELOPE_V1, PROFILE_BYTES[data_key.profile])) + data_key.id.to_bytes(8, "big")
    nonce = os.urandom(NONCE_SIZE)
    return header + nonce + aead_encrypt(data_key.profile, dek, nonce, plaintext, header + aad)


def decrypt(blob: bytes, aad: bytes = b"") -> bytes:
    """Open a blob made by `encrypt`; raise DecryptionError on any failure."""
    if len(blob) < HEADER_SIZE + NONCE_SIZE + TAG_SIZE:
        raise DecryptionError("ciphertext too short")
    if blob[0] != ENVELOPE_V1:
        raise DecryptionError("not a tipoff envelope ciphertext (unknown version)")
    profile = PROFILE_BY_BYTE.get(blob[1])
    if profile is None:
        raise DecryptionError("unknown crypto profile in ciphertext")
    header, nonce, body = blob[:HEADER_SIZE], blob[HEADER_SIZE:HEADER_SIZE + NONCE_SIZE], blob[HEADER_SIZE + NONCE_SIZE:]
    key_id = int.from_bytes(header[2:], "big")
    if not 0 < key_id <= MAX_KEY_ID:
        raise DecryptionError("data key id out of range")
    data_key = db.session.get(DataKey, key_id)
    if data_key is None:
        raise DecryptionError(f"data key {key_id} not found")
    if data_key.profile != profile:
        raise DecryptionError(f"data key {key_id} does not belong to this ciphertext's profile")
    return aead_decrypt(profile, _unwrap_row(data_key), nonce, body, header + aad)


def data_key_of(blob: bytes) -> DataKey | None:
    """The data key a blob names in its header (e.g. to destroy it with the blob), or None."""
    if len(blob or b"") < HEADER_SIZE or blob[0] != ENVELOPE_V1:
        return None
    return db.session.get(DataKey, int.from_bytes(blob[2:HEADER_SIZE], "big"))


def destroy_data_key(data_key: DataKey) -> None:
    """Crypto-shred: forget the wrapped key so its ciphertexts can never be read (caller commits)."""
    data_key.wrapped = None
    data_key.destroyed_at = utcnow()


def rewrap_data_keys(new_kek_id: str, batch_size: int) -> tuple[int, list[int]]:
    """Re-wrap every live data key under `new_kek_id`, committing per batch; (count, unreadable ids)."""
    new_kek = current_keyring().content_key(new_kek_id)
    rewrapped, unreadable, last_id = 0, [], 0
    while True:
        rows = db.session.execute(
            select(DataKey.id, DataKey.kek_id, DataKey.purpose, DataKey.profile, DataKey.wrapped)
            .where(DataKey.id > last_id, DataKey.wrapped.is_not(None), DataKey.kek_id != new_kek_id)
            .order_by(DataKey.id).limit(batch_size)
        ).all()
        if not rows:
            db.session.commit()  # end the read transaction: on SQLite it holds the write lock
            return rewrapped, unreadable
        for key_id, kek_id, purpose, profile, wrapped in rows:
            try:
                dek = _unwrap(kek_id, wrapped, purpose, profile)
            except DecryptionError:
                unreadable.append(key_id)
                continue
            # Only if the row is unchanged: a key destroyed meanwhile by a worker must stay destroyed.
            result = db.session.execute(
                update(DataKey)
                .where(DataKey.id == key_id, DataKey.kek_id == kek_id, DataKey.wrapped == wrapped)
                .values(kek_id=new_kek_id, wrapped=_wrap(dek, new_kek_id, new_kek, purpose, profile))
                .execution_options(synchronize_session=False)
            )
            rewrapped += result.rowcount
        last_id = rows[-1][0]
        db.session.commit()
