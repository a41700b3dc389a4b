"""A restore re-applies retention: an archive made before a destruction never brings it back into service."""
from __future__ import annotations

from sqlalchemy import select

from tests.backup.helpers import BACKUP_PASSPHRASE, empty_app
from tests.retention.helpers import closed_case, tip_of
from tipoff import crypto
from tipoff.extensions import db
from tipoff.intake import services as intake
from tipoff.intake.models import ReporterIdentity


def _readable(app, reference: str) -> tuple[bool, int]:
    """(description still decrypts?, sealed identities left) of a tip."""
    with app.app_context():
        tip = tip_of(reference)
        key = crypto.data_key_of(tip.description_sealed)
        sealed = db.session.scalars(select(ReporterIdentity.sealed).where(ReporterIdentity.tip_id == tip.id)).all()
        return key.wrapped is not None and "销毁" not in intake.description_of(tip), sum(s is not None for s in sealed)


def test_restoring_an_older_archive_destroys_again_what_retention_destroyed(
        app, client, people, backup_key, tmp_path, pg_schema):
    _, private = backup_key
    old, _ = closed_case(app, client, people, years=11)
    archive = tmp_path / "before-retention.backup"
    made = app.test_cli_runner().invoke(args=["tipoff", "backup", "--output", str(archive)])
    assert made.exit_code == 0, made.output
    assert app.test_cli_runner().invoke(args=["tipoff", "retention"]).exit_code == 0
    assert _readable(app, old) == (False, 0)

    target = empty_app(tmp_path, None)  # a fresh machine (SQLite) restoring last month's archive
    restored = target.test_cli_runner().invoke(
        args=["tipoff", "restore", str(archive), "--key", str(private), "--passphrase-stdin"],
        input=BACKUP_PASSPHRASE + "\n")
    assert restored.exit_code == 0, restored.output
    assert "retention re-applied: matters checked 1; evidence destroyed for 1 tip(s)" in restored.output
    assert "audit chain OK" in restored.output
    assert _readable(target, old) == (False, 0)
