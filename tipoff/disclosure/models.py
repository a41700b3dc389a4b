"""A request to open one reporter identity, the custodian's decision, and the time-limited release."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip

if TYPE_CHECKING:
    from tipoff.accounts.models import User


class DisclosureRequest(db.Model):
    __tablename__ = "disclosure_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("reporter_identities.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # contact, reward_payment, investigation
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"), index=True)  # the payment it serves
    reason_sealed: Mapped[bytes] = mapped_column(LargeBinary)  # under the tip's data key
    # pending → approved (or refused); with two custodians: pending → first_approval → approved.
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    first_custodian_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The identity opened for this one request, under a data key of its own that is destroyed when
    # the release window ends; never readable by anyone but the requester.
    release_key_id: Mapped[int | None] = mapped_column(ForeignKey("data_keys.id"))
    released_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    release_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tip: Mapped[Tip] = relationship()
    requested_by: Mapped["User"] = relationship(foreign_keys=[requested_by_id])
