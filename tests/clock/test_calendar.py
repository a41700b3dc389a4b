"""The working-day calendar: official 2025/2026 days from the package, the fallback beyond it, overrides first.

Worked values were read off the package's encoding of the State Council notices (国办发明电〔2024〕12号
for 2025, 国办发明电〔2025〕7号 for 2026), printed day by day, then counted by hand.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tipoff.clock import PACKAGE_YEARS, ClockError, Override, WorkingCalendar, statutory_rest_days

CAL = WorkingCalendar()
FALLBACK_ONLY = WorkingCalendar(use_package=False)
D = date


@pytest.mark.parametrize("day, working, note", [
    (D(2025, 9, 28), True, "国庆节调休上班"),   # Sunday worked before National Day 2025
    (D(2025, 10, 6), False, "中秋"),            # Mid-autumn inside the 2025 Golden Week
    (D(2025, 10, 8), False, "国庆节"),          # 8-day Golden Week 2025
    (D(2025, 10, 11), True, "国庆节调休上班"),  # Saturday worked after it
    (D(2026, 1, 4), True, "元旦调休上班"),      # Sunday worked after New Year 2026
    (D(2026, 2, 14), True, "春节调休上班"),     # Saturday worked before Spring Festival 2026
    (D(2026, 2, 16), False, "春节"),            # 除夕 (Monday)
    (D(2026, 2, 23), False, "春节"),            # last day of the 9-day break (Monday)
    (D(2026, 2, 24), True, "工作日"),
    (D(2026, 2, 28), True, "春节调休上班"),     # Saturday worked after it
    (D(2026, 9, 20), True, "国庆节调休上班"),   # Sunday worked before National Day 2026
    (D(2026, 9, 25), False, "中秋"),
    (D(2026, 10, 1), False, "国庆节"),
    (D(2026, 10, 7), False, "国庆节"),          # 7-day Golden Week 2026 ends on Wednesday
    (D(2026, 10, 8), True, "工作日"),
    (D(2026, 10, 10), True, "国庆节调休上班"),  # Saturday worked after it
    (D(2026, 10, 11), False, "周末"),
])
def test_official_days_2025_2026(day: date, working: bool, note: str) -> None:
    info = CAL.day_info(day)
    assert (info.working, info.source, info.note) == (working, "package", note)
    assert CAL.is_working_day(day) is working


@pytest.mark.parametrize("start, n, expected", [
    # Friday before Spring Festival 2026: the Saturday after counts, the 9-day break does not.
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 13), 5, D(2026, 2, 27)),
    # From the last day of the break: Tue–Fri, then the adjusted working Saturday.
    (D(2026, 2, 23), 5, D(2026, 2, 28)),
    # Friday 18 Sep 2026: the adjusted working Sunday 20 Sep is day 1.
    (D(2026, 9, 18), 5, D(2026, 9, 24)),
    # Thursday before 中秋 and 国庆 2026: 28, 29, 30 Sep, then 8, 9 Oct.
    (D(2026, 9, 24), 5, D(2026, 10, 9)),
    # Eve of National Day 2026: 8, 9, 10 (Saturday worked), 12, 13 Oct.
    (D(2026, 9, 30), 5, D(2026, 10, 13)),
    # A start inside the holiday: the first working day after it is day 1.
    (D(2026, 10, 3), 1, D(2026, 10, 8)),
    # Friday before National Day 2025: 28 Sep (Sunday worked), 29, 30 Sep, then 9, 10 Oct.
    (D(2025, 9, 26), 5, D(2025, 10, 10)),
    (D(2025, 9, 30), 3, D(2025, 10, 11)),   # ends on the adjusted working Saturday
    (D(2026, 9, 30), 0, D(2026, 9, 30)),    # zero days: the start day itself
])
def test_add_working_days_across_holidays(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected


@pytest.mark.parametrize("a, b, expected", [
    (D(2026, 9, 30), D(2026, 10, 13), 5),
    (D(2026, 10, 1), D(2026, 10, 7), 0),     # the whole Golden Week is rest
    (D(2026, 2, 13), D(2026, 2, 28), 6),     # 14 Feb, 24–27 Feb, 28 Feb
    (D(2026, 2, 28), D(2026, 2, 13), -6),
    (D(2026, 5, 6), D(2026, 5, 6), 0),
])
def test_working_days_between(a: date, b: date, expected: int) -> None:
    assert CAL.working_days_between(a, b) == expected


def test_adjusted_working_sunday_counts_as_a_working_day() -> None:
    sunday = D(2026, 9, 20)
    assert sunday.weekday() == 6
    assert CAL.is_working_day(sunday)
    assert CAL.working_days_between(D(2026, 9, 18), D(2026, 9, 21)) == 2  # Sunday and Monday


def test_package_covers_2025_2026_but_not_2031() -> None:
    assert PACKAGE_YEARS[0] <= 2025 and PACKAGE_YEARS[1] >= 2026
    assert PACKAGE_YEARS[1] < 2031, "the fallback tests below need a year the package does not cover"


@pytest.mark.parametrize("day, working, note", [
    (D(2031, 1, 1), False, "元旦"),         # Wednesday
    (D(2031, 4, 5), False, "清明节"),       # the 清明 solar term
    (D(2031, 5, 2), False, "劳动节"),       # Friday, second statutory day since 2025
    (D(2031, 5, 5), True, "工作日"),        # beyond the 2 statutory days: unknown, counted as working
    (D(2031, 10, 3), False, "国庆节"),
    (D(2031, 10, 6), True, "工作日"),       # Golden Week bridge day: unknown, counted as working
    (D(2031, 10, 4), False, "周末"),
])
def test_fallback_beyond_the_package(day: date, working: bool, note: str) -> None:
    info = CAL.day_info(day)
    assert (info.working, info.source, info.note) == (working, "fallback", note)
    assert CAL.source(day) == "fallback"


@pytest.mark.parametrize("start, n, expected", [
    (D(2031, 9, 30), 5, D(2031, 10, 10)),   # 1–3 Oct statutory (Wed–Fri), weekend, then 6–10 Oct
    (D(2031, 4, 30), 5, D(2031, 5, 9)),     # 1–2 May statutory, weekend, then 5–9 May
    (D(2026, 12, 31), 1, D(2027, 1, 4)),    # 1 Jan 2027 (Friday) and the weekend skipped
])
def test_fallback_working_day_deadlines(start: date, n: int, expected: date) -> None:
    assert CAL.add_working_days(start, n) == expected
    assert CAL.source(expected) == "fallback"


@pytest.mark.parametrize("year", [2025, 2026])
def test_fallback_statutory_days_are_official_rest_days(year: int) -> None:
    """Every day the fallback calls a statutory holiday was a rest day in the official calendar."""
    fallback = statutory_rest_days(year)
    assert len(fallback) == 7
    assert [d for d in fallback if CAL.is_working_day(d)] == []


def test_fallback_qingming_matches_every_official_qingming() -> None:
    for year in range(2008, 2027):
        qingming = [d for d, name in statutory_rest_days(year).items() if name == "清明节"]
        assert len(qingming) == 1
        assert CAL.day_info(qingming[0]).note == "清明", year


def test_fallback_errs_early_on_holidays_and_only_misses_adjusted_weekends() -> None:
    """Against the official 2025–2026 days, the fallback's only wrong rest days are 调休 weekends."""
    day, wrongly_rest, wrongly_working = D(2025, 1, 1), [], []
    while day <= D(2026, 12, 31):
        official, fallback = CAL.is_working_day(day), FALLBACK_ONLY.is_working_day(day)
        if official and not fallback:
            wrongly_rest.append(day)
        elif fallback and not official:
            wrongly_working.append(day)
        day += timedelta(days=1)
    assert wrongly_rest and all(d.weekday() >= 5 and CAL.day_info(d).note.endswith("调休上班")
                                for d in wrongly_rest)
    assert D(2026, 2, 16) in wrongly_working   # 除夕: a lunar holiday it cannot know
    # So a deadline across Spring Festival comes out earlier on the fallback than officially.
    assert FALLBACK_ONLY.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 20)
    assert CAL.add_working_days(D(2026, 2, 13), 5) == D(2026, 2, 27)


def test_overrides_beat_the_package() -> None:
    cal = WorkingCalendar({
        D(2026, 10, 10): Override(False, "本区补休（测试用）"),
        D(2026, 10, 5): Override(True, "本区值班日（测试用）"),
    })
    assert not cal.is_working_day(D(2026, 10, 10)) and cal.source(D(2026, 10, 10)) == "override"
    assert cal.is_working_day(D(2026, 10, 5)) and cal.day_info(D(2026, 10, 5)).note == "本区值班日（测试用）"
    assert cal.source(D(2026, 10, 9)) == "package"
    # 5 Oct (1), 8 (2), 9 (3), 12 (4), 13 (5) — officially 8, 9, 10, 12, 13.
    assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 13)
    assert cal.add_working_days(D(2026, 10, 5), 3) == D(2026, 10, 12)
    assert CAL.add_working_days(D(2026, 10, 5), 3) == D(2026, 10, 10)


def test_overrides_beat_the_fallback() -> None:
    cal = WorkingCalendar({
        D(2031, 10, 3): Override(True, "假设的调休上班（测试用）"),
        D(2031, 10, 6): Override(False, "假设的国庆放假（测试用）"),
    })
    assert cal.is_working_day(D(2031, 10, 3)) and cal.source(D(2031, 10, 3)) == "override"
    assert not cal.is_working_day(D(2031, 10, 6))
    assert cal.source(D(2031, 10, 7)) == "fallback"
    assert cal.add_working_days(D(2031, 9, 30), 2) == D(2031, 10, 7)


@pytest.mark.parametrize("bad", [datetime(2026, 10, 1, 12, 0), "2026-10-01"])
def test_override_keys_must_be_dates(bad: object) -> None:
    with pytest.raises(ClockError):
        WorkingCalendar({bad: Override(True, "x")})  # type: ignore[dict-item]


def test_datetimes_and_negative_counts_are_refused() -> None:
    with pytest.raises(ClockError):
        CAL.is_working_day(datetime(2026, 10, 1, 23, 0))  # type: ignore[arg-type]
    with pytest.raises(ClockError):
        CAL.add_working_days(D(2026, 10, 1), -1)


def test_add_working_days_never_raises_up_to_2100() -> None:
    day = D(2026, 1, 1)
    while day <= D(2100, 12, 31):
        due = CAL.add_working_days(day, 5)
        assert CAL.is_working_day(due)
        assert 5 <= (due - day).days <= 15, day
        if day.day == 1:  # a 60-day count from the first of every month, too
            far = CAL.add_working_days(day, 60)
            assert CAL.working_days_between(day, far) == 60
        day += timedelta(days=1)


@pytest.mark.parametrize("start", [D(2101, 4, 1), D(2500, 9, 28), D(1990, 9, 28)])
def test_years_beyond_the_solar_term_table_still_compute(start: date) -> None:
    due = CAL.add_working_days(start, 10)
    assert CAL.source(due) == "fallback"
    assert CAL.working_days_between(start, due) == 10
