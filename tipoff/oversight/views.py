"""The 安委办 dashboard (督办): figures, charts with their tables, the department ranking, and the cases
behind every figure. A department's leader sees the same for their own department."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

import tipoff.oversight.models  # noqa: F401 - the tables
from tipoff import money
from tipoff.accounts.access import permission_required
from tipoff.cases.states import internal_label
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.intake.submission import CHANNEL_LABELS
from tipoff.oversight import dashboard, stats
from tipoff.reference import services as reference
from tipoff.rewards.models import from_fen
from tipoff.web import writes

bp = Blueprint("oversight", __name__, url_prefix="/staff/oversight")
CHANNELS = CHANNEL_LABELS
PER_PAGE = 50
# Drill-down: which cases stand behind a figure.
METRICS = {
    "received": "收到", "accepted": "受理", "rejected": "不予受理", "concluded": "办结", "verified": "查实",
    "overdue": "当前逾期", "transferred": "有移交", "objections": "申请复查",
}


def _names() -> dict[str, dict[str, str]]:
    return {"category": {c.code: c.name for c in reference.all_categories()},
            "sector": {s.code: s.name for s in reference.all_sectors()},
            "township": {t.code: t.name for t in reference.all_townships()} | {"": "（未填写）"},
            "department": {str(d.id): d.name for d in reference.all_departments()},
            "channel": CHANNELS}


@bp.get("/")
@permission_required("oversight.view")
@writes
def index():
    """Tips by category, sector, township, channel and department; rates, times, rewards; the ranking."""
    user = current_user._get_current_object()
    wanted, errors = dashboard.parse_filter(user, request.args)
    computed_at = stats.ensure_fresh()
    names = _names()
    totals = dashboard.totals(wanted)
    ranking = dashboard.ranking(wanted)
    heat = dashboard.heat(wanted)
    peak = max(heat.values(), default=0)
    trend = dashboard.trend(wanted)
    dimensions = {d: dashboard.by_dimension(wanted, d) for d in ("category", "sector", "township", "channel")}
    payload = {
        "labels": {"received": _("收到"), "concluded": _("办结"), "overdue": _("当前逾期")},
        "trend": [{"month": f"{m:%Y-%m}", "received": r["received"], "concluded": r["concluded"]}
                  for m, r in trend],
        "departments": [{"name": r["name"], "received": r["received"], "overdue": r["overdue_now"]} for r in ranking],
        "categories": [{"name": names["category"].get(k, k), "received": r["received"]}
                       for k, r in dimensions["category"]],
    }
    from tipoff.rewards.workflow import STATES

    args = wanted.args()
    return render_template(
        "oversight/dashboard.html", wanted=wanted, errors=errors, computed_at=computed_at, names=names,
        totals=totals, trend=trend, ranking=ranking, dimensions=dimensions,
        heat=heat, heat_sectors=sorted({s for s, _t in heat}), heat_townships=sorted({t for _s, t in heat}),
        heat_level=lambda n: 0 if not n or not peak else min(5, 1 + (4 * n) // peak),
        durations=dashboard.durations(wanted, wanted.department_id), overdue_total=sum(r["overdue_now"] for r in ranking),
        rewards=dashboard.rewards(wanted), reward_states=[(s.value, i.label) for s, i in STATES.items()],
        payload=payload, yuan=lambda fen: money.yuan(from_fen(fen)),
        # Only the 安委办 sees retaliation reports: a department is often the reported employer's own regulator.
        retaliation=_retaliation(wanted) if user.scope("oversight.view") == "district" else None,
        district=user.scope("oversight.view") == "district",
        form_values=args, base=args,
        options={"department": [(d.code, d.name) for d in reference.handling_departments()],
                 "category": [(c.code, c.name) for c in reference.active_categories()],
                 "sector": [(x.code, x.name) for x in reference.active_sectors()],
                 "township": [(t.code, t.name) for t in reference.active_townships()],
                 "channel": [(k, _(v)) for k, v in CHANNELS.items()]},
        metrics=METRICS), 422 if errors else 200


def _retaliation(wanted) -> dict | None:
    """Insiders who reported retaliation (from the reporter channel's check-ins)."""
    from tipoff.followup.services import retaliation_counts

    return retaliation_counts(department_id=wanted.department_id)


@bp.post("/refresh")
@permission_required("oversight.view")
def refresh():
    """Rebuild the figures now (they also refresh by themselves every few minutes)."""
    report = stats.refresh()
    flash(_("统计已更新（%(n)s 个月）。", n=len(report.months)), "success")
    return redirect(url_for("oversight.index", **{k: v for k, v in request.form.items() if k != "csrf_token"}))


@bp.get("/cases")
@permission_required("oversight.view")
def cases():
    """The cases behind a figure: the dashboard's filter plus a metric (收到, 受理, 办结, 当前逾期 …)."""
    user = current_user._get_current_object()
    wanted, errors = dashboard.parse_filter(user, request.args)
    metric = request.args.get("metric", "received")
    if metric not in METRICS:
        errors["metric"], metric = [_("未知的统计口径。")], "received"
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    stmt = dashboard_cases(wanted, metric)
    rows = list(db.session.scalars(stmt.order_by(Tip.received_at.desc(), Tip.id.desc())
                                   .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    return render_template("oversight/cases.html", rows=rows, wanted=wanted, metric=metric, metrics=METRICS,
                           page=page, per_page=PER_PAGE, errors=errors, names=_names(), label=internal_label,
                           args=wanted.args()), 422 if errors else 200


def dashboard_cases(wanted: dashboard.Filter, metric: str):
    """Tips received in the period matching the filter and the metric (the same definitions as the stats)."""
    from tipoff.cases.queue import OPEN_STATES
    from tipoff.db import utcnow
    from tipoff.oversight.stats import month_bounds

    start, _ignored = month_bounds(wanted.month_from)
    _ignored, end = month_bounds(wanted.month_to)
    stmt = select(Tip).where(Tip.reference.is_not(None))
    if metric != "overdue":  # overdue is "now", like the ranking: not limited to tips received in the period
        stmt = stmt.where(Tip.received_at >= start, Tip.received_at < end)
    if wanted.department_id is not None:
        stmt = stmt.where(Tip.department_id == wanted.department_id)
    for name, column in (("category", Tip.category_code), ("sector", Tip.sector_code),
                         ("township", Tip.township_code), ("channel", Tip.channel)):
        value = getattr(wanted, name)
        if value:
            stmt = stmt.where(column == value)
    conditions = {
        "received": None,
        "accepted": Tip.accepted_at.is_not(None),
        "rejected": Tip.status == "rejected",
        "concluded": Tip.concluded_at.is_not(None) & (Tip.outcome != "merged"),
        "verified": Tip.outcome.in_(stats.VERIFIED),
        "overdue": Tip.status.in_([s.value for s in OPEN_STATES]) & (Tip.deadline_at < utcnow()),
        "transferred": Tip.transfers > 0,
        "objections": Tip.reviews > 0,
    }
    if conditions[metric] is not None:
        stmt = stmt.where(conditions[metric])
    return stmt
