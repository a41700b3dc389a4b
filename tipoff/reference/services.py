"""Reference data services: load the seed file, read the active catalogue, apply an admin's edits.

The only module that changes departments, townships, sectors, categories and routing rules. Loading
never deletes and, unless asked to update, never touches a row that exists, so an administrator's
edits survive `flask tipoff init`. Every change writes an audit entry in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select

from tipoff.audit.services import record
from tipoff.errors import NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.reference.models import Category, Department, RoutingRule, Sector, Township
from tipoff.reference.seedfile import SECTIONS, check_reference_data, read_reference_file

MODELS: dict[str, type] = {
    "departments": Department, "townships": Township, "categories": Category,
    "sectors": Sector, "routing_rules": RoutingRule,
}
# Order and wording of the load summary ("departments +37, townships +19, …").
REPORT_ORDER = (("departments", "departments"), ("townships", "townships"), ("sectors", "sectors"),
                ("categories", "categories"), ("routing_rules", "routing rules"))
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Given explicitly: services also run outside a request (CLI), where the translated default is unavailable.
NOT_SAVED = "未保存：有字段未填写正确，请按提示修改。"


# ---------------------------------------------------------------------------------------- loading

@dataclass
class Tally:
    inserted: int = 0
    updated: int = 0


@dataclass
class LoadReport:
    """What one load of a seed file inserted and updated, per table."""

    source: str
    district: str | None = None
    tallies: dict[str, Tally] = field(default_factory=lambda: {s: Tally() for s in SECTIONS})

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tallies.values())

    @property
    def updated(self) -> int:
        return sum(t.updated for t in self.tallies.values())

    def counts(self) -> dict[str, dict[str, int]]:
        """Inserted and updated rows per section, for the audit entry and tests."""
        return {s: {"inserted": t.inserted, "updated": t.updated} for s, t in self.tallies.items()}

    def __str__(self) -> str:
        parts = ", ".join(f"{label} +{self.tallies[s].inserted}" for s, label in REPORT_ORDER)
        return f"{parts} ({self.updated} updated)"


def _given(entry: dict, *names: str) -> dict[str, Any]:
    return {name: entry[name] for name in names if name in entry}


def _sort_order(entry: dict) -> dict[str, int]:
    """An explicit sort_order; otherwise new rows are placed after the existing ones, in file order."""
    return {"sort_order": entry["sort_order"]} if entry.get("sort_order") is not None else {}


def _department_values(entry: dict, ids: dict[str, int]) -> dict[str, Any]:
    values = _given(entry, "name", "name_en", "kind", "duties", "email", "phone", "handles_tips", "active")
    return {**values, **_sort_order(entry)}


def _township_values(entry: dict, ids: dict[str, int]) -> dict[str, Any]:
    values = _given(entry, "name", "name_en", "kind", "active")
    if "department" in entry:
        values["department_id"] = ids[entry["department"]] if entry["department"] else None
    return {**values, **_sort_order(entry)}


def _sector_values(entry: dict, ids: dict[str, int]) -> dict[str, Any]:
    values = _given(entry, "name", "name_en", "description", "active")
    if "lead_department" in entry:
        lead = entry["lead_department"]
        values["lead_department_id"] = ids[lead] if lead else None
    return {**values, **_sort_order(entry)}


def _category_values(entry: dict, ids: dict[str, int]) -> dict[str, Any]:
    return {**_given(entry, "name", "name_en", "description", "active"), **_sort_order(entry)}


def _rule_values(entry: dict, ids: dict[str, int]) -> dict[str, Any]:
    return {name: value for name, value in entry.items() if name != "code"}


VALUES: dict[str, Callable[[dict, dict[str, int]], dict[str, Any]]] = {
    "departments": _department_values, "townships": _township_values, "categories": _category_values,
    "sectors": _sector_values, "routing_rules": _rule_values,
}


def _existing_codes() -> dict[str, set[str]]:
    return {s: set(db.session.scalars(select(model.code))) for s, model in MODELS.items()}


def _department_ids() -> dict[str, int]:
    return {code: id_ for code, id_ in db.session.execute(select(Department.code, Department.id))}


def _apply_section(section: str, entries: list[dict], update: bool, tally: Tally) -> None:
    """Insert the entries whose code is missing; with `update`, overwrite the fields given."""
    model = MODELS[section]
    existing = {row.code: row for row in db.session.scalars(select(model))}
    ids = _department_ids() if section in ("townships", "sectors") else {}
    next_order = max((getattr(row, "sort_order", 0) or 0 for row in existing.values()), default=0)
    for entry in entries:
        values = VALUES[section](entry, ids)
        row = existing.get(entry["code"])
        if row is None:
            if hasattr(model, "sort_order") and "sort_order" not in values:
                next_order += 10
                values["sort_order"] = next_order
            db.session.add(model(code=entry["code"], **values))
            tally.inserted += 1
        elif update:
            changed = {name: value for name, value in values.items() if getattr(row, name) != value}
            for name, value in changed.items():
                setattr(row, name, value)
            tally.updated += bool(changed)
    db.session.flush()


def load_reference_data(path: Path, *, update: bool = False, actor: Any = "cli") -> LoadReport:
    """Load a seed file: insert missing codes, never delete; `update` overwrites existing rows too.

    The whole file is checked before anything is written; ReferenceDataError names every problem.
    """
    data = read_reference_file(path)
    entries = check_reference_data(data, str(path), known=_existing_codes())
    district = data.get("district") or {}
    report = LoadReport(source=str(path), district=district.get("name"))
    try:
        for section in SECTIONS:
            _apply_section(section, entries[section], update, report.tallies[section])
        # Re-running init at every start would otherwise fill the log with empty loads.
        if report.inserted or report.updated:
            record("reference.load", actor=actor, object_type="reference", object_id=report.district,
                   details={"file": Path(path).name, "update": update, "counts": report.counts()})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


# ---------------------------------------------------------------------------------------- reading

def _ordered(model: type, active_only: bool = True) -> list:
    query = select(model).order_by(model.sort_order, model.id)
    if active_only:
        query = query.where(model.active.is_(True))
    return list(db.session.scalars(query))


def active_categories() -> list[Category]:
    """Categories a reporter can choose, in display order."""
    return _ordered(Category)


def active_sectors() -> list[Sector]:
    """Sectors (行业领域) in use, in display order."""
    return _ordered(Sector)


def active_townships() -> list[Township]:
    """Townships (属地) in use, in display order."""
    return _ordered(Township)


def handling_departments() -> list[Department]:
    """Active departments that accept tips (bureaus, the committee office, township governments)."""
    return [d for d in _ordered(Department) if d.handles_tips]


def department_by_code(code: str) -> Department | None:
    """The department with this code, active or not (None when unknown)."""
    return db.session.scalar(select(Department).where(Department.code == code))


def all_departments() -> list[Department]:
    """Every department, including inactive ones, for the administrator."""
    return _ordered(Department, active_only=False)


def all_townships() -> list[Township]:
    """Every township, including inactive ones, for the administrator."""
    return _ordered(Township, active_only=False)


def all_sectors() -> list[Sector]:
    """Every sector, including inactive ones, for the administrator."""
    return _ordered(Sector, active_only=False)


def all_categories() -> list[Category]:
    """Every category, including inactive ones, for the administrator."""
    return _ordered(Category, active_only=False)


def names() -> dict[str, dict[str, tuple[str, str | None]]]:
    """code → (name, English name) for every category, sector, township and department, active or not,
    for pages that show a stored code (cached until the reference data changes: tipoff.reference.cache)."""
    from tipoff.reference.cache import cached

    def load() -> dict[str, dict[str, tuple[str, str | None]]]:
        kinds = {"category": Category, "sector": Sector, "township": Township, "department": Department}
        return {kind: {code: (name, name_en) for code, name, name_en in
                       db.session.execute(select(model.code, model.name, model.name_en))}
                for kind, model in kinds.items()}

    return cached("reference_names", load)


def name_of(kind: str, code: str | None, english: bool = False) -> str:
    """The name a page shows for a stored code ("—" for none; the code itself if it is unknown)."""
    if not code:
        return "—"
    name, name_en = names().get(kind, {}).get(code, (code, None))
    return (name_en or name) if english else name


def routing_rules(active_only: bool = False) -> list[RoutingRule]:
    """The routing table in the order it is tried (priority, then code)."""
    query = select(RoutingRule).order_by(RoutingRule.priority, RoutingRule.code)
    if active_only:
        query = query.where(RoutingRule.active.is_(True))
    return list(db.session.scalars(query))


def catalog() -> dict[str, list[dict[str, Any]]]:
    """The public catalogue: active categories, sectors, townships and handling departments."""
    codes = {id_: code for code, id_ in _department_ids().items()}
    return {
        "categories": [{"code": c.code, "name": c.name, "name_en": c.name_en, "description": c.description}
                       for c in active_categories()],
        "sectors": [{"code": s.code, "name": s.name, "name_en": s.name_en, "description": s.description,
                     "lead_department": codes.get(s.lead_department_id)} for s in active_sectors()],
        "townships": [{"code": t.code, "name": t.name, "name_en": t.name_en, "kind": t.kind,
                       "department": codes.get(t.department_id)} for t in active_townships()],
        "departments": [{"code": d.code, "name": d.name, "name_en": d.name_en, "kind": d.kind}
                        for d in handling_departments()],
    }


# ------------------------------------------------------------------------------- administrator edits

def _get(model: type, code: str, what: str):
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFound(f"找不到{what}：{code}")
    return row


def _apply_changes(row: Any, values: dict[str, Any]) -> tuple[dict, dict]:
    """Set the values that differ; return (before, after) of the changed fields only."""
    before = {k: getattr(row, k) for k, v in values.items() if getattr(row, k) != v}
    after = {k: values[k] for k in before}
    for name, value in after.items():
        setattr(row, name, value)
    return before, after


def _audit_view(before: dict, after: dict, name_key: str) -> dict[str, Any]:
    """Before/after for the audit log: names under an explicit key, contact values left out.

    The audit log refuses contact details (they may be a person's), so it notes only that they changed.
    """
    contacts = sorted(k for k in before if k in ("email", "phone"))
    rename = {"name": name_key}
    view: dict[str, Any] = {
        "before": {rename.get(k, k): v for k, v in before.items() if k not in contacts},
        "after": {rename.get(k, k): v for k, v in after.items() if k not in contacts},
    }
    if contacts:
        view["contact_changed"] = contacts
    return view


def _handling_department(code: str | None, field_name: str, *, township: bool) -> Department | None:
    """Resolve the department an edit points to: active, handling tips, and of the right kind.

    A sector is led by a district department; a township is governed by a `township` department.
    """
    if not code:
        return None
    department = department_by_code(code)
    if department is None or not department.active or not department.handles_tips:
        raise ValidationFailed(NOT_SAVED, fields={field_name: [f"不是可用的承办部门：{code}"]})
    if (department.kind == "township") != township:
        wanted = "乡镇政府、街道办事处或管委会" if township else "区直部门或区安委会办公室"
        raise ValidationFailed(NOT_SAVED, fields={field_name: [f"{department.name}不是{wanted}。"]})
    return department


def _still_needed(department: Department) -> list[str]:
    """Where an active department is still relied on (sector lead, township government, rule)."""
    uses = [f"行业“{s.name}”的牵头部门" for s in active_sectors() if s.lead_department_id == department.id]
    uses += [f"属地“{t.name}”的政府" for t in active_townships() if t.department_id == department.id]
    uses += [f"路由规则 {r.code}" for r in routing_rules(active_only=True)
             if r.department_code == department.code or department.code in (r.copy_to or [])]
    return uses


def update_department(code: str, *, name: str, email: str | None, phone: str | None, active: bool,
                      actor: Any) -> Department:
    """Rename a department, set its contact details or (de)activate it; audited."""
    department = _get(Department, code, "部门")
    name, email, phone = (name or "").strip(), (email or "").strip() or None, (phone or "").strip() or None
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 100:
        errors["name"] = ["请填写名称（不超过 100 个字）。"]
    if email and (len(email) > 200 or not EMAIL_PATTERN.match(email)):
        errors["email"] = ["电子邮箱格式不正确。"]
    if phone and len(phone) > 50:
        errors["phone"] = ["电话不超过 50 个字符。"]
    if department.active and not active:
        uses = _still_needed(department)
        if uses:
            errors["active"] = ["该部门仍被使用，请先调整：" + "；".join(uses)]
    if errors:
        raise ValidationFailed(NOT_SAVED, fields=errors)
    before, after = _apply_changes(department, {"name": name, "email": email, "phone": phone,
                                                "active": bool(active)})
    if before:
        record("reference.department.update", actor=actor, object_type="department",
               object_id=department.code, department_id=department.id,
               details={"code": department.code, **_audit_view(before, after, "department_name")})
    db.session.commit()
    return department


def update_sector_lead(code: str, lead_department_code: str | None, actor: Any) -> Sector:
    """Assign (or clear) the department that leads a sector (行业牵头部门); audited."""
    sector = _get(Sector, code, "行业领域")
    lead = _handling_department(lead_department_code, "lead_department", township=False)
    before = sector.lead_department.code if sector.lead_department else None
    after = lead.code if lead else None
    if before != after:
        sector.lead_department = lead
        record("reference.sector.lead", actor=actor, object_type="sector", object_id=sector.code,
               department_id=lead.id if lead else None,
               details={"code": sector.code, "before": {"lead_department": before},
                        "after": {"lead_department": after}})
    db.session.commit()
    return sector


def update_township(code: str, *, name: str, department_code: str | None, active: bool,
                    actor: Any) -> Township:
    """Rename a township, change its government department or (de)activate it; audited."""
    township = _get(Township, code, "属地")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed(NOT_SAVED, fields={"name": ["请填写名称（不超过 100 个字）。"]})
    department = _handling_department(department_code, "department", township=True)
    old_department = township.department.code if township.department else None
    before, after = _apply_changes(township, {"name": name, "active": bool(active)})
    new_department = department.code if department else None
    if new_department != old_department:
        township.department = department
        before["department"], after["department"] = old_department, new_department
    if before:
        record("reference.township.update", actor=actor, object_type="township", object_id=township.code,
               department_id=department.id if department else None,
               details={"code": township.code, **_audit_view(before, after, "township_name")})
    db.session.commit()
    return township
