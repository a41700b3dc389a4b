"""The reporter's reward steps on /status: claim (bank transfer or in person), decline, object to the amount.

Bank details are an identity like any other: sealed to the identity public key on arrival (a
ReporterIdentity row), with blind indexes for the exclusion check (R7); nobody reads them without an
approved disclosure for the payment.
"""
from __future__ import annotations

import json
from typing import Mapping

from tipoff import crypto, money
from tipoff.audit.services import record
from tipoff.db import as_utc, claim_version, utcnow
from tipoff.errors import Conflict, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity, Tip
from tipoff.intake.validators import clean_text, normalise_id_number, normalise_mobile
from tipoff.messages import Message
from tipoff.rewards import eligibility
from tipoff.rewards.models import Reward
from tipoff.rewards.services import _event, reward_of_tip
from tipoff.rewards.workflow import CLAIM_METHODS, REPORTER_STEPS, RewardState

S = RewardState


def _open_notified(tip: Tip, action: str) -> Reward:
    """The tip's notified reward, claimed for this change (optimistic lock: a racing step makes this a 409)."""
    reward = reward_of_tip(tip)
    step = REPORTER_STEPS[action]
    if reward is None or S(reward.status) not in step.from_states:
        raise Conflict(Message("当前没有待领取的奖励。"), code="no_reward")
    if reward.claim_deadline and as_utc(reward.claim_deadline) < utcnow():
        raise Conflict(Message("领取期限已过。"), code="claim_window_closed")
    claim_version(reward, None, Message("奖励情况刚有变化，请刷新页面后重试。"), "reward_changed")
    return reward


def _back_to_assessment(reward: Reward) -> None:
    """Everything that belonged to the notice and the approvals goes; the reward is assessed afresh."""
    reward.status = S.ASSESSING.value
    reward.approved_by_id = reward.overseer_approved_by_id = None
    reward.notified_at = reward.claim_deadline = reward.objection_deadline = reward.public_notice_at = None
    reward.claim_method = reward.claimed_at = reward.claim_identity_id = None


def _bank_details(form: Mapping[str, str]) -> dict:
    errors: dict[str, list[str]] = {}
    values = {}
    for key, label, maximum in (("holder", Message("收款人姓名"), 50), ("bank", Message("开户银行"), 100)):
        try:
            values[key] = clean_text(form.get(key, ""), field=label, minimum=2, maximum=maximum)
        except ValueError as exc:
            errors[key] = [str(exc)]
    account = "".join(ch for ch in form.get("account", "") if not ch.isspace())
    if not 8 <= len(account) <= 30 or any(ch not in "0123456789" for ch in account):
        errors["account"] = [Message("银行账号应为 8 至 30 位数字。")]
    values["account"] = account
    try:
        values["phone"] = normalise_mobile(form.get("phone", ""))
    except ValueError as exc:
        errors["phone"] = [str(exc)]
    try:
        values["id_number"] = normalise_id_number(form.get("id_number", ""))
    except ValueError as exc:
        errors["id_number"] = [str(exc)]
    if errors:
        raise ValidationFailed(fields=errors)
    return values


def reporter_claim(tip: Tip, method: str, form: Mapping[str, str]) -> Reward:
    """The reporter chooses how to receive the reward (within the claim window)."""
    reward = _open_notified(tip, "claim")
    if method not in CLAIM_METHODS:
        raise ValidationFailed(fields={"method": [Message("请选择领取方式。")]})
    details = {"method": method}
    if method == "bank":
        bank = _bank_details(form)
        identity = ReporterIdentity(
            tip_id=tip.id, source="reward_claim",
            sealed=crypto.seal_identity(json.dumps({"name": bank["holder"], "phone": bank["phone"],
                                                    "id_number": bank["id_number"], "contact_preference": "phone",
                                                    "bank": bank["bank"], "account": bank["account"]},
                                                   ensure_ascii=False, sort_keys=True).encode("utf-8")),
            phone_index=crypto.blind_index("phone", bank["phone"]),
            id_number_index=crypto.blind_index("id_number", bank["id_number"]))
        db.session.add(identity)
        db.session.flush()
        reward.claim_identity_id = identity.id
        if eligibility.excluded([identity.id]):
            # R7: matched on the register by blind index only; a leader reviews it.
            reward.eligibility = {**reward.eligibility, "not_excluded": {"ok": False,
                                                                         "note": "领取人与不予奖励人员登记相符。"}}
            _back_to_assessment(reward)
            _event(reward, "claim_excluded", "reporter", S.NOTIFIED.value, S.ASSESSING.value,
                   "领取人与不予奖励人员登记相符，退回评定。", public=False)
            record("reward.claim_excluded", actor="public", object_type="reward", object_id=reward.id,
                   department_id=reward.department_id)
            db.session.commit()
            return reward
    reward.claim_method, reward.claimed_at, reward.status = method, utcnow(), S.CLAIMED.value
    _event(reward, "claim", "reporter", S.NOTIFIED.value, S.CLAIMED.value, f"领取方式：{CLAIM_METHODS[method]}",
           details, public=True)
    record("reward.claim", actor="public", object_type="reward", object_id=reward.id,
           department_id=reward.department_id, details=details)
    db.session.commit()
    return reward


def reporter_decline(tip: Tip) -> Reward:
    reward = _open_notified(tip, "decline")
    reward.status = S.DECLINED.value
    _event(reward, "decline", "reporter", S.NOTIFIED.value, S.DECLINED.value, "举报人放弃领取奖励。", public=True)
    record("reward.decline", actor="public", object_type="reward", object_id=reward.id,
           department_id=reward.department_id)
    db.session.commit()
    return reward


def reporter_object(tip: Tip, reason_text: str) -> Reward:
    """The reporter disputes the amount within the objection window: the proposal is reopened."""
    reward = _open_notified(tip, "object")
    if reward.objection_deadline and as_utc(reward.objection_deadline) < utcnow():
        raise Conflict(Message("对奖励金额提出异议的期限（通知后 10 日）已过。"), code="objection_window_closed")
    try:
        reason = clean_text(reason_text, field=Message("异议理由"), minimum=5, maximum=2000, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={"amount_objection": [str(exc)]}) from None
    amount = money.yuan(reward.amount)
    _back_to_assessment(reward)
    from tipoff.intake.services import post_message

    post_message(tip, f"对奖励金额（{amount}）提出异议：{reason}", sender="reporter", commit=False)
    _event(reward, "object", "reporter", S.NOTIFIED.value, S.ASSESSING.value, "举报人对奖励金额提出异议（理由见与举报人的消息）。",
           {"amount": amount}, public=True)
    record("reward.object", actor="public", object_type="reward", object_id=reward.id,
           department_id=reward.department_id)
    db.session.commit()
    return reward
