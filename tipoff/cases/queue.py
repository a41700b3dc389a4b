"""The case queue: open cases in the user's scope, soonest deadline first, with due-today and overdue views."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row

from tipoff.cases.states import CaseState
from tipoff.clockview import SHANGHAI
from tipoff.db import sql_constants, utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import Department

OPEN_STATES = (CaseState.RECEIVED, CaseState.VERIFYING, CaseState.CONCLUDED, CaseState.UNDER_REVIEW)
DUE_VIEWS = ("overdue", "today")
PER_PAGE = 50
# Queue counts stop here and the tabs say "99+", as work badges do: enough to tell a backlog, and a
# page's cost that stops growing with the backlog early. Counting up to 1,000 read up to three thousand
# index entries a page, so a department with 700 open cases paid less than one with 20,000 (callgrind:
# 6 % more per request at 1M tips than at 10k, 0.84 of the throughput side by side); at 99 both pay
# the same. The exact numbers are the 台账's (exports) and the dashboard's.
COUNT_CAP = 99


@dataclass(frozen=True)
class QueueFilter:
    """What the queue page and `GET /api/v1/cases` may narrow by; unknown values are refused by `parse`."""

    due: str | None = None         # "overdue" | "today" (due before the end of today, Beijing time, not yet overdue)
    status: str | None = None      # one open state
    department: str | None = None  # a department code (district-wide users only; others see their own anyway)

    @classmethod
    def parse(cls, args) -> tuple["QueueFilter", dict[str, list[str]]]:
        """Read the filter from query arguments; return it with errors for values it does not know."""
        errors: dict[str, list[str]] = {}
        due, status, department = (args.get(k) or None for k in ("due", "status", "department"))
        if due and due not in DUE_VIEWS:
            errors["due"] = ["期限筛选只能是 overdue（已逾期）或 today（今日到期）。"]
            due = None
        if status and status not in {s.value for s in OPEN_STATES}:
            errors["status"] = ["状态筛选只能是办理中的状态：" + "、".join(s.value for s in OPEN_STATES) + "。"]
            status = None
        if department and (len(department) > 32 or not department.replace("_", "").isalnum()):
            errors["department"] = ["部门代码不正确。"]
            department = None
        return cls(due, status, department), errors

    def args(self) -> dict[str, str]:
        return {k: v for k, v in (("due", self.due), ("status", self.status), ("department", self.department)) if v}


def end_of_today(now: datetime) -> datetime:
    """Midnight at the end of today in Beijing, as a UTC instant (the working day staff live in)."""
    local = now.astimezone(SHANGHAI)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)).astimezone(now.tzinfo)


# The open states written into the SQL as literals, exactly as the partial indexes on open tips say them
# (ix_tips_open_*, migration 0014): a planner can use a partial index only when it sees that the query's
# condition is the index's, which bound parameters hide from SQLite and from PostgreSQL's generic plans.
OPEN_CONDITION = Tip.status.in_(sql_constants(s.value for s in OPEN_STATES))


def _scoped(user, wanted: QueueFilter | None = None, now: datetime | None = None):
    stmt = select(Tip).where(OPEN_CONDITION)
    if user.scope("cases.view") != "district":
        stmt = stmt.where(Tip.department_id == (user.department_id or -1))
    if wanted is None:
        return stmt
    now = now or utcnow()
    if wanted.due == "overdue":
        stmt = stmt.where(Tip.deadline_at < now)
    elif wanted.due == "today":
        stmt = stmt.where(Tip.deadline_at >= now, Tip.deadline_at < end_of_today(now))
    if wanted.status:
        stmt = stmt.where(Tip.status == wanted.status)
    if wanted.department:
        stmt = stmt.where(Tip.department_id.in_(select(Department.id).where(Department.code == wanted.department)))
    return stmt


# What a queue row shows (the page and `GET /api/v1/cases`): columns, not ORM objects, since building 50
# entities and their departments cost more CPU than the rest of the page.
ROW_COLUMNS = (Tip.id, Tip.reference, Tip.status, Tip.category_code, Tip.sector_code, Tip.township_code,
               Tip.subject_name, Tip.received_at, Tip.deadline_at, Tip.deadline_rule, Tip.supervised, Tip.version,
               Department.code.label("department_code"), Department.name.label("department_name"))


def queue(user, *, page: int = 1, per_page: int = PER_PAGE, wanted: QueueFilter | None = None) -> list[Row]:
    """Open cases the user may see, narrowed by the filter, soonest deadline first (cases without one last).

    Rows of `ROW_COLUMNS` (the tip's attributes by name, plus `department_code` and `department_name`).
    Read as two ordered scans — cases with a deadline by (deadline, id), then those without by id — so each
    page walks the open-tips index in order and stops after one page, however many cases are open; one
    `ORDER BY deadline IS NULL, …` would sort every open case of the department on every page.
    """
    # Every row shows its department: joined into the page, not one query per row.
    scoped = _scoped(user, wanted).with_only_columns(*ROW_COLUMNS).outerjoin(
        Department, Department.id == Tip.department_id)
    offset = (max(page, 1) - 1) * per_page
    dated = scoped.where(Tip.deadline_at.is_not(None))
    found = list(db.session.execute(dated.order_by(Tip.deadline_at, Tip.id).offset(offset).limit(per_page)))
    if len(found) == per_page:
        return found
    skipped_dated = offset if found else db.session.scalar(
        _scoped(user, wanted).where(Tip.deadline_at.is_not(None)).with_only_columns(func.count(Tip.id)))
    undated = scoped.where(Tip.deadline_at.is_(None)).order_by(Tip.id)
    return found + list(db.session.execute(undated.offset(max(offset - skipped_dated, 0))
                                           .limit(per_page - len(found))))


def counts(user, wanted: QueueFilter | None = None, now: datetime | None = None,
           cap: int | None = None) -> dict[str, Any]:
    """How many open cases in scope (with the status/department filter) are overdue, due today, or open at all.

    Each number is counted up to `cap` only: beyond it the page says "99+" (`more`), so a department
    with a backlog of tens of thousands does not pay for counting all of it on every page of its queue.
    Three bounded scans in one round trip; the due conditions are `_scoped`'s own.
    """
    base = wanted or QueueFilter()
    now = now or utcnow()
    cap = cap or COUNT_CAP

    def bounded(due: str | None):
        rows = _scoped(user, QueueFilter(due, base.status, base.department), now).with_only_columns(Tip.id)
        return select(func.count()).select_from(rows.limit(cap + 1).subquery()).scalar_subquery()

    numbers = db.session.execute(select(*(bounded(due) for due in (None, *DUE_VIEWS)))).one()
    found = {name: int(n or 0) for name, n in zip(("all", *DUE_VIEWS), numbers)}
    return {**{name: min(n, cap) for name, n in found.items()}, "more": {name: n > cap for name, n in found.items()}}
