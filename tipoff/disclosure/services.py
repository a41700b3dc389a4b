"""Disclosure services: request, decide (with the custodian passphrase), view within the window, expire.

Handlers never see identity. A handler asks, with a purpose and a reason; a 保密员 (custodian) decides
with the custodian passphrase, which unlocks the identity private key for that one decision only.
The identity is then re-sealed under a data key of this request's own, readable only by the requester
and only until the release window ends, when that key is destroyed. Every step is audited, and the
reporter sees on /status that their identity was disclosed, to whom (role, department) and why.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from tipoff import crypto
from tipoff.audit.services import record
from tipoff.cases.services import case_for
from tipoff.db import as_utc, utcnow
from tipoff.disclosure.models import DisclosureRequest
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity, Tip
from tipoff.intake.validators import clean_text
from tipoff.policy import Role
from tipoff.retention.policy import DESTROYED_NOTICE

PURPOSES = {"contact": "联系举报人核实情况", "reward_payment": "支付举报奖励", "investigation": "调查需要"}
REQUESTING_ROLES = {Role.HANDLER, Role.LEADER, Role.OVERSEER}


@dataclass(frozen=True)
class OpenedIdentity:
    name: str
    phone: str
    id_number: str | None
    contact_preference: str
    release_until: datetime
    bank: str | None = None     # a reward claim by bank transfer
    account: str | None = None


def _aad(request_id: int, part: str) -> bytes:
    return f"disclosure:{request_id}:{part}".encode()


def custodians_required() -> int:
    """1 or 2 custodians must approve (TIPOFF_DISCLOSURE_CUSTODIANS)."""
    return 2 if int(current_app.config.get("TIPOFF_DISCLOSURE_CUSTODIANS", 1)) >= 2 else 1


def release_window() -> timedelta:
    """How long an approved identity stays readable by its requester (TIPOFF_DISCLOSURE_HOURS)."""
    return timedelta(hours=int(current_app.config.get("TIPOFF_DISCLOSURE_HOURS", 24)))


def request_disclosure(user, reference: str, purpose: str, reason: str) -> DisclosureRequest:
    """A handler asks to see the identity of a named reporter of a case they handle."""
    if Role(user.role) not in REQUESTING_ROLES:
        raise Forbidden("您的角色不能申请调阅举报人身份。")
    tip = case_for(user, reference)
    # A reward claim's bank details are opened only for the payment (request_payment_disclosure).
    identity = db.session.scalar(select(ReporterIdentity).where(ReporterIdentity.tip_id == tip.id,
                                                                ReporterIdentity.sealed.is_not(None),
                                                                ReporterIdentity.source != "reward_claim")
                                 .order_by(ReporterIdentity.id.desc()))
    if identity is None and _identity_destroyed(tip):
        raise Conflict(f"举报人身份信息{DESTROYED_NOTICE}，无法调阅。", code="identity_destroyed")
    if identity is None:
        raise Conflict("该举报为匿名举报，没有可调阅的身份信息。", code="anonymous")
    problems: dict[str, list[str]] = {} if purpose in PURPOSES else {"purpose": ["请选择调阅目的。"]}
    try:
        text = clean_text(reason, field="理由", minimum=5, maximum=1000, multiline=True)
    except ValueError as exc:
        problems["reason"] = [str(exc)]
    if problems:  # both fields' problems at once
        raise ValidationFailed(fields=problems)
    return _file(user, tip, identity.id, purpose, text)


def _identity_destroyed(tip: Tip) -> bool:
    """Retention removed this tip's identities (tipoff.retention)."""
    from tipoff.retention.models import RetentionMark

    mark = db.session.get(RetentionMark, tip.id)
    return mark is not None and mark.identity_destroyed_at is not None


def _file(user, tip: Tip, identity_id: int, purpose: str, reason: str, reward_id: int | None = None) -> DisclosureRequest:
    request = DisclosureRequest(tip_id=tip.id, identity_id=identity_id, requested_by_id=user.id, purpose=purpose,
                                reason_sealed=b"", status="pending", reward_id=reward_id)
    db.session.add(request)
    db.session.flush()
    request.reason_sealed = crypto.encrypt(reason.encode("utf-8"), tip.data_key, aad=_aad(request.id, "reason"))
    record("disclosure.request", actor=user, object_type="disclosure", object_id=request.id,
           department_id=tip.department_id,
           details={"tip": tip.reference, "purpose": purpose, **({"reward": reward_id} if reward_id else {})})
    db.session.commit()
    return request


def request_payment_disclosure(user, reward_id: int, reason: str) -> DisclosureRequest:
    """A finance officer of the paying department asks to see the claimant's identity for one payment."""
    from tipoff.rewards.models import Reward

    reward = db.session.get(Reward, reward_id)
    if reward is None or user.department_id != reward.department_id:
        raise NotFound()
    if Role(user.role) != Role.FINANCE:
        raise Forbidden("只有财务人员为支付奖励申请调阅。")
    if reward.status != "claimed":
        raise Conflict("举报人申领后才能为支付申请调阅身份。", code="not_claimed")
    identity_id = reward.claim_identity_id or db.session.scalar(
        select(ReporterIdentity.id).where(ReporterIdentity.tip_id == reward.tip_id, ReporterIdentity.sealed.is_not(None),
                                          ReporterIdentity.source != "reward_claim")
        .order_by(ReporterIdentity.id.desc()))
    if identity_id is None:
        raise Conflict("匿名举报人现场领取：凭编号和查询码核对即可，无须调阅身份。", code="anonymous")
    try:
        text = clean_text(reason, field="理由", minimum=5, maximum=1000, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={"reason": [str(exc)]}) from None
    return _file(user, reward.tip, identity_id, "reward_payment", text, reward_id=reward.id)


def reason_of(request: DisclosureRequest) -> str:
    """The requester's reason, decrypted (shown to custodians)."""
    try:
        return crypto.decrypt(request.reason_sealed, aad=_aad(request.id, "reason")).decode("utf-8")
    except crypto.DataKeyDestroyed:
        return f"（{DESTROYED_NOTICE}）"  # retention destroyed the tip's key


def _pending(request_id: int) -> DisclosureRequest:
    request = db.session.get(DisclosureRequest, request_id)
    if request is None:
        raise NotFound()
    if request.status not in ("pending", "first_approval"):
        raise Conflict("该申请已处理。", code="decided")
    return request


def decide(custodian, request_id: int, *, approve: bool, passphrase: str = "") -> DisclosureRequest:
    """A custodian approves (with the passphrase) or refuses a request."""
    if Role(custodian.role) != Role.CUSTODIAN:
        raise Forbidden("只有保密员可以审批身份调阅。")
    request = _pending(request_id)
    if custodian.id == request.requested_by_id:
        raise Forbidden("不能审批自己的申请。")
    tip = request.tip
    if not approve:
        request.status, request.decided_by_id, request.decided_at = "refused", custodian.id, utcnow()
        record("disclosure.refuse", actor=custodian, object_type="disclosure", object_id=request.id,
               department_id=tip.department_id, details={"tip": tip.reference})
        db.session.commit()
        return request
    try:
        key = crypto.unlock_identity_key(passphrase or "")
    except crypto.IdentityKeyError:
        record("disclosure.passphrase_refused", actor=custodian, object_type="disclosure", object_id=request.id,
               department_id=tip.department_id)
        db.session.commit()
        raise ValidationFailed("保密员口令不正确。", fields={"passphrase": ["口令不正确"]}) from None
    if custodians_required() == 2 and request.status == "pending":
        request.status, request.first_custodian_id = "first_approval", custodian.id
        record("disclosure.first_approval", actor=custodian, object_type="disclosure", object_id=request.id,
               department_id=tip.department_id, details={"tip": tip.reference})
        db.session.commit()
        return request
    if request.first_custodian_id == custodian.id:
        raise Forbidden("第二次审批须由另一名保密员进行。")
    identity = db.session.get(ReporterIdentity, request.identity_id)
    if identity.sealed is None:  # destroyed meanwhile by retention: nothing left to open
        raise Conflict(f"举报人身份信息{DESTROYED_NOTICE}，无法调阅。", code="identity_destroyed")
    plaintext = key.open(identity.sealed)
    release_key = crypto.new_data_key("disclosure")
    request.release_key_id = release_key.id
    request.released_sealed = crypto.encrypt(plaintext, release_key, aad=_aad(request.id, "identity"))
    del plaintext, key
    request.status, request.decided_by_id, request.decided_at = "approved", custodian.id, utcnow()
    request.release_until = utcnow() + release_window()
    record("disclosure.approve", actor=custodian, object_type="disclosure", object_id=request.id,
           department_id=tip.department_id,
           details={"tip": tip.reference, "hours": int(release_window().total_seconds() // 3600)})
    db.session.commit()
    return request


def _expire(request: DisclosureRequest) -> None:
    """Crypto-shred the released copy: its data key is destroyed and the blob dropped."""
    key = crypto.data_key_of(request.released_sealed) if request.released_sealed else None
    if key is not None and key.wrapped is not None:
        crypto.destroy_data_key(key)
    request.released_sealed = None
    request.status = "expired"
    record("disclosure.expire", actor="system", object_type="disclosure", object_id=request.id,
           department_id=request.tip.department_id)


def view_identity(user, request_id: int) -> OpenedIdentity:
    """The requester reads the released identity within the window (each view audited)."""
    request = db.session.get(DisclosureRequest, request_id)
    if request is None or request.requested_by_id != user.id:
        raise NotFound()
    if request.status == "approved" and as_utc(request.release_until) <= utcnow():
        _expire(request)
        db.session.commit()
    if request.status != "approved" or request.released_sealed is None:
        raise Conflict("该申请未获批准或查看期限已过。", code="not_released")
    data = json.loads(crypto.decrypt(request.released_sealed, aad=_aad(request.id, "identity")))
    record("disclosure.view", actor=user, object_type="disclosure", object_id=request.id,
           department_id=request.tip.department_id, details={"tip": request.tip.reference})
    db.session.commit()
    return OpenedIdentity(data["name"], data["phone"], data.get("id_number"), data.get("contact_preference", "phone"),
                          as_utc(request.release_until), data.get("bank"), data.get("account"))


def expire_due(now: datetime | None = None) -> int:
    """Destroy every release whose window has ended (for cron); returns how many."""
    now = now or utcnow()
    due = db.session.scalars(select(DisclosureRequest).where(DisclosureRequest.status == "approved",
                                                             DisclosureRequest.release_until <= now)).all()
    for request in due:
        _expire(request)
    db.session.commit()
    return len(due)


def pending_requests() -> list[DisclosureRequest]:
    """Requests waiting for a custodian, oldest first."""
    return list(db.session.scalars(select(DisclosureRequest).where(
        DisclosureRequest.status.in_(("pending", "first_approval"))).order_by(DisclosureRequest.id)))


def requests_of(user) -> list[DisclosureRequest]:
    """A staff user's own requests, newest first."""
    return list(db.session.scalars(select(DisclosureRequest).where(DisclosureRequest.requested_by_id == user.id)
                                   .order_by(DisclosureRequest.id.desc())))


def disclosures_for_reporter(tip: Tip) -> list[dict]:
    """What the reporter may know: when, to whom (role and department), and why (the purpose)."""
    from tipoff.accounts.models import User
    from tipoff.policy import ROLE_LABELS

    rows = db.session.scalars(select(DisclosureRequest).where(
        DisclosureRequest.tip_id == tip.id, DisclosureRequest.status.in_(("approved", "expired")))
        .order_by(DisclosureRequest.id)).all()
    shown = []
    for row in rows:
        requester = db.session.get(User, row.requested_by_id)
        shown.append({"at": row.decided_at, "role": ROLE_LABELS[Role(requester.role)],
                      "department": requester.department.name if requester.department else "",
                      "purpose": PURPOSES[row.purpose]})
    return shown
