"""The keyring: development generation, production refusal, environment keys, permissions, status."""
from __future__ import annotations

import base64
import json
import logging
import os
import stat

import pytest

from tipoff import crypto
from tipoff.crypto.keyring import current_keyring
from tipoff.errors import ConfigError

PRODUCTION = {"TIPOFF_GENERATE_MISSING_KEYS": False}
KEY_FILES = ("content-keys.json", "blind-index.key", "signing.key")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _x25519_public() -> str:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    return _b64(X25519PrivateKey.generate().public_key().public_bytes_raw())


def test_development_generates_keys_and_logs_names_not_values(make_crypto_app, data_dir, caplog, assert_no_secrets):
    with caplog.at_level(logging.WARNING, logger="tipoff"):
        app = make_crypto_app()
    generated = [r.getMessage() for r in caplog.records if "generated" in r.getMessage()]
    assert len(generated) == 3
    for name, filename in (("content key", "content-keys.json"), ("blind-index key", "blind-index.key"),
                           ("signing key", "signing.key")):
        assert any(name in line and str(data_dir / "keys" / filename) in line for line in generated)
    assert not any("identity" in line for line in generated)
    with app.app_context():
        assert_no_secrets(caplog.text)


def test_second_start_generates_nothing_and_keeps_keys(make_crypto_app, data_dir, caplog):
    make_crypto_app()
    before = {name: (data_dir / "keys" / name).read_bytes() for name in KEY_FILES}
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="tipoff"):
        app = make_crypto_app()
    assert not [r for r in caplog.records if "generated" in r.getMessage()]
    assert {name: (data_dir / "keys" / name).read_bytes() for name in KEY_FILES} == before
    with app.app_context():
        assert crypto.generate_missing_keys() == []


def test_key_files_and_directory_are_private(crypto_app, data_dir):
    keys = data_dir / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    with crypto_app.app_context():
        crypto.generate_identity_keypair("a long enough passphrase!")
    for name in (*KEY_FILES, "identity.pub", "identity.key.enc"):
        assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600, name
    assert not [p.name for p in keys.iterdir() if p.name.endswith(".tmp")]


def test_production_refuses_with_one_line_naming_every_missing_key(make_crypto_app, data_dir, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    with pytest.raises(ConfigError) as caught:
        make_crypto_app(**PRODUCTION)
    message = str(caught.value)
    assert "\n" not in message
    for phrase in ("content key missing (TIPOFF_CONTENT_KEY or", "blind-index key missing (TIPOFF_BLIND_INDEX_KEY",
                   "signing key missing (TIPOFF_SIGNING_KEY", "identity public key missing (TIPOFF_IDENTITY_PUBLIC_KEY",
                   "flask tipoff keys generate", str(data_dir / "keys" / "content-keys.json")):
        assert phrase in message
    assert not (data_dir / "keys").exists()  # production never writes keys on start


def test_production_names_only_what_is_missing(make_crypto_app, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    with pytest.raises(ConfigError) as caught:
        make_crypto_app(**PRODUCTION, TIPOFF_CONTENT_KEY=_b64(os.urandom(32)), TIPOFF_SIGNING_KEY=_b64(os.urandom(32)))
    message = str(caught.value)
    assert "blind-index key missing" in message and "identity public key missing" in message
    assert "content key missing" not in message and "signing key missing" not in message


def test_production_starts_with_environment_keys_only(make_crypto_app, data_dir, monkeypatch):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    app = make_crypto_app(**PRODUCTION, TIPOFF_CONTENT_KEY=f"k2:{_b64(os.urandom(32))},k1:{_b64(os.urandom(32))}",
                          TIPOFF_BLIND_INDEX_KEY=_b64(os.urandom(32)), TIPOFF_SIGNING_KEY=_b64(os.urandom(32)),
                          TIPOFF_IDENTITY_PUBLIC_KEY=_x25519_public())
    with app.app_context():
        assert current_keyring().active_content_key()[0] == "k2"
        assert all(status.present for status in crypto.keys_status() if status.name != "identity private key (encrypted)")
    assert not (data_dir / "keys").exists()


def test_flask_cli_may_load_production_app_without_keys(make_crypto_app, data_dir, monkeypatch, caplog):
    # `flask tipoff keys generate` has to load the app whose keys it is about to create.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.setattr("sys.argv", ["flask", "tipoff", "keys", "generate"])
    with caplog.at_level(logging.WARNING, logger="tipoff"):
        app = make_crypto_app(**PRODUCTION)
    assert "signing key missing" in caplog.text
    with app.app_context():
        with pytest.raises(ConfigError, match="signing key missing"):
            crypto.sign(b"x")
        with pytest.raises(ConfigError, match="signing key missing"):
            crypto.generate_missing_keys()  # only the explicit key command may create production keys
        lines = crypto.generate_missing_keys(explicit=True)
        assert len(lines) == 3 and all(line.startswith("generated ") for line in lines)
        assert crypto.ensure_identity_keypair_for_development() is None  # production never makes the pair
        assert crypto.verify_signature(b"x", crypto.sign(b"x"))


@pytest.mark.parametrize("argv", [["flask", "run"], ["flask", "tipoff", "init"], ["flask", "shell"]])
def test_other_flask_commands_refuse_production_without_keys(make_crypto_app, monkeypatch, argv):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.setattr("sys.argv", argv)
    with pytest.raises(ConfigError, match="signing key missing"):
        make_crypto_app(**PRODUCTION)


@pytest.mark.parametrize("name, value", [
    ("TIPOFF_CONTENT_KEY", _b64(os.urandom(16))),
    ("TIPOFF_CONTENT_KEY", "k1:" + _b64(bytes(32))),
    ("TIPOFF_BLIND_INDEX_KEY", _b64(os.urandom(31))),
    ("TIPOFF_SIGNING_KEY", "password"),
    ("TIPOFF_IDENTITY_PUBLIC_KEY", _b64(os.urandom(16))),
])
@pytest.mark.parametrize("generate", [True, False])
def test_weak_environment_keys_refused_in_every_environment(make_crypto_app, name, value, generate):
    with pytest.raises(ConfigError) as caught:
        make_crypto_app(**{name: value, "TIPOFF_GENERATE_MISSING_KEYS": generate})
    assert name in str(caught.value)
    assert value not in str(caught.value)


def test_unknown_profile_refused(make_crypto_app):
    with pytest.raises(ConfigError, match="TIPOFF_CRYPTO_PROFILE"):
        make_crypto_app(TIPOFF_CRYPTO_PROFILE="aes128")


def test_environment_key_wins_over_file(make_crypto_app, data_dir):
    make_crypto_app()
    env_seed = os.urandom(32)
    app = make_crypto_app(TIPOFF_SIGNING_KEY=_b64(env_seed))
    with app.app_context():
        assert current_keyring().signing_seed() == env_seed
        file_seed = base64.b64decode((data_dir / "keys" / "signing.key").read_text())
        assert file_seed != env_seed
        detail = next(s.detail for s in crypto.keys_status() if s.name == "signing key")
        assert "from TIPOFF_SIGNING_KEY" in detail


def test_content_keys_file_layout(crypto_app, data_dir):
    body = json.loads((data_dir / "keys" / "content-keys.json").read_text())
    kid = body["active"]
    assert set(body["keys"][kid]) == {"key", "created", "retired"}
    assert body["keys"][kid]["retired"] is False
    assert len(base64.b64decode(body["keys"][kid]["key"])) == 32


def test_keys_status_shows_presence_and_fingerprints_never_values(ctx, assert_no_secrets):
    rows = {status.name: status for status in crypto.keys_status()}
    assert set(rows) == {"identity public key", "identity private key (encrypted)", "content key",
                         "blind-index key", "signing key"}
    assert not rows["identity public key"].present and not rows["identity private key (encrypted)"].present
    passphrase = crypto.ensure_identity_keypair_for_development()
    assert passphrase
    unlocked = crypto.unlock_identity_key(passphrase)
    rows = {status.name: status for status in crypto.keys_status()}
    assert all(status.present for status in rows.values())
    kid = current_keyring().active_content_key()[0]
    assert kid in rows["content key"].detail and "default" in rows["content key"].detail
    text = "\n".join(f"{s.name} {s.detail}" for s in rows.values())
    assert_no_secrets(text, (unlocked._private.private_bytes_raw(),))


def test_development_identity_pair_made_once_with_a_strong_passphrase(ctx):
    passphrase = crypto.ensure_identity_keypair_for_development()
    groups = passphrase.split("-")
    assert len(groups) == 6 and all(len(g) == 5 for g in groups)
    assert not set(passphrase.replace("-", "")) & set("01ilo")
    assert crypto.ensure_identity_keypair_for_development() is None
    assert crypto.unlock_identity_key(passphrase).public_key == current_keyring().identity_public_key()


def test_development_identity_not_made_when_public_key_from_environment(make_crypto_app, data_dir):
    app = make_crypto_app(TIPOFF_IDENTITY_PUBLIC_KEY=_x25519_public())
    with app.app_context():
        assert crypto.ensure_identity_keypair_for_development() is None
    assert not (data_dir / "keys" / "identity.key.enc").exists()


def test_keyring_needs_an_initialised_app():
    with pytest.raises(RuntimeError):
        current_keyring()
