"""Signatures, blind indexes and in-app password hashing."""
from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tipoff import crypto

PROFILES = ["default", "gm"]


@pytest.mark.parametrize("profile", PROFILES)
def test_sign_and_verify(make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        payload = "受理回执 TIP-2024-000123".encode()
        signature = crypto.sign(payload)
        assert "=" not in signature and "+" not in signature and "/" not in signature
        assert crypto.verify_signature(payload, signature)
        # Anyone with the published public key can check it, without tipoff.
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(crypto.signing_public_key_b64()))
        public.verify(base64.urlsafe_b64decode(signature + "=="), payload)
        assert crypto.verify_signature(payload, signature + "==")  # padded form accepted too


@pytest.mark.parametrize("mutate", [
    lambda p, s: (p + b"x", s),
    lambda p, s: (p[:-1], s),
    lambda p, s: (p, s[:-2] + ("A" if s[-2] != "A" else "B") + s[-1]),
    lambda p, s: (p, s[:-4]),
    lambda p, s: (p, ""),
    lambda p, s: (p, "!!!not base64!!!"),
    lambda p, s: (p, "A" * 10_000),
    lambda p, s: (p, None),
    lambda p, s: ("text, not bytes", s),
    lambda p, s: (p, base64.urlsafe_b64encode(os.urandom(64)).decode()),
])
def test_verify_signature_false_never_raises(ctx, mutate):
    payload = b"proof of filing"
    assert crypto.verify_signature(*mutate(payload, crypto.sign(payload))) is False


def test_signature_from_another_key_fails(make_crypto_app):
    other = make_crypto_app(TIPOFF_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode())
    with other.app_context():
        signature = crypto.sign(b"payload")
        assert crypto.verify_signature(b"payload", signature)
    with make_crypto_app().app_context():
        assert crypto.verify_signature(b"payload", signature) is False


@pytest.mark.parametrize("profile, prefix", [("default", "s1:"), ("gm", "g1:")])
def test_blind_index_stable_and_kind_separated(make_crypto_app, profile, prefix):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        phone = crypto.blind_index("phone", "13800138000")
        assert phone == crypto.blind_index("phone", "13800138000")
        assert phone.startswith(prefix) and len(phone) == len(prefix) + 64
        assert "13800138000" not in phone
        assert phone != crypto.blind_index("id_number", "13800138000")
        assert phone != crypto.blind_index("phone", "13800138001")
        # The NUL separator keeps ("a", "b\x00c") apart from ("a\x00b", "c"): kinds may not hold NUL.
        with pytest.raises(ValueError):
            crypto.blind_index("phone\x00x", "1")
        with pytest.raises(ValueError):
            crypto.blind_index("", "1")


def test_blind_index_stable_across_restarts_and_profiles_differ(make_crypto_app):
    with make_crypto_app().app_context():
        default_index = crypto.blind_index("phone", "13800138000")
        gm_explicit = crypto.blind_index("phone", "13800138000", profile="gm")
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE="gm").app_context():
        assert crypto.blind_index("phone", "13800138000") == gm_explicit
        assert crypto.blind_index("phone", "13800138000", profile="default") == default_index
    assert default_index[3:] != gm_explicit[3:]


def test_blind_index_depends_on_the_key(make_crypto_app):
    with make_crypto_app().app_context():
        ours = crypto.blind_index("phone", "13800138000")
    with make_crypto_app(TIPOFF_BLIND_INDEX_KEY=base64.b64encode(os.urandom(32)).decode()).app_context():
        assert crypto.blind_index("phone", "13800138000") != ours


def test_blind_index_matches_hmac_definition(ctx):
    import hashlib
    import hmac

    from tipoff.crypto.keyring import current_keyring

    key = current_keyring().blind_index_key()
    expected = hmac.new(key, b"phone\x0013800138000", hashlib.sha256).hexdigest()
    assert crypto.blind_index("phone", "13800138000") == "s1:" + expected


def test_default_hash_alg_follows_profile(make_crypto_app):
    with make_crypto_app().app_context():
        assert crypto.default_hash_alg() == "sha256"
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE="gm").app_context():
        assert crypto.default_hash_alg() == "sm3"


@pytest.mark.parametrize("secret, attempt, ok", [
    ("correct horse battery staple", "correct horse battery staple", True),
    ("correct horse battery staple", "Correct horse battery staple", False),
    ("1234567890123456", "1234567890123456", True),
    ("1234567890123456", "123456789012345", False),
    ("口令密码很长很长", "口令密码很长很长", True),
])
def test_passwords_in_app_use_configured_params(ctx, secret, attempt, ok):
    encoded = crypto.hash_secret(secret)
    assert "m=8,t=1,p=1" in encoded  # TIPOFF_FAST_CRYPTO
    assert crypto.verify_secret(encoded, attempt) is ok
    assert not crypto.needs_rehash(encoded)


def test_needs_rehash_when_params_change(make_crypto_app):
    with make_crypto_app().app_context():
        encoded = crypto.hash_secret("secret")
    app = make_crypto_app(TIPOFF_FAST_CRYPTO=False, TIPOFF_ARGON2_TIME_COST=2, TIPOFF_ARGON2_MEMORY_KIB=16,
                          TIPOFF_ARGON2_PARALLELISM=1)
    with app.app_context():
        assert crypto.needs_rehash(encoded)
        assert crypto.verify_secret(encoded, "secret")  # old hashes still verify
        assert "m=16,t=2,p=1" in crypto.hash_secret("secret")
