"""The connection fails during COMMIT, after the database has in fact saved the tip: nothing is lost.

The server cannot tell whether such a commit took effect. It answers 503 with the form kept and no
receipt; the evidence files stay on disk; sending the form again (same idempotency key, kept in the
form) shows the saved tip's receipt instead of filing it twice, and its evidence is readable.
"""
from __future__ import annotations

import io
import re

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.intake.helpers import VALID, receipt_of
from tipoff.extensions import db
from tipoff.intake import attachments
from tipoff.intake.models import Attachment, Tip

PDF = b"%PDF-1.4\n% site photo notes\n%%EOF\n"


class _LostConnection(Exception):
    sqlstate = "08006"  # connection failure


def test_a_commit_whose_answer_is_lost_keeps_the_evidence_and_the_retry_finds_the_tip(app, client, monkeypatch):
    real_commit = db.session.commit
    state = {"lost": False}

    def commit_then_lose_the_answer():
        real_commit()
        if not state["lost"]:  # the first commit is the tip's own
            state["lost"] = True
            raise OperationalError("COMMIT", {}, _LostConnection("server closed the connection unexpectedly"))

    form = {**VALID, "idempotency_key": "k" * 32}
    monkeypatch.setattr(db.session, "commit", commit_then_lose_the_answer)
    first = client.post("/report", data={**form, "evidence": [(io.BytesIO(PDF), "notes.pdf")]},
                        content_type="multipart/form-data")
    monkeypatch.setattr(db.session, "commit", real_commit)
    assert first.status_code == 503
    body = first.get_data(as_text=True)
    assert 'id="receipt-reference"' not in body and VALID["description"] in body
    assert re.search(r'name="idempotency_key"[^>]*value="k{32}"', body)

    second = client.post("/report", data=form)  # the person presses submit again (files not re-chosen)
    assert second.status_code in (200, 201)
    reference, _ = receipt_of(second)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Tip)) == 1
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        stored = db.session.scalar(select(Attachment).where(Attachment.tip_id == tip.id))
        assert attachments.read_attachment(tip, stored) == PDF  # the evidence was not thrown away
