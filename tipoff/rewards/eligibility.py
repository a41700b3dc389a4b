"""Eligibility (RULES.md R3-R7): each check with its result and a note, stored with the reward.

`evaluate` is pure; `gather` reads the facts from the database (blind indexes only, never an identity).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import or_, select

from tipoff.clockview import SHANGHAI
from tipoff.db import as_utc
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity, Tip
from tipoff.rewards.workflow import VERIFIED_OUTCOMES

LABELS = {
    "verified": "核查属实（R3）",
    "not_known": "举报前未被掌握（R3）",
    "first": "同一事项最先受理的举报人（R4、R6）",
    "joint": "联名举报的领取人（R5）",
    "not_excluded": "不属于不予奖励的人员（R7）",
}


@dataclass(frozen=True)
class Check:
    ok: bool | None  # None: cannot be decided yet (e.g. an anonymous reporter is checked when claiming)
    note: str


@dataclass(frozen=True)
class Facts:
    outcome: str | None
    known_before: bool | None        # the handler's answer: did the unit or regulator already know?
    first: bool
    matter_note: str
    joint: bool = False
    excluded: bool | None = None     # None: anonymous, no identity to match yet


def evaluate(facts: Facts) -> dict[str, Check]:
    checks = {
        "verified": Check(facts.outcome in VERIFIED_OUTCOMES,
                          {"substantiated": "核查属实。", "partially_substantiated": "部分属实：按查实部分计奖。"}
                          .get(facts.outcome or "", "核查结论不是属实或部分属实。")),
        "not_known": Check(None if facts.known_before is None else not facts.known_before,
                           {None: "待承办人确认。", True: "举报前已被掌握且已依法处理。", False: "举报前未被掌握。"}
                           [facts.known_before]),
        "first": Check(facts.first, facts.matter_note),
        "joint": Check(True, "联名举报：奖励发给第一署名人或其书面委托的署名人。" if facts.joint else "非联名举报。"),
        "not_excluded": Check(None if facts.excluded is None else not facts.excluded,
                              {None: "匿名举报：领取时按领取人身份核对。", True: "与不予奖励人员登记相符。",
                               False: "未发现与不予奖励人员登记相符。"}[facts.excluded]),
    }
    return checks


def stored(checks: dict[str, Check]) -> dict[str, dict]:
    return {code: asdict(check) for code, check in checks.items()}


# The checks a leader accepted with a recorded reason (stored beside the checks).
OVERRIDDEN = "overridden"


def failing(checks: dict) -> list[str]:
    """The codes of the checks that fail (False); undecided ones (None) do not block a proposal."""
    return [code for code, check in (checks or {}).items() if code in LABELS and check["ok"] is False]


def blocking(checks: dict) -> list[str]:
    """The labels of the failing checks."""
    return [LABELS[code] for code in failing(checks)]


def beneficiary(matter: list[Tip]) -> Tip:
    """The matter's first filed tip that was not rejected (merged tips keep their place)."""
    candidates = [t for t in matter if t.status != "rejected"]
    return min(candidates or matter, key=lambda t: (t.received_at, t.id))


def _beijing(moment) -> str:
    """A stored instant as staff read it everywhere else: Beijing time."""
    return f"{as_utc(moment).astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}"


def matter_note(matter: list[Tip], first: Tip) -> str:
    if len(matter) == 1:
        return f"{first.reference}（提交于北京时间 {_beijing(first.received_at)}）；无关联举报。"
    others = "、".join(f"{t.reference}（{_beijing(t.received_at)}）" for t in matter if t.id != first.id)
    return (f"{first.reference} 提交于北京时间 {_beijing(first.received_at)}，为同一事项最先提交；"
            f"关联举报 {others} 不另行奖励。")


def excluded(identity_ids: list[int] | None = None, *, phone_index: str | None = None,
             id_number_index: str | None = None) -> bool:
    """Does any of these blind indexes (or the identities' indexes) appear on the exclusion register?"""
    from tipoff.rewards.models import ExcludedPerson

    indexes_phone, indexes_id = {phone_index} - {None}, {id_number_index} - {None}
    for identity in db.session.scalars(select(ReporterIdentity).where(ReporterIdentity.id.in_(identity_ids or []))):
        indexes_phone |= {identity.phone_index} - {None}
        indexes_id |= {identity.id_number_index} - {None}
    if not indexes_phone and not indexes_id:
        return False
    return db.session.scalar(select(ExcludedPerson.id).where(
        ExcludedPerson.revoked_at.is_(None),
        or_(ExcludedPerson.phone_index.in_(indexes_phone), ExcludedPerson.id_number_index.in_(indexes_id)))
        .limit(1)) is not None


def identities_of(tip: Tip) -> list[int]:
    return list(db.session.scalars(select(ReporterIdentity.id).where(ReporterIdentity.tip_id == tip.id)))
