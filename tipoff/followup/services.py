"""After a case: the reporter's rating of the handling (满意度) and the insider's retaliation check-ins.

Ratings: once per tip, after the case is concluded, closed or rejected (12345 hotlines let callers rate
every answer, a refusal included); the optional comment is encrypted under the tip's data key.

Insider check-ins (吹哨人保护, 《安全生产法》第五十四条): at 30, 90 and 180 days after `tip.concluded_at`
the reporter channel asks whether the reporter has suffered retaliation. Which check is due is computed
from `concluded_at` each time, so nothing runs at conclusion and nothing is written when a page is only
viewed: an `InsiderCheck` row is written when the reporter answers. Each check stays open until the
next one is due (the last for 90 days); an unanswered check is superseded by the next one. A "yes" with
consent opens a linked matter for 区人力资源和社会保障局 through the intake service, opened by the same
access code as the original tip.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from tipoff import crypto
from tipoff.audit.services import record
from tipoff.cases.states import CaseState
from tipoff.cases.workflow import OPEN
from tipoff.db import as_utc, utcnow
from tipoff.errors import Conflict, ValidationFailed
from tipoff.extensions import db
from tipoff.followup.models import InsiderCheck, SatisfactionRating
from tipoff.intake.models import ReporterIdentity, Tip
from tipoff.intake.submission import INSIDER_FOLLOWUP
from tipoff.intake.validators import clean_text
from tipoff.messages import Message
from tipoff.reference.models import Department, Township
from tipoff.routing.matcher import Decision

RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}
COMMENT_MAX = 500
# Rejected cases can be rated too: the refusal is the department's answer, and 12345 rates every answer.
RATABLE_STATES = frozenset({CaseState.CONCLUDED.value, CaseState.CLOSED.value, CaseState.REJECTED.value})

CHECK_DAYS = (30, 90, 180)
LAST_CHECK_OPEN_DAYS = 90  # the 180-day check stays open until day 270, then lapses
RETALIATION_KINDS = {"pay_cut": "降薪/扣发奖金", "dismissal": "解除劳动合同", "transfer": "调岗",
                     "pressure": "威胁施压", "other": "其他"}
ACCOUNT_MAX = 2000
ACCOUNT_MIN_FOR_MATTER = 10  # the matter's description needs something to act on
MATTER_DEPARTMENT = "rsj"  # 区人力资源和社会保障局
MATTER_CHANNEL = INSIDER_FOLLOWUP  # filed by tipoff on the reporter's behalf, counted apart from web tips
MATTER_CATEGORY = "other"
MATTER_RULE = "insider_retaliation"
MATTER_EXPLANATION = ("吹哨人反映因举报受到打击报复，经其同意转区人力资源和社会保障局处理"
                      "（《安全生产法》第五十四条）。")
# Identity rows copied to a matter: who the reporter is, not the bank details of a reward claim.
IDENTITY_SOURCES_NOT_COPIED = frozenset({"reward_claim"})


# ------------------------------------------------------------------------------------------- ratings


@dataclass(frozen=True)
class RatingView:
    """A rating as the reporter and staff see it."""

    code: str
    label: str
    comment: str | None
    created_at: datetime


def _aad_rating(tip: Tip) -> bytes:
    return f"tip:{tip.id}:rating".encode()


def _aad_check(tip: Tip, check: InsiderCheck) -> bytes:
    return f"tip:{tip.id}:insider_check:{check.id}".encode()


def rating_of(tip: Tip) -> SatisfactionRating | None:
    """The tip's rating row, if the reporter has rated the handling."""
    return db.session.scalar(select(SatisfactionRating).where(SatisfactionRating.tip_id == tip.id))


def may_rate(tip: Tip) -> bool:
    """Is the handling of this tip finished, so the reporter can rate it (rated or not)?"""
    if tip.status not in RATABLE_STATES:
        return False
    into = (tip.conclusion or {}).get("merged_into") if tip.outcome == "merged" else None
    if into:  # merged: rated once the case it was merged into has its answer
        target = db.session.scalar(select(Tip.status).where(Tip.reference == into))
        return target in RATABLE_STATES
    return True


def rate_handling(tip: Tip, rating: str, comment: str = "") -> SatisfactionRating:
    """The reporter rates the handling once: 满意 / 基本满意 / 不满意, with an optional comment."""
    if not may_rate(tip):
        raise Conflict(Message("办理完毕后才能评价。"), code="not_concluded")
    given = rating_of(tip)
    if given is not None:
        raise Conflict(Message("您已评价过本件举报的办理（%(rating)s），每件举报只能评价一次。",
                               rating=Message(RATINGS[given.rating])), code="already_rated")
    if rating not in RATINGS:
        raise ValidationFailed(fields={"rating": [Message("请选择满意、基本满意或不满意。")]})
    try:
        text = clean_text(comment or "", field=Message("意见"), maximum=COMMENT_MAX, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={"comment": [str(exc)]}) from None
    row = SatisfactionRating(tip_id=tip.id, rating=rating, created_at=utcnow())
    if text:
        row.comment_sealed = crypto.encrypt(text.encode("utf-8"), tip.data_key, aad=_aad_rating(tip))
    db.session.add(row)
    record("tip.rating", actor="public", object_type="tip", object_id=tip.reference,
           department_id=tip.department_id, details={"rating": rating})
    try:
        db.session.commit()
    except IntegrityError:  # the same tip rated at the same moment from another tab
        db.session.rollback()
        raise Conflict(Message("您已评价过本件举报的办理，每件举报只能评价一次。"), code="already_rated") from None
    return row


def rating_view(tip: Tip) -> RatingView | None:
    """The tip's rating with its comment decrypted (None if not rated)."""
    row = rating_of(tip)
    if row is None:
        return None
    comment = None
    if row.comment_sealed:
        try:
            comment = crypto.decrypt(row.comment_sealed, aad=_aad_rating(tip)).decode("utf-8")
        except crypto.DecryptionError:
            comment = None  # the tip's key was destroyed at the end of the retention period
    return RatingView(row.rating, RATINGS[row.rating], comment, row.created_at)


def rating_for_staff(tip: Tip) -> RatingView | None:
    """For the case page: the reporter's rating and comment (reading the case is audited already)."""
    return rating_view(tip)


# ------------------------------------------------------------------------------ insider check-ins


def _is_matter(tip: Tip) -> bool:
    """A retaliation matter opened from a check-in is not checked on itself: its original is."""
    return bool(db.session.scalar(select(exists().where(InsiderCheck.matter_tip_id == tip.id))))


def _open_window(day: int) -> int:
    later = [d for d in CHECK_DAYS if d > day]
    return (later[0] - day) if later else LAST_CHECK_OPEN_DAYS


def due_day(tip: Tip, now: datetime | None = None) -> int | None:
    """The check-in the reporter should answer now (30, 90 or 180), or None."""
    if not tip.insider or tip.concluded_at is None or tip.status == CaseState.REJECTED.value:
        return None
    elapsed = (now or utcnow()) - as_utc(tip.concluded_at)
    current = next((d for d in reversed(CHECK_DAYS)
                    if timedelta(days=d) <= elapsed < timedelta(days=d + _open_window(d))), None)
    if current is None or _is_matter(tip):
        return None
    answered = db.session.scalar(select(exists().where(InsiderCheck.tip_id == tip.id, InsiderCheck.day == current,
                                                       InsiderCheck.answered_at.is_not(None))))
    return None if answered else current


@dataclass(frozen=True)
class CheckAnswer:
    """A validated answer to a check-in."""

    retaliation: bool
    kinds: tuple[str, ...] = ()
    account: str = ""
    consent: bool = False


def parse_answer(form: Mapping[str, object], kinds: Sequence[str]) -> CheckAnswer:
    """Validate the check-in form: yes/no, which kinds, the account, the consent to hand it over."""
    answer = form.get("retaliation")
    if answer not in ("yes", "no"):
        raise ValidationFailed(fields={"retaliation": [Message("请选择是否受到打击报复。")]})
    if answer == "no":
        return CheckAnswer(False)
    errors: dict[str, list[str]] = {}
    chosen = tuple(k for k in RETALIATION_KINDS if k in set(kinds))
    if not chosen or len(chosen) != len(set(kinds)):
        errors["kinds"] = [Message("请选择受到的打击报复方式（都不符合请选“其他”）。")]
    consent = form.get("consent") in ("1", "on", "true")
    raw = form.get("account") if isinstance(form.get("account"), str) else ""
    try:
        account = clean_text(raw, field=Message("情况说明"), minimum=ACCOUNT_MIN_FOR_MATTER if consent else 0,
                             maximum=ACCOUNT_MAX, multiline=True)
    except ValueError as exc:
        message = str(exc) if raw.strip() or not consent else \
            Message("转交区人力资源和社会保障局处理，需要简要说明情况（时间、经过），至少 10 个字。")
        errors["account"] = [message]
        account = ""
    if errors:
        raise ValidationFailed(fields=errors)
    return CheckAnswer(True, chosen, account, consent)


def answer_check(tip: Tip, day: int, answer: CheckAnswer) -> InsiderCheck:
    """Record the reporter's answer to the due check-in; a "yes" with consent opens a matter for 区人社局."""
    if due_day(tip) != day:
        raise Conflict(Message("这次回访已经回答过，或现在不需要回答。请刷新页面。"), code="check_not_due")
    matter = _open_matter(tip, day, answer) if answer.retaliation and answer.consent else None
    tip = db.session.get(Tip, tip.id)  # the intake service rolled the session back and committed
    # One answer per check-in: lock the tip row (PostgreSQL; SQLite's writers are serialised already).
    db.session.execute(select(Tip.id).where(Tip.id == tip.id).with_for_update())
    if due_day(tip) != day:
        db.session.commit()  # the matter, if one was opened, stays with 区人社局; it is simply not linked
        raise Conflict(Message("这次回访刚刚已经回答过。请刷新页面。"), code="check_not_due")
    now = utcnow()
    check = InsiderCheck(tip_id=tip.id, day=day, due_at=as_utc(tip.concluded_at) + timedelta(days=day),
                         answered_at=now, retaliation=answer.retaliation,
                         kinds=list(answer.kinds) if answer.retaliation else None,
                         consent=answer.consent if answer.retaliation else None,
                         matter_tip_id=matter.id if matter else None)
    db.session.add(check)
    db.session.flush()
    if answer.account:
        check.account_sealed = crypto.encrypt(answer.account.encode("utf-8"), tip.data_key,
                                              aad=_aad_check(tip, check))
    # District scope and no retaliation kinds: the reported unit's own regulator reads its department's audit
    # log, and "dismissed, after tip X" could point the employer at the reporter (安全生产法 art. 54).
    details: dict = {"day": day, "answered": True}
    if matter:
        details["matter"] = matter.reference
    record("tip.insider_check", actor="public", object_type="tip", object_id=tip.reference,
           department_id=None, details=details)
    db.session.commit()
    return check


def account_of(tip: Tip, check: InsiderCheck) -> str | None:
    """The reporter's own words of a check-in, decrypted (for 区人社局 they are in the matter itself)."""
    if not check.account_sealed:
        return None
    return crypto.decrypt(check.account_sealed, aad=_aad_check(tip, check)).decode("utf-8")


def _matter_description(tip: Tip, day: int, answer: CheckAnswer) -> str:
    kinds = "、".join(RETALIATION_KINDS[k] for k in answer.kinds)
    return (f"【吹哨人反映受到打击报复】举报 {tip.reference} 的举报人（被举报单位的从业人员）在该举报办结后第 {day} 日"
            f"回访时反映，因举报受到打击报复（{kinds}），并同意将此情况转交区人力资源和社会保障局处理"
            f"（《安全生产法》第五十四条）。被举报单位即举报人所在单位：{tip.subject_name}。\n\n"
            f"举报人陈述：\n{answer.account}")


def _open_matter(tip: Tip, day: int, answer: CheckAnswer) -> Tip:
    """File the retaliation matter through the intake service, then settle it with 区人社局."""
    from tipoff.intake.services import submit_tip

    township = tip.township_code if tip.township_code and db.session.scalar(
        select(Township.active).where(Township.code == tip.township_code)) else ""
    raw = {"category": MATTER_CATEGORY, "sector": tip.sector_code, "township": township,
           "subject_name": tip.subject_name, "subject_credit_code": tip.subject_credit_code or "",
           "address": tip.address or "", "occurred_on": "", "insider": "1", "identity": "anonymous",
           "description": _matter_description(tip, day, answer)}
    # Keyed by the check and the words: a retry after a failure below finds the same matter, not a second.
    key = crypto.blind_index("insider_matter", f"{tip.id}|{day}|"
                             + hashlib.sha256(raw["description"].encode("utf-8")).hexdigest())
    original_id = tip.id
    try:
        receipt = submit_tip(raw, channel=MATTER_CHANNEL, idempotency_key=key,
                             route_to=Decision(MATTER_DEPARTMENT, (), False, MATTER_RULE, MATTER_EXPLANATION))
    except ValidationFailed:
        db.session.rollback()
        raise ValidationFailed(fields={"consent": [
            Message("暂时无法自动转交，您的回答没有保存。请稍后再试，或直接联系区人力资源和社会保障局。")]}) from None
    original = db.session.get(Tip, original_id)
    matter = db.session.scalar(select(Tip).where(Tip.reference == receipt.reference))
    _settle_matter(original, matter)
    db.session.commit()
    return matter


def _settle_matter(original: Tip, matter: Tip) -> None:
    """Same access code as the original, its sealed identity copied, handled by 区人社局."""
    matter.access_code_hash = original.access_code_hash  # the reporter's one code opens both
    copied = 0
    if not original.anonymous and not matter.identities:
        for row in original.identities:
            if row.sealed is None or row.source in IDENTITY_SOURCES_NOT_COPIED:
                continue
            # The sealed bytes and blind indexes as they are: nothing is decrypted to copy them.
            db.session.add(ReporterIdentity(tip_id=matter.id, sealed=row.sealed, phone_index=row.phone_index,
                                            id_number_index=row.id_number_index, source=row.source))
            copied += 1
    matter.anonymous = not (copied or matter.identities)
    # Filed straight to 区人社局 (submit_tip's route_to): nobody else ever had it in their queue.
    record("case.retaliation_referral", actor="system", object_type="tip", object_id=matter.reference,
           department_id=matter.department_id, details={"original": original.reference, "to": MATTER_DEPARTMENT,
                                                        "named": not matter.anonymous})


@dataclass(frozen=True)
class MatterLink:
    """A retaliation matter opened from the tip's check-ins, as the reporter sees it."""

    reference: str
    department: str
    opened_at: datetime


def matters_of(tip: Tip) -> list[MatterLink]:
    """The retaliation matters opened from this tip's check-ins, oldest first."""
    rows = db.session.execute(
        select(Tip.reference, Department.name, InsiderCheck.answered_at)
        .join(InsiderCheck, InsiderCheck.matter_tip_id == Tip.id).join(Department, Department.id == Tip.department_id)
        .where(InsiderCheck.tip_id == tip.id).order_by(InsiderCheck.id))
    return [MatterLink(r.reference, r.name, r.answered_at) for r in rows]


# ------------------------------------------------------------------------------- the /status page


@dataclass(frozen=True)
class StatusFollowup:
    """What /status shows after a case: the rating (or its form), a due check-in, the matters opened."""

    rating: RatingView | None
    may_rate: bool
    due_day: int | None
    matters: list[MatterLink]
    ratings = RATINGS
    kinds = RETALIATION_KINDS
    comment_max = COMMENT_MAX
    account_max = ACCOUNT_MAX


def status_followup(tip: Tip) -> StatusFollowup:
    """The follow-up parts of the reporter's status page (reads only)."""
    return StatusFollowup(rating_view(tip), may_rate(tip), due_day(tip), matters_of(tip))


# ------------------------------------------------------------------------------- the dashboard


def retaliation_counts(department_id: int | None = None) -> dict[str, int]:
    """Check-in answers reporting retaliation, those with consent, and matters still open at 区人社局.

    Counted by answer (a reporter who says "yes" at 30 and at 90 days counts twice); `department_id`
    filters on the department handling the original tip.
    """
    def count(*conditions) -> int:
        stmt = select(func.count(InsiderCheck.id)).join(Tip, Tip.id == InsiderCheck.tip_id).where(
            InsiderCheck.retaliation.is_(True), *conditions)
        if department_id is not None:
            stmt = stmt.where(Tip.department_id == department_id)
        return db.session.scalar(stmt) or 0

    matter = aliased(Tip)  # not the original tip of the outer query
    matter_open = select(matter.id).where(matter.status.in_([s.value for s in OPEN]))
    return {"reported": count(),
            "with_consent": count(InsiderCheck.consent.is_(True)),
            "open_matters": count(InsiderCheck.matter_tip_id.in_(matter_open))}


def unanswered_due(department_id: int | None = None, now: datetime | None = None) -> int:
    """How many insider tips have a check-in due now that the reporter has not answered."""
    now = now or utcnow()
    total = 0
    matters = select(InsiderCheck.matter_tip_id).where(InsiderCheck.matter_tip_id.is_not(None))
    for day in CHECK_DAYS:
        answered = exists().where(InsiderCheck.tip_id == Tip.id, InsiderCheck.day == day,
                                  InsiderCheck.answered_at.is_not(None))
        stmt = select(func.count(Tip.id)).where(
            Tip.insider.is_(True), Tip.concluded_at.is_not(None), Tip.status != CaseState.REJECTED.value,
            Tip.concluded_at <= now - timedelta(days=day),
            Tip.concluded_at > now - timedelta(days=day + _open_window(day)),
            ~answered, Tip.id.not_in(matters))
        if department_id is not None:
            stmt = stmt.where(Tip.department_id == department_id)
        total += db.session.scalar(stmt) or 0
    return total
