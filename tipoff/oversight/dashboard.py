"""The dashboard's figures, read from the monthly aggregates (never a scan of the tips), and the department
ranking the seed asks for (执法工作情况通报, measure 46).

Every figure reads the narrow rollups (MonthlyRollup: month × department × one dimension value), whose rows
do not grow with the tips. Only a filter that crosses dimensions — two of category / sector / township /
channel at once, or one of them with a chart of another (e.g. sectors of one category) — needs MonthlyStat's
eight-way key; those figures read it, narrowed by the filter (`_rollup` returns None for them).

Scope: the 安委办 (overseer) sees the district and may narrow to a department; a department's leader sees
only their department. Overdue counts are live (open cases past their deadline: few rows, indexed).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy import func, select

from tipoff.cases.queue import OPEN_CONDITION
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.oversight.models import DurationStat, MonthlyRollup, MonthlyStat, RewardStat
from tipoff.oversight.stats import COUNT_FIELDS, SUMMED, month_of, next_month, percentile
from tipoff.reference.models import Department

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
DIMENSIONS = {"category": MonthlyStat.category_code, "sector": MonthlyStat.sector_code,
              "township": MonthlyStat.township_code, "channel": MonthlyStat.channel,
              "department": MonthlyStat.department_id}
FILTERED = ("category", "sector", "township", "channel")
MAX_MONTHS = 120
DURATION_METRICS = ("accept", "conclude")


@dataclass(frozen=True)
class Filter:
    month_from: date
    month_to: date
    department_id: int | None = None
    category: str | None = None
    sector: str | None = None
    township: str | None = None
    channel: str | None = None

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links down to the cases and for the export)."""
        department = db.session.get(Department, self.department_id).code if self.department_id else None
        pairs = {"from": f"{self.month_from:%Y-%m}", "to": f"{self.month_to:%Y-%m}", "department": department,
                 "category": self.category, "sector": self.sector, "township": self.township,
                 "channel": self.channel}
        return {k: v for k, v in pairs.items() if v}


def _month(text: str) -> date | None:
    match = MONTH.match(text or "")
    if not match or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_filter(user, args: Mapping[str, str]) -> tuple[Filter, dict[str, list[str]]]:
    """Read the dashboard's filter; a leader is held to their own department whatever is asked."""
    errors: dict[str, list[str]] = {}
    this_month = month_of(utcnow())
    default_from = date(this_month.year - 1, this_month.month, 1)
    month_from = _month(args.get("from", "")) if args.get("from") else default_from
    month_to = _month(args.get("to", "")) if args.get("to") else this_month
    if month_from is None:
        errors["from"], month_from = ["起始月份格式应为 2026-01。"], default_from
    if month_to is None:
        errors["to"], month_to = ["截止月份格式应为 2026-12。"], this_month
    if month_from > month_to:
        errors["to"], month_from, month_to = ["截止月份不能早于起始月份。"], default_from, this_month
    elif (month_to.year - month_from.year) * 12 + month_to.month - month_from.month >= MAX_MONTHS:
        errors["from"], month_from = [f"一次最多统计 {MAX_MONTHS} 个月。"], default_from
    department_id = None
    if user.scope("oversight.view") != "district":
        department_id = user.department_id or -1
    elif args.get("department"):
        department = db.session.scalar(select(Department).where(Department.code == args["department"]))
        if department is None:
            errors["department"] = ["没有这个部门。"]
        else:
            department_id = department.id
    text = {k: (args.get(k) or "").strip()[:32] or None for k in ("category", "sector", "township", "channel")}
    return Filter(month_from, month_to, department_id, **text), errors


def _conditions(model, wanted: Filter, dimensions: bool = True) -> list:
    conditions = [model.month >= wanted.month_from, model.month <= wanted.month_to]
    if wanted.department_id is not None:
        conditions.append(model.department_id == wanted.department_id)
    if dimensions:
        for name in ("category", "sector", "township", "channel"):
            value = getattr(wanted, name)
            if value:
                conditions.append(DIMENSIONS[name] == value)
    return conditions


def _rollup(wanted: Filter, dimension: str) -> list | None:
    """Conditions on MonthlyRollup for a figure broken down by `dimension` ("total": none), or None when
    the filter crosses dimensions and only MonthlyStat can answer."""
    chosen = {name: getattr(wanted, name) for name in FILTERED if getattr(wanted, name)}
    conditions = _conditions(MonthlyRollup, wanted, dimensions=False)
    if dimension == "sector_township" and set(chosen) <= {"sector", "township"}:
        conditions.append(MonthlyRollup.dimension == dimension)
        if "sector" in chosen:
            conditions.append(MonthlyRollup.key == chosen["sector"])
        if "township" in chosen:
            conditions.append(MonthlyRollup.key2 == chosen["township"])
        return conditions
    if not chosen:
        return [*conditions, MonthlyRollup.dimension == dimension]
    if len(chosen) == 1:
        ((name, value),) = chosen.items()
        if dimension in ("total", name):  # the one value's own row answers it
            return [*conditions, MonthlyRollup.dimension == name, MonthlyRollup.key == value]
    return None


def _sums(model, *group_by) -> list:
    return [*group_by, *(func.coalesce(func.sum(getattr(model, f)), 0).label(f) for f in SUMMED)]


def _row(values: Mapping[str, Any]) -> dict[str, Any]:
    row = {f: int(values.get(f) or 0) for f in SUMMED}
    decided = row["accepted"] + row["rejected"]
    row["acceptance_rate"] = row["accepted"] / decided if decided else None
    row["verified"] = row["substantiated"] + row["partially_substantiated"]
    row["verified_share"] = row["verified"] / row["concluded"] if row["concluded"] else None
    row["on_time_rate"] = row["concluded_on_time"] / row["concluded"] if row["concluded"] else None
    rated = row["satisfied"] + row["basically_satisfied"] + row["unsatisfied"]
    row["rated"] = rated
    row["satisfaction"] = (row["satisfied"] + row["basically_satisfied"]) / rated if rated else None
    return row


def totals(wanted: Filter) -> dict[str, Any]:
    rollup = _rollup(wanted, "total")
    if rollup is not None:
        values = db.session.execute(select(
            *_sums(MonthlyRollup), func.coalesce(func.sum(MonthlyRollup.anonymous), 0).label("anonymous"),
            func.coalesce(func.sum(MonthlyRollup.insider), 0).label("insider")).where(*rollup)).mappings().one()
        result = _row(values)
        anonymous, insider = values["anonymous"], values["insider"]
    else:
        result = _row(db.session.execute(select(*_sums(MonthlyStat)).where(*_conditions(MonthlyStat, wanted)))
                      .mappings().one())
        anonymous = db.session.scalar(select(func.coalesce(func.sum(MonthlyStat.received), 0)).where(
            *_conditions(MonthlyStat, wanted), MonthlyStat.anonymous.is_(True)))
        insider = db.session.scalar(select(func.coalesce(func.sum(MonthlyStat.received), 0)).where(
            *_conditions(MonthlyStat, wanted), MonthlyStat.insider.is_(True)))
    result["anonymous"], result["insider"] = int(anonymous), int(insider)
    result["anonymous_share"] = anonymous / result["received"] if result["received"] else None
    result["insider_share"] = insider / result["received"] if result["received"] else None
    return result


def by_dimension(wanted: Filter, name: str) -> list[tuple[Any, dict[str, Any]]]:
    """Counts per category / sector / township / channel / department, most tips first."""
    rollup = _rollup(wanted, "total" if name == "department" else name)
    if rollup is not None:
        model, conditions = MonthlyRollup, rollup
        column = MonthlyRollup.department_id if name == "department" else MonthlyRollup.key
    else:
        model, conditions, column = MonthlyStat, _conditions(MonthlyStat, wanted), DIMENSIONS[name]
    rows = db.session.execute(select(*_sums(model, column.label("key"))).where(*conditions)
                              .group_by(column)).mappings()
    return sorted(((r["key"], _row(r)) for r in rows), key=lambda kv: (-kv[1]["received"], str(kv[0])))


def trend(wanted: Filter) -> list[tuple[date, dict[str, Any]]]:
    """Per month, every month of the period (zeros included, so the line has no gaps)."""
    rollup = _rollup(wanted, "total")
    model, conditions = (MonthlyRollup, rollup) if rollup is not None else (MonthlyStat,
                                                                            _conditions(MonthlyStat, wanted))
    rows = {r["month"]: _row(r) for r in db.session.execute(
        select(*_sums(model, model.month.label("month"))).where(*conditions).group_by(model.month)).mappings()}
    months, month = [], wanted.month_from
    while month <= wanted.month_to:
        months.append((month, rows.get(month) or _row({f: 0 for f in COUNT_FIELDS})))
        month = next_month(month)
    return months


def heat(wanted: Filter) -> dict[tuple[str, str], int]:
    """Tips per sector × township."""
    rollup = _rollup(wanted, "sector_township")
    if rollup is not None:
        sector, township, received, conditions = MonthlyRollup.key, MonthlyRollup.key2, MonthlyRollup.received, rollup
    else:
        sector, township, received = MonthlyStat.sector_code, MonthlyStat.township_code, MonthlyStat.received
        conditions = _conditions(MonthlyStat, wanted)
    rows = db.session.execute(select(sector, township, func.sum(received)).where(*conditions)
                              .group_by(sector, township))
    return {(sector_code, township_code): int(n) for sector_code, township_code, n in rows}


def _duration_histograms(wanted: Filter, department_id: int | None = None) -> dict[tuple[int, str], list]:
    """(department, metric) -> [(days, cases)] for the period, read in one grouped scan of the histograms
    (one query per department and metric cost the ranking 70 round trips, each slower as the histograms
    fill up)."""
    conditions = _conditions(DurationStat, wanted, dimensions=False)
    if department_id is not None:
        conditions.append(DurationStat.department_id == department_id)
    found: dict[tuple[int, str], list] = {}
    for department, metric, days, n in db.session.execute(
            select(DurationStat.department_id, DurationStat.metric, DurationStat.days, func.sum(DurationStat.count))
            .where(*conditions).group_by(DurationStat.department_id, DurationStat.metric, DurationStat.days)):
        found.setdefault((department, metric), []).append((int(days), int(n)))
    return found


def _duration_summary(histograms: Mapping[tuple[int, str], list], department_id: int | None = None) -> dict:
    """Median and 90th percentile per metric, of one department or (None) of all of them together."""
    result = {}
    for metric in DURATION_METRICS:
        pairs = [pair for (department, name), histogram in histograms.items()
                 if name == metric and department_id in (None, department) for pair in histogram]
        result[metric] = {"median": percentile(pairs, 0.5), "p90": percentile(pairs, 0.9),
                          "n": sum(n for _, n in pairs)}
    return result


def durations(wanted: Filter, department_id: int | None = None) -> dict[str, dict[str, int | None]]:
    """Median and 90th percentile of days to accept and to conclude (department-level data only)."""
    return _duration_summary(_duration_histograms(wanted, department_id))


def overdue_now(wanted: Filter) -> dict[int, int]:
    """Open cases past their deadline right now, per department (live)."""
    stmt = (select(Tip.department_id, func.count(Tip.id))
            .where(OPEN_CONDITION, Tip.deadline_at < utcnow())  # literal states: the open-tips index
            .group_by(Tip.department_id))
    if wanted.department_id is not None:
        stmt = stmt.where(Tip.department_id == wanted.department_id)
    return {department_id: int(n) for department_id, n in db.session.execute(stmt)}


def rewards(wanted: Filter) -> dict[str, dict[str, int]]:
    """Rewards opened in the period by status: count, amount and paid amount (分)."""
    rows = db.session.execute(
        select(RewardStat.status, func.sum(RewardStat.count), func.sum(RewardStat.amount_fen),
               func.sum(RewardStat.paid_fen)).where(*_conditions(RewardStat, wanted, dimensions=False))
        .group_by(RewardStat.status))
    return {status: {"count": int(n), "amount_fen": int(a or 0), "paid_fen": int(p or 0)} for status, n, a, p in rows}


def ranking(wanted: Filter) -> list[dict[str, Any]]:
    """执法工作情况通报: each department's on-time rate, median days, re-reviews and satisfaction, best first."""
    names = {d.id: d for d in db.session.scalars(select(Department))}
    overdue = overdue_now(wanted)
    histograms = _duration_histograms(wanted, wanted.department_id)
    rows = []
    for department_id, row in by_dimension(wanted, "department"):
        times = _duration_summary(histograms, department_id)
        department = names.get(department_id)
        rows.append({**row, "department_id": department_id, "code": department.code if department else "",
                     "name": department.name if department else str(department_id),
                     "median_conclude": times["conclude"]["median"], "median_accept": times["accept"]["median"],
                     "overdue_now": overdue.get(department_id, 0)})
    for department_id, n in overdue.items():  # departments with overdue cases but no tips in the period
        if department_id not in {r["department_id"] for r in rows} and department_id in names:
            empty = _row({f: 0 for f in COUNT_FIELDS})
            rows.append({**empty, "department_id": department_id, "code": names[department_id].code,
                         "name": names[department_id].name, "median_conclude": None, "median_accept": None,
                         "overdue_now": n})
    # Best first: on time, then fewer overdue, then quicker; departments without conclusions last.
    return sorted(rows, key=lambda r: (r["on_time_rate"] is None, -(r["on_time_rate"] or 0), r["overdue_now"],
                                       r["median_conclude"] if r["median_conclude"] is not None else 10_000,
                                       r["name"]))
