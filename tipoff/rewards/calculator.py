"""The reward calculator (RULES.md §3-§4): a pure function from a verified tip's facts and a rule set to an
exact amount with a one-line Chinese explanation of how it was reached (a tipoff.messages.Message, so
the public calculator can show it in English; stored decisions keep the Chinese text).

No Flask, no database: rule sets come in as values, so every worked value in RULES.md is a table test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Mapping

from tipoff.rewards.grades import GRADE_NAMES, GRADES, MEASURE_NAMES, deciding_measure, grade_of
from tipoff.messages import Message
from tipoff.money import percent, round_cents, yuan

CONCEALED = "concealed_accident"
CATEGORY_NAMES = {"major_hazard": "重大事故隐患", "hazard": "一般事故隐患", "violation": "安全生产违法行为",
                  "concealed_accident": "瞒报、谎报、迟报、漏报生产安全事故", "other": "其他"}


class CalculationError(ValueError):
    """Inputs that cannot give an amount; `fields` names each bad input (for a 422)."""

    def __init__(self, fields: Mapping[str, list[str]]):
        super().__init__("; ".join(m for ms in fields.values() for m in ms))
        self.fields = dict(fields)


@dataclass(frozen=True)
class FineRule:
    """A share of the fine with a floor and a cap (R1)."""

    rate: Decimal
    floor: Decimal
    cap: Decimal


@dataclass(frozen=True)
class InsiderUplift:
    """Extra for an employee reporting their own employer (henan-2025): a share of the base, at least a floor."""

    rate: Decimal
    floor: Decimal


@dataclass(frozen=True)
class RuleSet:
    code: str
    short_name: str                               # how explanations name it: 国家2018办法
    effective_from: date
    fine_rules: Mapping[str, FineRule]            # by category; a category not listed earns no fine-based reward
    per_death: Mapping[str, Decimal]              # by final accident grade (R2)
    concealed_cap: Decimal
    insider: InsiderUplift | None = None
    total_cap: Decimal | None = None
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the amount depends on (money already parsed; counts already integers)."""

    category: str
    fine: Decimal | None = None
    accident_grade: str | None = None
    deaths: int | None = None
    serious_injuries: int | None = None
    direct_loss: Decimal | None = None
    concealed_deaths: int = 0
    insider: bool = False


@dataclass(frozen=True)
class Quote:
    amount: Decimal
    rule_set: str
    grade: str | None
    explanation: str      # a Message
    base: Decimal
    uplift: Decimal = Decimal(0)


def resolve_grade(facts: Facts) -> str | None:
    """The final grade: given, derived from the casualty figures, or both — and then they must agree."""
    figures = (facts.deaths, facts.serious_injuries, facts.direct_loss)
    derived = None
    if any(v is not None for v in figures):
        kwargs = {"deaths": facts.deaths or 0, "serious_injuries": facts.serious_injuries or 0,
                  "direct_loss": facts.direct_loss or Decimal(0)}
        derived = grade_of(**kwargs)
    if facts.accident_grade is not None and facts.accident_grade not in GRADES:
        raise CalculationError({"accident_grade": [Message("事故等级只能是 general、larger、major、especially_major 之一。")]})
    if facts.accident_grade and derived and facts.accident_grade != derived:
        measure = deciding_measure(**kwargs)
        given, figures = Message(GRADE_NAMES[facts.accident_grade]), Message(GRADE_NAMES[derived])
        raise CalculationError({
            "accident_grade": [Message("事故等级“%(given)s”与伤亡数字不符：按%(measure)s应为“%(derived)s”。",
                                       given=given, measure=Message(MEASURE_NAMES[measure]), derived=figures)],
            measure: [Message("%(measure)s对应“%(derived)s”，与所填事故等级“%(given)s”不符。",
                              measure=Message(MEASURE_NAMES[measure]), derived=figures, given=given)],
        })
    return facts.accident_grade or derived


def _concealed(facts: Facts, grade: str, rules: RuleSet) -> tuple[Decimal, Message]:
    per, count = rules.per_death[grade], facts.concealed_deaths
    raw = per * count
    base = min(raw, rules.concealed_cap)
    line = Message("%(grade)s瞒报死亡 %(count)s 人 × %(per)s = %(raw)s", grade=Message(GRADE_NAMES[grade]),
                   count=count, per=yuan(per), raw=yuan(raw))
    if base < raw:
        line = Message("%(line)s，按上限 %(cap)s", line=line, cap=yuan(rules.concealed_cap))
    return base, Message("%(line)s（%(rule_set)s，最高%(cap)s）", line=line, rule_set=rules.short_name,
                         cap=yuan(rules.concealed_cap))


def _fine_based(facts: Facts, rule: FineRule, rules: RuleSet) -> tuple[Decimal, Message]:
    raw = round_cents(facts.fine * rule.rate)
    base = min(max(raw, rule.floor), rule.cap)
    line = Message("罚款 %(fine)s × %(rate)s = %(raw)s", fine=yuan(facts.fine), rate=percent(rule.rate), raw=yuan(raw))
    if base > raw:
        line = Message("%(line)s，按下限 %(floor)s", line=line, floor=yuan(rule.floor))
    elif base < raw:
        line = Message("%(line)s，按上限 %(cap)s", line=line, cap=yuan(rule.cap))
    return base, Message("%(line)s（%(rule_set)s，最低%(floor)s，最高%(cap)s）", line=line, rule_set=rules.short_name,
                         floor=yuan(rule.floor), cap=yuan(rule.cap))


def quote(facts: Facts, rules: RuleSet) -> Quote:
    """The reward a verified tip earns under a rule set, and how it was reached."""
    grade = resolve_grade(facts)
    if facts.concealed_deaths < 0:
        raise CalculationError({"concealed_deaths": [Message("瞒报死亡人数不能为负数。")]})
    if facts.deaths is not None and facts.concealed_deaths > facts.deaths:
        raise CalculationError({"concealed_deaths": [Message("瞒报死亡人数（%(concealed)s）不能多于死亡人数（%(deaths)s）。",
                                                             concealed=facts.concealed_deaths, deaths=facts.deaths)]})
    if facts.category == CONCEALED and facts.concealed_deaths > 0:
        if grade is None:
            raise CalculationError({"accident_grade": [Message("瞒报事故按最终认定的事故等级计奖：请填写事故等级或伤亡数字。")]})
        base, explanation = _concealed(facts, grade, rules)
    elif facts.category in rules.fine_rules or (facts.category == CONCEALED and facts.fine is not None):
        rule = rules.fine_rules.get(facts.category) or rules.fine_rules.get("violation")
        if rule is None:
            return Quote(Decimal("0.00"), rules.code, grade,
                         Message("%(rule_set)s没有按罚款计奖的规则。", rule_set=rules.short_name), Decimal(0))
        if facts.fine is None:
            raise CalculationError({"fine": [Message("按罚款计奖：请填写罚款金额（没有罚款的填 0）。")]})
        base, explanation = _fine_based(facts, rule, rules)
    else:
        if facts.category == CONCEALED:
            return Quote(Decimal("0.00"), rules.code, grade, Message(
                "瞒报事故按查实的瞒报死亡人数计奖，本次为 0 人，也没有罚款（%(rule_set)s）。", rule_set=rules.short_name),
                Decimal(0))
        name = Message(CATEGORY_NAMES[facts.category]) if facts.category in CATEGORY_NAMES else facts.category
        return Quote(Decimal("0.00"), rules.code, grade,
                     Message("%(category)s不在%(rule_set)s的奖励范围内。", category=name, rule_set=rules.short_name),
                     Decimal(0))
    uplift, amount = Decimal(0), base
    if facts.insider and rules.insider and base > 0:
        uplift = max(round_cents(base * rules.insider.rate), rules.insider.floor)
        amount = base + uplift
        explanation = Message("%(explanation)s；吹哨人加奖 %(rate)s（不少于%(floor)s）%(uplift)s，合计 %(amount)s",
                              explanation=explanation, rate=percent(rules.insider.rate),
                              floor=yuan(rules.insider.floor), uplift=yuan(uplift), amount=yuan(amount))
        if rules.total_cap is not None and amount > rules.total_cap:
            amount = rules.total_cap
            explanation = Message("%(explanation)s，按总额上限 %(cap)s", explanation=explanation,
                                  cap=yuan(rules.total_cap))
    elif rules.total_cap is not None and amount > rules.total_cap:
        amount = rules.total_cap
        explanation = Message("%(explanation)s；按总额上限 %(cap)s", explanation=explanation, cap=yuan(rules.total_cap))
    return Quote(round_cents(amount), rules.code, grade, explanation, base, uplift)
