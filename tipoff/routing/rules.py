"""Editing the routing table: an administrator's changes, and a designation adopted as a rule.

The only module that changes routing rules after the seed load. Every change is checked field by
field (errors name the field, nothing is half-saved), keeps a catch-all rule in force so routing can
never fail, and writes an audit entry with what changed in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from sqlalchemy import select

from tipoff.audit.services import record
from tipoff.errors import Conflict, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.reference.models import Category, Department, RoutingRule, Sector, Township
from tipoff.routing.matcher import SECTOR_LEAD, TOWNSHIP

ACCEPT_BY = ("department", "township", SECTOR_LEAD)
COPY_WORDS = (TOWNSHIP, SECTOR_LEAD)
NOT_SAVED = "未保存：有字段未填写正确，请按提示修改。"
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
KEYWORD_SPLIT = re.compile(r"[\s,，、;；]+")
MAX_KEYWORDS, MAX_KEYWORD_LENGTH = 60, 30
# An adopted designation is tried before the new-formats and sector-lead rules of the seed table
# (priorities 50 and 80) but after the rules for deaths, concealed accidents and 打非治违 (10-40).
ADOPTED_PRIORITY = 45

EDITABLE = ("priority", "category_codes", "sector_codes", "township_codes", "keywords", "accept_by",
            "department_code", "copy_to", "supervised", "explanation", "source", "effective_from", "active")


@dataclass(frozen=True)
class Catalogue:
    """The codes a rule may refer to (active rows only)."""

    categories: frozenset[str]
    sectors: frozenset[str]
    townships: frozenset[str]
    departments: frozenset[str]

    @classmethod
    def load(cls) -> "Catalogue":
        def codes(model, *extra):
            return frozenset(db.session.scalars(select(model.code).where(model.active.is_(True), *extra)))
        return cls(codes(Category), codes(Sector), codes(Township), codes(Department, Department.handles_tips.is_(True)))


def keyword_list(text: Any) -> list[str]:
    """Keywords typed one per line or separated by commas, 、 or semicolons; duplicates dropped."""
    items = text if isinstance(text, (list, tuple)) else KEYWORD_SPLIT.split(str(text or ""))
    seen: list[str] = []
    for item in (str(i).strip() for i in items):
        if item and item not in seen:
            seen.append(item)
    return seen


def _codes(values: Mapping[str, Any], name: str, allowed: frozenset[str], what: str,
           errors: dict[str, list[str]], extra: tuple[str, ...] = ()) -> list[str]:
    raw = values.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    codes = list(dict.fromkeys(str(c).strip() for c in raw if str(c).strip()))
    unknown = [c for c in codes if c not in allowed and c not in extra]
    if unknown:
        errors.setdefault(name, []).append(f"不是可用的{what}：" + "、".join(unknown))
    return codes


def clean(values: Mapping[str, Any], catalogue: Catalogue) -> dict[str, Any]:
    """Check an edit field by field; return the row's values or raise ValidationFailed naming each field."""
    errors: dict[str, list[str]] = {}
    try:
        priority = int(str(values.get("priority", "")).strip())
        if not 1 <= priority <= 100_000:
            raise ValueError
    except ValueError:
        errors["priority"] = ["优先级请填写 1 至 100000 之间的整数（小的先试）。"]
        priority = None
    keywords = keyword_list(values.get("keywords"))
    if len(keywords) > MAX_KEYWORDS:
        errors["keywords"] = [f"关键词不超过 {MAX_KEYWORDS} 个。"]
    elif any(len(k) > MAX_KEYWORD_LENGTH for k in keywords):
        errors["keywords"] = [f"每个关键词不超过 {MAX_KEYWORD_LENGTH} 个字。"]
    accept_by = str(values.get("accept_by") or "")
    department_code = str(values.get("department_code") or "").strip() or None
    if accept_by not in ACCEPT_BY:
        errors["accept_by"] = ["请选择由谁受理。"]
    elif accept_by == "department":
        if not department_code:
            errors["department_code"] = ["由指定部门受理时，请选择部门。"]
        elif department_code not in catalogue.departments:
            errors["department_code"] = [f"不是可用的承办部门：{department_code}"]
    else:
        department_code = None  # the tip's township or the sector's lead decides, not a fixed department
    explanation = str(values.get("explanation") or "").strip()
    if not explanation or len(explanation) > 500:
        errors["explanation"] = ["请填写说明（不超过 500 字）：工作人员会在案件上看到它。"]
    source = str(values.get("source") or "").strip() or None
    if source and len(source) > 500:
        errors["source"] = ["依据不超过 500 字。"]
    effective_from = values.get("effective_from") or None
    if isinstance(effective_from, str):
        try:
            effective_from = date.fromisoformat(effective_from.strip())
        except ValueError:
            errors["effective_from"] = ["生效日期格式应为 2026-01-31。"]
            effective_from = None
    cleaned = {
        "priority": priority,
        "category_codes": _codes(values, "category_codes", catalogue.categories, "举报类别", errors),
        "sector_codes": _codes(values, "sector_codes", catalogue.sectors, "行业领域", errors),
        "township_codes": _codes(values, "township_codes", catalogue.townships, "属地", errors),
        "keywords": keywords, "accept_by": accept_by, "department_code": department_code,
        "copy_to": _codes(values, "copy_to", catalogue.departments, "抄送部门", errors, COPY_WORDS),
        "supervised": bool(values.get("supervised")), "explanation": explanation, "source": source,
        "effective_from": effective_from, "active": bool(values.get("active")),
    }
    if errors:
        raise ValidationFailed(NOT_SAVED, fields=errors)
    return cleaned


def _is_fallback(values: Mapping[str, Any], catalogue: Catalogue) -> bool:
    """A rule that matches every tip and always resolves: the table's guarantee that routing decides."""
    return bool(values["active"]) and not any(values[k] for k in ("category_codes", "sector_codes",
                                                                  "township_codes", "keywords")) \
        and values["accept_by"] == "department" and values["department_code"] in catalogue.departments \
        and (values["effective_from"] is None or values["effective_from"] <= date.today())


def _row_values(row: RoutingRule) -> dict[str, Any]:
    return {name: getattr(row, name) for name in EDITABLE}


def _keeps_a_fallback(code: str | None, values: dict[str, Any], catalogue: Catalogue) -> bool:
    others = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))
    return _is_fallback(values, catalogue) or any(
        _is_fallback(_row_values(r), catalogue) for r in others if r.code != code)


def _audit_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def get_rule(code: str) -> RoutingRule:
    row = db.session.scalar(select(RoutingRule).where(RoutingRule.code == code))
    if row is None:
        raise NotFound(f"找不到分办规则：{code}")
    return row


def save_rule(code: str | None, values: Mapping[str, Any], actor: Any, *, new_code: str | None = None) -> RoutingRule:
    """Create (code None, new_code given) or change a routing rule; audited; never leaves no fallback."""
    catalogue = Catalogue.load()
    errors: dict[str, list[str]] = {}
    if code is None:
        new_code = (new_code or "").strip()
        if not CODE_PATTERN.match(new_code):
            errors["code"] = ["规则代码以小写字母开头，只用小写字母、数字和下划线，2 至 64 位。"]
        elif db.session.scalar(select(RoutingRule.id).where(RoutingRule.code == new_code)):
            errors["code"] = [f"已有代码为 {new_code} 的规则。"]
    try:
        cleaned = clean(values, catalogue)
    except ValidationFailed as exc:
        raise ValidationFailed(NOT_SAVED, fields={**errors, **exc.fields}) from None
    if errors:
        raise ValidationFailed(NOT_SAVED, fields=errors)
    if not _keeps_a_fallback(code, cleaned, catalogue):
        raise ValidationFailed(NOT_SAVED, fields={"active": [
            "必须保留一条启用的兜底规则（不设任何条件、由指定部门受理），否则有的举报将无法分办。"]})
    if code is None:
        row = RoutingRule(code=new_code, **cleaned)
        db.session.add(row)
        record("routing.rule.create", actor=actor, object_type="routing_rule", object_id=new_code,
               details={"after": _audit_values(cleaned)})
    else:
        row = get_rule(code)
        before = {k: v for k, v in _row_values(row).items() if v != cleaned[k]}
        after = {k: cleaned[k] for k in before}
        for name, value in after.items():
            setattr(row, name, value)
        if before:
            record("routing.rule.update", actor=actor, object_type="routing_rule", object_id=code,
                   details={"before": _audit_values(before), "after": _audit_values(after)})
    db.session.commit()
    return row


def adoptable(tip: Any) -> bool:
    """A final designation of a tip whose sector has no lead department can become a rule."""
    if not tip.designated:
        return False
    sector = db.session.scalar(select(Sector).where(Sector.code == tip.sector_code))
    return sector is not None and sector.lead_department_id is None


def adopt_designation(tip: Any, keywords: Any, actor: Any) -> RoutingRule:
    """Turn the 安委办's final designation on a case into a routing rule for the same kind of tip."""
    if not adoptable(tip):
        raise Conflict("只有区安委会办公室已最终指定、且行业领域没有牵头部门的案件，才能把指定保存为分办规则。",
                       code="not_adoptable")
    department = db.session.get(Department, tip.department_id)
    sector = db.session.scalar(select(Sector).where(Sector.code == tip.sector_code))
    words = keyword_list(keywords)
    rows = db.session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))
    for row in rows:
        if row.accept_by == "department" and row.department_code == department.code \
                and (row.sector_codes or []) == [sector.code] and sorted(row.keywords or []) == sorted(words) \
                and not row.category_codes and not row.township_codes:
            raise Conflict(f"已有相同的分办规则：{row.code}。", code="rule_exists")
    scope = f"{sector.name}（关键词：{'、'.join(words)}）" if words else sector.name
    values = {
        "priority": ADOPTED_PRIORITY, "sector_codes": [sector.code], "keywords": words,
        "accept_by": "department", "department_code": department.code, "copy_to": [TOWNSHIP],
        "explanation": f"区安委会办公室指定：{scope}由{department.name}受理，抄送所在乡镇（街道）。",
        "source": f"区安委会办公室对案件 {tip.reference} 的最终指定（{date.today().isoformat()}）",
        "effective_from": date.today(), "active": True,
    }
    taken = set(db.session.scalars(select(RoutingRule.code)))
    stem = f"designated_{sector.code}"[:56]
    code = stem if stem not in taken else next(f"{stem}_{n}" for n in range(2, 10_000) if f"{stem}_{n}" not in taken)
    row = save_rule(None, values, actor, new_code=code)
    record("routing.rule.adopt", actor=actor, object_type="tip", object_id=tip.reference,
           department_id=department.id, details={"rule": code})
    db.session.commit()
    return row
