"""Writing, sealing and reading the audit log (审计日志).

`record` writes an entry in the caller's transaction so it commits (or rolls back) with the change it
describes. After a commit that carried entries, the app context's teardown seals them in a short
transaction of its own (tipoff.audit.chain), or leaves them to a seal already running in this process
(tipoff.audit.sealing); a crash in between only leaves them for the next seal.
"""
from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, has_app_context, has_request_context
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from tipoff.accounts.access import scoped
from tipoff.accounts.models import User
from tipoff.audit.chain import (  # noqa: F401  (re-exported: services is the audit package's API)
    VerifyResult,
    seal_all_pending,
    seal_pending,
    verify_chain,
)
from tipoff.audit.sealing import CommitSealer, SealTurns
from tipoff.audit.models import AuditEntry, AuditSeal
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.privacy import redact_addresses

log = logging.getLogger("tipoff.audit")

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

# Keys that would put a person's identity or a network address into the log. The log is read by many
# staff and kept for years; a reporter's identity is held only sealed (tipoff.crypto) and IPs never at
# all, so these keys are refused outright rather than trusted to be harmless. Matched case-insensitively
# with "-" and " " read as "_", at any depth. A small explicit list: keys name things, values may not.
DENIED_DETAIL_KEYS = frozenset({
    "ip", "ip_address", "ipaddr", "remote_addr", "remote_ip", "client_ip", "x_forwarded_for",
    "forwarded_for", "user_agent",
    "name", "real_name", "full_name", "reporter", "reporter_name",
    "phone", "phone_number", "mobile", "telephone", "id_number", "id_card", "email", "address",
})
_LABEL = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_PENDING = "tipoff_audit_pending"  # session.info: the ids of the entries this transaction wrote
_INSERT_ENTRY = insert(AuditEntry.__table__)
_UNSEALED = "_tipoff_audit_unsealed"  # flask.g: a commit in this app context carried entries
_TURNS = "tipoff_audit_seal_turns"  # app.extensions: this app's SealTurns in this process


def record(action: str, *, actor: Any = None, object_type: str | None = None, object_id: Any = None,
           department_id: int | None = None, reason: str | None = None,
           details: dict | None = None) -> int:
    """Write an audit entry in the session's transaction and return its id; the caller's commit makes it
    durable (and its seal follows), a rollback takes it back with the rest.

    Inserted at once with a Core statement, not added to the session for its flush: every request that
    changes anything writes one, and the ORM's unit of work cost more than the insert. The id is listed
    as owed by this transaction, as a flushed AuditEntry's is (`_note_new_entries`).
    """
    if not action or len(action) > 64:
        raise ValueError("audit action must be 1-64 characters")
    if details is not None:
        if not isinstance(details, dict):
            raise ValueError("audit details must be a dict")
        _refuse_personal_data(details)
        # Store exactly what a JSON round trip gives back, so the sealed hash matches the stored row.
        details = json.loads(json.dumps(details, ensure_ascii=False, allow_nan=False))
    user_id, label, role = _actor_fields(actor)
    entry_id = db.session.connection().execute(_INSERT_ENTRY, dict(
        created_at=utcnow(), actor_user_id=user_id, actor_label=label, actor_role=role, action=action,
        object_type=object_type, object_id=None if object_id is None else str(object_id),
        department_id=department_id, reason=reason, details=details,
    )).inserted_primary_key[0]
    db.session.info.setdefault(_PENDING, []).append(entry_id)
    return entry_id


def _actor_fields(actor: Any) -> tuple[int | None, str, str | None]:
    """(user id, label, role) for a User, a label such as "cli", or None (the logged-in user or "system")."""
    if actor is None:
        actor = _current_user() or "system"
    if isinstance(actor, User):
        return actor.id, actor.username, actor.role
    if isinstance(actor, str):
        # Labels name a kind of actor; a free-text label could smuggle a person's name into the log.
        if not _LABEL.match(actor):
            raise ValueError(f"audit actor label {actor!r} is not a plain lowercase label")
        return None, actor, None
    raise TypeError(f"audit actor must be a User, a label or None, not {type(actor).__name__}")


def _current_user() -> User | None:
    if not has_request_context():
        return None
    from flask_login import current_user

    user = current_user._get_current_object()
    return user if isinstance(user, User) and user.is_authenticated else None


def _refuse_personal_data(value: Any, path: str = "details") -> None:
    """Raise ValueError if details hold a denied key or an IP address, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            normal = re.sub(r"[\s-]+", "_", str(key).strip().lower())
            if normal in DENIED_DETAIL_KEYS:
                raise ValueError(f"audit {path} may not hold {key!r}: personal data or addresses stay out of the log")
            _refuse_personal_data(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_personal_data(item, f"{path}[{index}]")
    elif isinstance(value, str) and _is_ip_address(value):
        raise ValueError(f"audit {path} looks like an IP address; addresses stay out of the log")


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------- sealing after commit

def init_app(app: Flask) -> None:
    """Seal committed entries when each app context (request or CLI command) ends."""
    for name, listener in (("after_flush", _note_new_entries), ("after_commit", _after_commit),
                           ("after_rollback", _after_rollback)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
    app.extensions[_TURNS] = SealTurns(CommitSealer(), hand_over=lambda owed: _seal_in_background(app, owed))
    app.teardown_appcontext(_seal_after_context)


def _note_new_entries(session: Session, flush_context: Any) -> None:  # noqa: ARG001
    # For AuditEntry rows added through the ORM (`record` lists its own ids; nothing in the app adds them
    # that way now, but a flushed entry must never miss its seal). In after_flush `session.new` still
    # lists what this flush inserted, with their ids.
    ids = [obj.id for obj in session.new if isinstance(obj, AuditEntry)]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(_PENDING, None)
    if ids and has_app_context():
        g.setdefault(_UNSEALED, []).extend(ids)


def _after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        # A savepoint rolled back: the enclosing transaction's entries are still owed. Its own ids stay
        # listed too; an entry that never committed is simply not found when the commit seals.
        return
    session.info.pop(_PENDING, None)


def _seal_in_background(app: Flask, owed: frozenset[int]) -> None:
    """Seal what a sealer could not finish, on a thread of its own (SealTurns.hand_over)."""

    def run() -> None:
        try:
            with app.app_context():
                app.extensions[_TURNS].seal(owed)
        except Exception:
            log.exception("audit: sealing in the background failed; entries stay pending")

    threading.Thread(target=run, name="tipoff-audit-seal", daemon=True).start()


def _seal_after_context(exc: BaseException | None) -> None:  # noqa: ARG001
    owed = g.pop(_UNSEALED, None) if has_app_context() else None
    if not owed:
        return
    try:
        # End the request's own transaction first: on SQLite a session still holding BEGIN IMMEDIATE
        # would make the sealing connection wait for the busy timeout. Flask-SQLAlchemy removes the
        # session right after this anyway.
        db.session.remove()
        current_app.extensions[_TURNS].seal(owed)
    except Exception:
        # The entries are committed; the next seal (or `flask tipoff audit seal`) picks them up.
        log.exception("audit: sealing after commit failed; entries stay pending")


# ---------------------------------------------------------------- reading (the staff view)

EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)
MAX_PAGE = 100_000


@dataclass
class AuditFilters:
    """The audit view's filters, parsed from query parameters."""

    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    TEXT_FIELDS = ("action", "actor", "object_type", "object_id")

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilters:
        """Parse query parameters; a bad date is noted in `errors` and ignored."""
        found = cls(**{name: (args.get(name) or "").strip()[:64] for name in cls.TEXT_FIELDS})
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    day = date.fromisoformat(raw)
                except ValueError:
                    found.errors[name] = raw[:32]
                    continue
                if not EARLIEST_DAY <= day <= LATEST_DAY:  # far dates overflow time-zone arithmetic
                    found.errors[name] = raw[:32]
                    continue
                setattr(found, name, day)
        return found

    def as_args(self) -> dict[str, str]:
        """The non-empty filters as query parameters (for pager links)."""
        values = {name: getattr(self, name) for name in self.TEXT_FIELDS}
        values["date_from"] = self.date_from.isoformat() if self.date_from else ""
        values["date_to"] = self.date_to.isoformat() if self.date_to else ""
        return {k: v for k, v in values.items() if v}

    def as_details(self) -> dict[str, str]:
        """The filters as they go into the audit.view entry (anything address-like dropped)."""
        return {k: redact_addresses(v) for k, v in self.as_args().items()
                if not _is_ip_address(redact_addresses(v))}


@dataclass
class AuditPage:
    """One page of entries, each with its seal's seq (None while unsealed)."""

    rows: list[tuple[AuditEntry, int | None]]
    page: int
    per_page: int
    has_next: bool


def local_day_start(day: date) -> datetime:
    """Midnight of a calendar day in Asia/Shanghai, as UTC."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def entries_for(user: User, filters: AuditFilters, page: int = 1, per_page: int = 50) -> AuditPage:
    """Entries `user` may see under "audit.view", filtered, newest first."""
    page = min(max(page, 1), MAX_PAGE)
    stmt = select(AuditEntry, AuditSeal.seq).outerjoin(AuditSeal, AuditSeal.entry_id == AuditEntry.id)
    stmt = scoped(stmt, user, "audit.view", AuditEntry.department_id)
    if filters.action:
        stmt = stmt.where(AuditEntry.action.startswith(filters.action, autoescape=True))
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor_label == filters.actor)
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(AuditEntry.object_id == filters.object_id)
    if filters.date_from:
        stmt = stmt.where(AuditEntry.created_at >= local_day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(AuditEntry.created_at < local_day_start(filters.date_to + timedelta(days=1)))
    # One row more than a page tells whether there is a next page without counting a large table.
    stmt = stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    rows = [(entry, seq) for entry, seq in db.session.execute(stmt).all()]
    return AuditPage(rows=rows[:per_page], page=page, per_page=per_page, has_next=len(rows) > per_page)
