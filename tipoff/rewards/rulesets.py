"""Rule sets as data: read and check one (from the seed file or an administrator's form), pure.

A rule set's data is a JSON-able mapping (money as strings); `parse` turns it into the calculator's
RuleSet or raises CalculationError naming each bad field.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

import yaml

from tipoff.rewards.calculator import CalculationError, FineRule, InsiderUplift, RuleSet
from tipoff.rewards.grades import GRADES
from tipoff.money import MoneyError, parse_money

SEED_FILE = Path(__file__).parent / "data" / "rule_sets.yaml"
CODE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
FINE_CATEGORIES = ("major_hazard", "violation", "hazard", "concealed_accident", "other")
MAX_REWARD = Decimal("100000000")


def _money(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal:
    try:
        return parse_money(value, maximum=MAX_REWARD)
    except MoneyError as exc:
        errors.setdefault(name, []).append(str(exc))
        return Decimal(0)


def _rate(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal:
    try:
        rate = Decimal(str(value).strip())
        if not rate.is_finite() or not Decimal(0) < rate <= Decimal(1) or rate != rate.quantize(Decimal("0.0001")):
            raise ValueError
        return rate
    except (ValueError, ArithmeticError):
        errors.setdefault(name, []).append("比例须为 0 到 1 之间的小数（如 0.15 表示 15%），最多四位小数。")
        return Decimal(0)


def parse(data: Mapping[str, Any]) -> RuleSet:
    """Check a rule set's data and build the calculator's RuleSet; errors are keyed by field path."""
    errors: dict[str, list[str]] = {}
    code = str(data.get("code") or "")
    if not CODE.match(code):
        errors["code"] = ["代码以小写字母开头，只用小写字母、数字和连字符，如 jianan-2027。"]
    name = str(data.get("name") or "").strip()
    if len(name) > 200:
        errors["name"] = ["名称不超过 200 字。"]
    short_name = str(data.get("short_name") or "").strip()
    if not short_name or len(short_name) > 40:
        errors["short_name"] = ["请填写简称（不超过 40 字），如“建安2027办法”。"]
    effective = data.get("effective_from")
    if isinstance(effective, str):
        try:
            effective = date.fromisoformat(effective)
        except ValueError:
            effective = None
    if not isinstance(effective, date):
        errors["effective_from"] = ["生效日期格式应为 2027-01-01。"]
    fine_rules = {}
    raw_rules = data.get("fine_rules") or {}
    if not isinstance(raw_rules, Mapping):
        errors["fine_rules"], raw_rules = ["按罚款计奖的规则须按举报类别列出。"], {}
    for category, rule in raw_rules.items():
        if not isinstance(rule, Mapping):
            errors.setdefault(f"fine_rules.{category}", []).append("须给出比例、最低额和最高额。")
            continue
        if category not in FINE_CATEGORIES:
            errors.setdefault("fine_rules", []).append(f"未知的举报类别：{category}")
            continue
        prefix = f"fine_rules.{category}"
        floor, cap = _money(rule.get("floor"), f"{prefix}.floor", errors), _money(rule.get("cap"), f"{prefix}.cap", errors)
        if cap < floor:
            errors.setdefault(f"{prefix}.cap", []).append("最高额不能低于最低额。")
        fine_rules[category] = FineRule(_rate(rule.get("rate"), f"{prefix}.rate", errors), floor, cap)
    per_death_data = data.get("per_death") or {}
    if not isinstance(per_death_data, Mapping):
        errors["per_death"], per_death_data = ["按死亡人数计奖的金额须按事故等级列出。"], {}
    per_death = {g: _money(per_death_data.get(g), f"per_death.{g}", errors) for g in GRADES}
    concealed_cap = _money(data.get("concealed_cap"), "concealed_cap", errors)
    insider = None
    if data.get("insider") and not isinstance(data["insider"], Mapping):
        errors["insider"] = ["吹哨人加奖须给出比例和最低额。"]
    elif data.get("insider"):
        insider = InsiderUplift(_rate(data["insider"].get("rate"), "insider.rate", errors),
                                _money(data["insider"].get("floor"), "insider.floor", errors))
    total_cap = _money(data["total_cap"], "total_cap", errors) if data.get("total_cap") not in (None, "") else None
    if errors:
        raise CalculationError(errors)
    return RuleSet(code=code, short_name=short_name, effective_from=effective, fine_rules=fine_rules,
                   per_death=per_death, concealed_cap=concealed_cap, insider=insider, total_cap=total_cap,
                   sources=dict(data.get("sources") or {}))


def seed_rule_sets(path: Path = SEED_FILE) -> list[dict[str, Any]]:
    """The shipped rule sets as data (each checked by `parse` before it is returned)."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["rule_sets"]
    for entry in entries:
        parse(entry)
    return entries
