"""Tips as they arrive: the tip, the sealed reporter identity, messages with the reporter.

Nothing here holds a reporter's identity in plaintext: the identity is sealed to the identity public
key, the description and messages are encrypted under the tip's data key, the access code is an
argon2id hash. The reported unit (name, credit code, address) stays searchable: it is the subject
of the tip, not the person who sent it.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tipoff.crypto.models import DataKey
from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db
from tipoff.reference.models import Department


# Open tips only (the case queue's states, written as in tipoff.cases.queue.OPEN_CONDITION): a department's
# queue page and its counts read a few index entries however many closed tips pile up behind them.
OPEN_TIPS = text("status IN ('received', 'verifying', 'concluded', 'under_review')")


class Tip(db.Model):
    __tablename__ = "tips"
    __table_args__ = (
        Index("ix_tips_open_by_department", "department_id", "deadline_at", "id", sqlite_where=OPEN_TIPS,
              postgresql_where=OPEN_TIPS),
        Index("ix_tips_open_by_deadline", "deadline_at", "id", sqlite_where=OPEN_TIPS, postgresql_where=OPEN_TIPS),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(32), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(String(32), index=True)
    sector_code: Mapped[str] = mapped_column(String(32), index=True)
    township_code: Mapped[str | None] = mapped_column(String(32), index=True)
    subject_name: Mapped[str] = mapped_column(String(200))
    subject_credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    # The reported unit's name reduced for matching (no spaces, punctuation or company suffixes).
    subject_key: Mapped[str | None] = mapped_column(String(200), index=True)
    address: Mapped[str | None] = mapped_column(String(300))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    description_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    data_key_id: Mapped[int] = mapped_column(ForeignKey("data_keys.id"))
    insider: Mapped[bool] = mapped_column(Boolean, default=False)  # 吹哨人: works for the reported unit
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    keep_photo_metadata: Mapped[bool] = mapped_column(Boolean, default=False)
    access_code_hash: Mapped[str] = mapped_column(String(255))
    content_digest: Mapped[str] = mapped_column(String(64))
    proof: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="received", index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    routing_rule: Mapped[str] = mapped_column(String(64))
    routing_explanation: Mapped[str] = mapped_column(Text)
    copy_to: Mapped[list | None] = mapped_column(JSON)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 挂牌督办
    entered_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Retried submits: a digest of the client's Idempotency-Key and the first answer sealed to it.
    idempotency_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    idempotency_answer: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Optimistic locking of case actions: the workflow bumps it (reporter lookups never do).
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Case handling (案件办理): the current deadline and what the workflow has recorded so far.
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    deadline_rule: Mapped[str | None] = mapped_column(String(8))
    # True when the deadline rests on the calendar's fallback (a year without official data yet).
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the current clock started: with the rule and any extension it lets the deadline be recomputed
    # when the working-day calendar changes (`flask tipoff clocks recompute`).
    deadline_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviews: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # district re-reviews (复查) held
    # An insider's tip checked under cover of a routine inspection, so the unit cannot tell a tip triggered it.
    routine_cover: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    designated: Mapped[bool] = mapped_column(Boolean, default=False)  # final designation by the 安委办
    awaiting_designation: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    forwarded_upward: Mapped[bool] = mapped_column(Boolean, default=False)
    upward_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    concluded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Linked tips about one matter share the earliest tip as their matter (R4-R6: one matter, one reward).
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"), index=True)
    conclusion: Mapped[dict | None] = mapped_column(JSON)  # enforcement taken, fine (as a string), grade …

    department: Mapped[Department] = relationship()
    data_key: Mapped[DataKey] = relationship()
    messages: Mapped[list["TipMessage"]] = relationship(back_populates="tip", order_by="TipMessage.id")
    identities: Mapped[list["ReporterIdentity"]] = relationship(back_populates="tip")


class CaseEvent(db.Model):
    """One step in a case's history: the action, who, the state and department before and after."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    from_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    to_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # Free text (reasons, notes, summaries) can describe people: encrypted under the tip's key.
    text_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    details: Mapped[dict | None] = mapped_column(JSON)  # codes and figures only
    public: Mapped[bool] = mapped_column(Boolean, default=False)  # shown to the reporter on /status
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReporterIdentity(db.Model):
    """A reporter's identity, sealed to the identity public key, with blind indexes beside it."""

    __tablename__ = "reporter_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once destroyed (retention)
    phone_index: Mapped[str | None] = mapped_column(String(80), index=True)
    id_number_index: Mapped[str | None] = mapped_column(String(80), index=True)
    source: Mapped[str] = mapped_column(String(20))  # submission, reporter_channel, operator
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="identities")


class TipMessage(db.Model):
    """A message between the reporter and the handling department, encrypted under the tip's key."""

    __tablename__ = "tip_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    sender: Mapped[str] = mapped_column(String(20))  # "reporter" or "department"
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="messages")


class Attachment(db.Model):
    """An evidence file: cleaned, encrypted under the tip's data key, stored in the data directory."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # image, pdf, office, audio, video
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)  # bytes as stored (after cleaning)
    sha256: Mapped[str] = mapped_column(String(64))  # of the stored (cleaned) content
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # The file name the reporter's device gave (it can name a person) and the photo's own time and
    # place (kept only when asked), both encrypted under the tip's key.
    filename_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    evidence_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(20))  # reporter, operator
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
