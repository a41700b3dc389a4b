"""Crypto (密码): the only package that imports `cryptography` or `argon2`.

Everything else asks it to seal, open, hash or verify. Keys live in `<data dir>/keys/` (or come from
the environment) and are kept apart by purpose:

- identity key pair (X25519): the public half seals reporter identities; the private half is stored
  only encrypted under the custodian passphrase and is loaded only by `unlock_identity_key`;
- content keys (KEKs) wrap per-record data keys (AES-256-GCM, or SM4-GCM in the 国密 profile);
- blind-index key (HMAC-SHA-256 / HMAC-SM3) for matching phone and ID numbers without decrypting;
- signing key (Ed25519) for proofs of filing.

Every ciphertext records the profile that sealed it, so both profiles stay readable.
"""
from tipoff.crypto.blind import blind_index
from tipoff.crypto.digest import (
    constant_time_equal,
    default_hash_alg,
    hash_hex,
    random_digits,
    random_token,
    token_digest,
)
from tipoff.crypto.holder import open_for_holder, seal_for_holder
from tipoff.crypto.envelope import (
    DataKeyDestroyed,
    DecryptionError,
    data_key_of,
    decrypt,
    destroy_data_key,
    encrypt,
    insert_data_key,
    new_data_key,
)
from tipoff.crypto.identity import (
    IdentityKey,
    IdentityKeyError,
    generate_identity_keypair,
    seal_identity,
    unlock_identity_key,
)
from tipoff.crypto.keyring import (
    ensure_identity_keypair_for_development,
    generate_missing_keys,
    init_app,
    keys_status,
    rotate_content_key,
)
from tipoff.crypto.passwords import hash_secret, needs_rehash, verify_secret
from tipoff.crypto.signing import sign, signing_public_key_b64, verify_signature

__all__ = [
    "DataKeyDestroyed", "DecryptionError", "IdentityKey", "data_key_of", "IdentityKeyError", "blind_index", "constant_time_equal",
    "decrypt", "default_hash_alg", "destroy_data_key", "encrypt", "ensure_identity_keypair_for_development",
    "generate_identity_keypair", "generate_missing_keys", "hash_hex", "hash_secret", "init_app", "insert_data_key",
    "keys_status", "needs_rehash", "new_data_key", "open_for_holder", "seal_for_holder", "random_digits", "random_token", "rotate_content_key",
    "seal_identity", "sign", "signing_public_key_b64", "token_digest", "unlock_identity_key",
    "verify_secret", "verify_signature",
]
