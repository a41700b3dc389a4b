"""The statutory clocks (办理时限) of RULES.md §5 as data, and the due date each one gives.

Pure: no Flask, no database. Counting rules, stated once:

* The start is an aware datetime; its **Beijing-time date** is the start day, and the start day never
  counts (民法典 第二百零一条: 开始的当日不计入, 自下一日开始计算).
* `working` clocks end on the n-th working day after the start day (T2 "5 working days" counts from the
  day after receipt; a tip received on a Saturday counts from Monday, or from an adjusted working Sunday).
* `calendar` clocks end n days after the start day. With `roll_to_working_day` (the default for every
  rule), a last day that is a rest day moves to the first working day after it: 期间届满的最后一日是
  法定节假日的，以节假日后的第一日为期间届满的日期 (民法典 第二百零三条; 民事诉讼法 第八十五条;
  行政诉讼法 第五十一条). An adjusted working weekend (调休上班) is a working day and does not move.
* A clock is due at the **end** of its last day, 23:59:59 Beijing time, returned as an aware UTC datetime.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType
from typing import Literal
from zoneinfo import ZoneInfo

from tipoff.clock.calendar import ClockError, WorkingCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
END_OF_DAY = time(23, 59, 59)

Kind = Literal["working", "calendar"]
Bearer = Literal["office", "reporter"]
Status = Literal["ok", "due_today", "overdue"]


@dataclass(frozen=True)
class Clock:
    """One deadline rule: what it counts, how much, who must act, from which event, and its source."""

    code: str
    kind: Kind
    amount: int
    description: str
    source: str
    starts: str                      # the event whose time is the start
    bearer: Bearer = "office"        # who must act before it runs out
    roll_to_working_day: bool = True  # calendar clocks only: a last day on a rest day moves forward


RULES: Mapping[str, Clock] = MappingProxyType({c.code: c for c in (
    Clock("T1", "calendar", 7, "确认收到举报（即时出具回执），最迟不超过7日",
          "EU 2019/1937 art. 9 (international anchor); RULES.md §5 T1", "tip received"),
    Clock("T2", "working", 5, "作出受理、不予受理或移送的决定",
          "local practice, no national number found; RULES.md §5 T2 (OPEN)", "tip received or transferred in"),
    Clock("T3", "calendar", 60, "核查并办结（自受理之日起）",
          "2012 national text; Henan 2025 news; RULES.md §5 T3", "tip accepted"),
    Clock("T4", "calendar", 30, "延长办理期限（最长；经上一级批准，并告知举报人延期理由）",
          "2012 national text; RULES.md §5 T4", "the T3 due date being extended"),
    Clock("T5", "calendar", 10, "办结后告知举报人处理结果（核查结论、核查概况、处理决定、是否符合奖励条件）",
          "2012 national text; 应急〔2023〕106号; RULES.md §5 T5", "case concluded"),
    Clock("T6", "calendar", 10, "举报人对处理结果提出异议（自被告知之日起）",
          "应急〔2023〕106号; RULES.md §5 T6", "reporter told of the result", bearer="reporter"),
    Clock("T6R", "calendar", 30, "对异议进行复查并作出结论",
          "应急〔2023〕106号; RULES.md §5 T6", "objection received"),
    Clock("T7", "calendar", 60, "举报人领取奖励（逾期未领视为放弃，有正当理由的可延长）",
          "several local texts; RULES.md §5 T7", "reward claim notice sent", bearer="reporter"),
)})


class ClockSettings(Mapping[str, int]):
    """The configured amount of every rule (rule code → days), the RULES.md defaults where not set."""

    def __init__(self, amounts: Mapping[str, int] | None = None) -> None:
        """Validate configured amounts: known rule codes, whole numbers of days of at least 1."""
        merged = {code: clock.amount for code, clock in RULES.items()}
        for code, amount in (amounts or {}).items():
            if code not in RULES:
                raise ClockError(f"unknown clock rule {code!r}; known: {', '.join(RULES)}")
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise ClockError(f"clock {code} must be a whole number of days >= 1, not {amount!r}")
            merged[code] = amount
        self._amounts: Mapping[str, int] = MappingProxyType(merged)

    def __getitem__(self, code: str) -> int:
        return self._amounts[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._amounts)

    def __len__(self) -> int:
        return len(self._amounts)

    def __repr__(self) -> str:
        return f"ClockSettings({dict(self._amounts)!r})"

    def clock(self, code: str) -> Clock:
        """The rule with its configured amount."""
        if code not in RULES:
            raise ClockError(f"unknown clock rule {code!r}; known: {', '.join(RULES)}")
        return replace(RULES[code], amount=self._amounts[code])


DEFAULT_SETTINGS = ClockSettings()


@dataclass(frozen=True)
class Deadline:
    """A computed due date: the rule as configured, the last day, and whether it rests on the fallback."""

    rule: Clock
    start_day: date
    last_day: date
    due: datetime                # end of last_day in Beijing time, as aware UTC
    provisional: bool            # some day it depends on came from the fallback, not the official data
    fallback_days: tuple[date, ...]


def beijing_date(moment: datetime) -> date:
    """The Beijing-time date of an aware datetime."""
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ClockError(f"expected an aware datetime, not {moment!r}")
    return moment.astimezone(SHANGHAI).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 Beijing time on a day, as an aware UTC datetime."""
    return datetime.combine(day, END_OF_DAY, tzinfo=SHANGHAI).astimezone(timezone.utc)


def compute_deadline(rule: str | Clock, start: datetime, calendar: WorkingCalendar,
                     settings: ClockSettings = DEFAULT_SETTINGS) -> Deadline:
    """The deadline of a rule started at `start`, with the days it depends on and whether it is provisional."""
    clock = rule if isinstance(rule, Clock) else settings.clock(rule)
    start_day = beijing_date(start)
    if clock.kind == "working":
        last_day = calendar.add_working_days(start_day, clock.amount)
        consulted_from = start_day + timedelta(days=1)
    elif clock.kind == "calendar":
        nominal = start_day + timedelta(days=clock.amount)
        if not clock.roll_to_working_day:
            return Deadline(clock, start_day, nominal, end_of_day(nominal), False, ())
        last_day = calendar.first_working_day_from(nominal)
        consulted_from = nominal  # only the nominal last day and the rest days it rolled over were looked up
    else:
        raise ClockError(f"clock {clock.code} has unknown kind {clock.kind!r}")
    fallback = tuple(calendar.fallback_days(consulted_from, last_day))
    return Deadline(clock, start_day, last_day, end_of_day(last_day), bool(fallback), fallback)


def due_date(rule: str | Clock, start: datetime, calendar: WorkingCalendar,
             settings: ClockSettings = DEFAULT_SETTINGS) -> datetime:
    """The end (23:59:59 Beijing time) of a rule's last day, as an aware UTC datetime."""
    return compute_deadline(rule, start, calendar, settings).due


def extension_deadline(current_due: datetime, days: int, calendar: WorkingCalendar,
                       settings: ClockSettings = DEFAULT_SETTINGS) -> Deadline:
    """A T4 extension (延期) of `days` calendar days from the current due date, at most the configured T4."""
    limit = settings["T4"]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= limit:
        raise ClockError(f"an extension must be 1 to {limit} days, not {days!r}")
    return compute_deadline(replace(settings.clock("T4"), amount=days), current_due, calendar, settings)


def status(due: datetime, now: datetime) -> Status:
    """The queue badge, by Beijing-time dates: "ok" before the last day, "due_today" on it, then "overdue"."""
    due_day, today = beijing_date(due), beijing_date(now)
    if today < due_day:
        return "ok"
    if today == due_day:
        return "due_today"
    return "overdue"
