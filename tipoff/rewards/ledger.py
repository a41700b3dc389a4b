"""The reward ledger (奖励台账) with CSV/XLSX export, and the printable reward documents (奖励决定书, 领奖通知书).

Everything here reads; the only writes are audit entries: every export (`reward.ledger.export`, with the
filter and the row count, never the rows) and every document view (`reward.document.view`). Identity
never appears, except the claimant's name on a 领奖通知书 printed by the finance officer who holds an
approved disclosure for that payment (read through tipoff.disclosure.services.view_identity, audited).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterator

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, func, literal_column, select

from tipoff import money
from tipoff.accounts.access import permission_required
from tipoff.audit.services import record
from tipoff.errors import Conflict, NotFound
from tipoff.exports.writers import deliver, keyset_rows
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import Department
from tipoff.reference.services import handling_departments
from tipoff.rewards import exports, services
from tipoff.rewards.exports import FORMATS, MONTH_BUCKETS, LedgerFilter, LedgerRow
from tipoff.rewards.models import Reward, RewardRuleSet, from_fen
from tipoff.rewards.workflow import STATES, RewardState
from tipoff.web import writes

bp = Blueprint("reward_ledger", __name__, url_prefix="/staff/rewards")

S = RewardState
PER_PAGE = 100
DECISION_STATES = frozenset({S.APPROVED, S.NOTIFIED, S.CLAIMED, S.PAID})
# A notice goes to a notified reporter; once claimed, the finance officer prints it again for the payment.
NOTICE_STATES = frozenset({S.NOTIFIED, S.CLAIMED})


# ------------------------------------------------------------------------------------------- queries


def _conditions(user, wanted: LedgerFilter) -> list:
    """WHERE clauses: the user's scope (谁受理、谁奖励; the 安委办 sees all) and the filter."""
    conditions: list = []
    if user.scope("rewards.view") != "district":
        conditions.append(Reward.department_id == (user.department_id or -1))
    elif wanted.department:
        conditions.append(Reward.department_id.in_(select(Department.id).where(Department.code == wanted.department)))
    if wanted.status:
        conditions.append(Reward.status == wanted.status)
    start, end = wanted.created_between()
    if start is not None:
        conditions.append(Reward.created_at >= start)
    if end is not None:
        conditions.append(Reward.created_at < end)
    return conditions


def _rows_query(conditions: list) -> Select:
    return (select(Reward.id, Tip.reference, Department.name.label("department"), Reward.status,
                   func.coalesce(RewardRuleSet.short_name, Reward.rule_set_code).label("rule_set"),
                   Reward.calculated_fen, Reward.amount_fen, Reward.paid_fen, Reward.paid_at, Reward.voucher_no,
                   Reward.claim_deadline, Reward.created_at)
            .join(Tip, Tip.id == Reward.tip_id)
            .join(Department, Department.id == Reward.department_id)
            .outerjoin(RewardRuleSet, RewardRuleSet.code == Reward.rule_set_code)
            .where(*conditions))


def _local_month(column) -> Any:
    """SQL for the Beijing month ("2026-11") of a stored UTC timestamp. Constants are literal so the same
    expression can stand in SELECT and GROUP BY on PostgreSQL. China has kept UTC+8 without DST since 1991."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone(literal_column("'Asia/Shanghai'"), column), literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), column, literal_column("'+8 hours'"))


def ledger_page(user, wanted: LedgerFilter, page: int = 1, per_page: int = PER_PAGE) -> list[LedgerRow]:
    """One page of the ledger, newest first."""
    stmt = _rows_query(_conditions(user, wanted)).order_by(Reward.id.desc())
    return [exports.ledger_row(r) for r in db.session.execute(stmt.offset((page - 1) * per_page).limit(per_page))]


def _blank_totals() -> dict[str, int]:
    return {"count": 0, "calculated": 0, "amount": 0, "paid": 0}


def ledger_totals(user, wanted: LedgerFilter) -> dict[str, Any]:
    """Counts and sums (in 分) by status and by Beijing month, aggregated in SQL (GROUP BY month, status).

    by_month buckets are disjoint (MONTH_BUCKETS): 待审批 counts the proposed amount, 已批准 the approved amount
    of rewards not yet paid, 已发放 the paid amount, 逾期未领 the approved amount that lapsed."""
    month = _local_month(Reward.created_at)
    stmt = (select(month.label("month"), Reward.status, func.count(Reward.id).label("count"),
                   func.coalesce(func.sum(Reward.calculated_fen), 0).label("calculated"),
                   func.coalesce(func.sum(Reward.amount_fen), 0).label("amount"),
                   func.coalesce(func.sum(Reward.paid_fen), 0).label("paid"))
            .where(*_conditions(user, wanted)).group_by(month, Reward.status))
    by_status = {s.value: _blank_totals() for s in S}
    total = _blank_totals()
    months: dict[str, dict[str, Any]] = {}
    for row in db.session.execute(stmt):
        for bucket in (by_status.setdefault(row.status, _blank_totals()), total):
            for key in ("count", "calculated", "amount", "paid"):
                bucket[key] += int(getattr(row, key))
        line = months.setdefault(row.month, {"month": row.month, "count": 0,
                                             **{name: {"count": 0, "fen": 0} for name in MONTH_BUCKETS}})
        line["count"] += int(row.count)
        for name, states in MONTH_BUCKETS.items():
            if S(row.status) in states:
                line[name]["count"] += int(row.count)
                line[name]["fen"] += int(row.paid if name == "paid" else row.amount)
    return {"by_status": by_status, "total": total, "by_month": [months[m] for m in sorted(months)]}


# ------------------------------------------------------------------------------------------- the ledger page


def filter_from_request(user) -> tuple[LedgerFilter, dict[str, list[str]], dict[str, str] | None]:
    """The filter from the query; department choices (code → name) only for district-wide users."""
    district = user.scope("rewards.view") == "district"
    departments = {d.code: d.name for d in handling_departments()} if district else None
    own = user.department.code if user.department is not None else None
    wanted, errors = LedgerFilter.parse(request.args, departments=departments, own_department=own)
    return wanted, errors, departments


@bp.get("/ledger")
@permission_required("rewards.view")
@writes
def ledger():
    """The reward ledger of the user's department (all departments for the 安委办), with totals by status and
    by month; `?format=csv` or `?format=xlsx` downloads the same rows (audited)."""
    user = current_user._get_current_object()
    wanted, errors, departments = filter_from_request(user)
    form = (request.args.get("format") or "html").strip().lower()
    if form not in FORMATS:
        errors["format"] = [_("导出格式只能是 csv 或 xlsx。")]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    if not errors and form != "html":
        return export_response(user, wanted, form, departments)
    rows = [] if errors else ledger_page(user, wanted, page)
    totals = None if errors else ledger_totals(user, wanted)
    values = {"status": request.args.get("status", ""), "from": request.args.get("from", ""),
              "to": request.args.get("to", ""), "department": request.args.get("department", "")}
    return render_template(
        "rewards/ledger.html", rows=rows, totals=totals, wanted=wanted, errors=errors, values=values, page=page,
        per_page=PER_PAGE, status_labels={s.value: STATES[s].label for s in S},
        yuan=lambda fen: money.yuan(from_fen(fen)), money_text=lambda amount: "—" if amount is None else money.yuan(amount),
        decision_states={s.value for s in DECISION_STATES}, notice_states={s.value for s in NOTICE_STATES},
        status_options=[(s.value, _(STATES[s].label)) for s in S],
        department_options=list((departments or {}).items())), \
        422 if errors else 200


def export_response(user, wanted: LedgerFilter, form: str, departments: dict[str, str] | None,
                    via: str | None = None) -> Response:
    """The reward ledger as a CSV or XLSX download: audited (filter and row count) before it streams.
    Also serves `GET /api/v1/exports/rewards` (`via="api"`)."""
    conditions = _conditions(user, wanted)
    count, last_id = db.session.execute(select(func.count(Reward.id), func.max(Reward.id)).where(*conditions)).one()
    department_id = user.department_id
    if wanted.department:
        department_id = db.session.scalar(select(Department.id).where(Department.code == wanted.department))
    if departments is not None:  # district-wide: all departments unless one was picked
        scope_name = departments.get(wanted.department) if wanted.department else None
    else:
        scope_name = user.department.name if user.department is not None else None
    # Rewards created after the count are left out, so the file does not outgrow it.
    stmt = _rows_query(conditions).where(Reward.id <= (last_id or 0))

    def rows() -> Iterator[list]:
        for row in keyset_rows(stmt, [(Reward.id, "id", False)]):
            yield exports.ledger_row(row).cells()

    return deliver(user, exports.REWARD_LEDGER, form=form, count=int(count), rows=rows,
                   filter_text=wanted.describe(scope_name), filter_args=wanted.audit(),
                   department_id=department_id, via=via)


# ------------------------------------------------------------------------------------------- documents


def _document(user, reward_id: int, allowed: frozenset[RewardState], refusal: str) -> Reward:
    """The reward (NotFound outside the user's scope), in one of the allowed states (Conflict otherwise)."""
    reward = services.reward_for(user, reward_id)
    if S(reward.status) not in allowed:
        raise Conflict(refusal + _("（当前状态：%(state)s）", state=_(STATES[S(reward.status)].label)),
                       code="wrong_state")
    return reward


def _view_recorded(user, reward: Reward, kind: str, **details: Any) -> None:
    record("reward.document.view", actor=user, object_type="reward", object_id=reward.id,
           department_id=reward.department_id, details={"document": kind, "tip": reward.tip.reference, **details})
    db.session.commit()


def approval_day(reward: Reward) -> date | None:
    """The Beijing day of the approval that made the reward approved (the last of two, when two were needed)."""
    approvals = [e for e in services.history(reward) if e.action == "approve"]
    final = [e for e in approvals if e.to_state == S.APPROVED.value] or approvals
    return exports.beijing_date(final[-1].created_at) if final else None


@bp.get("/<int:reward_id>/decision")
@permission_required("rewards.view")
@writes
def decision(reward_id: int):
    """奖励决定书, to print: department, tip reference, rule set and legal basis, calculation, approved amount
    and approval date, a signature and seal area. No identity."""
    user = current_user._get_current_object()
    reward = _document(user, reward_id, DECISION_STATES, _("奖励批准后（已批准、已通知、已申领、已发放）才能出具奖励决定书。"))
    rule_set = db.session.scalar(select(RewardRuleSet).where(RewardRuleSet.code == reward.rule_set_code))
    sources = [str(v) for v in ((rule_set.data or {}).get("sources") or {}).values()] if rule_set else []
    _view_recorded(user, reward, "decision")
    amount = reward.amount if reward.amount is not None else reward.calculated
    return render_template("rewards/decision.html", reward=reward, rule_set=rule_set, sources=sources,
                           approved_on=approval_day(reward), amount=money.yuan(amount),
                           capital=exports.capital_amount(amount), today=services.today_beijing())


def _claimant_name(user, reward: Reward) -> tuple[str | None, str | None]:
    """(name, note) for a finance officer printing the notice for a payment: the claimant's name from their
    own approved reward_payment disclosure (viewing it is audited), else a note why it is not shown."""
    from tipoff.disclosure.models import DisclosureRequest
    from tipoff.disclosure.services import view_identity

    if user.role != "finance":
        return None, None
    request_id = db.session.scalar(select(DisclosureRequest.id).where(
        DisclosureRequest.reward_id == reward.id, DisclosureRequest.requested_by_id == user.id,
        DisclosureRequest.purpose == "reward_payment", DisclosureRequest.status == "approved")
        .order_by(DisclosureRequest.id.desc()).limit(1))
    if request_id is None:
        return None, None
    try:
        return view_identity(user, request_id).name, None
    except (Conflict, NotFound):
        return None, _("身份查看期限已过：如需在通知书上打印领奖人姓名，请重新申请调阅。")


@bp.get("/<int:reward_id>/notice")
@permission_required("rewards.view")
@writes
def notice(reward_id: int):
    """领奖通知书, to print: reference, amount, claim deadline, how to claim, what to bring, the confidentiality
    promise. The claimant's name only for the finance officer holding an approved disclosure for the payment."""
    user = current_user._get_current_object()
    reward = _document(user, reward_id, NOTICE_STATES, _("奖励已通知待领取或已申领待发放时才能出具领奖通知书。"))
    claimant, claimant_note = _claimant_name(user, reward)
    _view_recorded(user, reward, "notice", claimant_shown=claimant is not None)
    amount = reward.amount if reward.amount is not None else reward.calculated
    return render_template("rewards/notice.html", reward=reward, amount=money.yuan(amount),
                           capital=exports.capital_amount(amount),
                           claim_deadline=exports.claim_deadline_text(reward.claim_deadline),
                           objection_deadline=exports.claim_deadline_text(reward.objection_deadline),
                           claimant=claimant, claimant_note=claimant_note, today=services.today_beijing(),
                           notified_on=exports.beijing_date(reward.notified_at))
