"""Retention services: gather a matter's facts, destroy what is due (in small batches), and legal holds.

Destroying evidence crypto-shreds the tip's data key and deletes its evidence files; the tip gets a
fresh data key so anything written later (a note, a reporter's late message) still works — and is
destroyed on the next run, because it too belongs to a case whose period is over. Destroying identity
removes the sealed identities (bank details of a reward claim included), the phone and ID blind
indexes, and any released copy of a disclosure. Every destruction writes an audit entry with counts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, or_, select

from tipoff import crypto
from tipoff.audit.services import record
from tipoff.cases import duplicates
from tipoff.cases.services import case_for
from tipoff.db import as_utc, utcnow
from tipoff.disclosure.models import DisclosureRequest
from tipoff.errors import Conflict, Forbidden, ValidationFailed
from tipoff.extensions import db
from tipoff.followup.models import SatisfactionRating
from tipoff.intake.attachments import storage_dir
from tipoff.intake.models import Attachment, CaseEvent, ReporterIdentity, Tip, TipMessage
from tipoff.intake.validators import clean_text
from tipoff.retention.models import LegalHold, RetentionMark
from tipoff.retention.policy import (
    BEIJING,
    CLOSED,
    PART_LABELS,
    MatterFacts,
    Part,
    Periods,
    TipFacts,
    Verdict,
    decide,
)
from tipoff.rewards.models import Reward
from tipoff.rewards.workflow import OPEN as OPEN_REWARD_STATES

OPEN_REWARDS = frozenset(s.value for s in OPEN_REWARD_STATES)
PENDING_DISCLOSURE = ("pending", "first_approval")
HOLD_PERMISSION = "cases.legal_hold"
DEFAULT_BATCH = 50


def periods() -> Periods:
    """The configured periods (TIPOFF_RETENTION_EVIDENCE_DAYS, TIPOFF_RETENTION_IDENTITY_DAYS)."""
    config = current_app.config
    return Periods(int(config["TIPOFF_RETENTION_EVIDENCE_DAYS"]), int(config["TIPOFF_RETENTION_IDENTITY_DAYS"]))


# ------------------------------------------------------------------------------------ facts


def _closed_at():
    """Per tip, when it entered `closed` (the close or merge event)."""
    return (select(CaseEvent.tip_id, func.max(CaseEvent.created_at).label("closed_at"))
            .where(CaseEvent.to_state == CLOSED, CaseEvent.from_state != CLOSED)
            .group_by(CaseEvent.tip_id).subquery())


def _identity_left(tip_id_column):
    return exists().where(ReporterIdentity.tip_id == tip_id_column,
                          or_(ReporterIdentity.sealed.is_not(None), ReporterIdentity.phone_index.is_not(None),
                              ReporterIdentity.id_number_index.is_not(None)))


def _content_since(tip_id_column, since_column):
    """Something encrypted under the tip's key was written after its evidence was destroyed."""
    return or_(
        exists().where(TipMessage.tip_id == tip_id_column, TipMessage.created_at > since_column),
        exists().where(CaseEvent.tip_id == tip_id_column, CaseEvent.text_sealed.is_not(None),
                       CaseEvent.created_at > since_column),
        exists().where(Attachment.tip_id == tip_id_column, Attachment.created_at > since_column),
        exists().where(SatisfactionRating.tip_id == tip_id_column, SatisfactionRating.comment_sealed.is_not(None),
                       SatisfactionRating.created_at > since_column),
        exists().where(DisclosureRequest.tip_id == tip_id_column, DisclosureRequest.created_at > since_column),
    )


def _evidence_left(tip_id_column):
    return or_(RetentionMark.evidence_destroyed_at.is_(None),
               _content_since(tip_id_column, RetentionMark.evidence_destroyed_at))


def _candidate_roots(now: datetime, after: int, limit: int, policy: Periods) -> list[int]:
    """Matter roots (ascending, after `after`) with a closed tip of which some part is past its own period.

    Each part is tested against its own period: a tip whose identity went at five years but whose
    evidence stays for ten is not a candidate again until year ten, so runs do not rescan every case
    closed in between."""
    closed = _closed_at()
    root = func.coalesce(Tip.matter_id, Tip.id)
    stmt = (select(root).join(closed, closed.c.tip_id == Tip.id)
            .outerjoin(RetentionMark, RetentionMark.tip_id == Tip.id)
            .where(Tip.status == CLOSED, root > after,
                   or_(and_(closed.c.closed_at < now - timedelta(days=policy.evidence_days), _evidence_left(Tip.id)),
                       and_(closed.c.closed_at < now - timedelta(days=policy.identity_days),
                            _identity_left(Tip.id))))
            .group_by(root).order_by(root).limit(limit))
    return list(db.session.scalars(stmt))


def matter_facts(tips: list[Tip], now: datetime) -> MatterFacts:
    """The facts `policy.decide` needs about the matter made of `tips` (earliest first)."""
    from tipoff.followup.services import CHECK_DAYS, LAST_CHECK_OPEN_DAYS

    ids = [t.id for t in tips]
    closed = _closed_at()
    closed_at = dict(db.session.execute(select(closed.c.tip_id, closed.c.closed_at)
                                        .where(closed.c.tip_id.in_(ids))).all())
    marks = {m.tip_id: m for m in db.session.scalars(select(RetentionMark).where(RetentionMark.tip_id.in_(ids)))}
    held = set(db.session.scalars(select(LegalHold.tip_id).where(LegalHold.tip_id.in_(ids),
                                                                  LegalHold.lifted_at.is_(None))))
    with_identity = set(db.session.scalars(select(Tip.id).where(Tip.id.in_(ids), _identity_left(Tip.id))))
    with_new_content = set(db.session.scalars(
        select(Tip.id).join(RetentionMark, RetentionMark.tip_id == Tip.id)
        .where(Tip.id.in_(ids), _content_since(Tip.id, RetentionMark.evidence_destroyed_at))))
    reward_states = set(db.session.scalars(select(Reward.status).where(Reward.matter_tip_id.in_(ids))))
    disclosure_pending = bool(db.session.scalar(select(exists().where(
        DisclosureRequest.tip_id.in_(ids),
        or_(DisclosureRequest.status.in_(PENDING_DISCLOSURE),
            and_(DisclosureRequest.status == "approved", DisclosureRequest.release_until > now))))))
    followup_window = timedelta(days=CHECK_DAYS[-1] + LAST_CHECK_OPEN_DAYS)
    followup_ends = [as_utc(t.concluded_at) + followup_window for t in tips if t.insider and t.concluded_at]
    facts = tuple(TipFacts(
        reference=t.reference, status=t.status, closed_at=as_utc(closed_at.get(t.id)),
        has_evidence=t.id not in marks or marks[t.id].evidence_destroyed_at is None or t.id in with_new_content,
        has_identity=t.id in with_identity, on_hold=t.id in held) for t in tips)
    open_state = next((s for s in reward_states if s in OPEN_REWARDS), None)
    return MatterFacts(facts, reward_state=open_state or next(iter(sorted(reward_states)), None),
                       disclosure_pending=disclosure_pending,
                       followup_open_until=max(followup_ends) if followup_ends else None)


def _matter(root_id: int) -> list[Tip]:
    root = db.session.get(Tip, root_id)
    return duplicates.matter_of(root) if root is not None else []


# ------------------------------------------------------------------------------------ running


@dataclass(frozen=True)
class DueItem:
    """One line of `--dry-run`: a tip, what of it would go, and why (no personal data)."""

    reference: str
    matter: str
    part: Part
    reason: str


@dataclass
class RunReport:
    """What a run found (dry run) or did."""

    matters_checked: int = 0
    evidence_destroyed: int = 0
    identity_destroyed: int = 0
    files_deleted: int = 0
    identities_destroyed: int = 0
    held: int = 0
    due: list[DueItem] = field(default_factory=list)
    truncated: bool = False  # stopped at max_matters: more may be due

    def summary(self) -> str:
        return (f"matters checked {self.matters_checked}; evidence destroyed for {self.evidence_destroyed} tip(s) "
                f"({self.files_deleted} file(s)); identity destroyed for {self.identity_destroyed} tip(s) "
                f"({self.identities_destroyed} record(s)); held back by a legal hold {self.held}")


def run(*, dry_run: bool, batch_size: int = DEFAULT_BATCH, now: datetime | None = None,
        actor: str = "system", max_matters: int | None = None) -> RunReport:
    """Find every matter with something due and (unless dry_run) destroy it, one transaction per batch.

    `max_matters` stops after that many matters (the staff page shows the first ones; the cron job
    goes through all)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now, policy, report, after = now or utcnow(), periods(), RunReport(), 0
    while True:
        if max_matters is not None and report.matters_checked >= max_matters:
            report.truncated = True
            db.session.rollback()
            return report
        roots = _candidate_roots(now, after, batch_size, policy)
        if not roots:
            db.session.rollback()
            return report
        after = roots[-1]
        files: list[str] = []
        for root_id in roots:
            if not dry_run:
                # Serialise with a hold being set or a link being made at this moment: both lock the
                # matter's root first (PostgreSQL; SQLite's writers queue on BEGIN IMMEDIATE already).
                root = db.session.get(Tip, root_id)
                if root is None or root.matter_id is not None:
                    continue  # linked into an older matter since the query: that root's turn comes
                try:
                    duplicates.lock_matters(root)
                except Conflict:
                    continue
            tips = _matter(root_id)
            facts = matter_facts(tips, now)
            verdicts = decide(facts, policy, now, OPEN_REWARDS)
            report.matters_checked += 1
            report.held += any(t.on_hold for t in facts.tips)
            for verdict in (v for v in verdicts if v.due):
                for tip in (t for t in tips if t.reference in verdict.references):
                    report.due.append(DueItem(tip.reference, facts.reference, verdict.part, verdict.reason))
                    if not dry_run:
                        _destroy(tip, verdict, facts.reference, now, actor, report, files)
        if dry_run:
            db.session.rollback()
            continue
        db.session.commit()
        # Files go after the commit: had it failed, the keys and the files would both still be there for
        # the next run. A file left behind by a failed unlink is ciphertext whose key is gone.
        for name in files:
            (storage_dir() / name).unlink(missing_ok=True)


def _mark(tip: Tip) -> RetentionMark:
    mark = db.session.get(RetentionMark, tip.id)
    if mark is None:
        mark = RetentionMark(tip_id=tip.id, files_deleted=0, identities_destroyed=0)
        db.session.add(mark)
    return mark


def _destroy(tip: Tip, verdict: Verdict, matter: str, now: datetime, actor: str, report: RunReport,
             files: list[str]) -> None:
    if verdict.part is Part.EVIDENCE:
        count = destroy_evidence(tip, now, files)
        report.evidence_destroyed += 1
        report.files_deleted += count["files"]
        record("retention.evidence_destroyed", actor=actor, object_type="tip", object_id=tip.reference,
               department_id=tip.department_id, details={"matter": matter, **count, "why": verdict.reason})
    else:
        count = destroy_identity(tip, now)
        report.identity_destroyed += 1
        report.identities_destroyed += count["identities"]
        record("retention.identity_destroyed", actor=actor, object_type="tip", object_id=tip.reference,
               department_id=tip.department_id, details={"matter": matter, **count, "why": verdict.reason})


def destroy_evidence(tip: Tip, now: datetime, files: list[str]) -> dict:
    """Crypto-shred the tip's data key and queue its evidence files for deletion; counts, no content."""
    stored = [name for name in db.session.scalars(select(Attachment.stored_name).where(Attachment.tip_id == tip.id))
              if (storage_dir() / name).exists()]
    files.extend(stored)
    messages = db.session.scalar(select(func.count()).where(TipMessage.tip_id == tip.id))
    old_key = tip.data_key
    if old_key.wrapped is not None:
        crypto.destroy_data_key(old_key)
    # A fresh key for whatever is written to the case from now on (every writer encrypts under tip.data_key).
    tip.data_key = crypto.new_data_key("tip")
    mark = _mark(tip)
    mark.evidence_destroyed_at = now
    mark.files_deleted = (mark.files_deleted or 0) + len(stored)
    return {"files": len(stored), "messages": messages, "data_key": old_key.id}


def destroy_identity(tip: Tip, now: datetime) -> dict:
    """Remove sealed identities, bank details and blind indexes of the tip, and released disclosure copies."""
    identities = list(db.session.scalars(select(ReporterIdentity).where(
        ReporterIdentity.tip_id == tip.id,
        or_(ReporterIdentity.sealed.is_not(None), ReporterIdentity.phone_index.is_not(None),
            ReporterIdentity.id_number_index.is_not(None)))))
    for identity in identities:
        identity.sealed, identity.phone_index, identity.id_number_index = None, None, None
    releases = list(db.session.scalars(select(DisclosureRequest).where(DisclosureRequest.tip_id == tip.id,
                                                                       DisclosureRequest.released_sealed.is_not(None))))
    for request in releases:
        key = crypto.data_key_of(request.released_sealed)
        if key is not None and key.wrapped is not None:
            crypto.destroy_data_key(key)
        request.released_sealed = None
        if request.status == "approved":
            request.status = "expired"
    mark = _mark(tip)
    mark.identity_destroyed_at = now
    mark.identities_destroyed = (mark.identities_destroyed or 0) + len(identities)
    return {"identities": len(identities),
            "claims": sum(1 for i in identities if i.source == "reward_claim"), "releases": len(releases)}


# ------------------------------------------------------------------------------------ legal holds


def _hold_reason(value: str | None, key: str = "reason") -> str:
    try:
        return clean_text(value or "", field="理由", minimum=5, maximum=1000, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={key: [str(exc)]}) from None


def _held_case(user, reference: str) -> Tip:
    if not user.can(HOLD_PERMISSION):
        raise Forbidden("只有区安委会办公室可以设置或解除法律保全。")
    tip = case_for(user, reference)
    db.session.execute(select(Tip.id).where(Tip.id == tip.id).with_for_update())
    return tip


def active_hold(tip: Tip) -> LegalHold | None:
    """The tip's active legal hold, if any."""
    return db.session.scalar(select(LegalHold).where(LegalHold.tip_id == tip.id, LegalHold.lifted_at.is_(None)))


def set_hold(user, reference: str, reason: str | None) -> LegalHold:
    """An overseer stops destruction of the case's matter (e.g. litigation), with a reason; audited."""
    text = _hold_reason(reason)
    tip = _held_case(user, reference)
    if active_hold(tip) is not None:
        raise Conflict("该案件已设置法律保全。", code="hold_exists")
    hold = LegalHold(tip_id=tip.id, reason=text, set_by_id=user.id, set_at=utcnow())
    db.session.add(hold)
    db.session.flush()
    record("retention.hold_set", actor=user, object_type="tip", object_id=tip.reference,
           department_id=tip.department_id, reason=text, details={"hold": hold.id})
    db.session.commit()
    return hold


def lift_hold(user, reference: str, reason: str | None) -> LegalHold:
    """An overseer lifts the case's legal hold, with a reason; destruction resumes on the next run."""
    text = _hold_reason(reason, "lift_reason")
    tip = _held_case(user, reference)
    hold = active_hold(tip)
    if hold is None:
        raise Conflict("该案件没有生效的法律保全。", code="no_hold")
    hold.lifted_by_id, hold.lifted_at, hold.lift_reason = user.id, utcnow(), text
    record("retention.hold_lifted", actor=user, object_type="tip", object_id=tip.reference,
           department_id=tip.department_id, reason=text, details={"hold": hold.id})
    db.session.commit()
    return hold


# ------------------------------------------------------------------------------------ the case page


@dataclass(frozen=True)
class CaseRetention:
    """What the case page shows: each part's state, the hold, and whether the viewer may change it."""

    parts: list[tuple[str, str]]          # (label, state in plain Chinese)
    hold: LegalHold | None
    held_elsewhere: list[str]             # other tips of the matter that are held
    evidence_destroyed_at: datetime | None
    identity_destroyed_at: datetime | None


def case_retention(tip: Tip, now: datetime | None = None) -> CaseRetention:
    """The retention state of one case (its matter decides), for the staff case page."""
    now = now or utcnow()
    tips = duplicates.matter_of(tip)
    facts = matter_facts(tips, now)
    verdicts = {v.part: v for v in decide(facts, periods(), now, OPEN_REWARDS)}
    mark = db.session.get(RetentionMark, tip.id)
    mine = next(t for t in facts.tips if t.reference == tip.reference)
    parts = []
    for part in (Part.EVIDENCE, Part.IDENTITY):
        destroyed = (mark.evidence_destroyed_at if part is Part.EVIDENCE else mark.identity_destroyed_at) \
            if mark else None
        holds_some = mine.has_evidence if part is Part.EVIDENCE else mine.has_identity
        verdict = verdicts.get(part)
        if destroyed is not None and not holds_some:
            state = f"已于 {as_utc(destroyed).astimezone(BEIJING):%Y-%m-%d} 按保存期限销毁"
        elif not holds_some:
            state = "无（匿名举报，未留身份信息）" if part is Part.IDENTITY else "无"
        elif verdict is None:
            state = "—"
        elif verdict.due:
            state = f"保存期限已满，将在下次运行时销毁（{verdict.reason}）"
        elif verdict.due_from is not None:
            state = f"保存中：{verdict.reason}"
        else:
            state = f"保存中：{verdict.reason}" + (f"；结案后保存 {periods().days(part)} 日" if tip.status != CLOSED else "")
        parts.append((PART_LABELS[part], state))
    return CaseRetention(parts, active_hold(tip), [t.reference for t in facts.tips if t.on_hold and t.reference != tip.reference],
                         mark.evidence_destroyed_at if mark else None, mark.identity_destroyed_at if mark else None)

