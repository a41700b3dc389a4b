"""Legal holds (法律保全) and the marks that say what of a tip was destroyed, and when.

Neither holds personal data: a hold's reason names a proceeding ("行政诉讼 (2026)豫1003行初12号"),
never a person, and is kept in clear because it must outlive the destruction it stops.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db


class LegalHold(db.Model):
    """A hold on one tip (and so on its whole matter): active until lifted."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    set_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lift_reason: Mapped[str | None] = mapped_column(Text)


class RetentionMark(db.Model):
    """What retention destroyed of one tip: when, and how much (counts only)."""

    __tablename__ = "retention_marks"

    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), primary_key=True)
    evidence_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    identity_destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    files_deleted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    identities_destroyed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
