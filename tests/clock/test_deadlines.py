"""Deadline rules as data, due dates in Beijing time, and the queue badge at local midnight."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tipoff.clock import (
    RULES,
    ClockError,
    ClockSettings,
    Override,
    WorkingCalendar,
    compute_deadline,
    due_date,
    end_of_day,
    extension_deadline,
    status,
)

BJ = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc
CAL = WorkingCalendar()
D = date


def bj(y: int, m: int, d: int, hh: int = 9, mm: int = 0, ss: int = 0) -> datetime:
    """An aware Beijing-time datetime."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=BJ)


def test_defaults_are_the_rules_md_clocks() -> None:
    """RULES.md §5: T2 5 working days; T3 60, T4 30, T5 10, T6 10 + 30, T7 60 calendar days."""
    assert {c: (r.kind, r.amount, r.bearer) for c, r in RULES.items()} == {
        "T1": ("calendar", 7, "office"),
        "T2": ("working", 5, "office"),
        "T3": ("calendar", 60, "office"),
        "T4": ("calendar", 30, "office"),
        "T5": ("calendar", 10, "office"),
        "T6": ("calendar", 10, "reporter"),
        "T6R": ("calendar", 30, "office"),
        "T7": ("calendar", 60, "reporter"),
    }
    assert all(r.description and r.source and r.starts for r in RULES.values())


@pytest.mark.parametrize("rule, start, last_day", [
    # T2 from Friday 18 Sep 2026: Sunday 20 Sep is worked, so 20, 21, 22, 23, 24.
    ("T2", bj(2026, 9, 18), D(2026, 9, 24)),
    # T2 from the Friday before Spring Festival 2026: 14 Feb (Saturday worked), 24–27 Feb.
    ("T2", bj(2026, 2, 13, 17, 30), D(2026, 2, 27)),
    # T2 from the Friday before National Day 2025: 28 Sep (Sunday worked), 29, 30 Sep, 9, 10 Oct.
    ("T2", bj(2025, 9, 26), D(2025, 10, 10)),
    # T3 60 days from 4 Aug 2026 is 3 Oct, inside the Golden Week: moves to Thursday 8 Oct.
    ("T3", bj(2026, 8, 4), D(2026, 10, 8)),
    # ... from 11 Aug it is Saturday 10 Oct, an adjusted working day: it stays.
    ("T3", bj(2026, 8, 11), D(2026, 10, 10)),
    # ... from 12 Aug it is an ordinary Sunday, 11 Oct: Monday 12 Oct.
    ("T3", bj(2026, 8, 12), D(2026, 10, 12)),
    # ... from 17 Dec 2025 it is 15 Feb 2026, first day of the 9-day Spring Festival: 24 Feb.
    ("T3", bj(2025, 12, 17), D(2026, 2, 24)),
    # T5 10 days from 15 Sep 2026 is 中秋 (Friday 25 Sep), then a weekend: Monday 28 Sep.
    ("T5", bj(2026, 9, 15), D(2026, 9, 28)),
    # T6, the reporter's objection window, 10 days from 24 Sep 2026 lands on 4 Oct: 8 Oct.
    ("T6", bj(2026, 9, 24), D(2026, 10, 8)),
    # T7 60 days from Monday 3 Aug 2026 is Friday 2 Oct (国庆节): 8 Oct.
    ("T7", bj(2026, 8, 3), D(2026, 10, 8)),
])
def test_due_dates_in_2025_2026(rule: str, start: datetime, last_day: date) -> None:
    deadline = compute_deadline(rule, start, CAL)
    assert deadline.last_day == last_day
    assert deadline.due == datetime(last_day.year, last_day.month, last_day.day, 23, 59, 59, tzinfo=BJ)
    assert deadline.due.utcoffset() == timedelta(0)
    assert not deadline.provisional
    assert due_date(rule, start, CAL) == deadline.due


def test_due_is_the_end_of_the_beijing_day_in_utc() -> None:
    assert due_date("T2", bj(2026, 9, 18), CAL) == datetime(2026, 9, 24, 15, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("start_utc, last_day", [
    # 16:30 UTC on Thursday 17 Sep is 00:30 Friday 18 Sep in Beijing: counts from Friday.
    (datetime(2026, 9, 17, 16, 30, tzinfo=UTC), D(2026, 9, 24)),
    # 15:30 UTC is 23:30 Thursday in Beijing: counts from Thursday (18, 20, 21, 22, 23).
    (datetime(2026, 9, 17, 15, 30, tzinfo=UTC), D(2026, 9, 23)),
])
def test_start_day_is_the_beijing_date(start_utc: datetime, last_day: date) -> None:
    assert compute_deadline("T2", start_utc, CAL).last_day == last_day


def test_a_tip_received_on_a_rest_day_counts_from_the_next_working_day() -> None:
    # Received Saturday 3 Oct 2026 (holiday): 8, 9, 10 (Saturday worked), 12, 13 Oct.
    assert compute_deadline("T2", bj(2026, 10, 3, 22), CAL).last_day == D(2026, 10, 13)


def test_rolling_forward_is_a_flag_on_the_rule() -> None:
    no_roll = replace(RULES["T3"], roll_to_working_day=False)
    assert compute_deadline(no_roll, bj(2026, 8, 4), CAL).last_day == D(2026, 10, 3)
    assert compute_deadline("T3", bj(2026, 8, 4), CAL).last_day == D(2026, 10, 8)


def test_amounts_are_configurable() -> None:
    settings = ClockSettings({"T2": 10, "T3": 30})
    assert settings["T2"] == 10 and settings["T6"] == 10 and len(settings) == len(RULES)
    # 10 working days from 18 Sep 2026: 20–24 Sep, 28–30 Sep, 8, 9 Oct.
    assert compute_deadline("T2", bj(2026, 9, 18), CAL, settings).last_day == D(2026, 10, 9)
    # 30 days from 1 Sep 2026 is Thursday 1 Oct: 8 Oct.
    assert compute_deadline("T3", bj(2026, 9, 1), CAL, settings).last_day == D(2026, 10, 8)
    assert compute_deadline("T3", bj(2026, 9, 1), CAL).last_day == D(2026, 11, 2)  # 31 Oct is a Saturday


@pytest.mark.parametrize("amounts", [{"T9": 5}, {"T2": 0}, {"T2": -3}, {"T2": "5"}, {"T2": True}, {"T3": 2.5}])
def test_bad_settings_are_refused(amounts: dict) -> None:
    with pytest.raises(ClockError):
        ClockSettings(amounts)


def test_unknown_rule_and_naive_start_are_refused() -> None:
    with pytest.raises(ClockError):
        due_date("T99", bj(2026, 9, 18), CAL)
    with pytest.raises(ClockError):
        due_date("T2", datetime(2026, 9, 18, 9, 0), CAL)


def test_extension_counts_from_the_current_due_date_and_is_capped() -> None:
    t3 = due_date("T3", bj(2026, 8, 4), CAL)                       # 8 Oct 2026
    extended = extension_deadline(t3, 30, CAL)                       # 7 Nov is a Saturday
    assert extended.last_day == D(2026, 11, 9)
    assert extension_deadline(t3, 15, CAL).last_day == D(2026, 10, 23)
    with pytest.raises(ClockError):
        extension_deadline(t3, 31, CAL)
    assert extension_deadline(t3, 45, CAL, ClockSettings({"T4": 45})).last_day == D(2026, 11, 23)


def test_deadline_into_an_uncovered_year_is_provisional_and_says_why() -> None:
    # T2 from Monday 28 Dec 2026: 29, 30, 31 Dec, then (fallback) 1 Jan 2027 rest, weekend, 4, 5 Jan.
    deadline = compute_deadline("T2", bj(2026, 12, 28), CAL)
    assert deadline.last_day == D(2027, 1, 5)
    assert deadline.provisional
    assert deadline.fallback_days == tuple(D(2027, 1, d) for d in range(1, 6))
    # Entering the year's notice as overrides makes it firm (here: hypothetical days, for the test).
    notice = {D(2027, 1, d): Override(d not in (1, 2, 3), "假设的2027年安排（测试用）") for d in range(1, 6)}
    firm = compute_deadline("T2", bj(2026, 12, 28), WorkingCalendar(notice))
    assert firm.last_day == D(2027, 1, 5) and not firm.provisional


def test_calendar_clock_only_depends_on_its_last_days() -> None:
    # T3 60 days from 10 Nov 2026 is Saturday 9 Jan 2027: fallback weekend, moves to Monday 11 Jan.
    deadline = compute_deadline("T3", bj(2026, 11, 10), CAL)
    assert deadline.last_day == D(2027, 1, 11)
    assert deadline.fallback_days == (D(2027, 1, 9), D(2027, 1, 10), D(2027, 1, 11))
    # A calendar clock whose last day is in 2026 is firm even though a fallback year lies ahead.
    assert not compute_deadline("T6", bj(2026, 12, 1), CAL).provisional


@pytest.mark.parametrize("now, expected", [
    (bj(2026, 9, 23, 23, 59, 59), "ok"),
    (bj(2026, 9, 24, 0, 0, 0), "due_today"),
    (bj(2026, 9, 24, 23, 59, 59), "due_today"),
    (bj(2026, 9, 25, 0, 0, 0), "overdue"),
    # Same instants seen in UTC: the UTC date is not what decides.
    (datetime(2026, 9, 23, 16, 0, 0, tzinfo=UTC), "due_today"),     # 00:00 Beijing on the 24th
    (datetime(2026, 9, 23, 15, 59, 59, tzinfo=UTC), "ok"),          # 23:59:59 Beijing on the 23rd
    (datetime(2026, 9, 24, 16, 0, 0, tzinfo=UTC), "overdue"),       # 00:00 Beijing on the 25th
    (datetime(2026, 9, 24, 12, 0, 0, tzinfo=ZoneInfo("America/New_York")), "overdue"),  # 00:00 Beijing 25th
])
def test_status_turns_at_beijing_midnight(now: datetime, expected: str) -> None:
    due = due_date("T2", bj(2026, 9, 18), CAL)
    assert due == end_of_day(D(2026, 9, 24))
    assert status(due, now) == expected


def test_status_one_second_either_side_of_the_due_instant() -> None:
    due = end_of_day(D(2026, 10, 8))
    assert status(due, due) == "due_today"
    assert status(due, due + timedelta(seconds=1)) == "overdue"


def test_status_refuses_naive_datetimes() -> None:
    with pytest.raises(ClockError):
        status(end_of_day(D(2026, 10, 8)), datetime(2026, 10, 8, 12, 0))
