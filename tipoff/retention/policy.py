"""Retention policy (保存期限) as data, and the pure core that decides what of a matter is due for destruction.

No Flask, no database: the services gather a matter's facts (`MatterFacts`) and ask `decide`. A matter
(linked or merged tips, R4-R6) is decided as one: its evidence or identities go together, counted from
the day its last tip was closed, and nothing goes while any tip of it is open, held, or has an open
reward, a pending identity disclosure or an insider check-in still to answer.

Counting follows 民法典 第二百零一条、第二百零三条: the day of closing does not count, the period's last
day ends at 24:00 Beijing time, and destruction may happen from 00:00 of the next day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

# Shown wherever destroyed content used to be (case page, reporter channel, history, disclosure).
DESTROYED_NOTICE = "已按保存期限销毁"

# Defaults (config.py: TIPOFF_RETENTION_EVIDENCE_DAYS, TIPOFF_RETENTION_IDENTITY_DAYS); why these, see README.
DEFAULT_EVIDENCE_DAYS = 3653   # ten years: 机关文书档案 定期10年, beyond every limitation period below
DEFAULT_IDENTITY_DAYS = 1826   # five years: 行政处罚法 第36条 (safety violations) and 行诉 5-year outer limit
PRODUCTION_MINIMUM_DAYS = 180  # 行政诉讼法 第46条: six months to sue after learning of the act

CLOSED = "closed"  # the only terminal case state (tipoff.cases.states; `rejected` may still be closed)


class Part(str, Enum):
    """What a retention period destroys."""

    EVIDENCE = "evidence"  # the tip's data key: description, evidence files, messages, notes
    IDENTITY = "identity"  # sealed identities, bank details of a claim, phone and ID blind indexes


PART_LABELS = {Part.EVIDENCE: "举报材料与证据", Part.IDENTITY: "举报人身份"}


@dataclass(frozen=True)
class Periods:
    """Days after the close date that each part is kept."""

    evidence_days: int = DEFAULT_EVIDENCE_DAYS
    identity_days: int = DEFAULT_IDENTITY_DAYS

    def __post_init__(self) -> None:
        for name in ("evidence_days", "identity_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a whole number of days, at least 1")

    def days(self, part: Part) -> int:
        return self.evidence_days if part is Part.EVIDENCE else self.identity_days


@dataclass(frozen=True)
class TipFacts:
    """One tip of a matter, as the decision needs it (codes, times and flags only)."""

    reference: str
    status: str
    closed_at: datetime | None   # when it entered `closed` (UTC); None while open
    has_evidence: bool           # its data key still exists
    has_identity: bool           # a sealed identity or a blind index still exists
    on_hold: bool = False        # an active legal hold (法律保全)


@dataclass(frozen=True)
class MatterFacts:
    """A matter: its tips and what around them stops destruction."""

    tips: tuple[TipFacts, ...]
    reward_state: str | None = None          # the matter's reward, if any
    disclosure_pending: bool = False         # a request waiting for a custodian, or a release still readable
    followup_open_until: datetime | None = None  # an insider's retaliation check-ins still open until then

    @property
    def reference(self) -> str:
        """The matter's name in listings: its earliest tip's reference."""
        return self.tips[0].reference


@dataclass(frozen=True)
class Verdict:
    """Whether one part of a matter is due; `reason` says why or why not, without personal data."""

    part: Part
    due: bool
    reason: str
    due_from: datetime | None = None  # when it becomes (or became) due, UTC
    references: tuple[str, ...] = ()  # the tips whose part would go


def due_from(closed_at: datetime, days: int) -> datetime:
    """The first moment (UTC) a part kept `days` days after `closed_at` may be destroyed.

    The closing day itself does not count; the last day ends at 24:00 Beijing time.
    """
    closed_day: date = _aware(closed_at).astimezone(BEIJING).date()
    first_free_day = closed_day + timedelta(days=days + 1)
    return datetime.combine(first_free_day, time(0), BEIJING).astimezone(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _day(moment: datetime) -> str:
    return f"{_aware(moment).astimezone(BEIJING):%Y-%m-%d}"


def blocker(matter: MatterFacts, now: datetime, open_reward_states: frozenset[str]) -> str | None:
    """Why nothing of this matter may go now (None: nothing stops it)."""
    if not matter.tips:
        return "事项中没有举报"
    if any(t.status != CLOSED or t.closed_at is None for t in matter.tips):
        return "事项中仍有未结案的举报"
    if any(t.on_hold for t in matter.tips):
        return "已设置法律保全（保全期间不销毁）"
    if matter.reward_state is not None and matter.reward_state in open_reward_states:
        return "事项的举报奖励尚未办结"
    if matter.disclosure_pending:
        return "有待审批或仍在查看期内的身份调阅"
    if matter.followup_open_until is not None and _aware(matter.followup_open_until) > now:
        return "吹哨人回访期尚未结束"
    return None


def decide(matter: MatterFacts, periods: Periods, now: datetime,
           open_reward_states: frozenset[str]) -> list[Verdict]:
    """One verdict per part that still has something to destroy (an empty list: nothing left)."""
    now = _aware(now)
    verdicts = []
    for part in (Part.EVIDENCE, Part.IDENTITY):
        holders = tuple(t.reference for t in matter.tips
                        if (t.has_evidence if part is Part.EVIDENCE else t.has_identity))
        if not holders:
            continue
        stop = blocker(matter, now, open_reward_states)
        if stop is not None:
            verdicts.append(Verdict(part, False, stop))
            continue
        last_closed = max(_aware(t.closed_at) for t in matter.tips)
        days = periods.days(part)
        start = due_from(last_closed, days)
        kept = f"{_day(last_closed)} 结案，保存期限 {days} 日"
        if now < start:
            verdicts.append(Verdict(part, False, f"{kept}，{_day(start - timedelta(days=1))} 届满", start))
        else:
            verdicts.append(Verdict(part, True, f"{kept}，已于 {_day(start - timedelta(days=1))} 届满", start,
                                    holders))
    return verdicts
