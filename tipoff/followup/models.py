"""After a case: the reporter's rating of the handling (满意度), and the insider's retaliation check-ins
(吹哨人保护, 安全生产法 art. 54) at 30, 90 and 180 days after the conclusion."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db


class SatisfactionRating(db.Model):
    """满意 / 基本满意 / 不满意, once per tip, with an optional comment encrypted under the tip's key."""

    __tablename__ = "satisfaction_ratings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), unique=True)
    rating: Mapped[str] = mapped_column(String(20))  # satisfied, basically_satisfied, unsatisfied
    comment_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InsiderCheck(db.Model):
    """One retaliation check-in of an insider tip: due N days after the conclusion, answered or not."""

    __tablename__ = "insider_checks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    day: Mapped[int] = mapped_column(Integer)  # 30, 90 or 180
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retaliation: Mapped[bool | None] = mapped_column(Boolean)
    kinds: Mapped[list | None] = mapped_column(JSON)  # pay_cut, dismissal, transfer, pressure, other
    consent: Mapped[bool | None] = mapped_column(Boolean)  # to open a matter for 区人力资源和社会保障局
    account_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # the reporter's words, under the tip's key
    matter_tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"))  # the matter opened for 区人社局
