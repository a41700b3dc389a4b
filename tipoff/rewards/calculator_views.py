"""The public reward calculator: the page /rewards/calculator (a plain GET form) and
POST /api/v1/rewards/quote, so anyone can see what a verified tip could earn under a rule set.

Both check their input with one schema (tipoff.rewards.schemas) and ask the pure calculator; neither
needs a login, both share one per-client rate limit (keyed by tipoff.privacy's daily pseudonym, never
the address), and neither writes anything.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from tipoff import money
from tipoff.api import MalformedJSON, api_route, json_body, respond
from tipoff.errors import NotFound, ValidationFailed
from tipoff.extensions import limiter
from tipoff.rewards import catalog
from tipoff.rewards.calculator import CATEGORY_NAMES, CONCEALED, CalculationError, Facts, Quote, RuleSet, quote
from tipoff.rewards.grades import GRADE_NAMES, GRADES
from tipoff.rewards.models import RewardRuleSet
from tipoff.rewards.schemas import QuoteRequestSchema, QuoteSchema
from tipoff.rewards.services import today_beijing

bp = Blueprint("calculator", __name__)

# Cheap to answer, but still a loop target: one shared budget for the page and the API per client.
QUOTE_LIMIT = "120 per minute"
FORM_FIELDS = ("category", "fine", "accident_grade", "deaths", "serious_injuries", "direct_loss",
               "concealed_deaths", "insider", "rule_set")
CASUALTY_FIELDS = ("deaths", "serious_injuries", "direct_loss")


def quotable_categories() -> list[str]:
    """Category codes a quote may name: the active reporting categories and those the rule sets know."""
    from tipoff.reference.services import active_categories

    codes = [c.code for c in active_categories()]
    return codes + [code for code in CATEGORY_NAMES if code not in codes]


def quote_for(data: dict[str, Any]) -> tuple[Quote, RewardRuleSet]:
    """Quote checked facts under the named rule set (default: the one in force today, Beijing time)."""
    code = data.get("rule_set")
    try:
        row, rules = catalog.rule_set(code) if code else catalog.in_force_on(today_beijing())
    except NotFound:
        raise ValidationFailed(fields={"rule_set": [f"找不到奖励规则集：{code}"]}) from None
    facts = Facts(category=data["category"], fine=data.get("fine"), accident_grade=data.get("accident_grade"),
                  deaths=data.get("deaths"), serious_injuries=data.get("serious_injuries"),
                  direct_loss=data.get("direct_loss"), concealed_deaths=data.get("concealed_deaths") or 0,
                  insider=bool(data.get("insider")))
    try:
        return quote(facts, rules), row
    except CalculationError as exc:
        raise ValidationFailed(fields=exc.fields) from None


def _quote_body(result: Quote) -> dict[str, Any]:
    return {"amount": money.to_string(result.amount), "currency": "CNY", "rule_set": result.rule_set,
            "grade": result.grade, "explanation": result.explanation}


@api_route("/rewards/quote", method="POST", summary="What a verified tip could earn (public reward calculator)",
           tags=["rewards"], auth=False, request_schema=QuoteRequestSchema, response_schema=QuoteSchema,
           responses={429: "Too many requests from this client"})
@limiter.shared_limit(QUOTE_LIMIT, scope="reward-quote")
def quote_reward():
    """Quote a reward from the facts; 422 names each bad field, 400 when the body is not a JSON object."""
    if request.is_json:
        try:
            payload = request.get_json(silent=True)
        except RecursionError:  # json_body answers this one
            payload = None
        if payload is not None and not isinstance(payload, dict):
            raise MalformedJSON("请求体须为 JSON 对象。")
    data = json_body(QuoteRequestSchema(categories=quotable_categories))
    result, _row = quote_for(data)
    return respond(QuoteSchema(), _quote_body(result))


# ---------------------------------------------------------------- the page


def _form_input() -> tuple[dict[str, str], dict[str, Any]]:
    """The typed values (kept as typed, for redisplay) and what the schema should check (blanks left out)."""
    values = {name: request.args.get(name, "") for name in FORM_FIELDS}
    values["insider"] = "1" if values["insider"] in ("1", "on", "true") else ""
    submitted = {name: value.strip() for name, value in values.items() if value.strip()}
    return values, submitted


def policy_summary(rules: RuleSet, names: dict[str, str]) -> list[str]:
    """The rule set's reward policy in plain words, from its data."""
    lines = []
    for category, rule in rules.fine_rules.items():
        lines.append(_("%(category)s：按罚款金额的 %(rate)s 计奖，最低 %(floor)s，最高 %(cap)s。",
                       category=names.get(category, category), rate=money.percent(rule.rate),
                       floor=money.yuan(rule.floor), cap=money.yuan(rule.cap)))
    uncovered = [names.get(c, c) for c in names if c not in rules.fine_rules and c != CONCEALED]
    if uncovered:
        lines.append(_("%(categories)s：不按罚款计奖。", categories="、".join(uncovered)))
    per_death = "、".join(_("%(grade)s每人 %(amount)s", grade=GRADE_NAMES[g], amount=money.yuan(rules.per_death[g]))
                          for g in GRADES)
    lines.append(_("瞒报、谎报事故：按查实的瞒报死亡人数和最终认定的事故等级计奖，%(per_death)s，最高 %(cap)s。",
                   per_death=per_death, cap=money.yuan(rules.concealed_cap)))
    if rules.insider:
        lines.append(_("企业员工举报本单位（吹哨人）：在标准金额上加奖 %(rate)s，加奖不少于 %(floor)s。",
                       rate=money.percent(rules.insider.rate), floor=money.yuan(rules.insider.floor)))
    else:
        lines.append(_("本规则集没有吹哨人加奖。"))
    if rules.total_cap is not None:
        lines.append(_("一件举报的奖励合计不超过 %(cap)s。", cap=money.yuan(rules.total_cap)))
    return lines


def _source_labels() -> dict[str, str]:
    return {"fine_rules": _("按罚款计奖"), "per_death": _("瞒报事故"), "insider": _("吹哨人加奖"),
            "scope": _("奖励范围"), "total_cap": _("总额上限")}


@bp.get("/rewards/calculator")
@limiter.shared_limit(QUOTE_LIMIT, scope="reward-quote")
def page():
    """The public calculator: a GET form whose result shows on the same page, with the policy explained."""
    from tipoff.reference.services import active_categories

    categories = [(c.code, c.name) for c in active_categories()]
    names = {**CATEGORY_NAMES, **dict(categories)}
    in_force, _rules = catalog.in_force_on(today_beijing())
    rule_sets = catalog.all_rule_sets()
    values, submitted = _form_input()
    errors: dict[str, list[str]] = {}
    result = None
    if any(name in request.args for name in FORM_FIELDS if name != "rule_set"):  # the form was sent
        try:
            data = QuoteRequestSchema(categories=quotable_categories).load(submitted)
            result, _row = quote_for(data)
        except ValidationError as exc:
            errors = {k: v if isinstance(v, list) else [str(v)] for k, v in exc.normalized_messages().items()}
        except ValidationFailed as exc:
            errors = exc.fields
    chosen = next((row for row in rule_sets if row.code == values["rule_set"]), in_force)
    values["rule_set"] = chosen.code
    chosen_rules = catalog.as_rules(chosen)
    show_casualties = any(values[name] for name in CASUALTY_FIELDS) or any(name in errors for name in CASUALTY_FIELDS)
    return render_template(
        "rewards/calculator.html", values=values, errors=errors, result=result, categories=categories,
        grades=[(g, _(GRADE_NAMES[g])) for g in GRADES], rule_sets=rule_sets, in_force=in_force, chosen=chosen,
        policy=policy_summary(chosen_rules, names), sources=chosen_rules.sources,
        source_labels=_source_labels(), show_casualties=show_casualties,
        amount_text=money.yuan(result.amount) if result else None,
        grade_name=_(GRADE_NAMES[result.grade]) if result and result.grade else None,
        insider_without_uplift=bool(result and values["insider"] and chosen_rules.insider is None),
    ), 422 if errors else 200
