"""A backup that was changed, cut short, reordered or opened with the wrong key is refused with a clear
error before anything is written; a target that holds data is refused unless forced."""
from __future__ import annotations

import os
import sqlite3
import struct
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

from tests.backup.helpers import BACKUP_PASSPHRASE, empty_app, make_backup_key
from tipoff.audit.models import AuditEntry
from tipoff.backup.archive import CHUNK_SIZE, MAGIC
from tipoff.crypto.backupkey import CHUNK_OVERHEAD
from tipoff.extensions import db

CHUNK = CHUNK_SIZE + CHUNK_OVERHEAD


@pytest.fixture
def archive(app, backup_key, tmp_path) -> Path:
    """An archive of the test app with a 200 KB evidence file in it, so it spans several chunks."""
    (Path(app.config["TIPOFF_DATA_DIR"]) / "attachments").mkdir(exist_ok=True)
    (Path(app.config["TIPOFF_DATA_DIR"]) / "attachments" / "0123abcd").write_bytes(os.urandom(200_000))
    path = tmp_path / "t.backup"
    result = app.test_cli_runner().invoke(args=["tipoff", "backup", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _payload_start(data: bytes) -> int:
    (length,) = struct.unpack(">I", data[len(MAGIC) + 1:len(MAGIC) + 5])
    return len(MAGIC) + 5 + length


def _restore(target, path: Path, key: Path, passphrase: str = BACKUP_PASSPHRASE, *extra: str):
    return target.test_cli_runner().invoke(
        args=["tipoff", "restore", str(path), "--key", str(key), "--passphrase-stdin", *extra],
        input=passphrase + "\n")


def _nothing_written(target) -> None:
    with target.app_context():
        assert inspect(db.engine).get_table_names() == []
    data_dir = Path(target.config["TIPOFF_DATA_DIR"])
    assert not (data_dir / "attachments").exists()
    assert not (data_dir / "keys" / "identity.pub").exists()


def _tampered(archive: Path, tmp_path: Path, change) -> Path:
    data = bytearray(archive.read_bytes())
    changed = tmp_path / "changed.backup"
    changed.write_bytes(bytes(change(data, _payload_start(bytes(data)))))
    return changed


def _flip(data: bytearray, start: int) -> bytearray:
    data[start + CHUNK + 100] ^= 0x01
    return data


def _swap_first_two(data: bytearray, start: int) -> bytearray:
    first, second = data[start:start + CHUNK], data[start + CHUNK:start + 2 * CHUNK]
    return data[:start] + second + first + data[start + 2 * CHUNK:]


def _drop_last(data: bytearray, start: int) -> bytearray:
    last = start + ((len(data) - start - 1) // CHUNK) * CHUNK
    return data[:last]  # ends exactly on a chunk boundary: only the final flag shows it is cut short


def _cut(data: bytearray, start: int) -> bytearray:
    return data[:len(data) - 10]


def _append(data: bytearray, start: int) -> bytearray:
    return data + os.urandom(CHUNK)


def _header(data: bytearray, start: int) -> bytearray:
    data[start - 3] ^= 0x20  # a byte of the clear JSON header: bound into the payload key
    return data


@pytest.mark.parametrize("change, message", [
    (_flip, "failed authentication"), (_swap_first_two, "failed authentication"),
    (_drop_last, "failed authentication"), (_cut, "truncated"), (_append, "failed authentication"),
    (_header, "archive"),
], ids=["flipped-bit", "reordered", "last-chunk-dropped", "cut", "appended", "header"])
def test_tampered_archive_is_refused_and_nothing_written(archive, backup_key, tmp_path, change, message):
    changed = _tampered(archive, tmp_path, change)
    target = empty_app(tmp_path, None)
    result = _restore(target, changed, backup_key[1])
    assert result.exit_code == 1 and message in result.output, result.output
    _nothing_written(target)
    verify = target.test_cli_runner().invoke(args=["tipoff", "backup", "verify", str(changed), "--key",
                                                   str(backup_key[1]), "--passphrase-stdin"],
                                             input=BACKUP_PASSPHRASE + "\n")
    assert verify.exit_code == 1 and "NOT intact" in verify.output


def test_wrong_passphrase_and_wrong_key(archive, backup_key, tmp_path):
    target = empty_app(tmp_path, None)
    wrong = _restore(target, archive, backup_key[1], passphrase="not the backup passphrase at all")
    assert wrong.exit_code == 1 and "wrong backup passphrase" in wrong.output
    _, other_key = make_backup_key(tmp_path / "other")
    other = _restore(target, archive, other_key)
    assert other.exit_code == 1 and "not made for this backup key" in other.output
    not_an_archive = tmp_path / "x.backup"
    not_an_archive.write_bytes(b"PK\x03\x04 a zip file")
    assert "not a tipoff backup" in _restore(target, not_an_archive, backup_key[1]).output
    _nothing_written(target)


def test_verify_reads_the_whole_archive(app, archive, backup_key):
    runner = app.test_cli_runner()
    for args in (["tipoff", "backup", "verify", str(archive)], ["tipoff", "backup", "--verify", str(archive)]):
        result = runner.invoke(args=[*args, "--key", str(backup_key[1]), "--passphrase-stdin"],
                               input=BACKUP_PASSPHRASE + "\n")
        assert result.exit_code == 0 and "backup OK" in result.output and "1 evidence files" in result.output, \
            result.output


def test_archive_holds_no_key_in_clear(app, archive):
    """Neither the content key, the blind-index key nor the signing key appears in the file."""
    data = archive.read_bytes()
    keys = Path(app.config["TIPOFF_DATA_DIR"]) / "keys"
    for name in ("blind-index.key", "signing.key"):
        assert (keys / name).read_text().strip().encode() not in data
    assert b"content-keys" not in data and b"identity" not in data and b"tips" not in data


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _replaced_schemas(app) -> set[str]:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return set()
        found = set(db.session.scalars(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tipoff_replaced_%'")))
        db.session.rollback()
        return found


@pytest.fixture(autouse=True)
def _drop_replaced_schemas(app):
    """A forced restore on PostgreSQL leaves a schema in the shared test database: drop the test's own."""
    before = _replaced_schemas(app)
    yield
    with app.app_context():
        for schema in sorted(_replaced_schemas(app) - before):
            db.session.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        db.session.commit()


def _kept_audit_count(app, output: str) -> int:
    """How many audit entries the database a forced restore set aside holds (its copy or its schema)."""
    kept = [line.split("kept the replaced ", 1)[1] for line in output.splitlines() if "kept the replaced " in line]
    table = AuditEntry.__tablename__
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            database = next(Path(k) for k in kept if k.startswith(db.engine.url.database + ".replaced-"))
            assert database.stat().st_mode & 0o777 == 0o600  # it holds what the live database held
            with closing(sqlite3.connect(database)) as conn:
                return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        schema = next(k.split()[2] for k in kept if k.startswith("PostgreSQL schema "))
        try:
            return db.session.scalar(text(f'SELECT count(*) FROM "{schema}"."{table}"'))
        finally:
            db.session.rollback()


def test_non_empty_target_is_refused_unless_forced(app, archive, backup_key):
    refused = _restore(app, archive, backup_key[1])
    assert refused.exit_code == 1 and "not empty" in refused.output and "--force" in refused.output
    before = _audit_count(app)
    forced = _restore(app, archive, backup_key[1], BACKUP_PASSPHRASE, "--force")
    assert forced.exit_code == 0 and "audit chain OK" in forced.output, forced.output
    assert "kept the replaced" in forced.output  # the old evidence folder is renamed, not deleted
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-1] == "backup.restored" and "backup.created" not in actions
    assert _kept_audit_count(app, forced.output) == before  # and the replaced database is kept, not dropped
    with app.app_context():  # the audit log says where it is (it is outside retention until removed)
        restored = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "backup.restored"))
        kept = [line.split("kept the replaced ", 1)[1] for line in forced.output.splitlines()
                if "kept the replaced " in line]
        assert restored.details["kept"] == kept and len(kept) >= 2


def test_a_restore_that_cannot_keep_the_replaced_database_changes_nothing(app, archive, backup_key, monkeypatch):
    """No room for the copy (SQLite), no right to create the schema (PostgreSQL): refused before any drop."""
    from datetime import datetime, timezone

    from tipoff.backup import restore

    moment = datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(restore, "utcnow", lambda: moment)
    stamp = moment.strftime("%Y%m%dT%H%M%S%fZ")
    with app.app_context():
        if db.engine.dialect.name == "sqlite":  # the copy's place is taken: as good as a full disk here
            Path(f"{db.engine.url.database}.replaced-{stamp}.partial").write_bytes(b"")
        else:
            db.session.execute(text(f'CREATE SCHEMA "tipoff_replaced_{stamp.lower()}"'))
            db.session.commit()
    before = _audit_count(app)
    refused = _restore(app, archive, backup_key[1], BACKUP_PASSPHRASE, "--force")
    assert refused.exit_code == 1 and "nothing was changed" in refused.output, refused.output
    assert "kept the replaced" not in refused.output and _audit_count(app) == before
    assert (Path(app.config["TIPOFF_DATA_DIR"]) / "attachments" / "0123abcd").exists()


def test_every_relation_and_type_leaves_the_schema_it_is_moved_out_of(app, pg_schema):
    """What the migrations create in the schema must not be left behind by the move (they would collide)."""
    from tipoff.backup import restore

    if pg_schema is None:
        pytest.skip("PostgreSQL only")
    with app.app_context():
        db.session.execute(text("CREATE TYPE tipoff_test_mood AS ENUM ('calm', 'worried')"))
        db.session.commit()
        moved: list[str] = []
        restore._set_database_aside(moved)
        left = db.session.execute(text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() UNION ALL SELECT t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = current_schema()")).scalars().all()
        db.session.rollback()
        assert len(moved) == 1 and left == []
        from tests.conftest import reset_database

        reset_database()  # the suite's own tables again, for the tests that follow


def test_a_forced_restore_that_fails_halfway_leaves_the_replaced_data_to_go_back_to(app, archive, backup_key,
                                                                                    monkeypatch):
    from tipoff.backup import restore

    loaded = restore.TableLoader.load

    def load_then_fail(self, lines):
        if self.name == AuditEntry.__tablename__:
            raise RuntimeError("the disk filled up during the load")
        return loaded(self, lines)

    monkeypatch.setattr(restore.TableLoader, "load", load_then_fail)
    before = _audit_count(app)
    assert before > 0
    failed = _restore(app, archive, backup_key[1], BACKUP_PASSPHRASE, "--force")
    assert failed.exit_code != 0 and isinstance(failed.exception, RuntimeError)
    assert _audit_count(app) == 0  # the load is one transaction: nothing of it stays
    assert _kept_audit_count(app, failed.output) == before


def test_backup_needs_the_backup_public_key(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["tipoff", "backup", "--output", str(tmp_path / "x")])
    assert result.exit_code == 1 and "backup public key missing" in result.output
    assert not (tmp_path / "x").exists()


def test_existing_output_is_not_overwritten(app, archive, backup_key):
    before = archive.read_bytes()
    result = app.test_cli_runner().invoke(args=["tipoff", "backup", "--output", str(archive)])
    assert result.exit_code == 1 and "exists" in result.output and archive.read_bytes() == before


def test_keygen_writes_a_sealed_private_key_and_a_public_key(app, tmp_path):
    public, private = tmp_path / "backup.pub", tmp_path / "backup.key.enc"
    result = app.test_cli_runner().invoke(args=["tipoff", "backup", "keygen", "--public-out", str(public),
                                                "--private-out", str(private), "--passphrase-stdin"],
                                          input=BACKUP_PASSPHRASE + "\n")
    assert result.exit_code == 0 and "fingerprint" in result.output, result.output
    assert oct(private.stat().st_mode & 0o777) == "0o600" and b"argon2id" in private.read_bytes()
    from tipoff.crypto.backupkey import unlock_backup_key
    from tipoff.crypto.primitives import b64encode

    assert b64encode(unlock_backup_key(private.read_text(), BACKUP_PASSPHRASE).public_key) == public.read_text().strip()
    again = app.test_cli_runner().invoke(args=["tipoff", "backup", "keygen", "--public-out", str(public),
                                               "--private-out", str(private), "--passphrase-stdin"],
                                         input=BACKUP_PASSPHRASE + "\n")
    assert again.exit_code == 1 and "never overwritten" in again.output
