"""A per-process cache of what every submission reads from the reference data, never served stale.

Every tip submission reads the active codes, the routing table, who governs each sector and
township, and the administrator's holiday overrides (for its first deadline); these change a few times a year, so rebuilding them on every submit cost more CPU than the
submit's own work. What is cached here is plain values (frozensets, tuples, frozen dataclasses),
never ORM objects, one store per app (so two apps in one process, as in the tests, never share).

When a cached value is reused, and why it cannot be stale:

* Every change to reference data, routing rules or holiday overrides goes through
  `tipoff.reference.services`, `tipoff.routing.rules` or `tipoff.cases.cli`, which write an audit
  entry (`VERSION_ACTIONS`) in the same transaction. The key of every cached value is the id of the newest such entry, read once per request (one
  indexed `max()` query), so a change committed by any process, worker or CLI is seen by the next
  request in every process.
* Within this process, any ORM flush that touches a reference row (audited or not: a test, a
  loader) clears the store, and the session that holds such an uncommitted change bypasses the
  cache until it commits or rolls back, so it never caches what others cannot see yet.
* The key also holds today's date: routing rules take effect from a date (`effective_from`).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, TypeVar

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tipoff.audit.models import AuditEntry
from tipoff.db import sql_constants
from tipoff.extensions import db
from tipoff.reference.models import Category, Department, HolidayOverride, RoutingRule, Sector, Township

T = TypeVar("T")

# The audit actions written with every change to the cached tables (tests/reference check this list
# against every `record("reference…` / `record("routing…` in the code).
VERSION_ACTIONS = ("reference.load", "reference.department.update", "reference.sector.lead",
                   "reference.township.update", "routing.rule.create", "routing.rule.update", "routing.rule.adopt",
                   "calendar.override", "calendar.override.revoke")
CACHED_MODELS = (Category, Department, HolidayOverride, RoutingRule, Sector, Township)

_STORE = "tipoff_reference_cache"
_DIRTY = "tipoff_reference_dirty"  # session.info: this transaction flushed a reference row
_VERSION = "tipoff.reference_version"  # the request's WSGI environ, else session.info (per transaction)
# Built once: every submit runs it, and building the statement cost about as much as running it.
# `id + 0`, not `id`: given max(id), PostgreSQL's planner walks the primary key backwards and filters on
# the action, expecting a match soon; reference changes are rare and old, so it read the whole audit log
# (8 ms at 19,500 entries, and growing with the log). Hiding the order makes it probe the action index
# instead (0.1 ms); SQLite uses that index either way. The actions are literals in the SQL: a bound list
# is re-rendered into the statement on every execution, which cost more than the query.
_VERSION_QUERY = select(func.max(AuditEntry.id + 0)).where(AuditEntry.action.in_(sql_constants(VERSION_ACTIONS)))


def cached(name: str, load: Callable[[], T]) -> T:
    """`load()`'s result, reused while the reference data and the date stay what they were."""
    store = _store()
    if store is None or db.session.info.get(_DIRTY):
        return load()
    key = (_version(), date.today())
    found = store.get(name)
    if found is not None and found[0] == key:
        return found[1]
    value = load()
    store[name] = (key, value)
    return value


def last_known(name: str) -> Any | None:
    """What `cached(name, …)` last returned in this process, if it was today, without reading the version.

    No query, so no transaction: for checking input before a write transaction, which then calls
    `cached(name, …)` (the version read inside it) and, if that returns another object, checks again.
    """
    store = _store()
    if store is None or db.session.info.get(_DIRTY):
        return None
    found = store.get(name)
    return found[1] if found is not None and found[0][1] == date.today() else None


def clear() -> None:
    """Forget every cached value of the current app (the next read rebuilds it)."""
    store = _store()
    if store is not None:
        store.clear()
    if has_request_context():
        request.environ.pop(_VERSION, None)  # this request changed reference data: read the version again


def _store() -> dict[str, tuple[Any, Any]] | None:
    return current_app.extensions.setdefault(_STORE, {}) if has_app_context() else None


def _version() -> int:
    """The newest audited reference change: read once per request (outside one, once per transaction).

    A value cached under a version is only ever reused by a request that read that same version, i.e.
    began before the next change committed, so holding it for the request's short life serves nothing
    a single transaction at the request's start would not have seen.
    """
    holder = request.environ if has_request_context() else db.session.info
    if _VERSION not in holder:
        # Through the session's connection: a Core statement skips the ORM's execution machinery.
        holder[_VERSION] = db.session.connection().execute(_VERSION_QUERY).scalar() or 0
    return holder[_VERSION]


def _note_change(session: Session, flush_context: Any) -> None:  # noqa: ARG001
    # In after_flush `session.new`, `.dirty` and `.deleted` still list what this flush wrote.
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, CACHED_MODELS):
            session.info[_DIRTY] = True
            clear()
            return


def _after_end(session: Session) -> None:
    session.info.pop(_VERSION, None)  # the next transaction reads it again: another process may have changed it
    if session.info.pop(_DIRTY, False):
        clear()


# Listening from import on: nothing is cached before this module is first used, so no earlier change can
# be missed.
for _name, _listener in (("after_flush", _note_change), ("after_commit", _after_end),
                         ("after_rollback", _after_end)):
    if not event.contains(Session, _name, _listener):
        event.listen(Session, _name, _listener)
