"""Restore (恢复): bring an archive back on a fresh machine, schema by the migrations, keys 0600.

Order: check the whole archive (nothing written yet); refuse a database or data dir that holds data
unless forced, and when forced keep what is replaced (the SQLite file copied, PostgreSQL's tables moved to
a schema of their own, evidence and key files renamed): never deleted, so a restore that fails halfway leaves
the old data to go back to; build the schema with the migrations up to the archive's revision; load every table
in one transaction; write the key files and evidence files; upgrade to the current revision; record
the restore in the audit log and verify the whole chain.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app

from tipoff.backup.archive import ArchiveError, open_archive
from tipoff.backup.services import KEY_MEMBERS, RestoreReport, _attachment_dir, _check_member, verify_archive
from tipoff.backup.tables import TableLoader, iter_lines, reset_sequences
from tipoff.crypto import keyfiles
from tipoff.crypto.identity import IdentityKey
from tipoff.crypto.keyring import current_keyring
from tipoff.db import utcnow
from tipoff.extensions import db


class TargetNotEmpty(Exception):
    """The database or data dir already holds data (restore again with force)."""


class RestoreRefused(Exception):
    """A forced restore could not keep what it would replace; it changed nothing."""


def _tables_with_rows(conn: sa.Connection) -> list[str]:
    names = set(sa.inspect(conn).get_table_names()) & set(db.metadata.tables)
    return sorted(name for name in names
                  if conn.execute(sa.select(sa.literal(1)).select_from(sa.table(name)).limit(1)).first())


def check_target(force: bool) -> None:
    """Raise TargetNotEmpty when a table has rows or evidence files exist (unless `force`)."""
    with db.engine.connect() as conn:
        busy = _tables_with_rows(conn)
    folder = _attachment_dir()
    files = folder.is_dir() and any(folder.iterdir())
    if (busy or files) and not force:
        where = ", ".join(busy[:5]) + (" …" if len(busy) > 5 else "")
        raise TargetNotEmpty(
            "the target is not empty (" + "; ".join(filter(None, [
                f"tables with rows: {where}" if busy else "", f"evidence files in {folder}" if files else ""]))
            + "); restore into a fresh data dir and database, or pass --force to replace them")


def _kept_tables(conn: sa.Connection) -> list[str]:
    return sorted(name for name in sa.inspect(conn).get_table_names()
                  if name in db.metadata.tables or name == "alembic_version")


def _set_database_aside(moved: list[str]) -> None:
    """Keep the data a forced restore replaces: on SQLite a consistent copy of the file beside it (SQLite's
    online backup), on PostgreSQL every tipoff table (with its indexes, constraints and sequences) and enum
    type moved into a new schema `tipoff_replaced_<time>`. Nothing to keep when no table has rows (e.g. after
    `init`). Raises RestoreRefused, having changed nothing, when it cannot keep them."""
    db.session.remove()
    with db.engine.connect() as conn:
        if not _tables_with_rows(conn):
            return
    stamp = utcnow().strftime("%Y%m%dT%H%M%S%fZ")
    if db.engine.dialect.name == "sqlite":
        database = db.engine.url.database
        if database and database != ":memory:":
            moved.append(_copy_sqlite(Path(database), stamp))
        return
    moved.append(_move_postgresql_tables(f"tipoff_replaced_{stamp.lower()}"))


def _copy_sqlite(database: Path, stamp: str) -> str:
    target = database.with_name(f"{database.name}.replaced-{stamp}")
    partial = target.with_name(target.name + ".partial")
    try:
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # new, and ours alone
        with db.engine.connect() as conn, closing(sqlite3.connect(partial)) as copy:
            conn.connection.driver_connection.backup(copy)
        if target.exists():
            raise FileExistsError(target)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise RestoreRefused(f"could not keep a copy of the database it would replace ({exc}); nothing was "
                             f"changed. Free space beside {database}, or restore into a fresh data dir.") from None
    return str(target)


def _move_postgresql_tables(schema: str) -> str:
    quote = db.engine.dialect.identifier_preparer.quote
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {quote(schema)}"))
            for name in _kept_tables(conn):
                conn.execute(sa.text(f"ALTER TABLE {quote(name)} SET SCHEMA {quote(schema)}"))
            # Enum types belong to the schema, not to a table; the migrations would create them again.
            for (name,) in conn.execute(sa.text(
                    "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = current_schema() AND t.typtype = 'e'")):
                conn.execute(sa.text(f"ALTER TYPE {quote(name)} SET SCHEMA {quote(schema)}"))
    except sa.exc.DBAPIError as exc:
        raise RestoreRefused(f"could not move the tables it would replace into schema {schema} "
                             f"({str(exc.orig).strip()}); nothing was changed. The restoring role needs CREATE on "
                             "the database, or restore into a fresh database.") from None
    return f"PostgreSQL schema {schema} (the replaced tables; DROP SCHEMA … CASCADE when no longer needed)"


def _drop_everything() -> None:
    """Remove tipoff's tables and alembic's version table (force, or tables left empty by an earlier init)."""
    db.session.remove()
    with db.engine.begin() as conn:
        reflected = sa.MetaData()
        reflected.reflect(conn, only=_kept_tables(conn))
        reflected.drop_all(conn)


def _migrate(revision: str | None) -> None:
    from flask_migrate import upgrade

    db.session.remove()
    upgrade(directory=current_app.extensions["migrate"].directory, revision=revision or "head")


def _stamp(path: Path) -> Path:
    return path.with_name(f"{path.name}.replaced-{keyfiles.now_iso().replace(':', '').replace('-', '')}")


def _set_aside(path: Path, moved: list[str]) -> None:
    """Keep what the restore replaces (renamed, never deleted)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        target = _stamp(path)
        os.replace(path, target)
        moved.append(str(target))


class _Kept(list):
    """What the restore set aside, each said at once through `announce` (a restore that fails later has still
    told the operator where the replaced data is)."""

    def __init__(self, announce: Callable[[str], None] | None):
        super().__init__()
        self.announce = announce

    def append(self, item: str) -> None:
        super().append(item)
        if self.announce:
            self.announce(item)


def restore_archive(path: Path, private: IdentityKey, *, force: bool = False,
                    on_kept: Callable[[str], None] | None = None) -> RestoreReport:
    """Restore `path` into this app's database and data dir; see the module docstring for the order.

    `on_kept` hears of each thing a forced restore sets aside when it is set aside."""
    manifest = verify_archive(path, private)  # raises before anything is written
    # A new machine may not have the data dir yet (nor, on SQLite, the folder of the database file).
    Path(current_app.config["TIPOFF_DATA_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    check_target(force)
    moved: list[str] = _Kept(on_kept)
    _set_database_aside(moved)
    _drop_everything()
    _migrate(manifest["alembic_revision"])

    layouts = {f"db/{t['name']}.jsonl": t for t in manifest["tables"]}
    listed = manifest["members"]
    rows: dict[str, int] = {}
    keys: dict[str, bytes] = {}
    attachments = 0
    db.session.remove()
    with path.open("rb") as source, db.engine.begin() as conn:
        reflected = sa.MetaData()
        reflected.reflect(conn)
        _, members = open_archive(source, private)
        for member in members:
            if member.name in layouts:
                loader = TableLoader(conn, layouts[member.name], db.metadata, reflected)
                # Hash while loading: the first pass proved the archive, this guards against a swapped file.
                digest_check = _HashedChunks(member, listed[member.name])
                rows[loader.name] = loader.load(iter_lines(digest_check))
                digest_check.confirm()
            elif member.name in KEY_MEMBERS:
                collected = bytearray()
                _check_member(member, listed[member.name], collected.extend)
                keys[member.name] = bytes(collected)
            elif member.name.startswith("attachments/"):
                if attachments == 0:
                    _set_aside(_attachment_dir(), moved)
                    _attachment_dir().mkdir(mode=0o700, parents=True, exist_ok=True)
                _write_attachment(member, listed[member.name])
                attachments += 1
        reset_sequences(conn, reflected)
    _write_keys(keys, moved)
    _migrate(None)
    return _finish(manifest, rows, attachments, list(moved))


class _HashedChunks:
    """Pass a member's pieces through while hashing them; `confirm()` checks the manifest's digest."""

    def __init__(self, member, expected: dict):
        self._member, self._expected = member, expected
        self._digest, self._size = hashlib.sha256(), 0

    def __iter__(self):
        for piece in self._member.chunks():
            self._digest.update(piece)
            self._size += len(piece)
            yield piece

    def confirm(self) -> None:
        if self._digest.hexdigest() != self._expected["sha256"] or self._size != self._expected["size"]:
            raise ArchiveError(f"member {self._member.name} changed between the check and the restore")


def _write_attachment(member, expected: dict) -> None:
    target = _attachment_dir() / member.name.split("/", 1)[1]
    partial = target.with_name(target.name + ".partial")
    with open(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        try:
            _check_member(member, expected, handle.write)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)


def _write_keys(keys: dict[str, bytes], moved: list[str]) -> None:
    """Write the key files 0600 in a 0700 dir; files that differ are renamed aside first."""
    ring = current_keyring()
    keyfiles.ensure_key_dir(ring.key_dir)
    for member, name in KEY_MEMBERS.items():
        path = ring.key_dir / name
        if member not in keys:
            if path.exists() and name == "identity.key.enc":
                # The archive's identity pair has no private half here: a stale one must not stay beside it.
                target = _stamp(path)
                os.replace(path, target)
                moved.append(str(target))
            continue
        if path.exists() and path.read_bytes() != keys[member]:
            target = _stamp(path)
            os.replace(path, target)
            moved.append(str(target))
        keyfiles.replace_file(path, keys[member])
    ring.load()


def _finish(manifest: dict, rows: dict[str, int], attachments: int, moved: list[str]) -> RestoreReport:
    """Record the restore after the chain is loaded, then verify the whole chain."""
    from tipoff.audit.services import record, seal_all_pending, verify_chain

    db.session.remove()
    record("backup.restored", actor="cli", details={
        "archive_created_at": manifest["created_at"], "revision": manifest["alembic_revision"],
        "rows": sum(rows.values()), "attachments": attachments, "from_dialect": manifest.get("dialect"),
        # Where the replaced data still is: it is outside retention until someone removes it.
        "kept": moved})
    db.session.commit()
    db.session.remove()
    # An archive may predate destructions that retention has done since: redo them before anyone reads
    # the restored data, so a restore never brings a shredded description or identity back into service.
    from tipoff.retention.services import run as run_retention

    retention = run_retention(dry_run=False, actor="restore")
    db.session.remove()
    seal_all_pending()
    result = verify_chain()
    return RestoreReport(manifest["alembic_revision"], rows, attachments, result.ok, result.checked,
                         result.head_hash, moved, result.problem, retention.summary())
