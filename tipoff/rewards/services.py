"""Reward services: open a reward when a case is verified, and every later step — staff and reporter.

`perform` carries out every staff step of tipoff.rewards.workflow.STEPS (checks, state, history, audit)
in one transaction; `reporter_claim` / `reporter_decline` / `reporter_object` are the reporter's own.
谁受理、谁奖励: only the accepting department's handlers, leaders and finance officers act on a reward;
the 区安委会办公室 sees all and gives the second approval above the configured amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Mapping

from flask import current_app, has_app_context
from sqlalchemy import select

from tipoff import money
from tipoff.audit.services import record
from tipoff.cases import clocks, duplicates
from tipoff.db import as_utc, claim_version, utcnow
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.intake.validators import clean_text
from tipoff.policy import ROLE_LABELS, Role
from tipoff.rewards import catalog, eligibility
from tipoff.rewards.calculator import CalculationError, Facts, quote
from tipoff.rewards.models import Reward, RewardEvent, from_fen, to_fen
from tipoff.clockview import SHANGHAI
from tipoff.rewards.workflow import OPEN, PAYMENT_METHODS, STATES, STEPS, VERIFIED_OUTCOMES, RewardState, Step

S = RewardState
DEFAULT_OVERSEER_ABOVE = Decimal("50000")
MAX_CLAIM_EXTENSION_DAYS = 60


@dataclass(frozen=True)
class Outcome:
    reward: Reward
    message: str


def overseer_above() -> Decimal:
    """Rewards above this amount also need the 区安委会办公室's approval (TIPOFF_REWARD_OVERSEER_ABOVE)."""
    configured = current_app.config.get("TIPOFF_REWARD_OVERSEER_ABOVE") if has_app_context() else None
    if configured in (None, ""):
        return DEFAULT_OVERSEER_ABOVE
    return money.parse_money(str(configured))


# --------------------------------------------------------------------------------- reading


def visible_to(user, reward: Reward) -> bool:
    """May this staff user see this reward (谁受理、谁奖励: the department's own; the 安委办 all)?"""
    scope = user.scope("rewards.view")
    return scope == "district" or (scope == "department" and user.department_id == reward.department_id)


def reward_for(user, reward_id: int) -> Reward:
    """A reward by id, or NotFound when it does not exist or lies outside the user's scope."""
    reward = db.session.get(Reward, reward_id)
    if reward is None or not visible_to(user, reward):
        raise NotFound("找不到该奖励。")
    return reward


def rewards_of(user, status: str | None = None) -> list[Reward]:
    """Rewards in the user's scope, newest first (at most 500: the ledger pages through all)."""
    stmt = select(Reward)
    if user.scope("rewards.view") != "district":
        stmt = stmt.where(Reward.department_id == (user.department_id or -1))
    if status:
        stmt = stmt.where(Reward.status == status)
    return list(db.session.scalars(stmt.order_by(Reward.id.desc()).limit(500)))


def reward_of_tip(tip: Tip) -> Reward | None:
    """The reward this tip's reporter is in line for (None for the later tips of a matter)."""
    return db.session.scalar(select(Reward).where(Reward.tip_id == tip.id))


def matter_reward(tip: Tip) -> Reward | None:
    """The reward of this tip's matter, if one was opened."""
    return db.session.scalar(select(Reward).where(Reward.matter_tip_id == (tip.matter_id or tip.id)))


def history(reward: Reward, *, public_only: bool = False) -> list[RewardEvent]:
    """The reward's steps, oldest first (only those shown to the reporter when asked)."""
    stmt = select(RewardEvent).where(RewardEvent.reward_id == reward.id).order_by(RewardEvent.id)
    if public_only:
        stmt = stmt.where(RewardEvent.public.is_(True))
    return list(db.session.scalars(stmt))


# --------------------------------------------------------------------------------- opening


def facts_from(tip: Tip, overrides: Mapping[str, Any] | None = None) -> Facts:
    """The calculator's facts from the case's conclusion (a handler may correct them when proposing)."""
    conclusion = {**(tip.conclusion or {}), **{k: v for k, v in (overrides or {}).items() if v not in (None, "")}}
    errors: dict[str, list[str]] = {}
    fine = None
    if conclusion.get("fine") not in (None, ""):
        try:
            fine = money.parse_money(conclusion["fine"])
        except money.MoneyError as exc:
            errors["fine"] = [str(exc)]
    try:
        concealed = int(conclusion.get("concealed_deaths") or 0)
    except (TypeError, ValueError):
        errors["concealed_deaths"] = ["须为整数。"]
        concealed = 0
    if errors:
        raise ValidationFailed(fields=errors)
    return Facts(category=tip.category_code, fine=fine, accident_grade=conclusion.get("accident_grade") or None,
                 concealed_deaths=concealed, insider=bool(tip.insider))


def _facts_json(facts: Facts) -> dict:
    return {"category": facts.category, "fine": None if facts.fine is None else money.to_string(facts.fine),
            "accident_grade": facts.accident_grade, "concealed_deaths": facts.concealed_deaths,
            "insider": facts.insider}


def _calculate(reward: Reward, tip: Tip, facts: Facts) -> None:
    accepted = as_utc(tip.accepted_at or tip.received_at).astimezone(SHANGHAI).date()  # the Beijing day
    row, rules = catalog.in_force_on(accepted)
    reward.facts, reward.rule_set_code = _facts_json(facts), row.code
    try:
        result = quote(facts, rules)
    except CalculationError as exc:
        reward.calculated_fen, reward.grade = 0, None
        reward.explanation = "无法计算：" + "；".join(m for ms in exc.fields.values() for m in ms)
        return
    reward.calculated_fen, reward.grade, reward.explanation = to_fen(result.amount), result.grade, result.explanation


def _eligibility(reward: Reward, concluded: Tip, known_before: bool | None, joint: bool = False) -> None:
    matter = duplicates.matter_of(concluded)
    first = eligibility.beneficiary(matter)
    identities = eligibility.identities_of(first)
    checks = eligibility.evaluate(eligibility.Facts(
        outcome=concluded.outcome, known_before=known_before, first=True,
        matter_note=eligibility.matter_note(matter, first), joint=joint,
        excluded=eligibility.excluded(identities) if identities else None))
    reward.tip_id, reward.eligibility = first.id, eligibility.stored(checks)


def rekey_matter(member_ids: list[int], root_id: int) -> None:
    """Tips were linked into one matter rooted at `root_id`: its reward (R4-R6: one per matter) follows.

    Two rewards cannot become one silently: linking is refused until one of them is withdrawn. While a
    reward is still being assessed, the first reporter of the enlarged matter becomes its beneficiary.
    """
    rewards = db.session.scalars(select(Reward).where(Reward.matter_tip_id.in_(member_ids))).all()
    if len(rewards) > 1:
        raise Conflict("这些举报各自已有奖励记录，不能直接关联为同一事项；请先由部门负责人撤销或处理其中一项奖励。",
                       code="two_rewards")
    if not rewards:
        return
    reward = rewards[0]
    reward.matter_tip_id = root_id
    if reward.status == S.ASSESSING.value:
        matter = duplicates.matter_of(db.session.get(Tip, root_id))
        reward.tip_id = eligibility.beneficiary(matter).id


def open_for_case(tip: Tip, actor) -> Reward | None:
    """After a conclusion: open (or, while still being assessed, refresh) the matter's reward when verified;
    when a re-review finds the tip not verified, an unpaid reward lapses as not eligible.

    Called inside the case action's transaction; the caller commits.
    """
    from tipoff.intake.submission import INSIDER_FOLLOWUP

    if tip.channel == INSIDER_FOLLOWUP:
        return None  # a retaliation matter protects the reporter; it is not a tip about a hazard to reward
    duplicates.lock_matters(tip)  # one reward per matter: a concurrent conclusion waits, then finds it
    root_id = tip.matter_id or tip.id
    reward = db.session.scalar(select(Reward).where(Reward.matter_tip_id == root_id))
    if tip.outcome not in VERIFIED_OUTCOMES:
        if reward is not None and S(reward.status) in OPEN:
            before = reward.status
            reward.status = S.NOT_ELIGIBLE.value
            from tipoff.cases.workflow import OUTCOMES

            outcome = OUTCOMES.get(tip.outcome or "", tip.outcome)
            reward.not_eligible_reason = f"案件 {tip.reference} 的核查结论改为“{outcome}”，不再符合奖励条件。"
            reward.version += 1
            _event(reward, "lapse", None, before, reward.status, reward.not_eligible_reason, public=True)
            record("reward.lapse", actor=actor, object_type="reward", object_id=reward.id,
                   department_id=reward.department_id, details={"tip": tip.reference, "outcome": tip.outcome})
        return None
    if reward is not None and reward.status != S.ASSESSING.value:
        return reward  # already past assessment: a re-review does not silently change an approved reward
    created = reward is None
    if created:
        reward = Reward(matter_tip_id=root_id, tip_id=tip.id, department_id=tip.department_id,
                        status=S.ASSESSING.value, eligibility={}, facts={}, calculated_fen=0, explanation="",
                        rule_set_code=catalog.DEFAULT_CODE)
        db.session.add(reward)
    _calculate(reward, tip, facts_from(tip))
    _eligibility(reward, tip, known_before=None)
    db.session.flush()
    _event(reward, "open" if created else "recalculate", None, None, S.ASSESSING.value,
           f"按案件 {tip.reference} 的核查结论计算：{reward.explanation}", {"calculated": money.to_string(reward.calculated)})
    record("reward.open" if created else "reward.recalculate", actor=actor, object_type="reward", object_id=reward.id,
           department_id=reward.department_id, details={"tip": tip.reference, "rule_set": reward.rule_set_code,
                                                        "calculated": money.to_string(reward.calculated)})
    return reward


# --------------------------------------------------------------------------------- staff steps


def _event(reward: Reward, action: str, actor, from_state: str | None, to_state: str | None, note: str | None,
           details: dict | None = None, public: bool = False) -> RewardEvent:
    if actor is None:
        label, user_id = "system", None
    elif actor == "reporter":
        label, user_id = "reporter", None
    else:
        label, user_id = ROLE_LABELS[Role(actor.role)], actor.id
    event = RewardEvent(reward_id=reward.id, action=action, from_state=from_state, to_state=to_state,
                        actor_user_id=user_id, actor_label=label, note=note, details=details, public=public)
    db.session.add(event)
    return event


def _text(payload: Mapping[str, Any], key: str, label: str, *, required: bool = True, maximum: int = 1000) -> str | None:
    value = payload.get(key)
    if value in (None, "") and not required:
        return None
    try:
        return clean_text(value if isinstance(value, str) else "", field=label, minimum=1, maximum=maximum,
                          multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={key: [str(exc)]}) from None


def _claim_version(reward: Reward, expected: int | None) -> None:
    claim_version(reward, expected, "该奖励刚被他人更新，请刷新页面查看最新情况后再操作。", "reward_changed")


def under_review(reward: Reward) -> bool:
    """Is a case of the reward's matter being re-reviewed (复查)? Its conclusion may still change."""
    return db.session.scalar(select(Tip.id).where(
        (Tip.id == reward.matter_tip_id) | (Tip.matter_id == reward.matter_tip_id),
        Tip.status == "under_review").limit(1)) is not None


def _check(user, reward: Reward, step: Step) -> None:
    role = Role(user.role)
    if role not in step.roles:
        raise Forbidden(f"您的角色不能执行“{step.label}”。")
    if role != Role.OVERSEER and user.department_id != reward.department_id:
        raise NotFound("找不到该奖励。")
    if S(reward.status) not in step.from_states:
        raise Conflict(f"奖励当前状态（{STATES[S(reward.status)].label}）不能执行“{step.label}”。", code="wrong_state")
    if step.action in ("propose", "approve", "notify", "pay") and under_review(reward):
        raise Conflict("案件正在复查，复查结论作出前奖励暂停办理。", code="case_under_review")


def perform(user, reward_id: int, action: str, payload: Mapping[str, Any] | None = None,
            expected_version: int | None = None) -> Outcome:
    """Carry out one staff step on a reward, atomically; refusals change nothing."""
    from tipoff.rewards.steps import apply

    payload = payload or {}
    step = STEPS.get(action)
    if step is None:
        raise ValidationFailed(fields={"action": [f"未知的操作：{str(action)[:32]}"]})
    reward = reward_for(user, reward_id)
    _check(user, reward, step)
    before = reward.status
    note, details, message, to_state = apply(user, reward, step, payload)
    _claim_version(reward, expected_version)
    if to_state is not None:
        reward.status = to_state.value
    _event(reward, action, user, before, reward.status, note, details, public=step.public)
    record(f"reward.{action}", actor=user, object_type="reward", object_id=reward.id,
           department_id=reward.department_id, details={"from": before, "to": reward.status, **(details or {})})
    db.session.commit()
    return Outcome(reward, message)


# --------------------------------------------------------------------------------- the reporter's steps


def tell_reporter(reward: Reward, text: str, actor) -> None:
    from tipoff.intake.services import post_message

    post_message(reward.tip, text, sender="department", staff=actor if actor not in (None, "reporter") else None,
                 commit=False)


def claim_window(start: datetime) -> tuple[datetime, datetime]:
    """(claim deadline T7, objection deadline T6) for a notice sent at `start`."""
    return clocks.due("T7", start), clocks.due("T6", start)


def expire_and_publish(now: datetime | None = None, notice_after_days: int = 30) -> tuple[int, int]:
    """The daily job: publish an anonymous notice for rewards unclaimed after `notice_after_days`, then
    expire those whose claim window has passed. Returns (published, expired).

    Each reward is changed in its own transaction under the optimistic lock, so a reporter claiming at the
    last minute wins over the job (the job skips that reward) and nothing else is held up.
    """
    now = now or utcnow()
    published = expired = 0
    waiting = [r.id for r in db.session.scalars(select(Reward).where(Reward.status == S.NOTIFIED.value))]
    for reward_id in waiting:
        reward = db.session.get(Reward, reward_id)
        if reward is None or reward.status != S.NOTIFIED.value:
            continue
        lapsed = reward.claim_deadline is not None and as_utc(reward.claim_deadline) < now
        due_notice = reward.public_notice_at is None and reward.notified_at is not None \
            and as_utc(reward.notified_at) + timedelta(days=notice_after_days) <= now
        if not (lapsed or due_notice):
            continue
        try:
            _claim_version(reward, None)
        except Conflict:
            continue  # changed meanwhile (e.g. claimed just now): tomorrow's run looks again
        if lapsed:
            reward.status = S.EXPIRED.value
            _event(reward, "expire", None, S.NOTIFIED.value, S.EXPIRED.value, "领取期限已过，视为放弃。", public=True)
            record("reward.expire", actor="system", object_type="reward", object_id=reward.id,
                   department_id=reward.department_id)
            expired += 1
        else:
            reward.public_notice_at = now
            _event(reward, "public_notice", None, None, None, "举报人尚未领取：已发布公告（仅列举报编号和金额）。",
                   public=True)
            record("reward.public_notice", actor="system", object_type="reward", object_id=reward.id,
                   department_id=reward.department_id)
            published += 1
        db.session.commit()
    return published, expired


def public_notices() -> list[Reward]:
    """Unclaimed rewards listed publicly (reference and amount only) until claimed or expired."""
    return list(db.session.scalars(select(Reward).where(Reward.status == S.NOTIFIED.value,
                                                        Reward.public_notice_at.is_not(None))
                                   .order_by(Reward.claim_deadline)))


def objection_open(reward: Reward, now: datetime | None = None) -> bool:
    """May the reporter still dispute the amount (T6: 10 days from the claim notice)?"""
    return bool(reward.status == S.NOTIFIED.value and reward.objection_deadline
                and as_utc(reward.objection_deadline) >= (now or utcnow()))


def amount_text(reward: Reward) -> str:
    return money.yuan(from_fen(reward.amount_fen if reward.amount_fen is not None else reward.calculated_fen))


def payment_methods() -> dict[str, str]:
    return PAYMENT_METHODS


def today_beijing() -> date:
    from tipoff.clockview import SHANGHAI

    return utcnow().astimezone(SHANGHAI).date()
