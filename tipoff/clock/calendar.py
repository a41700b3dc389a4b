"""The working-day calendar (工作日历): is a date a working day in mainland China's official calendar.

Pure: no Flask, no database. Three layers answer, the most authoritative first:

1. **override** — days an administrator entered (a year's 国务院办公厅 holiday notice published before
   the package is updated, or a local extra rest day), each with a note saying where it comes from;
2. **package** — the `chinesecalendar` package, which encodes every State Council notice for the years
   it covers (weekends, statutory holidays and the adjusted working weekends, 调休);
3. **fallback** — for any other year, a rule that never fails:

   * Saturdays and Sundays are rest days;
   * so are the statutory days fixed by date in 《全国年节及纪念日放假办法》 (as amended by
     国务院令第795号, in force 2025-01-01): 元旦 1 Jan, 劳动节 1–2 May, 国庆节 1–3 Oct;
   * and 清明节, the day of the 清明 solar term (the package computes solar terms for 1900–2100;
     the statutory 清明 holiday has fallen on that day every year since it began in 2008).

   Everything the fallback cannot know for certain is counted as a **working day**: the lunar
   holidays (春节 including 除夕, 端午, 中秋 — no lunar conversion is installed), the bridge days that
   make a Golden Week, and the 补假 for a statutory day that falls on a weekend (the law does not fix
   which working day). It also cannot know the adjusted working weekends (调休上班), so it keeps
   weekends as rest days. See `tipoff.clock` for why this direction was chosen and what it costs.

A day's `source()` tells staff which layer answered, so a deadline that rests on the fallback can be
shown as provisional and recomputed when the year's notice is entered as overrides.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Literal

import chinese_calendar

Source = Literal["override", "package", "fallback"]

PACKAGE_VERSION: str = chinese_calendar.__version__
# The years the package has data for (the package itself checks the same bounds).
PACKAGE_YEARS: tuple[int, int] = (min(chinese_calendar.holidays).year, max(chinese_calendar.holidays).year)

# Statutory rest days fixed by the solar date, 《全国年节及纪念日放假办法》 第二条 (2025 text).
FIXED_STATUTORY_DAYS: tuple[tuple[int, int, str], ...] = (
    (1, 1, "元旦"),
    (5, 1, "劳动节"),
    (5, 2, "劳动节"),
    (10, 1, "国庆节"),
    (10, 2, "国庆节"),
    (10, 3, "国庆节"),
)
SOLAR_TERM_YEARS: tuple[int, int] = (1900, 2100)  # chinese_calendar.get_solar_terms raises outside these

_HOLIDAY_NAMES_ZH: dict[str, str] = {h.value: h.chinese for h in chinese_calendar.Holiday}
_ONE_DAY = timedelta(days=1)


class ClockError(ValueError):
    """A clock or calendar was asked something it cannot answer (bad input, not missing data)."""


@dataclass(frozen=True)
class Override:
    """An administrator's ruling on one day: working (调休上班) or not (放假), and where it comes from."""

    working: bool
    note: str


@dataclass(frozen=True)
class DayInfo:
    """What the calendar says about one day, which layer said it, and a note for staff."""

    day: date
    working: bool
    source: Source
    note: str


@lru_cache(maxsize=256)
def _statutory_rest_days(year: int) -> Mapping[date, str]:
    days = {date(year, month, day): name for month, day, name in FIXED_STATUTORY_DAYS}
    if SOLAR_TERM_YEARS[0] <= year <= SOLAR_TERM_YEARS[1]:
        for day, term in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30)):
            if term == "清明":
                days[day] = "清明节"
    return MappingProxyType(days)


def statutory_rest_days(year: int) -> dict[date, str]:
    """The fallback's certain statutory rest days (法定节假日) of a year, with their Chinese names."""
    return dict(_statutory_rest_days(year))


def fallback_day(day: date) -> DayInfo:
    """The fallback's answer for a day: weekends and the date-certain statutory days rest."""
    name = _statutory_rest_days(day.year).get(day)
    if name is not None:
        return DayInfo(day, False, "fallback", name)
    if day.weekday() >= 5:
        return DayInfo(day, False, "fallback", "周末")
    return DayInfo(day, True, "fallback", "工作日")


@lru_cache(maxsize=4096)
def package_day(day: date) -> DayInfo | None:
    """The package's answer for a day, or None when the package has no data for its year.

    Remembered per process (about eleven years of days): the package's data is fixed for a release, and
    every submission's first deadline walks the same coming weeks through it.
    """
    if not PACKAGE_YEARS[0] <= day.year <= PACKAGE_YEARS[1]:
        return None  # checked here first: the package's own check scans all its data on every call
    try:
        rest, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    name_zh = _HOLIDAY_NAMES_ZH.get(name, name) if name else None
    if rest:
        note = name_zh or "周末"
    else:
        note = f"{name_zh}调休上班" if name_zh else "工作日"
    return DayInfo(day, not rest, "package", note)


class WorkingCalendar:
    """Mainland China's official working-day calendar with administrator overrides and a stated fallback."""

    def __init__(self, overrides: Mapping[date, Override] | None = None, *, use_package: bool = True) -> None:
        """Build a calendar; `use_package=False` answers from overrides and the fallback alone."""
        checked: dict[date, Override] = {}
        for day, override in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ClockError(f"override key must be a date, not {type(day).__name__}")
            if not isinstance(override, Override):
                raise ClockError(f"override for {day} must be an Override, not {type(override).__name__}")
            checked[day] = override
        self._overrides: Mapping[date, Override] = MappingProxyType(checked)
        self._use_package = use_package

    @property
    def overrides(self) -> Mapping[date, Override]:
        """The administrator overrides this calendar was built with (read-only)."""
        return self._overrides

    def day_info(self, day: date) -> DayInfo:
        """Whether a day is a working day, which layer says so, and why (e.g. 国庆节, 春节调休上班)."""
        day = _as_date(day)
        override = self._overrides.get(day)
        if override is not None:
            return DayInfo(day, override.working, "override", override.note)
        if self._use_package:
            info = package_day(day)
            if info is not None:
                return info
        return fallback_day(day)

    def is_working_day(self, day: date) -> bool:
        """True when the day is an official working day (adjusted working weekends included)."""
        return self.day_info(day).working

    def source(self, day: date) -> Source:
        """Which layer answered for this day: "override", "package" or "fallback"."""
        return self.day_info(day).source

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start`; the start day itself never counts (n=0 gives `start`)."""
        day = _as_date(start)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ClockError(f"number of working days must be a non-negative integer, not {n!r}")
        counted = 0
        while counted < n:
            day += _ONE_DAY
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days d with a < d <= b (negative when b is before a), so add_working_days(a, n) is n away."""
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.working_days_between(b, a)
        count, day = 0, a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def first_working_day_from(self, day: date) -> date:
        """`day` itself when it is a working day, else the first working day after it."""
        day = _as_date(day)
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def fallback_days(self, a: date, b: date) -> list[date]:
        """The days from a to b inclusive that only the fallback answered for."""
        a, b = _as_date(a), _as_date(b)
        days, day = [], a
        while day <= b:
            if self.source(day) == "fallback":
                days.append(day)
            day += _ONE_DAY
        return days


def _as_date(value: date) -> date:
    """Reject datetimes (whose date depends on a time zone the calendar cannot know) and non-dates."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ClockError(f"expected a date in Beijing time, not {type(value).__name__}")
    return value
