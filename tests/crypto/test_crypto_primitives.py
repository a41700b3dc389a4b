"""Pure parts of tipoff.crypto: digests, random values, password hashing without an app, AEAD, key parsing."""
from __future__ import annotations

import base64
import os

import pytest

from tipoff.crypto import (
    constant_time_equal,
    default_hash_alg,
    hash_hex,
    hash_secret,
    needs_rehash,
    random_digits,
    random_token,
    token_digest,
    verify_secret,
)
from tipoff.crypto.keyfiles import decode_public, decode_secret, parse_content_keys_env
from tipoff.crypto.primitives import DecryptionError, aead_decrypt, aead_encrypt
from tipoff.errors import ConfigError


@pytest.mark.parametrize("alg, data, expected", [
    ("sha256", b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    # GB/T 32905-2016 example 1
    ("sm3", b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    ("sm3", b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
])
def test_hash_hex_known_vectors(alg, data, expected):
    assert hash_hex(data, alg) == expected


def test_hash_hex_rejects_unknown_algorithm():
    with pytest.raises(ValueError):
        hash_hex(b"x", "md5")


def test_default_hash_alg_without_app_is_sha256():
    assert default_hash_alg() == "sha256"


def test_token_digest_is_sha256_hex():
    assert token_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("n", [1, 6, 16, 40])
def test_random_digits_length_and_charset(n):
    values = {random_digits(n) for _ in range(50)}
    assert all(len(v) == n and v.isascii() and v.isdigit() for v in values)
    if n >= 6:
        assert len(values) == 50  # a repeat in 50 draws of 10**6+ values would mean a broken generator


def test_random_digits_uses_every_digit():
    assert set("".join(random_digits(16) for _ in range(50))) == set("0123456789")


def test_random_digits_rejects_zero():
    with pytest.raises(ValueError):
        random_digits(0)


def test_random_token_entropy_and_alphabet():
    tokens = {random_token() for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 and set(t) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
               for t in tokens)
    assert len(random_token(16)) == 22


@pytest.mark.parametrize("a, b, equal", [
    ("abc", "abc", True), ("abc", "abd", False), (b"abc", "abc", True), ("", "", True), ("abc", "abcd", False),
    ("验证码", "验证码", True),
])
def test_constant_time_equal(a, b, equal):
    assert constant_time_equal(a, b) is equal


def test_passwords_without_app_use_default_params():
    encoded = hash_secret("correct horse battery staple")
    assert encoded.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in encoded
    assert verify_secret(encoded, "correct horse battery staple")
    assert not needs_rehash(encoded)


@pytest.mark.parametrize("encoded, secret", [
    ("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aaaa", "x"),  # malformed digest
    ("not a hash", "x"),
    ("", "x"),
])
def test_verify_secret_never_raises_on_bad_hash(encoded, secret):
    assert verify_secret(encoded, secret) is False


def test_verify_secret_mismatch_is_false():
    encoded = hash_secret("1234567890123456")
    assert verify_secret(encoded, "1234567890123457") is False


def test_needs_rehash_for_unreadable_hash():
    assert needs_rehash("garbage") is True


@pytest.mark.parametrize("profile, key_size", [("default", 32), ("gm", 16)])
def test_aead_round_trip_and_tamper(profile, key_size):
    key, nonce = os.urandom(key_size), os.urandom(12)
    sealed = aead_encrypt(profile, key, nonce, b"secret tip", b"aad")
    assert b"secret tip" not in sealed
    assert aead_decrypt(profile, key, nonce, sealed, b"aad") == b"secret tip"
    for index in range(len(sealed)):
        tampered = bytearray(sealed)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            aead_decrypt(profile, key, nonce, bytes(tampered), b"aad")
    with pytest.raises(DecryptionError):
        aead_decrypt(profile, key, nonce, sealed, b"other aad")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize("value, message", [
    (_b64(os.urandom(16)), "16 bytes"),
    (_b64(os.urandom(33)), "33 bytes"),
    (_b64(bytes(32)), "not random enough"),
    (_b64(b"a" * 32), "not random enough"),
    ("not*base64", "not valid base64"),
])
def test_weak_or_malformed_secret_refused_without_echoing_it(value, message):
    with pytest.raises(ConfigError) as caught:
        decode_secret(value, "TIPOFF_BLIND_INDEX_KEY")
    assert message in str(caught.value)
    assert "TIPOFF_BLIND_INDEX_KEY" in str(caught.value)
    assert value not in str(caught.value)


def test_decode_public_refuses_zero_key():
    with pytest.raises(ConfigError):
        decode_public(_b64(bytes(32)), "TIPOFF_IDENTITY_PUBLIC_KEY")


def test_content_key_env_list_first_is_active():
    first, second = os.urandom(32), os.urandom(32)
    keys = parse_content_keys_env(f"k2:{_b64(first)}, k1:{_b64(second)}")
    assert keys.active == "k2"
    assert keys.keys == {"k2": first, "k1": second}
    assert parse_content_keys_env(_b64(first)).keys == {"env": first}


@pytest.mark.parametrize("value", [
    "k1:{a},{b}",            # second entry without a kid
    "bad kid!:{a}",          # kid outside the allowed alphabet
    "k1:{a},k1:{b}",         # duplicate kid
    "k1:{short}",            # 16 bytes
])
def test_content_key_env_refusals(value):
    text = value.format(a=_b64(os.urandom(32)), b=_b64(os.urandom(32)), short=_b64(os.urandom(16)))
    with pytest.raises(ConfigError):
        parse_content_keys_env(text)
