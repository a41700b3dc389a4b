"""Staff reward pages: the list of rewards in scope, one reward with its checks, history and the steps the
user may take; a finance officer's identity request for a payment."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

import tipoff.rewards.models  # noqa: F401 - the tables
from tipoff import money
from tipoff.accounts.access import permission_required
from tipoff.errors import Conflict, Forbidden, ValidationFailed
from tipoff.policy import Role
from tipoff.rewards import services
from tipoff.rewards.eligibility import LABELS
from tipoff.web import form_version
from tipoff.rewards.workflow import CLAIM_METHODS, EVENT_LABELS, PAYMENT_METHODS, STATES, STEPS, RewardState

bp = Blueprint("rewards", __name__, url_prefix="/staff/rewards")
STATE_LABELS = {s.value: info.label for s, info in STATES.items()}


@bp.app_template_filter("yuan")
def yuan_filter(value) -> str:
    """¥15,000 for templates (None → —)."""
    return "—" if value is None else money.yuan(value)


@bp.app_template_filter("rule_set_name")
def rule_set_name_filter(code: str | None) -> str:
    """A rule set's short name (国家2018办法) for its code (national-2018); the code if it is unknown."""
    from sqlalchemy import select

    from tipoff.extensions import db
    from tipoff.rewards.models import RewardRuleSet

    if not code:
        return "—"
    return db.session.scalar(select(RewardRuleSet.short_name).where(RewardRuleSet.code == code)) or code


@bp.get("/")
@permission_required("rewards.view")
def index():
    """Rewards of the user's department (all of them for the 安委办), newest first, by status."""
    status = request.args.get("status") or None
    if status and status not in STATE_LABELS:
        status = None
    rewards = services.rewards_of(current_user._get_current_object(), status)
    return render_template("rewards/index.html", rewards=rewards, status=status, labels=STATE_LABELS)


def _allowed_steps(user, reward) -> list:
    role = Role(user.role)
    if role != Role.OVERSEER and user.department_id != reward.department_id:
        return []
    return [step for step in STEPS.values() if RewardState(reward.status) in step.from_states and role in step.roles]


def _render(reward, errors: dict | None = None, values: dict | None = None, status: int = 200):
    from tipoff.disclosure.models import DisclosureRequest
    from tipoff.extensions import db
    from sqlalchemy import select

    user = current_user._get_current_object()
    disclosure = None
    if Role(user.role) == Role.FINANCE:
        disclosure = db.session.scalar(select(DisclosureRequest).where(
            DisclosureRequest.reward_id == reward.id, DisclosureRequest.requested_by_id == user.id)
            .order_by(DisclosureRequest.id.desc()))
    return render_template(
        "rewards/reward.html", reward=reward, steps=_allowed_steps(user, reward), labels=STATE_LABELS,
        history=services.history(reward), event_labels=EVENT_LABELS, checks=LABELS, errors=errors or {},
        values=values or {},
        claim_methods=CLAIM_METHODS, payment_methods=PAYMENT_METHODS, disclosure=disclosure,
        overseer_above=services.overseer_above(), today=services.today_beijing()), status


@bp.get("/<int:reward_id>")
@permission_required("rewards.view")
def show(reward_id: int):
    """One reward: amount and how it was reached, eligibility checks, history, and the next steps."""
    return _render(services.reward_for(current_user, reward_id))


@bp.post("/<int:reward_id>/actions/<action>")
@permission_required("rewards.view")
def act(reward_id: int, action: str):
    """Perform one step from the reward page; refusals keep what was typed."""
    payload = {k: v for k, v in request.form.items() if k not in ("csrf_token", "version")}
    version = form_version()
    try:
        outcome = services.perform(current_user._get_current_object(), reward_id, action, payload,
                                   expected_version=version)
    except (ValidationFailed, Conflict, Forbidden) as exc:
        reward = services.reward_for(current_user, reward_id)
        return _render(reward, exc.fields or {"_action": [exc.message]}, {**payload, "_open": action}, exc.status)
    flash(outcome.message, "success")
    return redirect(url_for("rewards.show", reward_id=reward_id))


@bp.post("/<int:reward_id>/disclosure")
@permission_required("disclosures.request")
def ask_disclosure(reward_id: int):
    """A finance officer asks a custodian to open the claimant's identity for this payment."""
    from tipoff.disclosure.services import request_payment_disclosure

    services.reward_for(current_user, reward_id)  # 404 outside the user's scope
    try:
        request_payment_disclosure(current_user._get_current_object(), reward_id, request.form.get("reason", ""))
    except (ValidationFailed, Conflict) as exc:  # (403 and 404 are the error pages: nothing to keep)
        reward = services.reward_for(current_user, reward_id)
        return _render(reward, exc.fields or {"reason": [exc.message]},
                       {"reason": request.form.get("reason", ""), "_open": "disclosure"}, exc.status)
    flash(_("调阅申请已提交，等待保密员审批。"), "success")
    return redirect(url_for("rewards.show", reward_id=reward_id))
