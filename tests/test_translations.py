"""Every label the code translates at run time has an English translation."""
from __future__ import annotations

import pytest

from tipoff.cases.labels import DETAILS, EVIDENCE_KINDS
from tipoff.cases.states import STATES
from tipoff.cases.workflow import ENFORCEMENT, OUTCOMES, REJECTION_REASONS, REPORTER_TRANSITIONS, TRANSITIONS
from tipoff.disclosure.services import PURPOSES
from tipoff.policy import ROLE_LABELS
from tipoff.rewards.eligibility import LABELS as REWARD_CHECKS
from tipoff.rewards.calculator import CATEGORY_NAMES
from tipoff.rewards.exclusions import RELATIONS
from tipoff.rewards.grades import GRADE_NAMES
from tipoff.enterprises.posters import HOTLINES
from tipoff.intake.submission import CHANNEL_LABELS
from tipoff.enterprises.views import STATUS_OPTIONS
from tipoff.followup.services import RATINGS, RETALIATION_KINDS
from tipoff.oversight.views import CHANNELS, METRICS
from tipoff.rewards.workflow import CLAIM_METHODS, EVENT_LABELS, PAYMENT_METHODS, REPORTER_STEPS, STEPS
from tipoff.rewards.workflow import STATES as REWARD_STATES

LABELS = sorted({t.label for t in list(TRANSITIONS.values()) + list(REPORTER_TRANSITIONS.values())}
                | {v[0] for v in STATES.values()} | {v[1].label for v in STATES.values()}
                | {v[1].explanation for v in STATES.values()} | set(OUTCOMES.values()) | set(ENFORCEMENT.values())
                | set(REJECTION_REASONS.values()) | set(PURPOSES.values()) | set(ROLE_LABELS.values())
                | {i.label for i in REWARD_STATES.values()} | {i.public for i in REWARD_STATES.values()}
                | {s.label for s in list(STEPS.values()) + list(REPORTER_STEPS.values())}
                | set(CLAIM_METHODS.values()) | set(PAYMENT_METHODS.values()) | set(REWARD_CHECKS.values())
                | set(RELATIONS.values()) | set(GRADE_NAMES.values()) | set(CATEGORY_NAMES.values())
                | set(RATINGS.values()) | set(RETALIATION_KINDS.values()) | {label for _, label in STATUS_OPTIONS}
                | {label for _, label in HOTLINES} | set(CHANNELS.values()) | set(METRICS.values())
                | {label for _, label, _ in DETAILS} | set(EVIDENCE_KINDS.values()) | set(CHANNEL_LABELS.values())
                | set(EVENT_LABELS.values()))


@pytest.mark.parametrize("label", LABELS)
def test_runtime_label_is_translated(english, label):
    assert english.get(label), f"no English for {label!r}: add it to tipoff/translations/runtime_msgids.py"
