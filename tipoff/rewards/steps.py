"""What each staff step of a reward does (propose, override, not_eligible, approve, send_back, notify,
extend_claim, pay). Called only by tipoff.rewards.services.perform, which checks role, department,
state and version around it and writes the history and the audit entry."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Mapping

from sqlalchemy import select

from tipoff import crypto, money
from tipoff.db import as_utc, utcnow
from tipoff.errors import Conflict, Forbidden, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.policy import Role
from tipoff.intake.validators import normalise_id_number
from tipoff.rewards import eligibility
from tipoff.rewards.eligibility import OVERRIDDEN
from tipoff.rewards.models import Reward, to_fen
from tipoff.rewards.services import (
    MAX_CLAIM_EXTENSION_DAYS,
    _calculate,
    _eligibility,
    _text,
    claim_window,
    facts_from,
    overseer_above,
    tell_reporter,
    today_beijing,
)
from tipoff.rewards.workflow import PAYMENT_METHODS, RewardState, Step

S = RewardState
Result = tuple[str | None, dict, str, RewardState | None]


def _yes_no(payload: Mapping[str, Any], key: str, question: str) -> bool:
    value = payload.get(key)
    if value in (True, "yes", "true", "1"):
        return True
    if value in (False, "no", "false", "0"):
        return False
    raise ValidationFailed(fields={key: [f"请回答：{question}"]})


def _propose(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    concluded = _concluded_case(reward) or db.session.get(Tip, reward.matter_tip_id)
    known = _yes_no(payload, "known_before", "举报前，被举报单位或监管部门是否已掌握该情况并依法处理？")
    # R5: paid to the first signatory or their written delegate. Who that is stays in the sealed identity:
    # no name is typed here.
    joint = payload.get("joint") in (True, "yes", "true", "1", "on")
    facts = facts_from(concluded, {k: payload.get(k) for k in ("fine", "accident_grade", "concealed_deaths")})
    _calculate(reward, concluded, facts)
    overridden = set((reward.eligibility or {}).get(OVERRIDDEN, []))
    _eligibility(reward, concluded, known_before=known, joint=joint)
    failing = [code for code in eligibility.failing(reward.eligibility) if code not in overridden]
    if overridden:
        reward.eligibility = {**reward.eligibility, OVERRIDDEN: sorted(overridden)}
    if failing:
        raise Conflict("不符合奖励条件：" + "、".join(eligibility.LABELS[c] for c in failing)
                       + "。请认定不符合奖励条件，或由部门负责人说明理由后认定。", code="not_eligible")
    if reward.explanation.startswith("无法计算"):
        raise ValidationFailed(fields={"fine": [reward.explanation]})
    amount = reward.calculated
    reason = None
    if payload.get("amount") not in (None, ""):
        try:
            amount = money.parse_money(payload["amount"], maximum=Decimal("100000000"))
        except money.MoneyError as exc:
            raise ValidationFailed(fields={"amount": [str(exc)]}) from None
        if amount != reward.calculated:
            reason = _text(payload, "amount_reason", "金额与计算结果不同的理由", maximum=1000)
    if amount <= 0:
        raise ValidationFailed(fields={"amount": ["奖励金额须大于零；不予奖励请选择“认定不符合奖励条件”。"]})
    reward.amount_fen, reward.amount_reason = to_fen(amount), reason
    reward.proposed_by_id, reward.approved_by_id, reward.overseer_approved_by_id = user.id, None, None
    details = {"amount": money.to_string(amount), "calculated": money.to_string(reward.calculated),
               "rule_set": reward.rule_set_code, "eligibility": {k: v["ok"] for k, v in reward.eligibility.items() if k in eligibility.LABELS},
               "overridden": reward.eligibility.get(OVERRIDDEN, [])}
    note = f"建议奖励 {money.yuan(amount)}。{reward.explanation}" + (f" 调整理由：{reason}" if reason else "")
    return note, details, f"已提出奖励建议 {money.yuan(amount)}，等待部门负责人审批。", S.PROPOSED


def _concluded_case(reward: Reward) -> Tip | None:
    """The tip of the matter whose verified conclusion opened the reward (the latest concluded one)."""
    from tipoff.cases import duplicates

    matter = duplicates.matter_of(db.session.get(Tip, reward.matter_tip_id))
    verified = [t for t in matter if t.concluded_at is not None and t.outcome in ("substantiated",
                                                                                 "partially_substantiated")]
    return max(verified, key=lambda t: as_utc(t.concluded_at)) if verified else None


def _approve(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    role = Role(user.role)
    if user.id == reward.proposed_by_id:
        raise Forbidden("不能审批自己提出的奖励建议。")
    needs_overseer = reward.amount > overseer_above()
    if role == Role.LEADER:
        if reward.approved_by_id is not None:
            raise Conflict("部门负责人已批准，等待区安委会办公室审批。", code="awaiting_overseer")
        reward.approved_by_id = user.id
        if needs_overseer:
            return None, {"amount": money.to_string(reward.amount), "awaiting": "overseer"}, \
                f"已批准；金额超过 {money.yuan(overseer_above())}，还须区安委会办公室审批。", None
        return None, {"amount": money.to_string(reward.amount)}, "已批准。", S.APPROVED
    if reward.approved_by_id is None:
        raise Conflict("须先由部门负责人批准。", code="awaiting_leader")
    if not needs_overseer:
        raise Conflict("该金额不需要区安委会办公室审批。", code="not_needed")
    reward.overseer_approved_by_id = user.id
    return None, {"amount": money.to_string(reward.amount)}, "区安委会办公室已批准。", S.APPROVED


def _notify(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    now = utcnow()
    claim_by, object_by = claim_window(now)
    reward.notified_at, reward.claim_deadline, reward.objection_deadline = now, claim_by, object_by
    deadline = as_utc(claim_by).astimezone(_shanghai()).date().isoformat()
    tell_reporter(reward, f"您的举报经核查属实，奖励 {money.yuan(reward.amount)} 已批准。计算方式：{reward.explanation}。"
                          f"请在 {deadline} 前在本页选择领取方式（银行转账或凭编号和查询码现场领取），逾期视为放弃。"
                          "如对金额有异议，可在收到本通知之日起 10 日内提出。", user)
    return None, {"claim_deadline": deadline}, f"已通知举报人领奖（领取期限 {deadline}）。", S.NOTIFIED


def _shanghai():
    from tipoff.clockview import SHANGHAI

    return SHANGHAI


def _pay(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    errors: dict[str, list[str]] = {}
    try:
        amount = money.parse_money(payload.get("amount"))
    except money.MoneyError as exc:
        errors["amount"], amount = [str(exc)], None
    if amount is not None and amount != reward.amount:
        errors["amount"] = [f"发放金额须与批准金额 {money.yuan(reward.amount)} 一致。"]
    method = payload.get("method")
    if not isinstance(method, str) or method not in PAYMENT_METHODS:
        errors["method"] = ["请选择发放方式。"]
    try:
        paid_on = date.fromisoformat(str(payload.get("paid_at") or ""))
        claimed_on = as_utc(reward.claimed_at).astimezone(_shanghai()).date()
        if paid_on > today_beijing() or paid_on < claimed_on:
            raise ValueError
    except ValueError:
        errors["paid_at"] = ["请填写发放日期（领取申请之后、今天或以前），格式 2026-12-01。"]
    voucher = payload.get("voucher_no") if isinstance(payload.get("voucher_no"), str) else ""
    voucher = voucher.strip()
    if not voucher or len(voucher) > 64:
        errors["voucher_no"] = ["请填写凭证号（不超过 64 个字符）。"]
    if errors:
        raise ValidationFailed(fields=errors)
    _payment_identity_checked(user, reward, payload)
    reward.paid_at, reward.paid_fen, reward.paid_method, reward.voucher_no = paid_on, to_fen(amount), method, voucher
    reward.paid_by_id = user.id
    tell_reporter(reward, f"奖励 {money.yuan(amount)} 已于 {paid_on.isoformat()} 发放（{PAYMENT_METHODS[method]}）。", user)
    return f"凭证号 {voucher}", {"amount": money.to_string(amount), "method": method, "voucher_no": voucher,
                                 "paid_at": paid_on.isoformat()}, f"已登记发放 {money.yuan(amount)}。", S.PAID


def _payment_identity_checked(user, reward: Reward, payload: Mapping[str, Any]) -> None:
    """A bank transfer or a named reporter needs an approved identity disclosure for this payment; an
    anonymous reporter collecting in person shows the reference and access code at the counter."""
    from tipoff.disclosure.models import DisclosureRequest

    tip = reward.tip
    if reward.claim_method == "in_person" and tip.anonymous:
        code = "".join(ch for ch in str(payload.get("access_code") or "") if ch in "0123456789")
        if not code or not crypto.verify_secret(tip.access_code_hash, code):
            raise ValidationFailed(fields={"access_code": ["领取人出示的查询码不正确：请核对后重新输入。"]})
        # R7 for a reporter nobody knows: the collector's ID number is matched on the exclusion register by
        # its blind index at the counter, then forgotten (never stored or logged).
        try:
            id_number = normalise_id_number(str(payload.get("collector_id_number") or ""))
        except ValueError as exc:
            raise ValidationFailed(fields={"collector_id_number": [str(exc)]}) from None
        if eligibility.excluded(id_number_index=crypto.blind_index("id_number", id_number)):
            raise Conflict("领取人属于不予奖励的人员（R7），不能发放；请报部门负责人处理。", code="excluded")
        return
    approved = db.session.scalar(select(DisclosureRequest.id).where(
        DisclosureRequest.reward_id == reward.id, DisclosureRequest.requested_by_id == user.id,
        DisclosureRequest.purpose == "reward_payment", DisclosureRequest.status.in_(("approved", "expired")),
        DisclosureRequest.identity_id == _payee_identity(reward)))
    if approved is None:
        raise Conflict("发放前须申请调阅领奖人身份（目的：支付举报奖励），并经保密员批准。", code="disclosure_needed")


def _payee_identity(reward: Reward) -> int | None:
    """The identity the payment goes to: the bank claim's, else the reporter's latest own identity."""
    from tipoff.intake.models import ReporterIdentity

    return reward.claim_identity_id or db.session.scalar(
        select(ReporterIdentity.id).where(ReporterIdentity.tip_id == reward.tip_id,
                                          ReporterIdentity.source != "reward_claim")
        .order_by(ReporterIdentity.id.desc()))


def _reopen_claim(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    reason = _text(payload, "reason", "退回理由（告知举报人）", maximum=1000)
    reward.claim_method = reward.claimed_at = reward.claim_identity_id = None
    tell_reporter(reward, f"您的领取申请需要重新提交。理由：{reason}", user)
    return reason, {}, "已退回举报人重新申领。", S.NOTIFIED


def _withdraw(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    reason = _text(payload, "reason", "撤销理由", maximum=1000)
    reward.not_eligible_reason = reason
    tell_reporter(reward, f"经重新审核，本次奖励撤销。理由：{reason}", user)
    return reason, {}, "已撤销奖励，并已告知举报人。", S.NOT_ELIGIBLE


def _override(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    """A leader accepts the checks failing *now*, with a reason; a check that fails later needs a new decision."""
    failing = eligibility.failing(reward.eligibility)
    if not failing:
        raise Conflict("目前没有不符合的奖励条件，无须认定。", code="nothing_to_override")
    reason = _text(payload, "reason", "认定理由", maximum=1000)
    reward.override_reason = reason
    covered = sorted(set((reward.eligibility or {}).get(OVERRIDDEN, [])) | set(failing))
    reward.eligibility = {**reward.eligibility, OVERRIDDEN: covered}
    return reason, {"checks": failing}, "已记录认定理由；可以提出奖励建议。", None


def _not_eligible(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    reason = _text(payload, "reason", "不符合奖励条件的理由", maximum=1000)
    reward.not_eligible_reason = reason
    tell_reporter(reward, f"经审核，您的举报不符合奖励条件。理由：{reason}", user)
    return reason, {}, "已认定不符合奖励条件，并已告知举报人。", S.NOT_ELIGIBLE


def _send_back(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    reason = _text(payload, "reason", "退回理由", maximum=1000)
    reward.approved_by_id = reward.overseer_approved_by_id = None
    return reason, {}, "已退回重新评定。", S.ASSESSING


def _extend_claim(user, reward: Reward, payload: Mapping[str, Any]) -> Result:
    try:
        days = int(payload.get("days"))
        if not 1 <= days <= MAX_CLAIM_EXTENSION_DAYS:
            raise ValueError
    except (TypeError, ValueError):
        raise ValidationFailed(fields={"days": [f"请填写 1 至 {MAX_CLAIM_EXTENSION_DAYS} 之间的天数。"]}) from None
    reason = _text(payload, "reason", "延长理由", maximum=1000)
    reward.claim_deadline = as_utc(reward.claim_deadline) + timedelta(days=days)
    deadline = as_utc(reward.claim_deadline).astimezone(_shanghai()).date().isoformat()
    tell_reporter(reward, f"领取期限已延长至 {deadline}。理由：{reason}", user)
    return reason, {"days": days, "claim_deadline": deadline}, f"领取期限已延长至 {deadline}。", None


HANDLERS = {"propose": _propose, "approve": _approve, "notify": _notify, "pay": _pay, "override": _override,
            "not_eligible": _not_eligible, "send_back": _send_back, "extend_claim": _extend_claim,
            "reopen_claim": _reopen_claim, "withdraw": _withdraw}


def apply(user, reward: Reward, step: Step, payload: Mapping[str, Any]) -> Result:
    note, details, message, to_state = HANDLERS[step.action](user, reward, payload)
    if to_state is None and step.to_state is not None and step.action not in ("approve",):
        to_state = step.to_state
    return note, details, message, to_state

