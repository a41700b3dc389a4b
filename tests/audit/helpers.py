"""Helpers for the audit tests: write entries, read the chain, tamper with rows behind the app's back."""
from __future__ import annotations

from sqlalchemy import func, select, text

from tipoff.audit.models import AuditEntry, AuditSeal
from tipoff.audit.services import record
from tipoff.extensions import db


def write_entries(app, count: int, action: str = "test.entry", **fields) -> list[int]:
    """Record `count` entries in one committed transaction; sealing runs when the context ends."""
    with app.app_context():
        ids = [record(action, actor="test", object_type="thing", object_id=i,
                          details={"n": i, "备注": "中文"}, **fields) for i in range(count)]
        db.session.commit()
        return ids


def seal_of(app, entry_id: int) -> AuditSeal | None:
    """The seal of one entry (detached), or None."""
    with app.app_context():
        seal = db.session.scalar(select(AuditSeal).where(AuditSeal.entry_id == entry_id))
        if seal is not None:
            db.session.expunge(seal)
        return seal


def chain_stats(app) -> dict:
    """Counts an auditor would check: entries, seals, unsealed entries, and whether seq is 1..n."""
    with app.app_context():
        entries = db.session.scalar(select(func.count()).select_from(AuditEntry))
        seals = db.session.scalar(select(func.count()).select_from(AuditSeal))
        low, high = db.session.execute(select(func.min(AuditSeal.seq), func.max(AuditSeal.seq))).one()
        distinct = db.session.scalar(select(func.count(func.distinct(AuditSeal.entry_id))))
        unsealed = db.session.scalar(
            select(func.count()).select_from(AuditEntry)
            .outerjoin(AuditSeal, AuditSeal.entry_id == AuditEntry.id).where(AuditSeal.seq.is_(None)))
        return {"entries": entries, "seals": seals, "distinct_sealed": distinct, "unsealed": unsealed,
                "contiguous": seals == 0 or (low == 1 and high == seals)}


def execute_raw(app, sql: str, **params) -> int:
    """Run one raw statement and commit, as someone with database access would."""
    with app.app_context():
        result = db.session.execute(text(sql), params)
        db.session.commit()
        return result.rowcount


def delete_entry_ignoring_fk(app, entry_id: int) -> None:
    """Delete an entry although a seal references it (foreign keys switched off for this one statement)."""
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA foreign_keys = OFF")  # autocommit mode: takes effect at once
                cursor.execute("DELETE FROM audit_entries WHERE id = ?", (entry_id,))
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                raw.close()
        else:
            with db.engine.begin() as conn:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": entry_id})
