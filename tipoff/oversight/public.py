"""The public report (公开数据, /public, no login) and the published typical cases (典型案例).

Figures come from tipoff.oversight.report, already suppressed (small cells shown as "<5"); the same report
is served as JSON at GET /api/v1/public/report. Nothing here reads a tip or writes anything.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from marshmallow import Schema, fields

from tipoff import money
from tipoff.api import api_route
from tipoff.clockview import SHANGHAI
from tipoff.db import utcnow
from tipoff.errors import ValidationFailed
from tipoff.oversight import report as public_report
from tipoff.oversight import typical

bp = Blueprint("public_report", __name__)


def this_month() -> date:
    """The current Beijing month (its first day)."""
    today = utcnow().astimezone(SHANGHAI).date()
    return today.replace(day=1)


def last_published_month() -> date:
    """The latest month the public report shows: the last *closed* month. A month still filling up would
    let anyone who polls the page see single tips (and single rewards) arrive as the counts move."""
    from tipoff.oversight.report import add_months

    return add_months(this_month(), -1)


def reward_policy() -> tuple[object, list[str]]:
    """The rule set in force today and its policy in plain words (as the calculator explains it)."""
    from tipoff.reference.services import active_categories
    from tipoff.rewards import catalog
    from tipoff.rewards.calculator import CATEGORY_NAMES
    from tipoff.rewards.calculator_views import policy_summary

    row, rules = catalog.in_force_on(utcnow().astimezone(SHANGHAI).date())
    names = {**CATEGORY_NAMES, **{c.code: c.name for c in active_categories()}}
    return row, policy_summary(rules, names)


def _names() -> dict[str, dict[str, str]]:
    from tipoff.reference.services import all_categories, all_sectors

    return {"category": {c.code: c.name for c in all_categories()},
            "sector": {s.code: s.name for s in all_sectors()}}


@bp.get("/public")
def report():
    """Monthly figures (small cells suppressed), typical cases, the reward policy and the channels."""
    month = last_published_month()
    errors: dict[str, list[str]] = {}
    notice = None
    try:
        period = public_report.parse_period(request.args.get("from"), request.args.get("to"), month)
    except ValidationFailed as exc:  # a usable page: the default period, with the mistake explained
        errors, notice = exc.fields, exc.message
        period = public_report.default_period(month)
    values = {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}
    if errors:
        values = {name: request.args.get(name, "")[:20] for name in ("from", "to")}
    rule_set, policy = reward_policy()
    return render_template(
        "public_report/report.html", report=public_report.build_report(period, month), errors=errors,
        notice=notice, values=values, cases=typical.published_cases(), names=_names(), rule_set=rule_set,
        policy=policy, yuan=money.yuan, symbols={"less": public_report.LESS, "hidden": public_report.HIDDEN,
                                "none": public_report.NONE, "small": public_report.SMALL},
    ), 422 if errors else 200


@bp.get("/public/cases/<int:case_id>")
def case(case_id: int):
    """One published typical case."""
    return render_template("public_report/case.html", case=typical.published_case(case_id), names=_names())


class PublicReportSchema(Schema):
    """Every figure is a number, or "<5" / "×" / "—" when suppressed (see `legend`)."""

    period = fields.Dict()
    refreshed_at = fields.String(allow_none=True)
    small_cell_threshold = fields.Integer()
    legend = fields.Dict()
    summary = fields.Dict()
    months = fields.List(fields.Dict())
    by_category = fields.Dict()
    by_sector = fields.Dict()
    by_township = fields.Dict()
    typical_cases = fields.List(fields.Dict())
    reward_policy = fields.Dict()


def _month_json(row: public_report.MonthRow) -> dict[str, Any]:
    return {"received": row.received.public(), "concluded": row.concluded.public(),
            "verified": row.verified.public(), "verified_share": row.verified_share.public(),
            "median_days_to_conclude": row.median_days.public(),
            "rewards_paid": {"count": row.rewards_paid.public(), "total": row.rewards_paid_total.public()}}


def figures_json(report: public_report.PublicReport) -> dict[str, Any]:
    """The report's figures for the JSON API: the same as the page's (symbols, never the hidden numbers)."""
    small = public_report.SMALL
    months = [f"{m:%Y-%m}" for m in report.period.months]
    return {
        "period": {"from": months[0], "to": months[-1], "months": months,
                   "current_month_partial": report.period.last >= this_month()},
        "refreshed_at": report.refreshed_at.isoformat() if report.refreshed_at else None,
        "small_cell_threshold": small,
        "legend": {public_report.LESS: f"少于 {small}（含 0）",
                   public_report.HIDDEN: f"不少于 {small}；为防止用合计推算出“{public_report.LESS}”而隐去，"
                                         "或是含有未公布数字的跨月合计",
                   public_report.NONE: f"依据的案件少于 {small} 件或相关数字未公布，不予公布"},
        "summary": _month_json(report.total),
        "months": [{"month": f"{row.month:%Y-%m}", **_month_json(row)} for row in report.months],
        **{f"by_{b.key}": {
            "rows": [{"code": code, "name": name, "months": [f.public() for f in cells], "total": total.public()}
                     for code, name, cells, total in b.rows],
            "month_totals": [f.public() for f in b.month_totals], "total": b.total.public()}
           for b in report.breakdowns},
    }


@api_route("/public/report", summary="The public report: monthly figures with small cells suppressed",
           tags=["public"], auth=False, response_schema=PublicReportSchema,
           responses={422: "Bad period (?from=YYYY-MM&to=YYYY-MM)"},
           query={"from": {"type": "string"}, "to": {"type": "string"}})
def report_json():
    """The figures of /public for ?from=YYYY-MM&to=YYYY-MM; suppressed values are strings, never numbers."""
    month = last_published_month()
    period = public_report.parse_period(request.args.get("from"), request.args.get("to"), month)
    body = figures_json(public_report.build_report(period, month))
    body["typical_cases"] = [{"id": c.id, "title": c.title, "published_at": c.published_at.isoformat(),
                              "url": url_for("public_report.case", case_id=c.id, _external=True)}
                             for c in typical.published_cases()]
    rule_set, policy = reward_policy()
    body["reward_policy"] = {"rule_set": rule_set.name, "effective_from": rule_set.effective_from.isoformat(),
                             "summary": policy, "calculator": url_for("calculator.page", _external=True)}
    return jsonify(body)
