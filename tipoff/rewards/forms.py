"""The administrator's rule-set form (plain HTML): typed values ↔ an entry shaped like data/rule_sets.yaml.

Rates are typed as percentages ("15" means 15 %) and stored as fractions ("0.15"); amounts stay the strings
typed, checked by `tipoff.rewards.rulesets.parse`. Errors come back keyed by the entry's field paths
("fine_rules.violation.rate") and are mapped here to the inputs that hold them ("violation_rate").
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from tipoff.intake.validators import clean_text
from tipoff.rewards.calculator import CalculationError, RuleSet
from tipoff.rewards.grades import GRADES
from tipoff.rewards.models import RewardRuleSet
from tipoff.rewards.rulesets import parse

# The categories a local set may reward from the fine (the seed file uses these three).
CATEGORIES = ("major_hazard", "violation", "hazard")
FINE_PARTS = ("rate", "floor", "cap")
SOURCE_GROUPS = ("fine_rules", "per_death", "insider", "scope")
SOURCE_MAX = 1000
NAME_MAX = 200
HUNDRED = Decimal(100)

FIELDS = (("code", "name", "short_name", "effective_from", "in_force")
          + tuple(f"{c}_{p}" for c in CATEGORIES for p in FINE_PARTS)
          + tuple(f"death_{g}" for g in GRADES)
          + ("concealed_cap", "insider_rate", "insider_floor", "total_cap")
          + tuple(f"source_{g}" for g in SOURCE_GROUPS))


def form_values(form: Mapping[str, str]) -> dict[str, str]:
    """The posted values of the form's inputs, as typed (nothing else)."""
    return {name: form.get(name, "") for name in FIELDS}


def _percent(text: str, name: str, errors: dict[str, list[str]]) -> str | None:
    """'15' or '15%' → '0.15'; at most two decimals, more than 0 and at most 100."""
    cleaned = text.strip().rstrip("%％").strip()
    if not cleaned:
        errors[name] = ["请填写比例（百分数），如 15 表示 15%。"]
        return None
    try:
        value = Decimal(cleaned)
        if not value.is_finite() or not Decimal(0) < value <= HUNDRED or value != value.quantize(Decimal("0.01")):
            raise ValueError
    except (ValueError, InvalidOperation):
        errors[name] = ["比例请填写大于 0、不超过 100 的百分数，最多两位小数，如 15 或 12.5。"]
        return None
    return f"{(value / HUNDRED).normalize():f}"


def _blank(values: Mapping[str, str], *names: str) -> bool:
    return not any((values.get(n) or "").strip() for n in names)


def to_entry(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The rule-set entry the form describes, and the errors only the form can see (percentages, names)."""
    errors: dict[str, list[str]] = {}
    entry: dict[str, Any] = {"code": values.get("code", "").strip(), "short_name": values.get("short_name", "").strip(),
                             "effective_from": values.get("effective_from", "").strip(),
                             "in_force": values.get("in_force") in ("1", "on", "true")}
    try:
        entry["name"] = clean_text(values.get("name", ""), field="名称", minimum=1, maximum=NAME_MAX)
    except ValueError as exc:
        errors["name"] = [str(exc)]
    fine_rules = {}
    for category in CATEGORIES:
        names = [f"{category}_{part}" for part in FINE_PARTS]
        if _blank(values, *names):
            continue  # this category is not rewarded from the fine
        fine_rules[category] = {"rate": _percent(values.get(names[0], ""), names[0], errors),
                                "floor": values.get(names[1], "").strip(), "cap": values.get(names[2], "").strip()}
    entry["fine_rules"] = fine_rules
    entry["per_death"] = {grade: values.get(f"death_{grade}", "").strip() for grade in GRADES}
    entry["concealed_cap"] = values.get("concealed_cap", "").strip()
    if not _blank(values, "insider_rate", "insider_floor"):
        entry["insider"] = {"rate": _percent(values.get("insider_rate", ""), "insider_rate", errors),
                            "floor": values.get("insider_floor", "").strip()}
    if not _blank(values, "total_cap"):
        entry["total_cap"] = values["total_cap"].strip()
    sources = {}
    for group in SOURCE_GROUPS:
        name = f"source_{group}"
        try:
            text = clean_text(values.get(name, ""), field="依据说明", maximum=SOURCE_MAX, multiline=True)
        except ValueError as exc:
            errors[name] = [str(exc)]
            continue
        if text:
            sources[group] = text
    entry["sources"] = sources
    return entry, errors


def field_of(path: str) -> str:
    """The input that holds an entry's field path: fine_rules.violation.rate → violation_rate."""
    parts = path.split(".")
    if parts[0] == "fine_rules" and len(parts) == 3:
        return f"{parts[1]}_{parts[2]}"
    if parts[0] == "per_death" and len(parts) == 2:
        return f"death_{parts[1]}"
    if parts[0] == "insider" and len(parts) == 2:
        return f"insider_{parts[1]}"
    return path


def form_errors(fields: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Errors keyed by entry field path, re-keyed by input name (messages of one input joined)."""
    errors: dict[str, list[str]] = {}
    for path, messages in fields.items():
        errors.setdefault(field_of(path), []).extend(messages)
    return errors


def all_errors(entry: Mapping[str, Any], known: Mapping[str, list[str]],
               existing_codes: set[str]) -> dict[str, list[str]]:
    """Every error at once when the form already found some: the rule-set checks, the code's uniqueness,
    and the form's own (which win for their inputs: they speak of percentages, not fractions)."""
    errors: dict[str, list[str]] = {}
    try:
        parse(entry)
    except CalculationError as exc:
        errors = form_errors(exc.fields)
    if entry.get("code") in existing_codes and "code" not in errors:
        errors["code"] = [f"已有代码为 {entry['code']} 的规则集。"]
    errors.update(known)
    return errors


def _amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{value:f}" if value != value.to_integral_value() else f"{value.to_integral_value():f}"


def _percent_text(rate: Decimal) -> str:
    return f"{(rate * HUNDRED).normalize():f}"


def values_from(row: RewardRuleSet, rules: RuleSet) -> dict[str, str]:
    """The form prefilled from an existing set ("copy from"): everything but its code and effective date."""
    values = {name: "" for name in FIELDS}
    values.update(name=row.name, short_name=row.short_name, concealed_cap=_amount(rules.concealed_cap),
                  total_cap=_amount(rules.total_cap))
    for category, rule in rules.fine_rules.items():
        if category in CATEGORIES:
            values.update({f"{category}_rate": _percent_text(rule.rate), f"{category}_floor": _amount(rule.floor),
                           f"{category}_cap": _amount(rule.cap)})
    for grade in GRADES:
        values[f"death_{grade}"] = _amount(rules.per_death.get(grade))
    if rules.insider:
        values.update(insider_rate=_percent_text(rules.insider.rate), insider_floor=_amount(rules.insider.floor))
    for group in SOURCE_GROUPS:
        values[f"source_{group}"] = rules.sources.get(group, "")
    return values


def new_values() -> dict[str, str]:
    """A blank form."""
    return {name: "" for name in FIELDS}
