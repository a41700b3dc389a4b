"""Closed cases for the retention tests, built through the real forms and services."""
from __future__ import annotations

import io
from datetime import timedelta

from sqlalchemy import select, update

from tests.intake.helpers import NAMED, receipt_of
from tests.rewards.helpers import MAJOR_NAMED, user
from tipoff.cases import services as cases
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import CaseEvent, Tip

EVIDENCE = b"%PDF-1.4\n" + "欧阳明哲拍的现场记录".encode() + b"\n%%EOF"
DESCRIPTION = NAMED["description"]


def file_tip(client, data=NAMED) -> tuple[str, str]:
    """A named tip with one evidence file; (reference, access code)."""
    response = client.post("/report", data={**data, "evidence": [(io.BytesIO(EVIDENCE), "欧阳明哲.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    return receipt_of(response)


def tip_of(reference: str) -> Tip:
    return db.session.scalar(select(Tip).where(Tip.reference == reference))


def close(app, people, reference: str, outcome: str = "unsubstantiated", fine: str | None = None) -> None:
    """Accept, conclude (with a message to the reporter and a note), let the objection window pass, close."""
    with app.app_context():
        handler = user(people, "handler")
        cases.perform(handler, reference, "accept", {"note": "受理备注：联系了欧阳明哲"})
        payload = {"outcome": outcome, "summary": "现场核查情况说明"}
        if fine:
            payload["fine"] = fine
        cases.perform(handler, reference, "conclude", payload)
        tip_of(reference).deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        cases.perform(handler, reference, "close", {})


def closed_years_ago(app, reference: str, years: int) -> None:
    """Move the closing back in time (the only way to age a case in a test)."""
    with app.app_context():
        tip = tip_of(reference)
        db.session.execute(update(CaseEvent).where(CaseEvent.tip_id == tip.id, CaseEvent.to_state == "closed")
                           .values(created_at=utcnow() - timedelta(days=365 * years + 3)))
        db.session.commit()


def closed_case(app, client, people, years: int = 11, data=NAMED, **close_args) -> tuple[str, str]:
    reference, code = file_tip(client, data)
    close(app, people, reference, **close_args)
    closed_years_ago(app, reference, years)
    return reference, code


__all__ = ["MAJOR_NAMED", "closed_case", "close", "closed_years_ago", "file_tip", "tip_of", "user"]
