"""Database plumbing: SQLite tuned for several workers, and portable helpers.

SQLite runs in WAL mode with a busy timeout. Requests that will write (POST, PUT, PATCH, DELETE, the
CLI) open their transaction with BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of
failing with "database is locked" when a deferred read lock cannot be upgraded; reads stay deferred
and never wait for writers.
"""
from __future__ import annotations

import contextvars
import re
import sqlite3
from contextlib import contextmanager
from typing import Iterable, Iterator
from datetime import datetime, timezone

from sqlalchemy import String, event, literal_column
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

SQLITE_BUSY_TIMEOUT_MS = 15000
_SQL_CONSTANT = re.compile(r"[a-z0-9_.]+")

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("tipoff_write_intent", default=True)


def set_write_intent(value: bool) -> None:
    """Declare whether the current request or command will write to the database."""
    _write_intent.set(value)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside are deferred (plain BEGIN) even in a writing request: for the reads a
    writer does before it writes, which need not wait for SQLite's write lock. End such a transaction
    (commit or rollback) before writing: a deferred transaction that later writes cannot wait its turn."""
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):  # noqa: ARG001
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event emit BEGIN so we can choose IMMEDIATE for writers.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (time is stored in UTC, shown in Asia/Shanghai)."""
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """Treat a naive datetime read back from SQLite as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


from sqlalchemy.types import DateTime, TypeDecorator  # noqa: E402


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: tipoff stores timezone-aware UTC only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return as_utc(value)


from sqlalchemy import BigInteger, Integer  # noqa: E402

# A 64-bit key that is still SQLite's auto-incrementing rowid.
BigId = BigInteger().with_variant(Integer, "sqlite")


def claim_version(row, expected: int | None, message: str, code: str) -> None:
    """Optimistic locking: bump `row.version` only if it is still `expected` (default: as loaded).

    Of two people acting on the same record at once, one wins; the other's transaction is rolled back
    and they hear `message` (a Conflict with `code`), so nothing is lost silently.
    """
    from sqlalchemy import update

    from tipoff.errors import Conflict
    from tipoff.extensions import db

    model = type(row)
    version = row.version if expected is None else expected
    claimed = db.session.execute(update(model).where(model.id == row.id, model.version == version)
                                 .values(version=version + 1))
    if claimed.rowcount != 1:
        db.session.rollback()
        raise Conflict(message, code=code)
    db.session.expire(row, ["version"])


def sql_constants(values: Iterable[str]) -> list[ColumnElement]:
    """Our own constant codes (states, audit actions) written into a statement's SQL as string literals.

    For conditions that must be in the SQL text itself — a partial index is used only when the planner
    sees its own condition, which bound parameters hide — and for hot statements: a list of bound or
    `literal_execute` values is re-rendered into the SQL on every execution (a regex pass over the whole
    statement), while literals are compiled once with the statement. Only plain codes are accepted, so
    nothing here can carry a quote.
    """
    found = []
    for value in values:
        if not _SQL_CONSTANT.fullmatch(value):
            raise ValueError(f"not a plain code: {value!r}")
        found.append(literal_column(f"'{value}'", String))
    return found
