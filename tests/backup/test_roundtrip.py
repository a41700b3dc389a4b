"""Back up a working tipoff and restore it on a fresh machine: every tip, its evidence, the sealed
identity, the blind indexes, the staff logins and the audit chain come back, on SQLite and PostgreSQL."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text

from tests.backup.helpers import BACKUP_PASSPHRASE, PDF, empty_app, make_backup_key, populate
from tests.conftest import CUSTODIAN_PASSPHRASE, PG_URL, login, make_app
from tests.intake.helpers import VALID, receipt_of
from tipoff import crypto
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake import attachments as evidence
from tipoff.intake import services as intake
from tipoff.intake.models import ReporterIdentity, Tip


def _backup(app, out: Path):
    result = app.test_cli_runner().invoke(args=["tipoff", "backup", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "backup written" in result.output and stat.S_IMODE(out.stat().st_mode) == 0o600
    return result


def _restore(target, archive: Path, key: Path, *extra: str, passphrase: str = BACKUP_PASSPHRASE):
    return target.test_cli_runner().invoke(
        args=["tipoff", "restore", str(archive), "--key", str(key), "--passphrase-stdin", *extra],
        input=passphrase + "\n")


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def _check_restored(target, filed, people, source_counts: dict[str, int]) -> None:
    """Look for everything a user, a custodian and an auditor would look for."""
    counts = _row_counts(target)
    assert counts["audit_entries"] == source_counts["audit_entries"] + 1  # + backup.restored
    assert {k: v for k, v in counts.items() if not k.startswith("audit_")} == \
           {k: v for k, v in source_counts.items() if not k.startswith("audit_")}
    with target.app_context():
        last = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)).all()
        assert last == ["backup.restored"]  # recorded after the chain was loaded
        for reference, code in (filed.anonymous, filed.named, filed.rewarded):
            tip = intake.open_for_reporter(reference, code)  # the reporter's access code still opens it
            assert intake.description_of(tip) == filed.descriptions[reference]
        anonymous = intake.open_for_reporter(*filed.anonymous)
        (attachment,) = evidence.tip_attachments(anonymous)
        assert evidence.read_attachment(anonymous, attachment) == PDF
        named = intake.open_for_reporter(*filed.named)
        assert [m.body for m in intake.messages_of(named)] == [filed.message]
        identity = db.session.scalar(select(ReporterIdentity).where(ReporterIdentity.tip_id == named.id))
        opened = crypto.unlock_identity_key(CUSTODIAN_PASSPHRASE).open(identity.sealed).decode()
        assert "欧阳明哲" in opened and "13912345678" in opened
        # Blind indexes made before the backup still match what the restored key computes.
        found = db.session.scalars(select(ReporterIdentity.tip_id).where(
            ReporterIdentity.phone_index == crypto.blind_index("phone", "13912345678"))).all()
        assert named.id in found and len(found) >= 2  # the named tip and the rewarded one
        keys = Path(target.config["TIPOFF_DATA_DIR"]) / "keys"
        for name in ("content-keys.json", "blind-index.key", "signing.key", "identity.pub", "identity.key.enc"):
            assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600, name
    verify = target.test_cli_runner().invoke(args=["tipoff", "audit", "verify"])
    assert verify.exit_code == 0 and "audit chain OK" in verify.output, verify.output
    client = target.test_client()
    login(client, people["handler"])  # password hash and TOTP secret restored
    assert client.get("/staff/cases/").status_code == 200
    # New rows get new ids after the restore (PostgreSQL sequences were moved past the restored keys).
    reference, _ = receipt_of(client.post("/report", data=VALID))
    with target.app_context():
        newest = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert newest.id > max(source_counts["tips"], 1)


def _roundtrip(source, client, people, tmp_path: Path, target) -> None:
    public, key = make_backup_key(tmp_path / "offline")
    (Path(source.config["TIPOFF_DATA_DIR"]) / "keys" / "backup.pub").write_text(public + "\n")
    filed = populate(source, client, people)
    # A production database is made by the migrations and carries its revision; the archive records it.
    with source.app_context():
        from flask_migrate import stamp

        db.session.remove()
        stamp(directory=source.extensions["migrate"].directory)
    archive = tmp_path / "tipoff.backup"
    counts = _row_counts(source)  # what the archive holds; backup.created is recorded after it is written
    result = _backup(source, archive)
    assert "identity private key included" in result.output
    with source.app_context():
        assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc()).limit(1)) == "backup.created"
    restored = _restore(target, archive, key)
    assert restored.exit_code == 0, restored.output
    assert "audit chain OK" in restored.output and "head " in restored.output
    with target.app_context():
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == \
            ScriptDirectory.from_config(target.extensions["migrate"].migrate.get_config()).get_current_head()
    _check_restored(target, filed, people, counts)


def test_restore_into_an_empty_data_dir(app, client, people, tmp_path, pg_schema):
    """Same database engine as the suite runs on (a new SQLite file, or a new PostgreSQL schema)."""
    if pg_schema is None:
        target = empty_app(tmp_path, None)
        _roundtrip(app, client, people, tmp_path, target)
        return
    pytest.skip("covered by the cross-engine tests on PostgreSQL runs")


def test_restore_postgresql_backup_into_sqlite(app, client, people, tmp_path, pg_schema):
    if pg_schema is None:
        pytest.skip("the source is SQLite on this run (see test_restore_into_an_empty_data_dir)")
    _roundtrip(app, client, people, tmp_path, empty_app(tmp_path, None))


@pytest.mark.skipif(not PG_URL, reason="SQLite → PostgreSQL needs TIPOFF_TEST_DATABASE_URL")
def test_restore_sqlite_backup_into_postgresql(tmp_path, fresh_pg_schema, make_staff_on):
    source, client, people = make_staff_on(make_app(tmp_path / "src", None))
    _roundtrip(source, client, people, tmp_path, empty_app(tmp_path, fresh_pg_schema))


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL → PostgreSQL needs TIPOFF_TEST_DATABASE_URL")
def test_restore_postgresql_backup_into_another_schema(app, client, people, tmp_path, pg_schema, fresh_pg_schema):
    if pg_schema is None:
        pytest.skip("the source is SQLite on this run")
    _roundtrip(app, client, people, tmp_path, empty_app(tmp_path, fresh_pg_schema))


def test_the_new_machine_has_the_schema_of_the_migrations(app, backup_key, tmp_path):
    public, key = backup_key
    archive = tmp_path / "a.backup"
    _backup(app, archive)
    target = empty_app(tmp_path, None)
    assert _restore(target, archive, key).exit_code == 0
    with target.app_context():
        tables = set(inspect(db.engine).get_table_names())
        assert "alembic_version" in tables and set(db.metadata.tables) <= tables
    keys = Path(target.config["TIPOFF_DATA_DIR"]) / "keys"
    assert not list(keys.glob("*.tmp")) and not os.path.exists(keys / "backup.key.enc")  # never the private half
