"""Case services: `perform` carries out every workflow action — checks, state, deadline, history, audit.

Refusals change nothing: 404 for a case outside the actor's department, 403 for a role that may not
act, 409 for an action the state does not allow or a case someone else changed meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

from flask import current_app
from sqlalchemy import select

from tipoff import crypto, money
from tipoff.audit.services import record
from tipoff.cases import clocks, duplicates
from tipoff.cases.states import CaseState
from tipoff.cases.workflow import (
    CITY_LEVEL_NOTICE,
    ENFORCEMENT,
    MAX_DISTRICT_REVIEWS,
    MAX_EXTENSION_DAYS,
    OUTCOMES,
    REJECTION_REASONS,
    REPORTER_TRANSITIONS,
    TRANSITIONS,
    Transition,
)
from tipoff.db import as_utc, claim_version, utcnow
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.attachments import read_attachment
from tipoff.intake.models import Attachment, CaseEvent, Tip
from tipoff.intake.validators import clean_text
from tipoff.policy import Role
from tipoff.reference.models import Department
from tipoff.retention.policy import DESTROYED_NOTICE

TEXT_MAX = 2000
ACCIDENT_GRADES = ("general", "larger", "major", "especially_major")
MAX_FINE = Decimal("100000000000")  # ¥100 billion: anything above is a typing error


@dataclass
class Outcome:
    """What an action produced, for the view to report."""

    tip: Tip
    event: CaseEvent
    message: str


def visible_to(user, tip: Tip) -> bool:
    """May this staff user see this case at all (department scope)?"""
    scope = user.scope("cases.view")
    return scope == "district" or (scope == "department" and user.department_id == tip.department_id)


def case_for(user, reference: str) -> Tip:
    """A case by reference, or NotFound when it does not exist or lies outside the user's scope."""
    tip = db.session.scalar(select(Tip).where(Tip.reference == (reference or "").strip().upper()))
    if tip is None or not visible_to(user, tip):
        raise NotFound("找不到该案件。")
    return tip


def evidence_file(user, reference: str, attachment_id: int) -> tuple[Tip, Attachment, bytes]:
    """One evidence file of a case the user may see, decrypted; the read is audited and committed first.

    The audit entry names the attachment by number only (never the reporter's file name, which can name
    a person). EvidenceDestroyed (410) once retention has shredded the tip's key."""
    tip = case_for(user, reference)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.tip_id != tip.id:
        raise NotFound()
    try:
        content = read_attachment(tip, attachment)
    except FileNotFoundError:
        # Not retention (that is EvidenceDestroyed): the storage lost a file. Say so plainly and log it
        # for the administrator by number only.
        current_app.logger.error("evidence file missing from storage: attachment %s", attachment.id)
        raise NotFound("该证据文件在存储中找不到，请联系系统管理员。", code="evidence_missing") from None
    record("case.evidence_read", actor=user, object_type="tip", object_id=tip.reference,
           department_id=tip.department_id, details={"attachment": attachment.id})
    db.session.commit()
    return tip, attachment, content


# Actions the state and role allow but the case's own facts make pointless: not offered on the case page
# (perform refuses them with a 409 all the same).
OFFERED_ONLY_WHEN: dict[str, Callable[[Tip], bool]] = {
    "forward_upward": lambda tip: not tip.forwarded_upward,
    "confirm_upward": lambda tip: bool(tip.forwarded_upward) and not tip.upward_confirmed,
    "routine_cover": lambda tip: not tip.routine_cover,
}


def offered(tip: Tip, transitions: list[Transition]) -> list[Transition]:
    """The transitions worth offering for this case (see OFFERED_ONLY_WHEN)."""
    return [t for t in transitions if OFFERED_ONLY_WHEN.get(t.action, lambda _: True)(tip)]


def record_view(user, tip: Tip) -> None:
    """Reading a case (its description, history) is a sensitive read: it leaves an audit entry."""
    record("case.view", actor=user, object_type="tip", object_id=tip.reference, department_id=tip.department_id)
    db.session.commit()


def _text(payload: Mapping[str, Any], key: str, label: str, required: bool = True) -> str | None:
    value = payload.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationFailed(fields={key: [f"请填写{label}。"]})
        return None
    if not isinstance(value, str):
        raise ValidationFailed(fields={key: [f"{label}须为文字。"]})
    try:
        return clean_text(value, field=label, minimum=1, maximum=TEXT_MAX, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={key: [str(exc)]}) from None


def _department(payload: Mapping[str, Any], current_id: int) -> Department:
    code = payload.get("to_department")
    department = db.session.scalar(select(Department).where(Department.code == code, Department.active.is_(True),
                                                            Department.handles_tips.is_(True))) \
        if isinstance(code, str) else None
    if department is None:
        raise ValidationFailed(fields={"to_department": ["请选择承办部门。"]})
    if department.id == current_id:
        raise ValidationFailed(fields={"to_department": ["不能移交给本部门。"]})
    return department


def parse_money(value: Any, field: str = "fine") -> Decimal | None:
    """An amount in yuan with at most two decimals, non-negative and sane; None when absent."""
    if value is None or value == "":
        return None
    try:
        return money.parse_money(value, maximum=MAX_FINE)
    except money.MoneyError as exc:
        raise ValidationFailed(fields={field: [str(exc)]}) from None


def _conclusion(tip: Tip, payload: Mapping[str, Any]) -> dict:
    outcome = payload.get("outcome")
    if outcome not in OUTCOMES:
        raise ValidationFailed(fields={"outcome": ["请选择核查结论。"]})
    enforcement = payload.get("enforcement") or []
    if isinstance(enforcement, str):
        enforcement = [enforcement]
    if not isinstance(enforcement, list) or any(e not in ENFORCEMENT for e in enforcement):
        raise ValidationFailed(fields={"enforcement": ["未知的处理措施。"]})
    fine = parse_money(payload.get("fine"))
    # The reward for a penalised tip is counted from the fine: a penalty without one (e.g. a warning) is 0.
    if "penalty" in enforcement and fine is None:
        raise ValidationFailed(fields={"fine": ["勾选了“行政处罚”：请填写罚款金额（不罚款的，如警告，填 0）。"]})
    conclusion: dict[str, Any] = {"outcome": outcome, "enforcement": sorted(set(enforcement)),
                                  "fine": str(fine) if fine is not None else None,
                                  "penalty_decision_no": _text(payload, "penalty_decision_no", "处罚决定书文号",
                                                               required=False)}
    if tip.category_code == "concealed_accident":
        deaths = payload.get("concealed_deaths")
        if deaths in (None, ""):
            deaths = 0
        try:
            deaths = int(deaths)
        except (TypeError, ValueError):
            raise ValidationFailed(fields={"concealed_deaths": ["须为整数。"]}) from None
        if not 0 <= deaths <= 10000:
            raise ValidationFailed(fields={"concealed_deaths": ["人数不合理，请核对。"]})
        grade = payload.get("accident_grade") or None
        if grade is not None and grade not in ACCIDENT_GRADES:
            raise ValidationFailed(fields={"accident_grade": ["未知的事故等级。"]})
        conclusion.update(concealed_deaths=deaths, accident_grade=grade)
    return conclusion


def _claim_version(tip: Tip, expected_version: int | None) -> None:
    claim_version(tip, expected_version, "该案件刚被他人更新，请刷新页面查看最新情况后再操作。", "case_changed")


def _check(user, tip: Tip, transition: Transition) -> None:
    role = Role(user.role)
    if not visible_to(user, tip):
        raise NotFound("找不到该案件。")
    if role not in transition.roles:
        raise Forbidden(f"您的角色不能进行“{transition.label}”操作。")
    if CaseState(tip.status) not in transition.from_states:
        raise Conflict(f"案件当前状态不能进行“{transition.label}”操作。", code="wrong_state")


def _event(tip: Tip, transition: Transition, actor, before: tuple[str, int], text: str | None,
           details: dict | None) -> CaseEvent:
    event = CaseEvent(tip_id=tip.id, action=transition.action, actor_user_id=getattr(actor, "id", None),
                      actor_label=getattr(actor, "username", None) or str(actor), from_state=before[0],
                      to_state=tip.status, from_department_id=before[1], to_department_id=tip.department_id,
                      details=details or None, public=transition.public)
    db.session.add(event)
    db.session.flush()
    if text:
        event.text_sealed = crypto.encrypt(text.encode("utf-8"), tip.data_key, aad=f"tip:{tip.id}:event:{event.id}".encode())
    return event


def event_text(tip: Tip, event: CaseEvent) -> str | None:
    """The decrypted free text of a history entry."""
    if not event.text_sealed:
        return None
    try:
        return crypto.decrypt(event.text_sealed, aad=f"tip:{tip.id}:event:{event.id}".encode()).decode("utf-8")
    except crypto.DataKeyDestroyed:
        return f"（{DESTROYED_NOTICE}）"  # retention destroyed the tip's key


def _tell_reporter(tip: Tip, text: str, actor) -> None:
    from tipoff.intake.services import post_message

    post_message(tip, text, sender="department", staff=actor, commit=False)


def perform(user, reference: str, action: str, payload: Mapping[str, Any] | None = None,
            expected_version: int | None = None) -> Outcome:
    """Carry out one workflow action on a case for a staff user, atomically."""
    payload = payload or {}
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise ValidationFailed(fields={"action": [f"未知的操作：{str(action)[:32]}"]})
    tip = case_for(user, reference)
    _check(user, tip, transition)
    before = (tip.status, tip.department_id)
    text, details, message = _apply(user, tip, transition, payload)
    _claim_version(tip, expected_version)
    if transition.to_state is not None:
        tip.status = transition.to_state.value
    if transition.starts_clock:
        clocks.start(tip, transition.starts_clock, utcnow())
    if tip.status in (CaseState.CLOSED.value, CaseState.REJECTED.value):
        tip.deadline_at, tip.deadline_rule = None, None
    event = _event(tip, transition, user, before, text, details)
    record(f"case.{action}", actor=user, object_type="tip", object_id=tip.reference,
           department_id=tip.department_id, details={"from": before[0], "to": tip.status, **(details or {})})
    db.session.commit()
    return Outcome(tip, event, message)


def _apply(user, tip: Tip, transition: Transition, payload: Mapping[str, Any]) -> tuple[str | None, dict, str]:
    """The action's own effects (validated before anything changes); returns text, details, message."""
    action, now = transition.action, utcnow()
    if action == "accept":
        tip.accepted_at = now
        return _text(payload, "note", "备注", required=False), {}, "已受理，核查期限 60 日。"
    if action == "reject":
        code = payload.get("reason_code")
        if code not in REJECTION_REASONS:
            raise ValidationFailed(fields={"reason_code": ["请选择不予受理的理由。"]})
        reason = _text(payload, "reason", "说明")
        _tell_reporter(tip, f"您的举报不予受理。理由：{REJECTION_REASONS[code]}。{reason}", user)
        return reason, {"reason_code": code}, "已决定不予受理，并已告知举报人。"
    if action in ("transfer", "designate"):
        return _transfer(user, tip, payload, final=action == "designate")
    if action == "request_extension":
        days = payload.get("days")
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise ValidationFailed(fields={"days": ["请填写延长的天数。"]}) from None
        if not 1 <= days <= MAX_EXTENSION_DAYS - tip.extension_days:
            raise ValidationFailed(fields={"days": [f"延期合计不得超过 {MAX_EXTENSION_DAYS} 日。"]})
        return _text(payload, "reason", "延期理由"), {"days": days}, "延期申请已提交，等待负责人批准。"
    if action == "approve_extension":
        request_event = _pending_extension(tip)
        if request_event is None:
            raise Conflict("没有待批准的延期申请。", code="no_extension_request")
        if request_event.actor_user_id == user.id:
            raise Forbidden("不能批准自己的延期申请。")
        days = request_event.details["days"]
        tip.extension_days += days
        if tip.deadline_at:
            longer = clocks.extension(as_utc(tip.deadline_at), days)
            tip.deadline_at, tip.deadline_provisional = longer.due, tip.deadline_provisional or longer.provisional
        reason = event_text(tip, request_event)
        _tell_reporter(tip, f"核查期限延长 {days} 日。理由：{reason}", user)
        return None, {"days": days, "request": request_event.id}, f"已批准延期 {days} 日，并已告知举报人。"
    if action == "conclude":
        duplicates.lock_matters(tip)  # before any write: the matter's one reward is decided below
        conclusion = _conclusion(tip, payload)
        summary = _text(payload, "summary", "核查情况")
        tip.outcome, tip.conclusion, tip.concluded_at = conclusion["outcome"], conclusion, now
        # A re-review's conclusion is the district's last word: the next step is the city, not another 复查.
        next_step = CITY_LEVEL_NOTICE if tip.reviews >= MAX_DISTRICT_REVIEWS else \
            "如对结果有异议，可在收到本告知之日起 10 日内申请复查。"
        _tell_reporter(tip, f"核查结论：{OUTCOMES[conclusion['outcome']]}。{summary}{next_step}", user)
        _tell_merged(tip, f"与您的举报合并办理的 {tip.reference} 已办结。核查结论：{OUTCOMES[conclusion['outcome']]}。"
                          f"{summary}", user)
        from tipoff.rewards.services import open_for_case

        open_for_case(tip, user)  # 核查属实: the matter's reward is assessed by this department
        return summary, conclusion, "已办结，并已告知举报人核查结论。"
    if action == "message":
        body = _text(payload, "body", "留言")
        _tell_reporter(tip, body, user)
        return None, {}, "留言已发送给举报人。"
    if action == "note":
        return _text(payload, "body", "备注"), {}, "备注已保存（举报人看不到）。"
    if action == "forward_upward":
        if tip.forwarded_upward:
            raise Conflict("已报送上级。", code="already_forwarded")
        tip.forwarded_upward = True
        return _text(payload, "reason", "报送理由"), {}, "已报送上级；上级确认接收前案件保持未结。"
    if action == "confirm_upward":
        if not tip.forwarded_upward:
            raise Conflict("尚未报送上级。", code="not_forwarded")
        if tip.upward_confirmed:
            raise Conflict("已记录上级确认接收。", code="already_confirmed")
        tip.upward_confirmed = True
        return _text(payload, "note", "备注", required=False), {}, "已记录上级确认接收。"
    if action == "routine_cover":
        if tip.routine_cover:
            raise Conflict("已标记为结合日常检查开展核查。", code="already_covered")
        tip.routine_cover = True
        return _text(payload, "note", "备注", required=False), {}, "已标记：核查结合日常检查开展，不得向被举报单位透露系举报引起。"
    if action in ("link", "merge"):
        other = _same_matter_target(user, tip, payload)
        if action == "merge" and other.status not in (CaseState.RECEIVED.value, CaseState.VERIFYING.value,
                                                      CaseState.UNDER_REVIEW.value):
            raise Conflict(f"{other.reference} 已不在办理中，不能并入。", code="target_not_open")
        root = duplicates.link(tip, other)
        if action == "link":
            return None, {"with": other.reference, "matter": root}, f"已与 {other.reference} 关联为同一事项。"
        tip.outcome, tip.conclusion, tip.concluded_at = "merged", {"merged_into": other.reference}, now
        _tell_reporter(tip, f"您的举报与 {other.reference} 反映的是同一事项，已合并办理；办理结果将在本页告知。"
                            "合并不影响您按受理先后享有的奖励资格。", user)
        return _text(payload, "reason", "说明", required=False), {"into": other.reference, "matter": root}, \
            f"已并入 {other.reference} 合并办理，本件结案。"
    if action == "close":
        if tip.forwarded_upward and not tip.upward_confirmed:
            raise Conflict("上级尚未确认接收，不能结案。", code="awaiting_upward")
        if tip.status == CaseState.CONCLUDED.value and tip.deadline_at and as_utc(tip.deadline_at) > now:
            raise Conflict("举报人申请复查的期限尚未届满，暂不能结案。", code="objection_window_open")
        return None, {}, "已结案。"
    raise ValidationFailed(fields={"action": ["未知的操作。"]})  # pragma: no cover - table and code agree


def _same_matter_target(user, tip: Tip, payload: Mapping[str, Any]) -> Tip:
    other_reference = payload.get("to_reference")
    if not isinstance(other_reference, str) or not other_reference.strip():
        raise ValidationFailed(fields={"to_reference": ["请填写同一事项的另一件举报的编号。"]})
    other = case_for(user, other_reference)
    if other.id == tip.id:
        raise ValidationFailed(fields={"to_reference": ["不能与自己关联或合并。"]})
    return other


def _tell_merged(tip: Tip, text: str, actor) -> None:
    """Reporters whose tips were merged into this case hear its result too."""
    for member in duplicates.matter_of(tip):
        if member.id != tip.id and (member.conclusion or {}).get("merged_into") == tip.reference:
            _tell_reporter(member, text, actor)


def _transfer(user, tip: Tip, payload: Mapping[str, Any], final: bool) -> tuple[str, dict, str]:
    if tip.designated and not final:
        raise Conflict("该案件已由区安委会办公室指定承办部门，不能再移交。", code="designated")
    target = _department(payload, tip.department_id)
    reason = _text(payload, "reason", "移交理由")
    started = as_utc(tip.received_at) if not tip.transfers else as_utc(_last_move(tip).created_at)
    cost_hours = round((utcnow() - started).total_seconds() / 3600, 1)
    details = {"to": target.code, "hours_spent": cost_hours}
    if not final and tip.transfers >= 1 and Role(user.role) != Role.OVERSEER:
        # A second transfer is not the department's call: the 安委办 designates, and that is final.
        office = db.session.scalar(select(Department).where(Department.kind == "committee_office"))
        tip.department_id, tip.awaiting_designation = office.id, True
        return reason, {**details, "requested": target.code, "to": office.code}, \
            "再次移交须由区安委会办公室指定承办部门：已提交区安委会办公室。"
    tip.department_id = target.id
    tip.transfers += 1
    if final:
        tip.designated, tip.awaiting_designation = True, False
    message = f"已指定 {target.name} 承办（最终指定）。" if final else f"已移交 {target.name}。"
    _tell_reporter(tip, f"您的举报已转由 {target.name} 办理。", user)
    return reason, details, message


def _last_move(tip: Tip) -> CaseEvent:
    return db.session.scalar(select(CaseEvent).where(CaseEvent.tip_id == tip.id,
                                                     CaseEvent.action.in_(("transfer", "designate")))
                             .order_by(CaseEvent.id.desc()))


def _pending_extension(tip: Tip) -> CaseEvent | None:
    events = db.session.scalars(select(CaseEvent).where(
        CaseEvent.tip_id == tip.id, CaseEvent.action.in_(("request_extension", "approve_extension")))
        .order_by(CaseEvent.id.desc())).all()
    return events[0] if events and events[0].action == "request_extension" else None


def objection_state(tip: Tip, now: datetime | None = None) -> str | None:
    """What /status offers after a conclusion: "open" (may object), "reviewed" (the city is next), "closed"."""
    if tip.status != CaseState.CONCLUDED.value:
        return None
    if tip.reviews >= MAX_DISTRICT_REVIEWS:
        return "reviewed"
    if tip.deadline_at and as_utc(tip.deadline_at) < (now or utcnow()):
        return "closed"
    return "open"


def reporter_objects(tip: Tip, reason_text: str) -> None:
    """The reporter asks for a re-review (复查) within the objection window after being told."""
    transition = REPORTER_TRANSITIONS["object"]
    if CaseState(tip.status) not in transition.from_states:
        raise Conflict("当前状态不能申请复查。", code="wrong_state")
    if tip.reviews >= MAX_DISTRICT_REVIEWS:
        raise Conflict(CITY_LEVEL_NOTICE, code="review_done")
    if tip.deadline_at and as_utc(tip.deadline_at) < utcnow():
        raise Conflict("申请复查的期限（告知后 10 日）已过。", code="objection_window_closed")
    reason = _text({"objection": reason_text}, "objection", "复查理由")
    before = (tip.status, tip.department_id)
    _claim_version(tip, None)
    tip.status = transition.to_state.value
    clocks.start(tip, transition.starts_clock, utcnow())
    tip.reviews += 1
    _event(tip, transition, "reporter", before, reason, {})
    record("case.object", actor="public", object_type="tip", object_id=tip.reference, department_id=tip.department_id)
    db.session.commit()


def reporter_objections(tip: Tip) -> list[tuple[datetime, str | None]]:
    """When the reporter asked for a 复查 and what they wrote (shown back to them on /status)."""
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.tip_id == tip.id, CaseEvent.action == "object")
                                .order_by(CaseEvent.id))
    return [(e.created_at, event_text(tip, e)) for e in events]


def history(tip: Tip, *, public_only: bool = False) -> list[tuple[CaseEvent, str | None]]:
    """The case's events with their decrypted text, oldest first."""
    stmt = select(CaseEvent).where(CaseEvent.tip_id == tip.id).order_by(CaseEvent.id)
    if public_only:
        stmt = stmt.where(CaseEvent.public.is_(True))
    return [(e, event_text(tip, e)) for e in db.session.scalars(stmt)]
