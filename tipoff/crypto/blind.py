"""Blind indexes (盲索引): match phone and ID numbers without storing or decrypting them."""
from __future__ import annotations

from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.primitives import check_profile, hmac_digest

# Indexes from different profiles never compare equal by accident: switching profile is visible.
PREFIXES = {"default": "s1:", "gm": "g1:"}


def blind_index(kind: str, value: str, *, profile: str | None = None) -> str:
    """Keyed hash of an already normalised `value`, separated by `kind` (e.g. "phone", "id_number").

    `profile` defaults to the configured one; pass the other to look up indexes made before a switch.
    """
    if not kind or "\x00" in kind:
        raise ValueError("kind must be a non-empty name without NUL")
    ring = current_keyring()
    profile = check_profile(profile or ring.profile)
    mac = hmac_digest(profile, ring.blind_index_key(), kind.encode("utf-8") + b"\x00" + value.encode("utf-8"))
    return PREFIXES[profile] + mac.hex()
