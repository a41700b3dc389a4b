"""Shared by the reward tests: staff of 区住房和城乡建设局 and around it, and a verified tip with its reward."""
from __future__ import annotations

from sqlalchemy import select

from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.cases import services as cases
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.rewards import services

MAJOR = {**VALID, "category": "major_hazard"}       # national-2018 rewards major hazards, not general ones
MAJOR_NAMED = {**NAMED, "category": "major_hazard"}


def user(people, key) -> User:
    """The ORM user of a person of the `people` fixture (inside an app context)."""
    return db.session.get(User, people[key].id)


def verified(app, client, people, data=MAJOR, fine="100000.00", outcome="substantiated") -> tuple[str, str, int]:
    """File a tip, accept and conclude it as verified with a fine; return (reference, access code, reward id)."""
    reference, code = receipt_of(client.post("/report", data=data))
    with app.app_context():
        cases.perform(user(people, "handler"), reference, "accept", {})
        cases.perform(user(people, "handler"), reference, "conclude",
                      {"outcome": outcome, "summary": "查实", "fine": fine})
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        reward = services.reward_of_tip(tip)
        return reference, code, reward.id if reward else None


def walk_to_notified(app, people, reward_id, amount=None):
    with app.app_context():
        payload = {"known_before": "no"}
        if amount:
            payload.update(amount=amount, amount_reason="按查实部分调整")
        services.perform(user(people, "handler"), reward_id, "propose", payload)
        services.perform(user(people, "leader"), reward_id, "approve", {})
        services.perform(user(people, "handler"), reward_id, "notify", {})
