"""Password and access-code hashing (argon2id) for staff passwords and reporters' 16-digit codes."""
from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, has_app_context

from tipoff.crypto.keyring import EXTENSION
from tipoff.crypto.primitives import DEFAULT_PASSWORD_PARAMS, Argon2Params

_hashers: dict[Argon2Params, PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    """The hasher for the app's configured parameters, or OWASP's minimum outside an app."""
    params = DEFAULT_PASSWORD_PARAMS
    if has_app_context() and EXTENSION in current_app.extensions:
        params = current_app.extensions[EXTENSION].password_params
    hasher = _hashers.get(params)
    if hasher is None:
        hasher = PasswordHasher(time_cost=params.time_cost, memory_cost=params.memory_kib,
                                parallelism=params.parallelism, hash_len=32, salt_len=16, type=Type.ID)
        _hashers[params] = hasher
    return hasher


def hash_secret(secret: str) -> str:
    """Hash a password or access code into an encoded argon2id string."""
    return _hasher().hash(secret)


def verify_secret(encoded: str, secret: str) -> bool:
    """True when `secret` matches `encoded`; False on mismatch or an unreadable hash."""
    try:
        return _hasher().verify(encoded, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError, TypeError, ValueError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True when `encoded` was made with other parameters than today's (or cannot be read)."""
    try:
        return _hasher().check_needs_rehash(encoded)
    except (InvalidHashError, TypeError, ValueError):
        return True
