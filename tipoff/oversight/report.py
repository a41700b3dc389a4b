"""The public report (公开数据): monthly figures read from the aggregates, with small cells suppressed.

The report reads only the rollups (MonthlyRollup: month × department × one dimension value), DurationStat and
RewardStat (kept by tipoff.oversight.stats), never the tips, so it costs the same at a million tips as at ten
thousand.

Disclosure control. Anyone may ask for any period, and the default window slides every month, so a total over
several months could be subtracted from another period's total to give a single month away. Hence the unit
of publication is one month's figure, protected by that month's data alone, and a total over months is shown
only when every figure it adds up is shown (then it tells nothing new):
- a count below SMALL (0 included, so "none" and "a few" look alike) is shown as "<5";
- complementary suppression (互补隐藏) within a month: a breakdown of the month's tips (by category, sector or
  township) adds up to the published monthly total, so when exactly one of its hidden counts is above zero,
  a second count is hidden too ("×": it is SMALL or more) — the monthly total minus the rest would otherwise
  give it away, hidden zeros being easy to guess;
- a total over months, or a row's total, is shown only when all its parts are; otherwise "<5" or "×";
- a share, a median or an amount is shown only when it rests on SMALL or more cases and the counts it is
  derived from are shown; otherwise "—".
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

from sqlalchemy import func, select

from tipoff import money
from tipoff.db import as_utc
from tipoff.errors import ValidationFailed
from tipoff.extensions import db
from tipoff.oversight.models import DurationStat, MonthlyRollup, RewardStat, StatsState

SMALL = 5
LESS = "<5"     # a count below SMALL
HIDDEN = "×"    # a count of SMALL or more, hidden so that no total can reveal a "<5"
NONE = "—"      # a share, median or amount from fewer than SMALL cases, or whose counts are hidden
DEFAULT_MONTHS = 13  # the last 13 closed months (the month still filling up is never shown)
MAX_MONTHS = 36
FIRST_YEAR = 2000
UNKNOWN_TOWNSHIP = "未注明属地"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")



# ---------------------------------------------------------------------------------------- the period


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole Beijing months from `first` to `last` (both the first day of their month)."""

    first: date
    last: date

    @property
    def months(self) -> list[date]:
        count = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        return [add_months(self.first, k) for k in range(count)]


def default_period(this_month: date) -> Period:
    """The last 12 full months and the current one."""
    return Period(add_months(this_month, 1 - DEFAULT_MONTHS), this_month)


def _month(text: str, name: str, errors: dict[str, list[str]]) -> date | None:
    found = _MONTH.match(text)
    if not found or not 1 <= int(found.group(2)) <= 12 or not 1 <= int(found.group(1)) <= 9999:
        errors[name] = [f"“{text[:20]}”不是有效的月份，请写成 2026-01 这样的年-月。"]
        return None
    return date(int(found.group(1)), int(found.group(2)), 1)


def parse_period(raw_from: str | None, raw_to: str | None, this_month: date) -> Period:
    """The period asked for with ?from=YYYY-MM&to=YYYY-MM (either may be left out); ValidationFailed names
    each bad bound."""
    errors: dict[str, list[str]] = {}
    raw_from, raw_to = (raw_from or "").strip(), (raw_to or "").strip()
    last = _month(raw_to, "to", errors) if raw_to else this_month
    first = _month(raw_from, "from", errors) if raw_from else None
    for name, month in (("from", first), ("to", last)):
        if month is None or name in errors:
            continue
        if month.year < FIRST_YEAR:
            errors[name] = [f"月份不能早于 {FIRST_YEAR} 年。"]
        elif month > this_month:
            errors[name] = [f"月份不能晚于本月（{this_month:%Y-%m}）。"]
    if errors:
        raise ValidationFailed("统计期间填写不正确。", fields=errors)
    first = first or add_months(last, 1 - DEFAULT_MONTHS)
    if first > last:
        raise ValidationFailed("统计期间填写不正确。", fields={"from": ["起始月份不能晚于截止月份。"]})
    if add_months(first, MAX_MONTHS) <= last:
        raise ValidationFailed("统计期间填写不正确。",
                               fields={"from": [f"统计期间最长 {MAX_MONTHS} 个月，请缩短。"]})
    return Period(first, last)


# ----------------------------------------------------------------------- suppression (pure)


def _cost(value: int) -> tuple[int, int]:
    """Which count to hide as a complement: the smallest of those ≥ 2×SMALL−1 (then the "<5" beside it keeps
    its whole range 1–4 even to a reader who knows the "×" is SMALL or more), else the largest."""
    return (0, value) if value >= 2 * SMALL - 1 else (1, -value)


def protect_column(values: Sequence[int], total: int) -> set[int]:
    """Positions to hide among one month's counts that add up to its published monthly `total`.

    The total minus the shown counts is the sum of the hidden ones. Readers can guess which hidden counts are
    zero, so a second count is hidden when only one hidden count is above zero, and also when the hidden sum
    is so high that each "<5" would have to be 3 or 4."""
    hidden = {k for k, v in enumerate(values) if v < SMALL}
    above_zero = [values[k] for k in hidden if values[k] > 0]
    pinned = len(above_zero) == 1 or (len(above_zero) > 1 and sum(above_zero) >= (SMALL - 1) * len(above_zero) - 1)
    candidates = [k for k in range(len(values)) if k not in hidden]
    if total >= SMALL and above_zero and pinned and candidates:
        hidden.add(min(candidates, key=lambda k: (_cost(values[k]), k)))
    return hidden


def median(histogram: Iterable[tuple[int, int]]) -> int | None:
    """The median of a (value, count) histogram (the ⌈n/2⌉-th value, as the dashboard reads it)."""
    pairs = sorted((v, n) for v, n in histogram if n > 0)
    total = sum(n for _, n in pairs)
    if total == 0:
        return None
    rank, seen = (total + 1) // 2, 0
    for days, n in pairs:
        seen += n
        if seen >= rank:
            return days
    return None  # pragma: no cover - rank never exceeds total


# ----------------------------------------------------------------------------- published figures


@dataclass(frozen=True)
class Figure:
    """One published figure: its value when shown, else the symbol that stands for it."""

    kind: str                   # count | share | days | money
    value: Any = None           # int (count, days), Decimal (share 0–1, money in yuan)
    symbol: str | None = None   # LESS, HIDDEN or NONE when not shown

    @property
    def shown(self) -> bool:
        return self.symbol is None

    def public(self) -> Any:
        """The JSON value: the number, or the symbol (never the number behind it)."""
        if not self.shown:
            return self.symbol
        if self.kind == "share":
            return float(self.value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))
        if self.kind == "money":
            return money.to_string(self.value)
        return self.value

    def percent(self) -> str:
        return f"{(self.value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)}%"


def count(value: int, hidden: bool = False) -> Figure:
    """A count: "<5" below SMALL, "×" when hidden as a complement, else the number."""
    if value < SMALL:
        return Figure("count", symbol=LESS)
    return Figure("count", symbol=HIDDEN) if hidden else Figure("count", value)


def total(parts: Sequence[Figure], value: int) -> Figure:
    """A total over months (or a row): shown only when every part is, since another period's total could be
    subtracted from it."""
    return count(value, hidden=not all(part.shown for part in parts))


def share(part: Figure, whole: Figure) -> Figure:
    if not (part.shown and whole.shown) or whole.value < SMALL:
        return Figure("share", symbol=NONE)
    return Figure("share", Decimal(part.value) / Decimal(whole.value))


def days(histogram: dict[int, int]) -> Figure:
    if sum(histogram.values()) < SMALL:
        return Figure("days", symbol=NONE)
    return Figure("days", median(histogram.items()))


def amount(fen: int, number: Figure) -> Figure:
    return Figure("money", Decimal(fen) / 100) if number.shown else Figure("money", symbol=NONE)


# ------------------------------------------------------------------------------ building the report


@dataclass(frozen=True)
class MonthRow:
    """One month (or the whole period) of the overview table."""

    month: date | None  # None: the period's total
    received: Figure
    concluded: Figure
    verified: Figure
    verified_share: Figure
    median_days: Figure
    rewards_paid: Figure
    rewards_paid_total: Figure


@dataclass(frozen=True)
class Breakdown:
    """Tips received per month by one dimension (category, sector or township), with totals."""

    key: str
    rows: list[tuple[str, str, list[Figure], Figure]]  # code, name, per month, period total
    month_totals: list[Figure]
    total: Figure


@dataclass(frozen=True)
class PublicReport:
    period: Period
    this_month: date
    months: list[MonthRow]
    total: MonthRow
    breakdowns: list[Breakdown]
    refreshed_at: datetime | None


def _where(model, period: Period):
    return (model.month >= period.first, model.month <= period.last)


def _monthly_totals(period: Period) -> dict[date, tuple[int, int, int]]:
    rows = db.session.execute(
        select(MonthlyRollup.month, func.sum(MonthlyRollup.received), func.sum(MonthlyRollup.concluded),
               func.sum(MonthlyRollup.substantiated) + func.sum(MonthlyRollup.partially_substantiated))
        .where(*_where(MonthlyRollup, period), MonthlyRollup.dimension == "total").group_by(MonthlyRollup.month))
    return {m: (int(r or 0), int(c or 0), int(v or 0)) for m, r, c, v in rows}


def _received_by(dimension: str, period: Period) -> dict[tuple[date, str], int]:
    rows = db.session.execute(select(MonthlyRollup.month, MonthlyRollup.key, func.sum(MonthlyRollup.received))
                              .where(*_where(MonthlyRollup, period), MonthlyRollup.dimension == dimension)
                              .group_by(MonthlyRollup.month, MonthlyRollup.key))
    counts: dict[tuple[date, str], int] = {}
    for month, code, n in rows:
        counts[(month, code or "")] = counts.get((month, code or ""), 0) + int(n or 0)
    return counts


def _conclusion_days(period: Period) -> dict[date, dict[int, int]]:
    rows = db.session.execute(select(DurationStat.month, DurationStat.days, func.sum(DurationStat.count))
                              .where(DurationStat.metric == "conclude", *_where(DurationStat, period))
                              .group_by(DurationStat.month, DurationStat.days))
    found: dict[date, dict[int, int]] = {}
    for month, day_count, n in rows:
        found.setdefault(month, {})[int(day_count)] = int(n or 0)
    return found


def _rewards_paid(period: Period) -> dict[date, tuple[int, int]]:
    rows = db.session.execute(select(RewardStat.month, func.sum(RewardStat.count), func.sum(RewardStat.paid_fen))
                              .where(RewardStat.status == "paid", *_where(RewardStat, period))
                              .group_by(RewardStat.month))
    return {m: (int(n or 0), int(fen or 0)) for m, n, fen in rows}


def _overview(period: Period, totals: dict[date, tuple[int, int, int]]) -> list[MonthRow]:
    months = period.months
    durations, rewards = _conclusion_days(period), _rewards_paid(period)
    columns = {"received": [totals.get(m, (0, 0, 0))[0] for m in months],
               "concluded": [totals.get(m, (0, 0, 0))[1] for m in months],
               "verified": [totals.get(m, (0, 0, 0))[2] for m in months],
               "paid": [rewards.get(m, (0, 0))[0] for m in months]}
    figures = {name: [count(v) for v in values] for name, values in columns.items()}
    for name, values in columns.items():
        figures[name].append(total(figures[name], sum(values)))
    paid_fen = [rewards.get(m, (0, 0))[1] for m in months]
    paid_fen.append(sum(paid_fen))
    period_days: dict[int, int] = {}
    for histogram in durations.values():
        for d, n in histogram.items():
            period_days[d] = period_days.get(d, 0) + n
    histograms = [durations.get(m, {}) for m in months] + [period_days]
    return [MonthRow(month, figures["received"][k], figures["concluded"][k], figures["verified"][k],
                     share(figures["verified"][k], figures["concluded"][k]), days(histograms[k]),
                     figures["paid"][k], amount(paid_fen[k], figures["paid"][k]))
            for k, month in enumerate(months + [None])]


def _breakdown(key: str, codes: list[str], names: dict[str, str], period: Period, received: list[int]) -> Breakdown:
    counts = _received_by(key, period)
    months = period.months
    codes = codes + sorted({code for (_, code) in counts} - set(codes))
    values = [[counts.get((m, code), 0) for m in months] for code in codes]
    cells = [[None] * len(months) for _ in codes]
    for j, monthly in enumerate(received):
        hidden = protect_column([row[j] for row in values], monthly)
        for i, row in enumerate(values):
            cells[i][j] = count(row[j], i in hidden)
    rows = [(code, names.get(code) or code or UNKNOWN_TOWNSHIP, cells[i], total(cells[i], sum(values[i])))
            for i, code in enumerate(codes)]
    month_totals = [count(v) for v in received]
    return Breakdown(key, rows, month_totals, total(month_totals, sum(received)))


def refreshed_at() -> datetime | None:
    """When the aggregates were last rebuilt (None: never)."""
    state = db.session.get(StatsState, 1)
    return as_utc(state.refreshed_at) if state and state.refreshed_at else None


def build_report(period: Period, this_month: date) -> PublicReport:
    """The public report for a period, every figure already suppressed as the rules above require."""
    from tipoff.reference import services as reference

    months = period.months
    totals = _monthly_totals(period)
    received = [totals.get(m, (0, 0, 0))[0] for m in months]
    # Active rows, and any other code with tips in the period. Rows only add or drop zero cells, which never
    # change what a month hides (protect_column looks at the counts above zero), so the period cannot matter.
    dimensions = (("category", reference.active_categories(), reference.all_categories()),
                  ("sector", reference.active_sectors(), reference.all_sectors()),
                  ("township", reference.active_townships(), reference.all_townships()))
    breakdowns = []
    for key, active, everything in dimensions:
        codes = [row.code for row in active] + ([""] if key == "township" else [])  # "": not given
        breakdowns.append(_breakdown(key, codes, {row.code: row.name for row in everything}, period, received))
    overview = _overview(period, totals)
    return PublicReport(period, this_month, overview[:-1], overview[-1], breakdowns, refreshed_at())
