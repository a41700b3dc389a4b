"""The queue's order across pages: soonest deadline first, cases without a deadline last (by id), no case
shown twice or skipped where the dated and undated parts meet (tipoff.cases.queue reads them apart)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.cases.queue import queue
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip


def test_pages_join_dated_and_undated_cases_in_order(app, make_staff):
    now = utcnow()
    deadlines = [now + timedelta(days=3), None, now - timedelta(days=2), None, now + timedelta(days=1),
                 now + timedelta(days=1)]
    references = []
    for n, due in enumerate(deadlines):
        reference, _ = receipt_of(app.test_client().post("/report", data={**VALID, "subject_name": f"单位{n}"}))
        with app.app_context():
            tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
            tip.deadline_at = due
            db.session.commit()
        references.append(reference)
    overseer = make_staff("overseer")
    with app.app_context():
        tips = {t.reference: t for t in db.session.scalars(select(Tip).where(Tip.reference.in_(references)))}
        expected = sorted(references, key=lambda r: (tips[r].deadline_at is None, tips[r].deadline_at or now,
                                                     tips[r].id))
        user = db.session.get(User, overseer.id)
        for per_page in (1, 2, 4, 5, 10):
            pages = [[t.reference for t in queue(user, page=p, per_page=per_page)] for p in range(1, 8)]
            assert [r for page in pages for r in page] == expected, per_page
            assert all(len(page) <= per_page for page in pages)
