"""Case deadlines from the statutory clock (tipoff.clock): the official calendar, the administrator's
holiday overrides, and the configured amounts (`TIPOFF_CLOCK_AMOUNTS`, defaults from RULES.md §5).

Rule codes: T2 decide (5 working days), T3 verify and conclude (60 days), T4 extension, T6 the
reporter's objection window (the reporter is told at the moment of conclusion), T6R re-review.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select

from tipoff.clock import ClockSettings, Deadline, Override, WorkingCalendar, compute_deadline, extension_deadline
from tipoff.db import as_utc
from tipoff.extensions import db
from tipoff.reference.cache import cached
from tipoff.reference.models import HolidayOverride


def calendar() -> WorkingCalendar:
    """The working-day calendar with the administrator's overrides (reused until an override changes:
    tipoff.reference.cache)."""
    return cached("working_calendar", _load_calendar) if has_app_context() else _load_calendar()


def _load_calendar() -> WorkingCalendar:
    rows = db.session.scalars(select(HolidayOverride).where(HolidayOverride.revoked_at.is_(None)))
    return WorkingCalendar({r.day: Override(r.working, r.note) for r in rows})


def settings() -> ClockSettings:
    """The clock amounts in force (configuration over the RULES.md defaults)."""
    amounts = current_app.config.get("TIPOFF_CLOCK_AMOUNTS") if has_app_context() else None
    return ClockSettings(amounts or None)


def deadline(rule: str, start: datetime) -> Deadline:
    """The full deadline (due time, provisional or not) of a rule started at `start`."""
    return compute_deadline(rule, start, calendar(), settings())


def due(rule: str, start: datetime) -> datetime:
    """The due time (end of the last day, Beijing time) as aware UTC."""
    return deadline(rule, start).due


def extension(current_due: datetime, days: int) -> Deadline:
    """The deadline after a T4 extension of `days` days (at most the configured T4)."""
    return extension_deadline(current_due, days, calendar(), settings())


def day_note(day: date) -> str:
    """What the calendar says about a day (e.g. 国庆节, 调休上班), for staff."""
    return calendar().day_info(day).note


def start(tip, rule: str, at: datetime) -> Deadline:
    """Start a case's clock: its rule, due time, provisional flag, and when it started (for recomputing)."""
    started = deadline(rule, at)
    tip.deadline_rule, tip.deadline_at, tip.deadline_provisional = rule, started.due, started.provisional
    tip.deadline_started_at = at
    return started


def recomputed(tip) -> Deadline | None:
    """The case's deadline on today's calendar: the rule from its start, plus approved extensions.

    Extensions are re-applied as one span of the approved days (in steps of at most T4), which gives the
    same day as applying them one by one unless an earlier extension's end itself rolled over a holiday.
    """
    if not tip.deadline_rule or tip.deadline_started_at is None:
        return None
    result = deadline(tip.deadline_rule, as_utc(tip.deadline_started_at))
    remaining = tip.extension_days if tip.deadline_rule == "T3" else 0
    while remaining > 0:
        step = min(remaining, settings()["T4"])
        extended_by = extension_deadline(result.due, step, calendar(), settings())
        result = replace(extended_by, provisional=result.provisional or extended_by.provisional)
        remaining -= step
    return result


@dataclass(frozen=True)
class Change:
    reference: str
    before: datetime
    after: datetime
    provisional: bool


def recompute_open(actor: Any = "cli", *, dry_run: bool = False) -> list[Change]:
    """Recompute every open case's deadline after the calendar changed; audited per changed case.

    Closed and rejected cases have no clock; a case whose start is unknown (filed before the start was
    recorded and never moved since) keeps its deadline.
    """
    from tipoff.audit.services import record
    from tipoff.intake.models import Tip

    changes: list[Change] = []
    for tip in db.session.scalars(select(Tip).where(Tip.deadline_at.is_not(None),
                                                    Tip.deadline_started_at.is_not(None)).order_by(Tip.id)):
        fresh = recomputed(tip)
        if fresh is None:
            continue
        before = as_utc(tip.deadline_at)
        if fresh.due == before and fresh.provisional == tip.deadline_provisional:
            continue
        changes.append(Change(tip.reference, before, fresh.due, fresh.provisional))
        if not dry_run:
            tip.deadline_at, tip.deadline_provisional = fresh.due, fresh.provisional
            record("case.deadline.recompute", actor=actor, object_type="tip", object_id=tip.reference,
                   department_id=tip.department_id,
                   details={"rule": tip.deadline_rule, "before": before.isoformat(), "after": fresh.due.isoformat(),
                            "provisional": fresh.provisional})
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return changes
