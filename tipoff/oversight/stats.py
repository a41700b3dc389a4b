"""The dashboard's aggregates: rebuilt per Beijing month, incrementally (only months with new activity).

`refresh()` finds the months touched since the last run — new tips, case events, reward events and
satisfaction ratings — and rebuilds MonthlyStat, MonthlyRollup, DurationStat and RewardStat rows for exactly
those months from the tips received in them. A month holds at most tens of thousands of tips, so a refresh
costs the same at a million tips as at ten thousand. The dashboard and the public report read the rollups
(one dimension at a time: their rows do not grow with the tips), not MonthlyStat, whose eight-way key does.
Run it from cron every few minutes (`flask tipoff stats refresh`); the dashboard also refreshes when its
figures are older than STALE_AFTER.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable

from sqlalchemy import delete, func, select

from tipoff.cases import clocks
from tipoff.clockview import SHANGHAI
from tipoff.db import as_utc, utcnow
from tipoff.extensions import db
from tipoff.intake.models import CaseEvent, Tip
from tipoff.intake.submission import INSIDER_FOLLOWUP
from tipoff.oversight.models import DurationStat, MonthlyRollup, MonthlyStat, RewardStat, StatsState

STALE_AFTER = timedelta(minutes=10)
VERIFIED = ("substantiated", "partially_substantiated")
OUTCOMES = ("substantiated", "partially_substantiated", "unsubstantiated", "unverifiable", "merged")
RATINGS = ("satisfied", "basically_satisfied", "unsatisfied")
DAY = 86_400


def month_of(moment: datetime) -> date:
    """The Beijing month (its first day) of an instant."""
    local = as_utc(moment).astimezone(SHANGHAI)
    return date(local.year, local.month, 1)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The UTC instants where a Beijing month starts and ends (China keeps UTC+8, no DST)."""
    def start(m: date) -> datetime:
        return datetime(m.year, m.month, 1, tzinfo=SHANGHAI).astimezone(timezone.utc)
    return start(month), start(next_month(month))


@dataclass(frozen=True)
class RefreshReport:
    months: tuple[date, ...]
    tips: int

    def __str__(self) -> str:
        listed = ", ".join(f"{m:%Y-%m}" for m in self.months) or "none"
        return f"months rebuilt: {listed} ({self.tips} tips)"


def _state() -> StatsState:
    # Locked (PostgreSQL) so a cron refresh and a dashboard's refresh never rebuild the same month at once.
    state = db.session.get(StatsState, 1, with_for_update=True)
    if state is None:
        state = StatsState(id=1, last_event_id=0, last_tip_id=0, last_reward_event_id=0)
        db.session.add(state)
        db.session.flush()
    return state


def _months_of_tips(tip_ids_query) -> set[date]:
    return {month_of(r) for r in db.session.scalars(select(Tip.received_at).where(Tip.id.in_(tip_ids_query)))}


def _touched_months(state: StatsState, full: bool) -> tuple[set[date], int, int, int]:
    """Months to rebuild and the new high-water marks (tip id, case event id, reward event id)."""
    from tipoff.followup.models import SatisfactionRating
    from tipoff.rewards.models import Reward, RewardEvent

    top_tip = db.session.scalar(select(func.max(Tip.id))) or 0
    top_event = db.session.scalar(select(func.max(CaseEvent.id))) or 0
    top_reward_event = db.session.scalar(select(func.max(RewardEvent.id))) or 0
    if full or state.refreshed_at is None:
        first = db.session.scalar(select(func.min(Tip.received_at)))
        months: set[date] = set()
        if first is not None:
            month, last = month_of(first), month_of(utcnow())
            while month <= last:
                months.add(month)
                month = next_month(month)
        return months, top_tip, top_event, top_reward_event
    months = {month_of(r) for r in db.session.scalars(
        select(Tip.received_at).where(Tip.id > state.last_tip_id, Tip.id <= top_tip))}
    months |= _months_of_tips(select(CaseEvent.tip_id).where(CaseEvent.id > state.last_event_id,
                                                             CaseEvent.id <= top_event))
    months |= _months_of_tips(select(Reward.matter_tip_id).where(Reward.id.in_(
        select(RewardEvent.reward_id).where(RewardEvent.id > state.last_reward_event_id,
                                            RewardEvent.id <= top_reward_event))))
    months |= {month_of(r) for r in db.session.scalars(select(Reward.created_at).where(Reward.id.in_(
        select(RewardEvent.reward_id).where(RewardEvent.id > state.last_reward_event_id))))}
    since = as_utc(state.refreshed_at) - timedelta(minutes=1)  # ratings carry no sequence: overlap a little
    months |= _months_of_tips(select(SatisfactionRating.tip_id).where(SatisfactionRating.created_at >= since))
    return months, top_tip, top_event, top_reward_event


def _days(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(int((as_utc(end) - as_utc(start)).total_seconds() // DAY), 0)


def _rebuild_month(month: date, now: datetime) -> int:
    """Replace the month's aggregate rows with fresh counts from the tips received in it."""
    from tipoff.followup.models import SatisfactionRating

    start, end = month_bounds(month)
    for model in (MonthlyStat, MonthlyRollup, DurationStat, RewardStat):
        db.session.execute(delete(model).where(model.month == month))
    rows = db.session.execute(
        select(Tip.id, Tip.department_id, Tip.category_code, Tip.sector_code, Tip.township_code, Tip.channel,
               Tip.anonymous, Tip.insider, Tip.status, Tip.outcome, Tip.received_at, Tip.accepted_at,
               Tip.concluded_at, Tip.transfers, Tip.reviews, Tip.extension_days, Tip.deadline_at,
               SatisfactionRating.rating)
        .outerjoin(SatisfactionRating, SatisfactionRating.tip_id == Tip.id)
        .where(Tip.received_at >= start, Tip.received_at < end, Tip.reference.is_not(None),
               Tip.channel != INSIDER_FOLLOWUP)  # retaliation matters are counted apart, not as safety tips
        .execution_options(yield_per=2000))
    t3_days = clocks.settings()["T3"]
    cells: dict[tuple, Counter] = defaultdict(Counter)
    durations: dict[tuple, Counter] = defaultdict(Counter)
    reviewed: list[int] = []
    count = 0
    for r in rows:
        count += 1
        key = (r.department_id, r.category_code, r.sector_code, r.township_code or "", r.channel,
               bool(r.anonymous), bool(r.insider))
        cell = cells[key]
        cell["received"] += 1
        cell["accepted"] += r.accepted_at is not None
        cell["rejected"] += r.status == "rejected"
        cell["concluded"] += r.concluded_at is not None and r.outcome != "merged"
        if r.outcome in OUTCOMES:
            cell[r.outcome] += 1
        cell["transfers"] += r.transfers or 0
        cell["objections"] += r.reviews or 0
        if r.reviews:
            reviewed.append(r.id)
        if r.status in ("received", "verifying", "concluded", "under_review") and r.deadline_at is not None \
                and as_utc(r.deadline_at) < now:
            cell["overdue_open"] += 1
        if r.rating in RATINGS:
            cell[r.rating] += 1
        accept_days = _days(r.received_at, r.accepted_at)
        conclude_days = _days(r.accepted_at, r.concluded_at) if r.outcome != "merged" else None
        if accept_days is not None:
            durations[(r.department_id, "accept")][accept_days] += 1
        if conclude_days is not None:
            durations[(r.department_id, "conclude")][conclude_days] += 1
            # On time: within T3 plus approved extensions — the clock the handler worked to (calendar days).
            cell["concluded_on_time"] += (as_utc(r.concluded_at) - as_utc(r.accepted_at)).total_seconds() \
                <= (t3_days + (r.extension_days or 0)) * DAY
    for _tip_id, key in _review_changed(reviewed):
        cells[key]["review_changed"] += 1
    for key, cell in cells.items():
        db.session.add(MonthlyStat(month=month, department_id=key[0], category_code=key[1], sector_code=key[2],
                                   township_code=key[3], channel=key[4], anonymous=key[5], insider=key[6],
                                   **{k: cell[k] for k in SUMMED}))
    add_rollups(month, cells)
    for (department_id, metric), histogram in durations.items():
        db.session.add_all(DurationStat(month=month, department_id=department_id, metric=metric, days=days,
                                        count=n) for days, n in histogram.items())
    _rebuild_rewards(month, start, end)
    return count


COUNT_FIELDS = ("received", "accepted", "rejected", "concluded", "substantiated", "partially_substantiated",
                "unsubstantiated", "unverifiable", "merged", "transfers", "objections", "overdue_open",
                "concluded_on_time", "satisfied", "basically_satisfied", "unsatisfied")
SUMMED = COUNT_FIELDS + ("review_changed",)
ROLLUP_FIELDS = SUMMED + ("anonymous", "insider")
# How a MonthlyStat key (department, category, sector, township, channel, anonymous, insider) maps to the
# rollups' (key, key2) for each dimension.
ROLLUP_KEYS = {
    "total": lambda k: ("", ""),
    "category": lambda k: (k[1], ""),
    "sector": lambda k: (k[2], ""),
    "township": lambda k: (k[3], ""),
    "channel": lambda k: (k[4], ""),
    "sector_township": lambda k: (k[2], k[3]),
}


def add_rollups(month: date, cells: dict[tuple, Counter]) -> None:
    """Sum the month's cells — MonthlyStat key (department, category, sector, township, channel, anonymous,
    insider) → counts — down to one dimension at a time (MonthlyRollup)."""
    sums: dict[tuple, Counter] = defaultdict(Counter)
    for key, cell in cells.items():
        measures = Counter({f: cell[f] for f in SUMMED})
        measures["anonymous"] = cell["received"] if key[5] else 0
        measures["insider"] = cell["received"] if key[6] else 0
        for dimension, pick in ROLLUP_KEYS.items():
            sums[(key[0], dimension, *pick(key))].update(measures)
    db.session.add_all(MonthlyRollup(month=month, department_id=department_id, dimension=dimension, key=key,
                                     key2=key2, **{f: measures[f] for f in ROLLUP_FIELDS})
                       for (department_id, dimension, key, key2), measures in sums.items())


def _review_changed(tip_ids: list[int]) -> list[tuple[int, tuple]]:
    """Re-reviewed tips whose final outcome differs from the first conclusion, with their cell key."""
    if not tip_ids:
        return []
    outcomes: dict[int, list[str]] = defaultdict(list)
    for tip_id, details in db.session.execute(
            select(CaseEvent.tip_id, CaseEvent.details).where(CaseEvent.tip_id.in_(tip_ids),
                                                              CaseEvent.action == "conclude")
            .order_by(CaseEvent.id)):
        outcomes[tip_id].append((details or {}).get("outcome"))
    keys = {t.id: (t.department_id, t.category_code, t.sector_code, t.township_code or "", t.channel,
                   bool(t.anonymous), bool(t.insider))
            for t in db.session.execute(select(Tip).where(Tip.id.in_(tip_ids))).scalars()}
    return [(tip_id, keys[tip_id]) for tip_id, seen in outcomes.items() if len(seen) > 1 and seen[0] != seen[-1]]


def _rebuild_rewards(month: date, start: datetime, end: datetime) -> None:
    from tipoff.rewards.models import Reward

    grouped = db.session.execute(
        select(Reward.department_id, Reward.status, func.count(Reward.id),
               func.coalesce(func.sum(func.coalesce(Reward.amount_fen, Reward.calculated_fen)), 0),
               func.coalesce(func.sum(Reward.paid_fen), 0))
        .where(Reward.created_at >= start, Reward.created_at < end)
        .group_by(Reward.department_id, Reward.status))
    for department_id, status, n, amount, paid in grouped:
        db.session.add(RewardStat(month=month, department_id=department_id, status=status, count=n,
                                  amount_fen=int(amount), paid_fen=int(paid)))


def refresh(*, full: bool = False, now: datetime | None = None) -> RefreshReport:
    """Rebuild the months touched since the last refresh (or every month with `full`)."""
    now = now or utcnow()
    state = _state()
    months, top_tip, top_event, top_reward_event = _touched_months(state, full)
    months.add(month_of(now))  # this month's overdue counts move with the clock
    tips = sum(_rebuild_month(month, now) for month in sorted(months))
    state.last_tip_id, state.last_event_id, state.last_reward_event_id = top_tip, top_event, top_reward_event
    state.refreshed_at = now
    db.session.commit()
    return RefreshReport(tuple(sorted(months)), tips)


def refreshed_at() -> datetime | None:
    state = db.session.get(StatsState, 1)
    return as_utc(state.refreshed_at) if state and state.refreshed_at else None


def ensure_fresh(now: datetime | None = None) -> datetime:
    """Refresh when the figures are older than STALE_AFTER; returns when they were computed."""
    now = now or utcnow()
    last = refreshed_at()
    if last is None or now - last > STALE_AFTER:
        refresh(now=now)
        return now
    return last


def percentile(histogram: Iterable[tuple[int, int]], fraction: float) -> int | None:
    """The value at a fraction (0.5 median, 0.9 p90) of a (value, count) histogram; None when empty."""
    pairs = sorted((v, n) for v, n in histogram if n > 0)
    total = sum(n for _, n in pairs)
    if total == 0:
        return None
    rank = max(int(-(-fraction * total // 1)), 1)  # the ceil(fraction × total)-th value
    seen = 0
    for value, n in pairs:
        seen += n
        if seen >= rank:
            return value
    return pairs[-1][0]  # pragma: no cover - rank never exceeds total
