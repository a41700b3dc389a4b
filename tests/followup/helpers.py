"""Helpers for follow-up tests: a tip filed, accepted and concluded through the services; time moved on."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.cases.services import perform
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip


def tip_by_reference(reference: str) -> Tip:
    """The tip with this reference (inside an app context)."""
    return db.session.scalar(select(Tip).where(Tip.reference == reference))


def file_tip(client, **changes) -> tuple[str, str]:
    """File a tip through the public form: (reference, access code)."""
    return receipt_of(client.post("/report", data={**VALID, **changes}))


def conclude(app, make_staff, reference: str, action: str = "conclude") -> None:
    """Accept and conclude (or reject) the tip as a handler of its department."""
    with app.app_context():
        department = tip_by_reference(reference).department.code
    handler = make_staff("handler", department)
    with app.app_context():
        user = db.session.get(User, handler.id)
        if action == "reject":
            perform(user, reference, "reject", {"reason_code": "no_facts", "reason": "内容不具体，无法核查。"})
            return
        perform(user, reference, "accept", {})
        perform(user, reference, "conclude", {"outcome": "substantiated", "summary": "经现场检查属实，已责令整改。",
                                              "fine": "100000"})


def concluded_days_ago(app, reference: str, days: int) -> None:
    """Pretend the case was concluded `days` days ago."""
    with app.app_context():
        tip = tip_by_reference(reference)
        tip.concluded_at = utcnow() - timedelta(days=days, hours=1)
        db.session.commit()


def open_status(client, reference: str, code: str) -> str:
    """Open the reporter's status page with the reference and code; return its HTML."""
    response = client.post("/status", data={"reference": reference, "access_code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client.get("/status").get_data(as_text=True)
