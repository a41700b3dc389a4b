"""Rule sets in the database: the shipped seeds, the one in force on a day, an administrator's local set."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from tipoff.audit.services import record
from tipoff.errors import NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.rewards.calculator import CalculationError, RuleSet
from tipoff.rewards.models import RewardRuleSet
from tipoff.rewards.rulesets import parse, seed_rule_sets

DEFAULT_CODE = "national-2018"


def load_seed_rule_sets(actor: Any = "cli", *, commit: bool = True) -> int:
    """Insert the shipped rule sets that are missing (never changes an existing one); returns how many."""
    existing = set(db.session.scalars(select(RewardRuleSet.code)))
    added = 0
    for entry in seed_rule_sets():
        if entry["code"] in existing:
            continue
        db.session.add(_row(entry, created_by_id=None))
        record("rewards.rule_set.seed", actor=actor, object_type="rule_set", object_id=entry["code"])
        added += 1
    if commit:
        db.session.commit()
    else:
        db.session.flush()
    return added


def _row(entry: dict, created_by_id: int | None) -> RewardRuleSet:
    rules = parse(entry)
    data = {k: v for k, v in entry.items() if k not in ("code", "name", "short_name", "effective_from", "in_force")}
    return RewardRuleSet(code=rules.code, name=str(entry.get("name") or rules.short_name), short_name=rules.short_name,
                         effective_from=rules.effective_from, in_force=bool(entry.get("in_force")),
                         data=_jsonable(data), created_by_id=created_by_id)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, (str, bool, int)) else str(value)


def as_rules(row: RewardRuleSet) -> RuleSet:
    """The calculator's view of a stored rule set."""
    return parse({**row.data, "code": row.code, "short_name": row.short_name,
                  "effective_from": row.effective_from.isoformat()})


def all_rule_sets() -> list[RewardRuleSet]:
    return list(db.session.scalars(select(RewardRuleSet).order_by(RewardRuleSet.effective_from, RewardRuleSet.code)))


def rule_set(code: str) -> tuple[RewardRuleSet, RuleSet]:
    row = db.session.scalar(select(RewardRuleSet).where(RewardRuleSet.code == code))
    if row is None:
        raise NotFound(f"找不到奖励规则集：{code}")
    return row, as_rules(row)


def in_force_on(day: date) -> tuple[RewardRuleSet, RuleSet]:
    """The rule set that applies to a tip accepted on `day`: the latest in force by then (else the default)."""
    row = db.session.scalar(select(RewardRuleSet).where(RewardRuleSet.in_force.is_(True),
                                                        RewardRuleSet.effective_from <= day)
                            .order_by(RewardRuleSet.effective_from.desc(), RewardRuleSet.id.desc()).limit(1))
    if row is None:
        if db.session.scalar(select(RewardRuleSet.id).limit(1)) is None:
            load_seed_rule_sets(actor="system", commit=False)  # upgraded without `flask tipoff init`
        return rule_set(DEFAULT_CODE)
    return row, as_rules(row)


def add_rule_set(entry: dict, actor) -> RewardRuleSet:
    """An administrator's local rule set (another percentage, floor, cap, per-death amount); audited."""
    try:
        row = _row(entry, created_by_id=getattr(actor, "id", None))
    except CalculationError as exc:
        raise ValidationFailed(fields=exc.fields) from None
    if db.session.scalar(select(RewardRuleSet.id).where(RewardRuleSet.code == row.code)):
        raise ValidationFailed(fields={"code": [f"已有代码为 {row.code} 的规则集。"]})
    db.session.add(row)
    record("rewards.rule_set.create", actor=actor, object_type="rule_set", object_id=row.code,
           details={"effective_from": row.effective_from.isoformat(), "in_force": row.in_force, "data": row.data})
    db.session.commit()
    return row


def set_in_force(code: str, in_force: bool, actor) -> RewardRuleSet:
    """Adopt (or stop applying) a rule set for tips accepted from its effective date; audited."""
    row, _ = rule_set(code)
    if not in_force and row.code == DEFAULT_CODE:
        raise ValidationFailed(fields={"in_force": ["国家2018办法是默认规则集，不能停用。"]})
    if row.in_force != in_force:
        row.in_force = in_force
        record("rewards.rule_set.in_force", actor=actor, object_type="rule_set", object_id=code,
               details={"in_force": in_force})
    db.session.commit()
    return row
