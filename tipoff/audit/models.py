"""Audit entries and the seals that chain them.

An entry is written in the same transaction as the change it records. A seal is added right after
commit, in its own short transaction: it gives the entry the next sequence number and a hash over the
entry and the previous seal. Neither table is ever updated or deleted from.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipoff.db import BigId, UTCDateTime, utcnow
from tipoff.extensions import db


class AuditEntry(db.Model):
    """Who did what to which record, when and why. Never holds a reporter's identity or an IP."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_label: Mapped[str] = mapped_column(String(100))  # username, "public", "system", "cli"
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(Integer, index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)


class AuditSeal(db.Model):
    """The chain link of one entry: hash = H(previous hash, seq, entry hash)."""

    __tablename__ = "audit_seals"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("audit_entries.id"), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    entry_hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    chain_hash: Mapped[str] = mapped_column(String(64))
    # Ed25519 over (seq, chain hash) with the server's signing key: someone who can write to the
    # database but not read the key files cannot recompute a valid chain after altering it.
    signature: Mapped[str | None] = mapped_column(String(128))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
