"""Envelope encryption: round trips in both profiles, tampering, shredding, and content-key rotation."""
from __future__ import annotations

import json

import pytest

from tipoff import crypto
from tipoff.crypto.keyring import EXTENSION, Keyring
from tipoff.crypto.models import DataKey
from tipoff.extensions import db

PROFILES = ["default", "gm"]
DEK_SIZES = {"default": 32, "gm": 16}
PLAINTEXT = "举报内容：某厂房消防通道被堵。".encode()


@pytest.mark.parametrize("profile", PROFILES)
def test_round_trip(make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        data_key = crypto.new_data_key("tip")
        assert data_key.id is not None and data_key.profile == profile and data_key.purpose == "tip"
        blob = crypto.encrypt(PLAINTEXT, data_key, aad=b"tip:1")
        db.session.commit()
        assert PLAINTEXT not in blob
        assert crypto.decrypt(blob, aad=b"tip:1") == PLAINTEXT
        assert crypto.decrypt(crypto.encrypt(b"", data_key)) == b""
        # Two encryptions of the same text differ (fresh nonce each time).
        assert crypto.encrypt(PLAINTEXT, data_key) != crypto.encrypt(PLAINTEXT, data_key)


@pytest.mark.parametrize("profile", PROFILES)
def test_blob_header_records_version_profile_and_key(make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        data_key = crypto.new_data_key("tip")
        blob = crypto.encrypt(b"x", data_key)
        assert blob[1] == {"default": 0x01, "gm": 0x02}[profile]
        assert int.from_bytes(blob[2:10], "big") == data_key.id
        assert len(blob) == 10 + 12 + 1 + 16


@pytest.mark.parametrize("first, second", [("default", "gm"), ("gm", "default")])
def test_blob_stays_readable_after_profile_switch(make_crypto_app, first, second):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=first).app_context():
        blob = crypto.encrypt(PLAINTEXT, crypto.new_data_key("tip"), aad=b"a")
        db.session.commit()
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=second).app_context():
        assert crypto.decrypt(blob, aad=b"a") == PLAINTEXT
        # New data keys follow the new setting.
        assert crypto.new_data_key("tip").profile == second


@pytest.mark.parametrize("profile", PROFILES)
def test_tampering_any_byte_fails(make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        data_key = crypto.new_data_key("tip")
        crypto.new_data_key("tip")  # so a changed key id can point at a real, different key
        blob = crypto.encrypt(PLAINTEXT, data_key, aad=b"tip:7")
        for index in range(len(blob)):
            for flip in (0x01, 0x80):
                tampered = bytearray(blob)
                tampered[index] ^= flip
                with pytest.raises(crypto.DecryptionError) as caught:
                    crypto.decrypt(bytes(tampered), aad=b"tip:7")
                assert "举报" not in str(caught.value)
        for bad in (blob[:-1], blob + b"\x00", b"", blob[:20]):
            with pytest.raises(crypto.DecryptionError):
                crypto.decrypt(bad, aad=b"tip:7")
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(blob, aad=b"tip:8")


@pytest.mark.parametrize("profile", PROFILES)
def test_wrapped_key_bound_to_purpose_and_kek(make_crypto_app, profile):
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        data_key = crypto.new_data_key("tip")
        blob = crypto.encrypt(b"x", data_key)
        db.session.commit()
        data_key.purpose = "attachment"  # an edited row must not unwrap
        db.session.commit()
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt(blob)


def test_destroyed_data_key_cannot_decrypt_or_encrypt(ctx):
    data_key = crypto.new_data_key("tip")
    other = crypto.new_data_key("tip")
    blob, other_blob = crypto.encrypt(PLAINTEXT, data_key), crypto.encrypt(PLAINTEXT, other)
    crypto.destroy_data_key(data_key)
    db.session.commit()
    row = db.session.get(DataKey, data_key.id)
    assert row.wrapped is None and row.destroyed_at is not None
    with pytest.raises(crypto.DecryptionError, match="destroyed"):
        crypto.decrypt(blob)
    with pytest.raises(ValueError):
        crypto.encrypt(b"x", row)
    assert crypto.decrypt(other_blob) == PLAINTEXT  # shredding is per record


def test_unknown_data_key_fails(ctx):
    blob = crypto.encrypt(b"x", crypto.new_data_key("tip"))
    db.session.rollback()  # the data key row never reached the database
    with pytest.raises(crypto.DecryptionError, match="not found"):
        crypto.decrypt(blob)


@pytest.mark.parametrize("purpose", ["", "x" * 33, "a\x00b"])
def test_bad_purpose_refused(ctx, purpose):
    with pytest.raises(ValueError):
        crypto.new_data_key(purpose)


@pytest.mark.parametrize("profile", PROFILES)
def test_data_key_size_and_wrapping(make_crypto_app, profile):
    from tipoff.crypto.envelope import _unwrap_row

    with make_crypto_app(TIPOFF_CRYPTO_PROFILE=profile).app_context():
        data_key = crypto.new_data_key("tip")
        dek = _unwrap_row(data_key)
        assert len(dek) == DEK_SIZES[profile]
        assert dek not in data_key.wrapped


# ---------------------------------------------------------------- rotation


def _content_file(data_dir) -> dict:
    return json.loads((data_dir / "keys" / "content-keys.json").read_text())


@pytest.mark.parametrize("batch_size", [1, 2, 500])
def test_rotation_rewraps_every_data_key_and_old_blobs_still_decrypt(make_crypto_app, data_dir, batch_size):
    app_default = make_crypto_app()
    with app_default.app_context():
        old_kid = crypto.new_data_key("tip").kek_id
        blobs = [crypto.encrypt(f"tip {i}".encode(), crypto.new_data_key("tip"), aad=b"t") for i in range(4)]
        shredded = crypto.new_data_key("tip")
        crypto.destroy_data_key(shredded)
        db.session.commit()
        shredded_id = shredded.id
    with make_crypto_app(TIPOFF_CRYPTO_PROFILE="gm").app_context():
        blobs.append(crypto.encrypt(b"gm tip", crypto.new_data_key("tip"), aad=b"t"))
        db.session.commit()
        result = crypto.rotate_content_key(batch_size=batch_size)
        assert result["rewrapped"] == 6 and result["retired"] == [old_kid] and result["unreadable"] == []
        new_kid = result["new_kid"]
        rows = db.session.scalars(db.select(DataKey)).all()
        assert {row.kek_id for row in rows if row.wrapped is not None} == {new_kid}
        assert db.session.get(DataKey, shredded_id).wrapped is None  # shredded stays shredded
        assert [crypto.decrypt(blob, aad=b"t") for blob in blobs] == [*(f"tip {i}".encode() for i in range(4)),
                                                                      b"gm tip"]
        assert crypto.new_data_key("tip").kek_id == new_kid
    body = _content_file(data_dir)
    assert body["active"] == new_kid
    assert body["keys"][old_kid]["retired"] is True and body["keys"][new_kid]["retired"] is False


def test_rotation_rewraps_under_a_really_new_key(ctx):
    data_key = crypto.new_data_key("tip")
    blob = crypto.encrypt(b"x", data_key)
    db.session.commit()
    before = data_key.wrapped
    kid = crypto.rotate_content_key()["new_kid"]
    row = db.session.get(DataKey, data_key.id)
    assert row.kek_id == kid and row.wrapped != before
    # Forgetting the old key proves the data key no longer depends on it.
    ring = ctx.extensions[EXTENSION]
    content = ring.reload_content_keys()
    del content.keys[next(k for k in content.keys if k != kid)]
    ring.save_content_keys(content)
    assert crypto.decrypt(blob) == b"x"


def _stale_keyring(app) -> Keyring:
    """A keyring loaded now, like a worker that started before the rotation."""
    ring = Keyring.from_config(app.config)
    ring.load()
    return ring


@pytest.mark.parametrize("first_use", ["decrypt", "new_data_key"])
def test_another_worker_follows_rotation_by_reloading(crypto_app, first_use):
    with crypto_app.app_context():
        stale = _stale_keyring(crypto_app)
        old_kid = stale.active_content_key()[0]
        fresh = crypto_app.extensions[EXTENSION]
        kid = crypto.rotate_content_key()["new_kid"]
        assert kid != old_kid
        blob = crypto.encrypt(b"after rotation", crypto.new_data_key("tip"))
        db.session.commit()
        crypto_app.extensions[EXTENSION] = stale
        try:
            assert stale._content.active == old_kid  # it has not looked yet
            if first_use == "decrypt":  # a key id it has never seen makes it reread the file
                assert crypto.decrypt(blob) == b"after rotation"
            else:  # the file changed on disk, so new data keys use the new active key at once
                assert crypto.new_data_key("tip").kek_id == kid
        finally:
            crypto_app.extensions[EXTENSION] = fresh


def test_rotation_refused_for_environment_content_keys(make_crypto_app):
    import base64
    import os

    from tipoff.errors import ConfigError

    key = base64.b64encode(os.urandom(32)).decode()
    with make_crypto_app(TIPOFF_CONTENT_KEY=f"k1:{key}").app_context():
        with pytest.raises(ConfigError, match="TIPOFF_CONTENT_KEY"):
            crypto.rotate_content_key()


def test_rotation_reports_data_keys_no_key_can_unwrap(ctx):
    good = crypto.new_data_key("tip")
    lost = crypto.new_data_key("tip")
    lost.kek_id = "k-lost"  # wrapped under a key that is no longer anywhere
    db.session.commit()
    result = crypto.rotate_content_key()
    assert result["rewrapped"] == 1 and result["unreadable"] == [lost.id]
    assert db.session.get(DataKey, good.id).kek_id == result["new_kid"]
    assert db.session.get(DataKey, lost.id).kek_id == "k-lost"


def test_rotation_without_database_changes_nothing(crypto_app, data_dir):
    from tipoff.errors import ConfigError

    before = (data_dir / "keys" / "content-keys.json").read_bytes()
    with crypto_app.app_context():
        DataKey.__table__.drop(db.engine)
        with pytest.raises(ConfigError, match="flask tipoff init"):
            crypto.rotate_content_key()
    assert (data_dir / "keys" / "content-keys.json").read_bytes() == before
