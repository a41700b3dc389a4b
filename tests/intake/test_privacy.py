"""The reporter's identity: sealed on arrival, nowhere in plaintext, unreadable by the running server."""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.conftest import CUSTODIAN_PASSPHRASE
from tests.intake.helpers import NAMED, receipt_of
from tipoff import crypto
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity

NAME, PHONE, ID_NUMBER = "欧阳明哲", "13912345678", "11010519491231002X"
SECRETS = [NAME.encode("utf-8"), PHONE.encode(), ID_NUMBER.encode(), "139 1234 5678".encode()]


def database_bytes(app) -> bytes:
    """Every byte the database holds: the SQLite files, or every row of every table on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            db.engine.dispose()
            base = Path(db.engine.url.database)
            return b"".join(p.read_bytes() for p in base.parent.glob(base.name + "*"))
        chunks = []
        for table in db.metadata.sorted_tables:
            rows = db.session.execute(text(f'SELECT row_to_json(t)::text FROM "{table.name}" t')).scalars()
            chunks.extend(r.encode("utf-8") for r in rows)
            # bytea columns render as \x.. hex in JSON: decode those too
            for column in table.columns:
                if column.type.python_type is bytes:
                    values = db.session.execute(text(f'SELECT "{column.name}" FROM "{table.name}"')).scalars()
                    chunks.extend(bytes(v) for v in values if v is not None)
        return b"\n".join(chunks)


@pytest.fixture
def named_tip(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    response = client.post("/report", data=NAMED)
    assert response.status_code == 201
    return receipt_of(response)


def test_identity_appears_nowhere_in_plaintext(app, named_tip, caplog):
    stored = database_bytes(app)
    data_dir = Path(app.config["TIPOFF_DATA_DIR"])
    files = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    logs = caplog.text.encode("utf-8")
    for secret in SECRETS:
        assert secret not in stored, secret
        assert secret not in files, secret
        assert secret not in logs, secret
    # The test would notice plaintext: the subject (not secret) is in the database as written.
    assert "灵井燃气加气站".encode("utf-8") in stored


def test_access_code_is_stored_only_as_a_hash(app, named_tip):
    _, code = named_tip
    assert code.encode() not in database_bytes(app)


def test_running_server_cannot_read_identity_but_custodian_can(app, named_tip):
    with app.app_context():
        sealed = db.session.scalar(select(ReporterIdentity.sealed))
        # Nothing the running app holds opens it: the private key is not loaded anywhere.
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

        keyring = app.extensions["tipoff_crypto"]
        assert not any(isinstance(value, X25519PrivateKey) for value in vars(keyring).values())
        with pytest.raises(crypto.IdentityKeyError):
            crypto.unlock_identity_key("not the custodian passphrase")
        # The custodian, with the passphrase, can (this is the audited disclosure path's primitive).
        opened = json.loads(crypto.unlock_identity_key(CUSTODIAN_PASSPHRASE).open(sealed))
        assert opened == {"name": NAME, "phone": PHONE, "id_number": ID_NUMBER, "contact_preference": "sms"}


def test_blind_index_does_not_reveal_the_phone(app, named_tip):
    with app.app_context():
        identity = db.session.scalar(select(ReporterIdentity))
        assert identity.phone_index == crypto.blind_index("phone", PHONE)
        assert PHONE not in identity.phone_index and ID_NUMBER not in identity.id_number_index
        assert identity.id_number_index == crypto.blind_index("id_number", ID_NUMBER)


def test_audit_entry_of_a_submission_holds_no_identity(app, named_tip):
    from tipoff.audit.models import AuditEntry

    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tip.submit"))
        assert entry.details["named"] is True
        flat = json.dumps(entry.details, ensure_ascii=False) + (entry.reason or "")
        assert NAME not in flat and PHONE not in flat
