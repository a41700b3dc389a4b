"""The exclusion register (R7, 不予奖励人员登记): who may not be rewarded, kept as blind indexes only.

Staff with safety supervision duties and their registered close relatives are entered by an administrator
with an ID number and/or a mobile number. Only `tipoff.crypto.blind_index` of each is stored: the register
can answer "is this person on it?" but never says who is on it. The typed numbers never reach the database,
the audit log or a message; rows are revoked, never deleted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import select

from tipoff import crypto
from tipoff.audit.services import record
from tipoff.db import utcnow
from tipoff.errors import Conflict, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.validators import clean_text, normalise_id_number, normalise_mobile
from tipoff.reference import services as reference
from tipoff.reference.models import Department
from tipoff.rewards.eligibility import excluded
from tipoff.rewards.models import ExcludedPerson

RELATIONS = {"staff": "负有安全生产监管职责的工作人员", "relative": "上述人员登记的近亲属"}
NOTE_MAX = 200
# A note is stored in plain text: a run of digits is most likely an ID or phone number typed in by mistake.
_DIGITS = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Indexes:
    """The blind indexes of what was typed (None: not typed)."""

    id_number: str | None
    phone: str | None


def _indexes(values: Mapping[str, str], errors: dict[str, list[str]]) -> Indexes:
    """Normalise and blind-index the typed ID number and phone; the plaintext goes no further."""
    id_text, phone_text = (values.get("id_number") or "").strip(), (values.get("phone") or "").strip()
    id_index = phone_index = None
    if id_text:
        try:
            id_index = crypto.blind_index("id_number", normalise_id_number(id_text))
        except ValueError as exc:
            errors["id_number"] = [str(exc)]
    if phone_text:
        try:
            phone_index = crypto.blind_index("phone", normalise_mobile(phone_text))
        except ValueError as exc:
            errors["phone"] = [str(exc)]
    if not id_text and not phone_text:
        errors["id_number"] = ["请填写身份证号码或手机号码（至少一项）。"]
    return Indexes(id_index, phone_index)


def _active_with(column, index: str) -> ExcludedPerson | None:
    return db.session.scalar(select(ExcludedPerson).where(ExcludedPerson.revoked_at.is_(None), column == index)
                             .order_by(ExcludedPerson.id).limit(1))


def _department(code: str, errors: dict[str, list[str]]) -> Department | None:
    """A handling department by code, or None when left blank (e.g. a unit outside the district)."""
    if not code:
        return None
    department = next((d for d in reference.handling_departments() if d.code == code), None)
    if department is None:
        errors["department"] = ["请从列表中选择部门，或留空。"]
    return department


def _note(text: str, errors: dict[str, list[str]]) -> str | None:
    try:
        note = clean_text(text, field="备注", maximum=NOTE_MAX)
    except ValueError as exc:
        errors["note"] = [str(exc)]
        return None
    if _DIGITS.search(note):
        errors["note"] = ["备注中不要填写证件号码、电话号码等数字；只写职务或关系，如“区应急管理局执法人员的配偶”。"]
    return note or None


def register(values: Mapping[str, str], actor: Any) -> ExcludedPerson:
    """Add a person to the register by the blind indexes of their ID number and/or phone; audited."""
    errors: dict[str, list[str]] = {}
    indexes = _indexes(values, errors)
    relation = values.get("relation") or ""
    if relation not in RELATIONS:
        errors["relation"] = ["请选择人员类别。"]
    department = _department((values.get("department") or "").strip(), errors)
    note = _note(values.get("note") or "", errors)
    for field, column, index, label in (("id_number", ExcludedPerson.id_number_index, indexes.id_number, "身份证号码"),
                                        ("phone", ExcludedPerson.phone_index, indexes.phone, "手机号码")):
        existing = _active_with(column, index) if index and field not in errors else None
        if existing is not None:
            errors[field] = [f"该{label}已在登记中（登记号 {existing.id}），无需重复登记。"]
    if errors:
        raise ValidationFailed(fields=errors)
    row = ExcludedPerson(id_number_index=indexes.id_number, phone_index=indexes.phone, relation=relation,
                         department_id=department.id if department else None, note=note,
                         created_by_id=getattr(actor, "id", None))
    db.session.add(row)
    db.session.flush()
    _audit("reward.exclusion.add", row, department, actor)
    db.session.commit()
    return row


def revoke(exclusion_id: int, actor: Any) -> ExcludedPerson:
    """Take a person off the register (the row stays, with the time it was revoked); audited."""
    row = db.session.get(ExcludedPerson, exclusion_id)
    if row is None:
        raise NotFound("找不到该登记。")
    if row.revoked_at is not None:
        raise Conflict(f"登记 {row.id} 已于此前撤销。")
    row.revoked_at = utcnow()
    department = db.session.get(Department, row.department_id) if row.department_id else None
    _audit("reward.exclusion.revoke", row, department, actor)
    db.session.commit()
    return row


def _audit(action: str, row: ExcludedPerson, department: Department | None, actor: Any) -> None:
    # The row id, the relation and the department only: never the numbers, not even their indexes.
    record(action, actor=actor, object_type="reward_exclusion", object_id=row.id, department_id=row.department_id,
           details={"relation": row.relation, "department_code": department.code if department else None})


@dataclass(frozen=True)
class CheckResult:
    """The answer of a check: on the register or not, and which active registrations matched."""

    kind: str            # id_number or phone: what the typed value was read as
    found: bool
    ids: tuple[int, ...]


def check(values: Mapping[str, str], actor: Any) -> CheckResult:
    """Is the typed ID number or phone on the active register? Audited without the value."""
    text = (values.get("value") or "").strip()
    if not text:
        raise ValidationFailed(fields={"value": ["请填写要核对的身份证号码或手机号码。"]})
    try:
        kind, index = "id_number", crypto.blind_index("id_number", normalise_id_number(text))
    except ValueError as id_error:
        try:
            kind, index = "phone", crypto.blind_index("phone", normalise_mobile(text))
        except ValueError as phone_error:
            # Say what is wrong with what the value most looks like.
            looks_like_id = len(re.sub(r"[\s-]", "", text)) >= 15
            raise ValidationFailed(fields={"value": [str(id_error if looks_like_id else phone_error)]}) from None
    # The same question the reward procedure asks (eligibility R7), so the two can never disagree.
    found = excluded(**{f"{kind}_index": index})
    column = ExcludedPerson.id_number_index if kind == "id_number" else ExcludedPerson.phone_index
    ids = tuple(db.session.scalars(select(ExcludedPerson.id).where(ExcludedPerson.revoked_at.is_(None), column == index)
                                   .order_by(ExcludedPerson.id)))
    record("reward.exclusion.check", actor=actor, object_type="reward_exclusion",
           details={"kind": kind, "found": found})
    db.session.commit()
    return CheckResult(kind, found, ids)


def register_rows() -> list[tuple[ExcludedPerson, Department | None]]:
    """Every registration with its department: active ones first, newest first."""
    departments = {d.id: d for d in db.session.scalars(select(Department))}
    rows = db.session.scalars(select(ExcludedPerson).order_by(
        ExcludedPerson.revoked_at.is_not(None), ExcludedPerson.created_at.desc(), ExcludedPerson.id.desc()))
    return [(row, departments.get(row.department_id)) for row in rows]

