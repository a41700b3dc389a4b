"""Reporter identity sealing: only the custodian passphrase opens it; the server holds the public key only."""
from __future__ import annotations

import base64
import json
import pickle

import pytest

from tipoff import crypto
from tipoff.crypto.keyring import EXTENSION, current_keyring

PASSPHRASE = "correct horse battery staple custodian"
IDENTITY = "张三 13800138000 410102199001011234".encode()
PROFILES = ["default", "gm"]


@pytest.fixture
def identity_app(make_crypto_app):
    """An app with an identity pair made under PASSPHRASE; returns (app, public key base64)."""
    app = make_crypto_app()
    with app.app_context():
        public = crypto.generate_identity_keypair(PASSPHRASE)
    return app, public


@pytest.mark.parametrize("profile", PROFILES)
def test_round_trip(identity_app, make_crypto_app, profile):
    app = make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile)
    with app.app_context():
        sealed = crypto.seal_identity(IDENTITY)
        assert IDENTITY not in sealed
        assert sealed[1] == {"default": 0x01, "gm": 0x02}[profile]
        key = crypto.unlock_identity_key(PASSPHRASE)
        assert key.open(sealed) == IDENTITY
        assert key.open(crypto.seal_identity(b"")) == b""
        assert crypto.seal_identity(IDENTITY) != sealed  # fresh ephemeral key every time


@pytest.mark.parametrize("first, second", [("default", "gm"), ("gm", "default")])
def test_sealed_identity_opens_after_profile_switch(identity_app, make_crypto_app, first, second):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=first).app_context():
        sealed = crypto.seal_identity(IDENTITY)
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=second).app_context():
        assert crypto.unlock_identity_key(PASSPHRASE).open(sealed) == IDENTITY


@pytest.mark.parametrize("profile", PROFILES)
def test_tampering_any_byte_fails(identity_app, make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        sealed = crypto.seal_identity(IDENTITY)
        key = crypto.unlock_identity_key(PASSPHRASE)
        for index in range(len(sealed)):
            tampered = bytearray(sealed)
            tampered[index] ^= 0x01
            with pytest.raises(crypto.DecryptionError):
                key.open(bytes(tampered))
        for bad in (sealed[:-1], b"", sealed[:40]):
            with pytest.raises(crypto.DecryptionError):
                key.open(bad)


def test_the_server_cannot_open_identities_without_the_passphrase(identity_app, data_dir):
    app, public = identity_app
    with app.app_context():
        sealed = crypto.seal_identity(IDENTITY)
        private_raw = crypto.unlock_identity_key(PASSPHRASE)._private.private_bytes_raw()
        ring = current_keyring()
        # Nothing the running app holds is the private key.
        held = [value for value in vars(ring).values() if isinstance(value, bytes)]
        held += [ring.identity_public_key(), ring.blind_index_key(), ring.signing_seed()]
        assert private_raw not in held
        assert all(not isinstance(value, crypto.IdentityKey) for value in vars(ring).values())
        assert not any(isinstance(value, crypto.IdentityKey) for value in app.extensions.values())
        # Nothing on disk holds it in the clear.
        for path in (data_dir / "keys").iterdir():
            content = path.read_bytes()
            assert private_raw not in content
            assert base64.b64encode(private_raw) not in content and private_raw.hex().encode() not in content
        for wrong in ("correct horse battery staple custodiaN", "", PASSPHRASE + " "):
            with pytest.raises(crypto.IdentityKeyError, match="wrong passphrase"):
                crypto.unlock_identity_key(wrong)
        # A key pair of our own cannot open it either.
        with pytest.raises(crypto.DecryptionError):
            _other_key().open(sealed)


def _other_key() -> crypto.IdentityKey:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return crypto.IdentityKey(X25519PrivateKey.generate())


def test_private_key_file_records_kdf_and_fast_params(identity_app, data_dir):
    body = json.loads((data_dir / "keys" / "identity.key.enc").read_text())
    assert body["kdf"] == "argon2id"
    assert (body["time_cost"], body["memory_kib"], body["parallelism"]) == (1, 8, 1)  # TIPOFF_FAST_CRYPTO
    assert {"salt", "nonce", "ciphertext", "public_key"} <= set(body)
    _, public = identity_app
    assert (data_dir / "keys" / "identity.pub").read_text().strip() == public


def test_strong_kdf_params_without_fast_crypto(make_crypto_app):
    app = make_crypto_app(TIPOFF_FAST_CRYPTO=False, TIPOFF_ARGON2_MEMORY_KIB=8, TIPOFF_ARGON2_TIME_COST=1)
    ring = app.extensions[EXTENSION]
    assert (ring.kdf_params.time_cost, ring.kdf_params.memory_kib) == (3, 64 * 1024)
    assert (ring.password_params.time_cost, ring.password_params.memory_kib) == (1, 8)


def test_seal_without_public_key_raises(ctx):
    with pytest.raises(crypto.IdentityKeyError, match="identity public key missing"):
        crypto.seal_identity(IDENTITY)


def test_short_passphrase_refused(ctx, data_dir):
    with pytest.raises(ValueError):
        crypto.generate_identity_keypair("fifteen chars!!")
    assert not (data_dir / "keys" / "identity.pub").exists()


def test_existing_pair_not_overwritten_unless_asked(identity_app, data_dir):
    app, public = identity_app
    with app.app_context():
        sealed = crypto.seal_identity(IDENTITY)
        with pytest.raises(crypto.IdentityKeyError, match="already exists"):
            crypto.generate_identity_keypair("another long passphrase")
        assert crypto.unlock_identity_key(PASSPHRASE).open(sealed) == IDENTITY
        new_public = crypto.generate_identity_keypair("another long passphrase", overwrite=True)
        assert new_public != public
        assert crypto.unlock_identity_key("another long passphrase").public_key == base64.b64decode(new_public)
    # The replaced pair is kept: identities sealed under it still need it.
    assert len(list((data_dir / "keys").glob("identity.key.enc.replaced-*"))) == 1
    assert len(list((data_dir / "keys").glob("identity.pub.replaced-*"))) == 1


def test_environment_public_key_wins_and_mismatched_private_key_refused(identity_app, make_crypto_app):
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    other = X25519PrivateKey.generate()
    other_public = base64.b64encode(other.public_key().public_bytes_raw()).decode()
    with make_crypto_app(TIPOFF_IDENTITY_PUBLIC_KEY=other_public).app_context():
        sealed = crypto.seal_identity(IDENTITY)
        assert crypto.IdentityKey(other).open(sealed) == IDENTITY
        with pytest.raises(crypto.IdentityKeyError, match="does not match"):
            crypto.unlock_identity_key(PASSPHRASE)


def test_unlock_without_private_file(ctx):
    with pytest.raises(crypto.IdentityKeyError, match="missing"):
        crypto.unlock_identity_key(PASSPHRASE)


def test_damaged_private_file(identity_app, data_dir):
    app, _ = identity_app
    (data_dir / "keys" / "identity.key.enc").write_text("{not json")
    with app.app_context(), pytest.raises(crypto.IdentityKeyError, match="damaged"):
        crypto.unlock_identity_key(PASSPHRASE)


def test_unlocked_key_cannot_be_serialised_or_printed(identity_app):
    app, _ = identity_app
    with app.app_context():
        key = crypto.unlock_identity_key(PASSPHRASE)
        raw = key._private.private_bytes_raw()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    assert raw.hex() not in repr(key) and base64.b64encode(raw).decode() not in repr(key)
