"""The case ledger (案件台账) and the overdue list (超期案件清单): filter, scope, counts, rows and their files.

A row carries what a ledger needs to supervise the handling — reference, times, channel, category, the
reported unit, department, state, deadline, outcome, fine — and nothing that could point at a reporter:
no identity, no description, no messages, and no per-row insider or anonymous flag.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator, Mapping

from flask import Response
from sqlalchemy import Select, func, select

from tipoff.cases.queue import DUE_VIEWS, OPEN_STATES, end_of_today
from tipoff.cases.states import CaseState, internal_label
from tipoff.cases.workflow import OUTCOMES
from tipoff.clock.deadlines import RULES
from tipoff.db import utcnow
from tipoff.exports.writers import Column, Ledger, beijing_date, deliver, keyset_rows, month_start, next_month
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.intake.submission import CHANNEL_LABELS
from tipoff.reference.models import Category, Department, Sector, Township
from tipoff.reference.services import all_categories, all_departments, all_sectors, all_townships

OPEN = "open"  # a status filter value: every state the case queue shows
OPEN_VALUES = tuple(s.value for s in OPEN_STATES)
ORDERS = {"most": "逾期最久在前", "least": "逾期最短在前"}
PER_PAGE = 100
OUTCOME_LABELS = {**OUTCOMES, "merged": "合并办理"}
NOTICE = "内部资料：案件台账不含举报人身份信息和举报内容，不得外传。"

CASE_LEDGER = Ledger(
    action="export.cases", object_type="case_ledger", filename="case-ledger", sheet="案件台账", notice=NOTICE,
    columns=(
        Column("reference", "举报编号", width=18), Column("received_at", "收到时间（北京时间）", "datetime", 17),
        Column("channel", "渠道", width=16), Column("category", "举报类别", width=20),
        Column("sector", "行业领域", width=16), Column("township", "属地", width=12),
        Column("subject", "被举报单位", width=30), Column("department", "承办部门", width=24),
        Column("status", "状态", width=10), Column("routing_rule", "分办规则", width=18),
        Column("deadline", "办理期限", "date", 12), Column("outcome", "核查结论", width=12),
        Column("accepted_at", "受理时间", "datetime", 17), Column("concluded_at", "办结时间", "datetime", 17),
        Column("transfers", "移送次数", "int", 9), Column("fine", "罚款金额（元）", "amount", 14),
        Column("penalty_decision_no", "处罚决定书文号", width=24), Column("supervised", "挂牌督办", "flag", 9),
    ))
OVERDUE_LIST = Ledger(
    action="export.overdue", object_type="overdue_list", filename="overdue-cases", sheet="超期案件", notice=NOTICE,
    columns=(
        Column("reference", "举报编号", width=18), Column("department", "承办部门", width=24),
        Column("status", "状态", width=10), Column("subject", "被举报单位", width=30),
        Column("category", "举报类别", width=20), Column("township", "属地", width=12),
        Column("received_at", "收到时间（北京时间）", "datetime", 17), Column("deadline", "办理期限", "date", 12),
        Column("deadline_rule", "期限规则", width=36), Column("days_overdue", "逾期天数", "int", 9),
        Column("supervised", "挂牌督办", "flag", 9),
    ))


# ------------------------------------------------------------------------------------------- the filter


@dataclass(frozen=True)
class Choices:
    """What a user may filter by (code → name). `departments` is None for department-scoped users."""

    departments: dict[str, str] | None
    own_department: str | None
    own_department_name: str | None
    categories: dict[str, str]
    sectors: dict[str, str]
    townships: dict[str, str]


def choices_for(user, permission: str = "exports.run") -> Choices:
    """The filter's choices for a user: every handling department for the 安委办, none to pick for others."""
    district = user.scope(permission) == "district"
    department = user.department
    return Choices(
        departments={d.code: d.name for d in all_departments() if d.handles_tips} if district else None,
        own_department=department.code if department is not None else None,
        own_department_name=department.name if department is not None else None,
        categories={c.code: c.name for c in all_categories()}, sectors={s.code: s.name for s in all_sectors()},
        townships={t.code: t.name for t in all_townships()})


@dataclass(frozen=True)
class CaseFilter:
    """The case queue's filter (due, status, department) plus received months (Beijing), category, sector
    and township; `parse` refuses values it does not know."""

    due: str | None = None          # "overdue" | "today", as in the case queue (open cases only)
    status: str | None = None       # a case state, or "open" for every state the queue shows
    department: str | None = None   # a department code (district-wide users; others may name only their own)
    month_from: str | None = None   # "YYYY-MM", Beijing months of Tip.received_at
    month_to: str | None = None
    category: str | None = None
    sector: str | None = None
    township: str | None = None

    KEYS = (("due", "due"), ("status", "status"), ("department", "department"), ("from", "month_from"),
            ("to", "month_to"), ("category", "category"), ("sector", "sector"), ("township", "township"))

    @classmethod
    def parse(cls, args: Mapping[str, str], choices: Choices, *,
              overdue_list: bool = False) -> tuple["CaseFilter", dict[str, list[str]]]:
        """Read the filter from query arguments. The overdue list has no `due` (it is overdue by definition)
        and only open states."""
        raw = {attr: ((args.get(key) or "").strip() or None) for key, attr in cls.KEYS}
        errors: dict[str, list[str]] = {}
        if overdue_list:
            raw["due"] = None
        if raw["due"] and raw["due"] not in DUE_VIEWS:
            errors["due"] = ["期限筛选只能是 overdue（已逾期）或 today（今日到期）。"]
        allowed = status_choices(overdue_list)
        if raw["status"] and raw["status"] not in allowed:
            errors["status"] = ["状态筛选只能是：" + "、".join(f"{code}（{label}）" for code, label in allowed.items()) + "。"]
        for key, attr in (("from", "month_from"), ("to", "month_to")):
            if raw[attr] and month_start(raw[attr]) is None:
                errors[key] = [f"月份须写成 YYYY-MM，例如 2026-01（收到：{raw[attr][:20]}）。"]
        if raw["month_from"] and raw["month_to"] and not errors.get("from") and not errors.get("to") \
                and raw["month_from"] > raw["month_to"]:
            errors["to"] = ["截止月份不能早于起始月份。"]
        department = raw["department"]
        if department and choices.departments is None and department != choices.own_department:
            errors["department"] = ["只能导出本部门的案件。"]
        elif department and choices.departments is not None and department not in choices.departments:
            errors["department"] = ["没有这个承办部门。"]
        for attr, known, what in (("category", choices.categories, "举报类别"), ("sector", choices.sectors, "行业领域"),
                                  ("township", choices.townships, "属地")):
            if raw[attr] and raw[attr] not in known:
                errors[attr] = [f"没有这个{what}（收到：{raw[attr][:32]}）。"]
        fields = {attr: (None if key in errors else raw[attr]) for key, attr in cls.KEYS}
        if choices.departments is None:
            fields["department"] = None  # a department user's own department is their scope already
        return cls(**fields), errors

    def args(self) -> dict[str, str]:
        """The filter as query arguments (for links and the export buttons)."""
        return {key: getattr(self, attr) for key, attr in self.KEYS if getattr(self, attr)}

    def describe(self, choices: Choices) -> str:
        """The filter in words, for the file's header line."""
        if choices.departments is None:
            department = choices.own_department_name or "—"
        else:
            department = choices.departments.get(self.department or "", "全部")
        status = status_choices(False).get(self.status or "", "全部")
        months = f"{self.month_from or '最早'} 至 {self.month_to or '最新'}" if (self.month_from or self.month_to) else "全部"
        parts = [f"部门={department}", f"状态={status}", f"收到月份={months}"]
        if self.due:
            parts.insert(0, "期限=" + ("已逾期" if self.due == "overdue" else "今日到期"))
        for attr, known, what in (("category", choices.categories, "类别"), ("sector", choices.sectors, "行业"),
                                  ("township", choices.townships, "属地")):
            if getattr(self, attr):
                parts.append(f"{what}={known.get(getattr(self, attr), getattr(self, attr))}")
        return "；".join(parts)


def status_choices(open_only: bool) -> dict[str, str]:
    """Status filter values → labels: "open" first, then each state (open ones only for the overdue list)."""
    states = OPEN_STATES if open_only else tuple(CaseState)
    return {OPEN: "办理中（全部未结）", **{s.value: internal_label(s.value) for s in states}}


def parse_order(value: str | None) -> tuple[str, dict[str, list[str]]]:
    """The overdue list's order: "most" (most days overdue first, the default) or "least"."""
    value = (value or "").strip() or "most"
    if value not in ORDERS:
        return "most", {"order": ["排序只能是 most（逾期最久在前）或 least（逾期最短在前）。"]}
    return value, {}


# ------------------------------------------------------------------------------------------- queries


def conditions(user, wanted: CaseFilter, now: datetime, permission: str = "exports.run") -> list:
    """WHERE clauses on Tip: the user's scope (as in the case queue) and the filter."""
    clauses: list = []
    if user.scope(permission) != "district":
        clauses.append(Tip.department_id == (user.department_id or -1))
    elif wanted.department:
        clauses.append(Tip.department_id.in_(select(Department.id).where(Department.code == wanted.department)))
    if wanted.due:
        clauses.append(Tip.status.in_(OPEN_VALUES))
        if wanted.due == "overdue":
            clauses.append(Tip.deadline_at < now)
        else:
            clauses += [Tip.deadline_at >= now, Tip.deadline_at < end_of_today(now)]
    if wanted.status == OPEN:
        clauses.append(Tip.status.in_(OPEN_VALUES))
    elif wanted.status:
        clauses.append(Tip.status == wanted.status)
    start = month_start(wanted.month_from) if wanted.month_from else None
    end = month_start(wanted.month_to) if wanted.month_to else None
    if start is not None:
        clauses.append(Tip.received_at >= start)
    if end is not None:
        clauses.append(Tip.received_at < next_month(end))
    for column, value in ((Tip.category_code, wanted.category), (Tip.sector_code, wanted.sector),
                          (Tip.township_code, wanted.township)):
        if value:
            clauses.append(column == value)
    return clauses


def overdue_conditions(user, wanted: CaseFilter, now: datetime) -> list:
    """The filter's clauses plus: open, with a deadline that has passed."""
    return [*conditions(user, wanted, now), Tip.status.in_(OPEN_VALUES), Tip.deadline_at.is_not(None),
            Tip.deadline_at < now]


def count_and_last(clauses: list) -> tuple[int, int]:
    """How many tips match, and the highest id among them (later tips are left out of the file)."""
    count, last = db.session.execute(select(func.count(Tip.id), func.max(Tip.id)).where(*clauses)).one()
    return int(count or 0), int(last or 0)


def count_cases(user, wanted: CaseFilter, now: datetime | None = None) -> int:
    """How many cases the case ledger holds for this user and filter (the page shows it before the download)."""
    return count_and_last(conditions(user, wanted, now or utcnow()))[0]


def count_overdue(user, wanted: CaseFilter, now: datetime | None = None) -> int:
    """How many open cases in scope are overdue under this filter."""
    return count_and_last(overdue_conditions(user, wanted, now or utcnow()))[0]


def _ledger_query(clauses: list) -> Select:
    return (select(Tip.id, Tip.reference, Tip.received_at, Tip.channel,
                   func.coalesce(Category.name, Tip.category_code).label("category"),
                   func.coalesce(Sector.name, Tip.sector_code).label("sector"),
                   func.coalesce(Township.name, Tip.township_code).label("township"),
                   Tip.subject_name, Department.name.label("department"), Tip.status, Tip.routing_rule,
                   Tip.deadline_at, Tip.deadline_rule, Tip.outcome, Tip.accepted_at, Tip.concluded_at,
                   Tip.transfers, Tip.conclusion, Tip.supervised)
            .join(Department, Department.id == Tip.department_id)
            .outerjoin(Category, Category.code == Tip.category_code)
            .outerjoin(Sector, Sector.code == Tip.sector_code)
            .outerjoin(Township, Township.code == Tip.township_code)
            .where(*clauses))


def _fine(conclusion: Any) -> Decimal | None:
    """The fine of a conclusion (stored as a decimal string), or None."""
    value = (conclusion or {}).get("fine") if isinstance(conclusion, dict) else None
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def ledger_cells(row: Any) -> list[Any]:
    """One case as the case ledger writes it, in CASE_LEDGER's column order."""
    conclusion = row.conclusion if isinstance(row.conclusion, dict) else {}
    return [row.reference, row.received_at, CHANNEL_LABELS.get(row.channel, row.channel), row.category, row.sector,
            row.township or "", row.subject_name, row.department, internal_label(row.status), row.routing_rule,
            beijing_date(row.deadline_at), OUTCOME_LABELS.get(row.outcome or "", row.outcome or ""),
            row.accepted_at, row.concluded_at, row.transfers or 0, _fine(conclusion),
            conclusion.get("penalty_decision_no") or "", bool(row.supervised)]


def days_overdue(deadline: datetime, now: datetime) -> int:
    """Whole Beijing calendar days since the deadline's day; a deadline passed today counts as 1."""
    return max(1, (beijing_date(now) - beijing_date(deadline)).days)


def rule_text(code: str | None) -> str:
    """A deadline rule as "T3 核查并办结（自受理之日起）"."""
    if not code:
        return ""
    clock = RULES.get(code)
    return f"{code} {clock.description}" if clock else code


@dataclass(frozen=True)
class OverdueRow:
    """One overdue case as the overdue page and its files show it."""

    reference: str
    department: str
    status: str
    subject: str
    category: str
    township: str
    received_at: datetime
    deadline: date | None
    deadline_rule: str
    days_overdue: int
    supervised: bool

    def cells(self) -> list[Any]:
        """The values in OVERDUE_LIST's column order."""
        return [getattr(self, column.key) for column in OVERDUE_LIST.columns]


def overdue_row(row: Any, now: datetime) -> OverdueRow:
    """An OverdueRow from a ledger query row."""
    return OverdueRow(row.reference, row.department, internal_label(row.status), row.subject_name, row.category,
                      row.township or "", row.received_at, beijing_date(row.deadline_at),
                      rule_text(row.deadline_rule), days_overdue(row.deadline_at, now), bool(row.supervised))


def _overdue_keys(order: str) -> list:
    """Most overdue first is the earliest deadline first; ties by id."""
    descending = order == "least"
    return [(Tip.deadline_at, "deadline_at", descending), (Tip.id, "id", descending)]


def overdue_page(user, wanted: CaseFilter, order: str = "most", page: int = 1, per_page: int = PER_PAGE,
                 now: datetime | None = None) -> list[OverdueRow]:
    """One page of the overdue list, in the chosen order."""
    now = now or utcnow()
    stmt = _ledger_query(overdue_conditions(user, wanted, now)).order_by(
        *(column.desc() if desc else column.asc() for column, _, desc in _overdue_keys(order)))
    return [overdue_row(r, now) for r in db.session.execute(stmt.offset((max(page, 1) - 1) * per_page).limit(per_page))]


# ------------------------------------------------------------------------------------------- the files


def _audit_department(user, wanted: CaseFilter) -> int | None:
    if wanted.department:
        return db.session.scalar(select(Department.id).where(Department.code == wanted.department))
    return user.department_id


def export_cases(user, wanted: CaseFilter, form: str, choices: Choices, via: str | None = None) -> Response:
    """The case ledger as CSV or XLSX, oldest case first: audited, then streamed in batches."""
    clauses = conditions(user, wanted, utcnow())
    count, last = count_and_last(clauses)
    stmt = _ledger_query([*clauses, Tip.id <= last])

    def rows() -> Iterator[list[Any]]:
        for row in keyset_rows(stmt, [(Tip.id, "id", False)]):
            yield ledger_cells(row)

    return deliver(user, CASE_LEDGER, form=form, count=count, rows=rows, filter_text=wanted.describe(choices),
                   filter_args=wanted.args(), department_id=_audit_department(user, wanted), via=via)


def export_overdue(user, wanted: CaseFilter, form: str, choices: Choices, order: str = "most",
                   via: str | None = None) -> Response:
    """The overdue list as CSV or XLSX, in the page's order: audited, then streamed in batches."""
    now = utcnow()
    clauses = overdue_conditions(user, wanted, now)
    count, last = count_and_last(clauses)
    stmt = _ledger_query([*clauses, Tip.id <= last])

    def rows() -> Iterator[list[Any]]:
        for row in keyset_rows(stmt, _overdue_keys(order)):
            yield overdue_row(row, now).cells()

    filter_text = f"{wanted.describe(choices)}；排序={ORDERS[order]}"
    return deliver(user, OVERDUE_LIST, form=form, count=count, rows=rows, filter_text=filter_text,
                   filter_args={**wanted.args(), "order": order}, department_id=_audit_department(user, wanted),
                   via=via)
