"""Routing against the live reference data: build the matcher's inputs from the database."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from tipoff.extensions import db
from tipoff.reference.cache import cached
from tipoff.reference.models import Department, RoutingRule, Sector, Township
from tipoff.routing.matcher import Decision, Jurisdiction, Rule, TipFacts, ordered, route


def rule_from_row(row: RoutingRule) -> Rule:
    """The matcher's view of one routing-table row."""
    return Rule(code=row.code, priority=row.priority, accept_by=row.accept_by, explanation=row.explanation,
                department_code=row.department_code, category_codes=tuple(row.category_codes or ()),
                sector_codes=tuple(row.sector_codes or ()), township_codes=tuple(row.township_codes or ()),
                keywords=tuple(row.keywords or ()), copy_to=tuple(row.copy_to or ()),
                supervised=bool(row.supervised))


def current_rules(on: date | None = None) -> list[Rule]:
    """Active rules already in force on a day (today by default)."""
    on = on or date.today()
    rows = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))
    return [rule_from_row(r) for r in rows if r.effective_from is None or r.effective_from <= on]


def current_jurisdiction() -> Jurisdiction:
    """Sector leads and township governments as they stand now (active departments only)."""
    # Columns, not ORM objects: this runs on every submit, and building ~100 entities cost more than routing.
    departments = {row.id: row for row in db.session.execute(
        select(Department.id, Department.code, Department.name).where(Department.active.is_(True)))}
    leads = {code: departments[lead].code if lead in departments else None
             for code, lead in db.session.execute(select(Sector.code, Sector.lead_department_id))}
    townships = {code: departments[owner].code if owner in departments else None
                 for code, owner in db.session.execute(select(Township.code, Township.department_id))}
    return Jurisdiction(leads, townships, {d.code: d.name for d in departments.values()})


@dataclass(frozen=True)
class AcceptingDepartment:
    """The accepting department as a submission stores and shows it (plain values: safe to cache)."""

    id: int
    code: str
    name: str


@dataclass(frozen=True)
class RoutingTable:
    """The rules in force today, in the order tried, with the jurisdiction and the active departments."""

    rules: tuple[Rule, ...]
    where: Jurisdiction
    departments: dict[str, AcceptingDepartment]


def _load_table() -> RoutingTable:
    departments = {code: AcceptingDepartment(id_, code, name) for id_, code, name in db.session.execute(
        select(Department.id, Department.code, Department.name).where(Department.active.is_(True)))}
    return RoutingTable(tuple(ordered(current_rules())), current_jurisdiction(), departments)


def routing_table() -> RoutingTable:
    """The routing table as it stands (reused until reference data changes: tipoff.reference.cache)."""
    return cached("routing_table", _load_table)


def decide(facts: TipFacts) -> tuple[Decision, AcceptingDepartment]:
    """Decide who accepts a tip from the cached table: the decision and the accepting department.

    The matcher only accepts active departments (Jurisdiction.names), so the accepting one is always in
    the table's departments.
    """
    table = routing_table()
    decision = route(facts, table.rules, table.where)
    return decision, table.departments[decision.department_code]


def route_tip(facts: TipFacts) -> tuple[Decision, Department]:
    """Decide who accepts a tip, returning the decision and the accepting department (an ORM row)."""
    decision, accepting = decide(facts)
    return decision, db.session.get(Department, accepting.id)
