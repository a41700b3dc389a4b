"""`flask tipoff keys …` on the minimal crypto app (audit recorder faked) and on the full app."""
from __future__ import annotations

import json

from tipoff import crypto
from tipoff.crypto.models import DataKey
from tipoff.extensions import db

PASSPHRASE = "correct horse battery staple custodian"


def test_status_lists_every_key_without_values(crypto_app, assert_no_secrets):
    runner = crypto_app.test_cli_runner()
    result = runner.invoke(args=["tipoff", "keys", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 5
    assert "identity public key: missing" in result.output
    assert "content key: present" in result.output and "signing key: present" in result.output
    with crypto_app.app_context():
        assert_no_secrets(result.output)


def test_generate_reports_and_audits_only_when_something_was_made(make_crypto_app, data_dir, audit_calls):
    app = make_crypto_app()
    (data_dir / "keys" / "signing.key").unlink()
    result = app.test_cli_runner().invoke(args=["tipoff", "keys", "generate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"generated signing key in {data_dir / 'keys' / 'signing.key'}"
    assert [call[0] for call in audit_calls] == ["keys.generate"]
    assert audit_calls[0][1]["actor"] == "cli"
    result = app.test_cli_runner().invoke(args=["tipoff", "keys", "generate"])
    assert "nothing to generate" in result.output
    assert len(audit_calls) == 1


def test_generate_before_database_exists_notes_missing_audit(make_crypto_app, data_dir, audit_calls):
    from tipoff.audit.models import AuditEntry

    app = make_crypto_app()
    with app.app_context():
        AuditEntry.__table__.drop(db.engine)
    (data_dir / "keys" / "blind-index.key").unlink()
    result = app.test_cli_runner().invoke(args=["tipoff", "keys", "generate"])
    assert result.exit_code == 0, result.output
    assert "generated blind-index key" in result.output
    assert "no audit entry for keys.generate" in result.output and "flask tipoff init" in result.output
    assert audit_calls == []


def test_generate_identity_from_stdin(crypto_app, audit_calls):
    runner = crypto_app.test_cli_runner()
    result = runner.invoke(args=["tipoff", "keys", "generate-identity", "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    assert audit_calls[0][0] == "keys.generate_identity"
    with crypto_app.app_context():
        key = crypto.unlock_identity_key(PASSPHRASE)
        assert key.open(crypto.seal_identity(b"id")) == b"id"
        assert key._private.private_bytes_raw().hex() not in result.output
    again = runner.invoke(args=["tipoff", "keys", "generate-identity", "--passphrase-stdin"], input=PASSPHRASE + "\n")
    assert again.exit_code != 0 and "already exists" in again.output
    forced = runner.invoke(args=["tipoff", "keys", "generate-identity", "--passphrase-stdin", "--force"],
                           input="a different long passphrase\n")
    assert forced.exit_code == 0, forced.output


def test_generate_identity_refuses_short_passphrase(crypto_app, audit_calls):
    result = crypto_app.test_cli_runner().invoke(args=["tipoff", "keys", "generate-identity", "--passphrase-stdin"],
                                                 input="short\n")
    assert result.exit_code != 0 and "16 characters" in result.output
    assert audit_calls == []


def test_rotate_content(crypto_app, data_dir, audit_calls):
    with crypto_app.app_context():
        blob = crypto.encrypt(b"tip", crypto.new_data_key("tip"))
        crypto.new_data_key("attachment")
        db.session.commit()
    result = crypto_app.test_cli_runner().invoke(args=["tipoff", "keys", "rotate-content", "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    new_kid = json.loads((data_dir / "keys" / "content-keys.json").read_text())["active"]
    assert f"new content key {new_kid}; re-wrapped 2 data key(s)" in result.output
    assert audit_calls == [("keys.rotate_content", {"actor": "cli", "details": {
        "new_kid": new_kid, "rewrapped": 2, "retired": audit_calls[0][1]["details"]["retired"], "unreadable": 0}})]
    assert len(audit_calls[0][1]["details"]["retired"]) == 1
    with crypto_app.app_context():
        assert {row.kek_id for row in db.session.scalars(db.select(DataKey))} == {new_kid}
        assert crypto.decrypt(blob) == b"tip"


def test_rotate_content_rejects_bad_batch_size(crypto_app, audit_calls):
    result = crypto_app.test_cli_runner().invoke(args=["tipoff", "keys", "rotate-content", "--batch-size", "0"])
    assert result.exit_code != 0
    assert audit_calls == []


# ---------------------------------------------------------------- the full application (tests/conftest.py)


def test_full_app_keys_status_and_rotation(runner, app_ctx):
    """Needs every package `create_app` wires (accounts, audit, reference…)."""
    from tipoff.audit.models import AuditEntry

    status = runner.invoke(args=["tipoff", "keys", "status"])
    assert status.exit_code == 0, status.output
    assert "content key: present" in status.output
    crypto.encrypt(b"tip", crypto.new_data_key("tip"))
    db.session.commit()
    rotated = runner.invoke(args=["tipoff", "keys", "rotate-content"])
    assert rotated.exit_code == 0, rotated.output
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "keys.rotate_content")).one()
    assert entry.details["rewrapped"] == 1


def test_full_app_has_keyring_and_no_identity_key_loaded(app):
    """create_app wires crypto.init_app; the private identity key is never loaded at start."""
    from tipoff.crypto.keyring import EXTENSION, Keyring

    assert isinstance(app.extensions[EXTENSION], Keyring)
    assert not any(isinstance(value, crypto.IdentityKey) for value in app.extensions.values())
