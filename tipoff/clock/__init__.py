"""The statutory clock (法定时限): the working-day calendar and the deadline rules of RULES.md §5.

Pure package, no Flask import: the app builds a `WorkingCalendar` from the administrator's holiday
overrides and a `ClockSettings` from its configured amounts, and asks `due_date` / `compute_deadline`.

Which way the fallback errs, and why
------------------------------------
For years the `chinesecalendar` package does not cover, the calendar cannot know the lunar holidays
(春节, 端午, 中秋), the bridge days of a Golden Week, or the adjusted working weekends (调休). It counts
every day it cannot be sure is a rest day as a **working day**, so unknown holidays make a working-day
deadline come **earlier**, never later. The reason: almost every clock here binds the office (T1–T5,
T6R). A deadline shown too early costs handlers some haste, which is lawful; a deadline shown too late
lets the office miss a statutory time limit without warning, and the reporter loses a timely answer,
which cannot be undone. The fallback does keep weekends as rest days: counting every weekend as a
working day would make every provisional deadline about two days short, all year round.

What this costs, stated plainly: an adjusted working weekend the fallback cannot know can make a
fallback deadline later than the official one, in the week or two around a holiday (measured against
the package's 2015–2026 data: about 5% of start dates, by up to 6 days for a 5-working-day clock).
Hence the second half of the rule: a deadline that depends on any fallback day is marked
`provisional` (`Deadline.provisional`, `WorkingCalendar.source()`), and must be recomputed once the
year's State Council notice (国务院办公厅关于某年部分节假日安排的通知, usually published in
November of the year before) is entered as overrides or the package is upgraded.

The reporter's own windows (T6 objection, T7 reward claim; `Clock.bearer == "reporter"`) are calendar
days; the fallback only touches them when their last day must roll over a rest day. A provisional
reporter deadline must not be treated as lapsed without a person checking it.
"""
from __future__ import annotations

from tipoff.clock.calendar import (
    PACKAGE_VERSION,
    PACKAGE_YEARS,
    ClockError,
    DayInfo,
    Override,
    WorkingCalendar,
    statutory_rest_days,
)
from tipoff.clock.deadlines import (
    DEFAULT_SETTINGS,
    RULES,
    SHANGHAI,
    Clock,
    ClockSettings,
    Deadline,
    compute_deadline,
    due_date,
    end_of_day,
    extension_deadline,
    status,
)

__all__ = [
    "PACKAGE_VERSION", "PACKAGE_YEARS", "ClockError", "DayInfo", "Override", "WorkingCalendar",
    "statutory_rest_days", "DEFAULT_SETTINGS", "RULES", "SHANGHAI", "Clock", "ClockSettings", "Deadline",
    "compute_deadline", "due_date", "end_of_day", "extension_deadline", "status",
]
