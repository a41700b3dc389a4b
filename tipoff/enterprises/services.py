"""Enterprises (生产经营单位) for the reporting-channel posters: checks, reading in scope, and the only writes.

A department's handlers and leaders see and change the enterprises their department registered; an
administrator sees all of them and may register one for any department or for none. Every change is
written to the audit log with codes and field names only (an enterprise's name and address stay out).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from tipoff.accounts.access import scoped
from tipoff.accounts.models import User
from tipoff.audit.services import record
from tipoff.enterprises.models import Enterprise
from tipoff.errors import Conflict, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.validators import clean_text, normalise_credit_code
from tipoff.reference import services as reference
from tipoff.reference.models import Department

PERMISSION = "enterprises.manage"
FIELDS = ("name", "credit_code", "township", "sector", "address")
COLUMNS = {"name": "name", "credit_code": "credit_code", "township": "township_code", "sector": "sector_code",
           "address": "address"}
PAGE_SIZE = 50


@dataclass(frozen=True)
class Choices:
    """What a form may offer: active townships and sectors, and (for an administrator) departments."""

    townships: dict[str, str]
    sectors: dict[str, str]
    departments: dict[str, str]

    @classmethod
    def current(cls) -> "Choices":
        """The active reference data as code → name maps, in display order."""
        return cls({t.code: t.name for t in reference.active_townships()},
                   {s.code: s.name for s in reference.active_sectors()},
                   {d.code: d.name for d in reference.handling_departments()})


def fold_name(name: str) -> str:
    """A name as compared for duplicates: NFKC, no spaces, case folded (（有限公司） = (有限公司))."""
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


def clean(values: Mapping[str, Any], choices: Choices) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Check typed values (township and sector as codes); returns (model values, errors by field)."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    name = str(values.get("name") or "")
    try:
        cleaned["name"] = clean_text(name, field="单位名称", minimum=2 if name.strip() else 1, maximum=200)
    except ValueError as exc:
        errors["name"] = [str(exc)]
    code = str(values.get("credit_code") or "").strip()
    if code:
        try:
            cleaned["credit_code"] = normalise_credit_code(code)
        except ValueError as exc:
            errors["credit_code"] = [str(exc)]
    else:
        cleaned["credit_code"] = None
    for field, known, message in (("township", choices.townships, "请选择所在乡镇（街道）。"),
                                  ("sector", choices.sectors, "请选择行业领域。")):
        value = str(values.get(field) or "").strip()
        if value in known:
            cleaned[COLUMNS[field]] = value
        else:
            errors[field] = [message]
    try:
        address = clean_text(str(values.get("address") or ""), field="地址", maximum=300)
        cleaned["address"] = address or None
    except ValueError as exc:
        errors["address"] = [str(exc)]
    return cleaned, errors


def _department_names() -> dict[int, str]:
    return dict(db.session.execute(select(Department.id, Department.name)).tuples().all())


def _already(kind: str, name: str, department_name: str | None) -> dict[str, list[str]]:
    by = department_name or "系统管理员"
    if kind == "credit_code":
        return {"credit_code": [f"该统一社会信用代码已登记（{name}，由{by}登记），无需重复登记。"]}
    return {"name": [f"本乡镇（街道）已登记同名单位（由{by}登记），无需重复登记；如确是另一家单位，请填写统一社会信用代码。"]}


class Register:
    """The registered enterprises held in memory, to check many imported rows for duplicates at once."""

    def __init__(self) -> None:
        rows = db.session.execute(select(Enterprise.name, Enterprise.credit_code, Enterprise.township_code,
                                         Enterprise.department_id)).tuples().all()
        departments = _department_names()
        self.codes = {code: (name, departments.get(dep)) for name, code, _t, dep in rows if code}
        self.names = {(township, fold_name(name)): departments.get(dep) for name, _c, township, dep in rows}

    def duplicate_errors(self, cleaned: Mapping[str, Any]) -> dict[str, list[str]]:
        """As `duplicate_errors`, against the register as it was read."""
        if cleaned.get("credit_code"):
            found = self.codes.get(cleaned["credit_code"])
            return _already("credit_code", *found) if found else {}
        key = (cleaned.get("township_code"), fold_name(cleaned.get("name", "")))
        return _already("name", "", self.names[key]) if key in self.names else {}


def duplicate_errors(cleaned: Mapping[str, Any], *, exclude_id: int | None = None) -> dict[str, list[str]]:
    """Errors when the enterprise is already registered: the same credit code, or — without a code —
    the same name in the same township (registered by any department: one enterprise, one poster)."""
    query = select(Enterprise)
    if exclude_id is not None:
        query = query.where(Enterprise.id != exclude_id)
    departments = _department_names()
    if cleaned.get("credit_code"):
        row = db.session.scalar(query.where(Enterprise.credit_code == cleaned["credit_code"]))
        return _already("credit_code", row.name, departments.get(row.department_id)) if row else {}
    wanted = fold_name(cleaned.get("name", ""))
    for row in db.session.scalars(query.where(Enterprise.township_code == cleaned.get("township_code"))):
        if fold_name(row.name) == wanted:
            return _already("name", row.name, departments.get(row.department_id))
    return {}


def department_for(actor: User, department_code: str | None, choices: Choices) -> int | None:
    """The registering department: an administrator's choice (or none), else the actor's own department."""
    if actor.scope(PERMISSION) != "district":
        if actor.department_id is None:
            raise NotFound()
        return actor.department_id
    if not department_code:
        return None
    if department_code not in choices.departments:
        raise ValidationFailed(fields={"department": ["请选择登记部门，或留空。"]})
    return reference.department_by_code(department_code).id


# ---------------------------------------------------------------------------------------- reading

def visible(actor: User) -> Select:
    """Enterprises the actor may see: all (district) or their department's."""
    return scoped(select(Enterprise), actor, PERMISSION, Enterprise.department_id)


def search(actor: User, *, township: str = "", sector: str = "", text: str = "", status: str = "active") -> Select:
    """The actor's enterprises filtered by township, sector, name (or credit code) and status, by name."""
    query = visible(actor)
    if township:
        query = query.where(Enterprise.township_code == township)
    if sector:
        query = query.where(Enterprise.sector_code == sector)
    if status in ("active", "inactive"):
        query = query.where(Enterprise.active.is_(status == "active"))
    text = text.strip()
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(or_(Enterprise.name.ilike(f"%{escaped}%", escape="\\"),
                                Enterprise.credit_code == text.upper()))
    return query.order_by(Enterprise.name, Enterprise.id)


def count_of(query: Select) -> int:
    """How many rows a query gives."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def page_of(query: Select, page: int, size: int = PAGE_SIZE) -> tuple[list[Enterprise], int]:
    """One page of a query's rows and the total count."""
    total = count_of(query)
    rows = list(db.session.scalars(query.limit(size).offset(max(page - 1, 0) * size)))
    return rows, total


def get_enterprise(actor: User, enterprise_id: int) -> Enterprise:
    """One enterprise the actor may see; NotFound for others (their existence is not revealed)."""
    row = db.session.scalar(visible(actor).where(Enterprise.id == enterprise_id))
    if row is None:
        raise NotFound()
    return row


def for_township(actor: User, township: str) -> Select:
    """The actor's active enterprises in one township, by name (for printing its posters)."""
    return search(actor, township=township, status="active")


# ---------------------------------------------------------------------------------------- writing

def _commit() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("该统一社会信用代码刚被登记，请刷新后核对。") from None


def register_enterprise(values: Mapping[str, Any], actor: User) -> Enterprise:
    """Register one enterprise typed in the form; audited."""
    choices = Choices.current()
    cleaned, errors = clean(values, choices)
    department_id = None
    try:
        department_id = department_for(actor, str(values.get("department") or ""), choices)
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if not errors:
        errors = duplicate_errors(cleaned)
    if errors:
        raise ValidationFailed(fields=errors)
    row = Enterprise(**cleaned, department_id=department_id, created_by_id=actor.id, active=True)
    db.session.add(row)
    db.session.flush()
    record("enterprises.create", actor=actor, object_type="enterprise", object_id=row.id,
           department_id=department_id, details=_audit_facts(row))
    _commit()
    return row


def update_enterprise(row: Enterprise, values: Mapping[str, Any], actor: User) -> Enterprise:
    """Change an enterprise's details (an administrator also its department); audited with field names."""
    choices = Choices.current()
    cleaned, errors = clean(values, choices)
    department_id = row.department_id
    if actor.scope(PERMISSION) == "district":
        try:
            department_id = department_for(actor, str(values.get("department") or ""), choices)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if not errors:
        errors = duplicate_errors(cleaned, exclude_id=row.id)
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned["department_id"] = department_id
    changed = sorted(name for name, value in cleaned.items() if getattr(row, name) != value)
    if not changed:
        return row
    for name in changed:
        setattr(row, name, cleaned[name])
    record("enterprises.update", actor=actor, object_type="enterprise", object_id=row.id,
           department_id=row.department_id, details={"changed": changed, **_audit_facts(row)})
    _commit()
    return row


def set_active(row: Enterprise, active: bool, actor: User) -> Enterprise:
    """Deactivate (no more posters, hidden from the default list) or reactivate an enterprise; audited."""
    if row.active != active:
        row.active = active
        record("enterprises.reactivate" if active else "enterprises.deactivate", actor=actor,
               object_type="enterprise", object_id=row.id, department_id=row.department_id)
        _commit()
    return row


def import_rows(rows: Iterable[Mapping[str, Any]], department_id: int | None, actor: User, *,
                file_format: str, total: int, rejected: int) -> int:
    """Insert already checked rows in one transaction; one audit entry with counts only."""
    count = 0
    for values in rows:
        db.session.add(Enterprise(**values, department_id=department_id, created_by_id=actor.id, active=True))
        count += 1
    record("enterprises.import", actor=actor, object_type="enterprise", department_id=department_id,
           details={"format": file_format, "rows": total, "imported": count, "rejected": rejected})
    _commit()
    return count


def _audit_facts(row: Enterprise) -> dict[str, Any]:
    """What the log keeps about an enterprise: codes, never its name or address."""
    return {"township": row.township_code, "sector": row.sector_code, "credit_code_given": bool(row.credit_code),
            "active": row.active}
