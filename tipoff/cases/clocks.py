"""Case deadlines from the statutory clock (tipoff.clock): the official calendar, the administrator's
holiday overrides, and the configured amounts (`TIPOFF_CLOCK_AMOUNTS`, defaults from RULES.md §5).

Rule codes: T2 decide (5 working days), T3 verify and conclude (60 days), T4 extension, T6 the
reporter's objection window (the reporter is told at the moment of conclusion), T6R re-review.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import current_app, g, has_app_context
from sqlalchemy import select

from tipoff.clock import ClockSettings, Deadline, Override, WorkingCalendar, compute_deadline, extension_deadline
from tipoff.extensions import db
from tipoff.reference.models import HolidayOverride


def calendar() -> WorkingCalendar:
    """The working-day calendar with the administrator's overrides (built once per request)."""
    if has_app_context() and "tipoff_calendar" in g:
        return g.tipoff_calendar
    rows = db.session.scalars(select(HolidayOverride).where(HolidayOverride.revoked_at.is_(None)))
    built = WorkingCalendar({r.day: Override(r.working, r.note) for r in rows})
    if has_app_context():
        g.tipoff_calendar = built
    return built


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


def extended(current_due: datetime, days: int) -> datetime:
    """The due time after a T4 extension of `days` days (at most the configured T4)."""
    return extension_deadline(current_due, days, calendar(), settings()).due


def day_note(day: date) -> str:
    """What the calendar says about a day (e.g. 国庆节, 调休上班), for staff."""
    return calendar().day_info(day).note
