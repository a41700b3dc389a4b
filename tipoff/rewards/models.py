"""Rewards (举报奖励): rule sets as data, one reward per matter with its history, and the exclusion register.

Money is stored as integer 分 (R8), never as a float; identity never appears here: a bank claim is
sealed to the identity key like any identity (a ReporterIdentity row), and the exclusion register
holds only blind indexes.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import Department

CENTS = Decimal(100)


def to_fen(amount: Decimal) -> int:
    return int((amount * CENTS).to_integral_value())


def from_fen(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / CENTS).quantize(Decimal("0.01"))


class RewardRuleSet(db.Model):
    """An effective-dated rule set (national-2018, henan-2025, or an administrator's local one)."""

    __tablename__ = "reward_rule_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(40))
    effective_from: Mapped[date] = mapped_column(Date)
    # In force from effective_from for tips accepted on or after it (the latest such set wins); sets not
    # in force can still be chosen on the public calculator.
    in_force: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict] = mapped_column(JSON)  # checked by tipoff.rewards.rulesets.parse
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Reward(db.Model):
    """The reward of one matter (R4-R6: linked tips share one), paid by the department that accepted it."""

    __tablename__ = "rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The matter's root tip: unique, so a matter can never have two rewards.
    matter_tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), unique=True)
    # The tip whose reporter is first in line (earliest filed, not rejected); the one told and paid.
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="assessing", index=True)
    rule_set_code: Mapped[str] = mapped_column(String(40))
    facts: Mapped[dict] = mapped_column(JSON)            # what the calculator was given (money as strings)
    grade: Mapped[str | None] = mapped_column(String(20))
    calculated_fen: Mapped[int] = mapped_column(BigInteger)
    explanation: Mapped[str] = mapped_column(Text)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # proposed, then approved
    amount_reason: Mapped[str | None] = mapped_column(Text)    # why it differs from the calculation
    eligibility: Mapped[dict] = mapped_column(JSON)            # each check: {"ok": bool, "note": str}
    override_reason: Mapped[str | None] = mapped_column(Text)  # a leader's recorded reason
    not_eligible_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    overseer_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    objection_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    public_notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claim_method: Mapped[str | None] = mapped_column(String(20))  # bank, in_person
    claim_identity_id: Mapped[int | None] = mapped_column(ForeignKey("reporter_identities.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[date | None] = mapped_column(Date)
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    paid_method: Mapped[str | None] = mapped_column(String(20))
    voucher_no: Mapped[str | None] = mapped_column(String(64))
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    tip: Mapped[Tip] = relationship(foreign_keys=[tip_id])
    matter_tip: Mapped[Tip] = relationship(foreign_keys=[matter_tip_id])
    department: Mapped[Department] = relationship()

    @property
    def calculated(self) -> Decimal:
        return from_fen(self.calculated_fen)

    @property
    def amount(self) -> Decimal | None:
        return from_fen(self.amount_fen)

    @property
    def paid_amount(self) -> Decimal | None:
        return from_fen(self.paid_fen)


class RewardEvent(db.Model):
    """One step of a reward's life, for its history (the audit log holds the same, sealed)."""

    __tablename__ = "reward_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(100))  # a staff member's role, "reporter" or "system"
    note: Mapped[str | None] = mapped_column(Text)         # no identity: reasons, amounts, voucher numbers
    details: Mapped[dict | None] = mapped_column(JSON)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ExcludedPerson(db.Model):
    """R7: people who may not be rewarded (staff with supervision duties, their registered close relatives).

    Only blind indexes are kept: a reporter is matched without anyone's identity being decrypted.
    """

    __tablename__ = "reward_exclusions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number_index: Mapped[str | None] = mapped_column(String(80), index=True)
    phone_index: Mapped[str | None] = mapped_column(String(80), index=True)
    relation: Mapped[str] = mapped_column(String(20))  # staff, relative
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(String(200))  # e.g. "区应急管理局执法人员" — never a name
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
