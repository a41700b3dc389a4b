"""The pure core: when a matter's evidence or identity is due, in Beijing time, and what stops it."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tipoff.retention.policy import MatterFacts, Part, Periods, TipFacts, decide, due_from
from tipoff.rewards.workflow import OPEN, RewardState

OPEN_REWARDS = frozenset(s.value for s in OPEN)
UTC = timezone.utc
PERIODS = Periods(evidence_days=10, identity_days=5)


def closed_tip(reference="JA1", closed_at=datetime(2026, 1, 1, 4, 0, tzinfo=UTC), **changes):
    values = dict(reference=reference, status="closed", closed_at=closed_at, has_evidence=True, has_identity=True)
    return TipFacts(**{**values, **changes})


def verdicts(matter, now, periods=PERIODS):
    return {v.part: v for v in decide(matter, periods, now, OPEN_REWARDS)}


@pytest.mark.parametrize("closed_at, days, first_moment", [
    # Closed 2026-01-01 12:00 Beijing: the day of closing does not count, day 1 is 01-02, day 5 ends 01-06 24:00.
    (datetime(2026, 1, 1, 4, 0, tzinfo=UTC), 5, datetime(2026, 1, 6, 16, 0, tzinfo=UTC)),
    # 23:59 Beijing on 01-01 is still 01-01 (15:59 UTC): same answer.
    (datetime(2026, 1, 1, 15, 59, tzinfo=UTC), 5, datetime(2026, 1, 6, 16, 0, tzinfo=UTC)),
    # 00:01 Beijing on 01-02 (16:01 UTC on 01-01) is the next Beijing day: one day later.
    (datetime(2026, 1, 1, 16, 1, tzinfo=UTC), 5, datetime(2026, 1, 7, 16, 0, tzinfo=UTC)),
    # Across a leap day and a year end.
    (datetime(2028, 2, 27, 2, 0, tzinfo=UTC), 3, datetime(2028, 3, 1, 16, 0, tzinfo=UTC)),
    (datetime(2026, 12, 31, 2, 0, tzinfo=UTC), 1, datetime(2027, 1, 1, 16, 0, tzinfo=UTC)),
    # Naive datetimes (SQLite) are UTC.
    (datetime(2026, 1, 1, 4, 0), 5, datetime(2026, 1, 6, 16, 0, tzinfo=UTC)),
])
def test_due_from_counts_beijing_days_after_the_closing_day(closed_at, days, first_moment):
    assert due_from(closed_at, days) == first_moment


@pytest.mark.parametrize("now, evidence_due, identity_due", [
    (datetime(2026, 1, 6, 15, 59, 59, tzinfo=UTC), False, False),  # 01-06 23:59:59 Beijing: day 5 not over
    (datetime(2026, 1, 6, 16, 0, tzinfo=UTC), False, True),         # 01-07 00:00 Beijing: identity goes
    (datetime(2026, 1, 11, 15, 59, tzinfo=UTC), False, True),
    (datetime(2026, 1, 11, 16, 0, tzinfo=UTC), True, True),          # 01-12 00:00 Beijing: evidence too
    (datetime(2036, 1, 1, tzinfo=UTC), True, True),
])
def test_period_boundaries(now, evidence_due, identity_due):
    found = verdicts(MatterFacts((closed_tip(),)), now)
    assert (found[Part.EVIDENCE].due, found[Part.IDENTITY].due) == (evidence_due, identity_due)
    assert "2026-01-01 结案" in found[Part.IDENTITY].reason


LATE = datetime(2036, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("matter, reason", [
    (MatterFacts((closed_tip(status="concluded", closed_at=None),)), "未结案"),
    (MatterFacts((closed_tip(status="rejected", closed_at=None),)), "未结案"),  # rejected may still be closed
    (MatterFacts((closed_tip(status="under_review", closed_at=None),)), "未结案"),
    (MatterFacts((closed_tip(on_hold=True),)), "法律保全"),
    (MatterFacts((closed_tip(), closed_tip("JA2", status="verifying", closed_at=None))), "未结案"),
    (MatterFacts((closed_tip(), closed_tip("JA2", on_hold=True))), "法律保全"),  # a hold on one holds the matter
    (MatterFacts((closed_tip(),), disclosure_pending=True), "身份调阅"),
    (MatterFacts((closed_tip(),), followup_open_until=datetime(2036, 6, 1, tzinfo=UTC)), "回访"),
] + [(MatterFacts((closed_tip(),), reward_state=state.value), "奖励") for state in OPEN])
def test_nothing_goes_while_something_stops_it(matter, reason):
    found = verdicts(matter, LATE)
    assert set(found) == {Part.EVIDENCE, Part.IDENTITY}
    assert not any(v.due for v in found.values())
    assert all(reason in v.reason for v in found.values())


@pytest.mark.parametrize("state", sorted(set(RewardState) - OPEN))
def test_a_finished_reward_does_not_stop_it(state):
    found = verdicts(MatterFacts((closed_tip(),), reward_state=state.value), LATE)
    assert all(v.due for v in found.values())


def test_a_matter_counts_from_its_last_closing_and_goes_together():
    early = closed_tip("JA1", closed_at=datetime(2026, 1, 1, 4, 0, tzinfo=UTC), has_identity=False)
    late = closed_tip("JA2", closed_at=datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    matter = MatterFacts((early, late))
    assert not any(v.due for v in decide(matter, PERIODS, datetime(2026, 2, 1, tzinfo=UTC), OPEN_REWARDS))
    found = verdicts(matter, datetime(2026, 3, 20, tzinfo=UTC))
    assert found[Part.EVIDENCE].references == ("JA1", "JA2")
    assert found[Part.IDENTITY].references == ("JA2",)  # the anonymous one has no identity to destroy
    assert found[Part.EVIDENCE].reason.startswith("2026-03-01 结案")


def test_nothing_left_means_no_verdict():
    gone = closed_tip(has_evidence=False, has_identity=False)
    assert decide(MatterFacts((gone,)), PERIODS, LATE, OPEN_REWARDS) == []
    only_identity = verdicts(MatterFacts((closed_tip(has_evidence=False),)), LATE)
    assert set(only_identity) == {Part.IDENTITY}


@pytest.mark.parametrize("evidence, identity", [(0, 5), (5, 0), (-1, 5), (True, 5), (1.5, 5), ("10", 5)])
def test_periods_must_be_whole_positive_days(evidence, identity):
    with pytest.raises(ValueError):
        Periods(evidence, identity)


def test_the_listing_reason_has_no_personal_data():
    found = verdicts(MatterFacts((closed_tip(),)), LATE)
    for verdict in found.values():
        assert set(verdict.reason) <= set("0123456789- ，结案保存期限日已于届满")
