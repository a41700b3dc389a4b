"""Oversight (督办) data: monthly aggregates the dashboard reads instead of scanning tips, and typical cases
(典型案例) written for publication.

The aggregates are rebuilt per month by `tipoff.oversight.stats.refresh` (incrementally: only months with
new activity). The dashboard reads the narrow rollups (MonthlyRollup), so its cost depends on the number of
months × departments × the values of one dimension, not on the number of tips.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db


class Counts:
    """The counts every aggregate row carries (tips received in the row's month, by what became of them)."""

    received: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    concluded: Mapped[int] = mapped_column(Integer, default=0)
    substantiated: Mapped[int] = mapped_column(Integer, default=0)
    partially_substantiated: Mapped[int] = mapped_column(Integer, default=0)
    unsubstantiated: Mapped[int] = mapped_column(Integer, default=0)
    unverifiable: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    objections: Mapped[int] = mapped_column(Integer, default=0)       # re-reviews asked for (disputes)
    review_changed: Mapped[int] = mapped_column(Integer, default=0)   # re-reviews whose outcome differed
    overdue_open: Mapped[int] = mapped_column(Integer, default=0)     # open and past the deadline at refresh
    concluded_on_time: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    basically_satisfied: Mapped[int] = mapped_column(Integer, default=0)
    unsatisfied: Mapped[int] = mapped_column(Integer, default=0)


class MonthlyStat(Counts, db.Model):
    """Counts for one Beijing month and one combination of dimensions (tips received in that month)."""

    __tablename__ = "stats_monthly"
    __table_args__ = (Index("ix_stats_monthly_month_department", "month", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # the first day of the month
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    category_code: Mapped[str] = mapped_column(String(32))
    sector_code: Mapped[str] = mapped_column(String(32))
    township_code: Mapped[str] = mapped_column(String(32))  # "" when unknown
    channel: Mapped[str] = mapped_column(String(20))
    anonymous: Mapped[bool] = mapped_column(Boolean)  # a dimension here: the row's tips were (not) anonymous
    insider: Mapped[bool] = mapped_column(Boolean)


class Measures(Counts):
    """A rollup's counts: MonthlyStat's, plus how many tips were anonymous and from insiders (dimensions
    there, counts here)."""

    anonymous: Mapped[int] = mapped_column(Integer, default=0)  # tips received anonymously
    insider: Mapped[int] = mapped_column(Integer, default=0)    # tips received from insiders


class MonthlyRollup(Measures, db.Model):
    """MonthlyStat summed down to one month × department × ONE dimension value — what the dashboard and the
    public report read. MonthlyStat's key crosses eight dimensions, so its rows grow almost like the tips;
    a rollup's rows are bounded by months × departments × the values of one dimension (reference data).

    `dimension` is "total" (key ""), "category", "sector", "township" ("" when unknown), "channel", or
    "sector_township" (the heat map: key is the sector, key2 the township). Per department is "total"
    grouped by department_id. Rebuilt with MonthlyStat, month by month, in the same transaction.
    """

    __tablename__ = "stats_rollups"
    __table_args__ = (Index("ix_stats_rollups_dimension_month", "dimension", "month", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # the first day of the month
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    dimension: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(32), default="")
    key2: Mapped[str] = mapped_column(String(32), default="")


class DurationStat(db.Model):
    """How many tips of a month and department took N days to accept / to conclude (for medians and p90)."""

    __tablename__ = "stats_durations"
    __table_args__ = (Index("ix_stats_durations_month_department", "month", "department_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    metric: Mapped[str] = mapped_column(String(16))  # "accept" | "conclude"
    days: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class RewardStat(db.Model):
    """Rewards of a month (by creation) and department: counts and amounts (分) per status group."""

    __tablename__ = "stats_rewards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[date] = mapped_column(Date, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    status: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(Integer)
    paid_fen: Mapped[int] = mapped_column(Integer)


class StatsState(db.Model):
    """When the aggregates were last rebuilt, and up to which case event / tip they include."""

    __tablename__ = "stats_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_tip_id: Mapped[int] = mapped_column(Integer, default=0)
    last_reward_event_id: Mapped[int] = mapped_column(Integer, default=0)


class TypicalCase(db.Model):
    """A typical case (典型案例) an overseer chose to publish on /public, written for publication.

    The link to the tip is internal (for the overseer's reference) and never shown publicly; the text is
    written by staff and must not identify the reporter.
    """

    __tablename__ = "typical_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str | None] = mapped_column(String(32))
    sector_code: Mapped[str | None] = mapped_column(String(32))
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
