"""Deadlines follow the calendar: an override (or its withdrawal) recomputes open cases' deadlines;
the district re-reviews once, then the reporter is pointed to the city level."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.audit.models import AuditEntry
from tipoff.cases import clocks, services
from tipoff.errors import Conflict
from tipoff.extensions import db
from tipoff.intake.models import Tip

MONDAY_2027 = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)  # a year the calendar package does not cover


def tip_of(reference: str) -> Tip:
    return db.session.scalar(select(Tip).where(Tip.reference == reference))


def restart(reference: str, rule: str, at: datetime, extension_days: int = 0) -> Tip:
    """Put a case's clock at a chosen start, as if the step that starts it had happened then."""
    tip = tip_of(reference)
    clocks.start(tip, rule, at)
    tip.extension_days = extension_days
    if extension_days:
        tip.deadline_at = clocks.extension(tip.deadline_at, extension_days).due
    db.session.commit()
    return tip


@pytest.fixture
def case(client):
    reference, _ = receipt_of(client.post("/report", data=VALID))
    return reference


def test_new_tips_record_when_their_clock_started(app, case):
    with app.app_context():
        tip = tip_of(case)
        assert tip.deadline_started_at == tip.received_at and tip.reviews == 0
        assert clocks.recomputed(tip).due == tip.deadline_at


def test_an_override_moves_open_deadlines_and_withdrawing_it_moves_them_back(app, runner, case):
    with app.app_context():
        before = restart(case, "T2", MONDAY_2027).deadline_at
        assert tip_of(case).deadline_provisional
    result = runner.invoke(args=["tipoff", "holidays", "set", "2027-03-03", "--rest", "--note", "区政府通知（测试）"])
    assert result.exit_code == 0, result.output
    assert case in result.output and "deadlines recomputed: 1 changed" in result.output
    with app.app_context():
        moved = tip_of(case).deadline_at
        assert moved > before and (moved.date() - before.date()).days == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.deadline.recompute"))
        assert entry.object_id == case and entry.details["rule"] == "T2"
    result = runner.invoke(args=["tipoff", "holidays", "revoke", "2027-03-03"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert tip_of(case).deadline_at == before
    assert runner.invoke(args=["tipoff", "holidays", "revoke", "2027-03-03"]).exit_code != 0


def test_recompute_keeps_approved_extensions(app, runner, case):
    with app.app_context():
        tip = restart(case, "T3", MONDAY_2027, extension_days=20)
        expected = clocks.extension(clocks.deadline("T3", MONDAY_2027).due, 20).due
        assert tip.deadline_at == expected
        assert clocks.recomputed(tip).due == expected
    result = runner.invoke(args=["tipoff", "clocks", "recompute"])
    assert "0 changed" in result.output


def test_dry_run_lists_without_changing(app, runner, case):
    with app.app_context():
        restart(case, "T2", MONDAY_2027)
        tip = tip_of(case)
        tip.deadline_at = datetime(2027, 2, 1, tzinfo=timezone.utc)  # stale: computed on an older calendar
        db.session.commit()
    result = runner.invoke(args=["tipoff", "clocks", "recompute", "--dry-run"])
    assert case in result.output and "1 would change" in result.output
    with app.app_context():
        assert tip_of(case).deadline_at == datetime(2027, 2, 1, tzinfo=timezone.utc)
    assert "1 changed" in runner.invoke(args=["tipoff", "clocks", "recompute"]).output
    with app.app_context():
        assert tip_of(case).deadline_at == clocks.deadline("T2", MONDAY_2027).due


def test_a_case_with_an_unknown_start_keeps_its_deadline(app, runner, case):
    with app.app_context():
        tip = tip_of(case)
        tip.deadline_started_at, tip.deadline_at = None, datetime(2027, 2, 1, tzinfo=timezone.utc)
        db.session.commit()
    assert "0 changed" in runner.invoke(args=["tipoff", "clocks", "recompute"]).output


def test_one_district_review_then_the_city(app, client, make_staff):
    reference, code = receipt_of(client.post("/report", data=VALID))
    handler_id = make_staff("handler", "zjj").id
    with app.app_context():
        handler = db.session.get(User, handler_id)
        services.perform(handler, reference, "accept", {})
        services.perform(handler, reference, "conclude", {"outcome": "unsubstantiated", "summary": "未发现漏气。"})
        services.reporter_objects(tip_of(reference), "昨天还闻到燃气味。")
        services.perform(handler, reference, "conclude", {"outcome": "unsubstantiated", "summary": "复查仍未发现。"})
        tip = tip_of(reference)
        assert tip.reviews == 1 and tip.status == "concluded"
        with pytest.raises(Conflict) as refused:
            services.reporter_objects(tip, "还是不服。")
        assert refused.value.code == "review_done" and "许昌市" in refused.value.message
        texts = [text for event, text in services.history(tip) if event.action == "conclude"]
        assert len(texts) == 2 and "未发现漏气" in texts[0] and "复查仍未发现" in texts[1]  # both stay on record
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "本案已经区级复查" in page and 'action="/status/object"' not in page
    mine = page[page.index('id="my-objection-title"'):]
    assert "昨天还闻到燃气味。" in mine  # the reporter's own 复查 request stays in view
    refused_post = client.post("/status/object", data={"reference": reference, "objection": "还是不服"})
    assert refused_post.status_code == 409 and "许昌市应急管理局" in refused_post.get_data(as_text=True)


def test_status_says_when_the_objection_window_has_closed(app, client, make_staff):
    reference, code = receipt_of(client.post("/report", data=VALID))
    with app.app_context():
        handler = db.session.get(User, make_staff("handler", "zjj").id)
        services.perform(handler, reference, "accept", {})
        services.perform(handler, reference, "conclude", {"outcome": "substantiated", "summary": "已整改。"})
        tip = tip_of(reference)
        tip.deadline_at = datetime(2026, 1, 1, tzinfo=timezone.utc)
        db.session.commit()
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "申请复查的期限（收到结论后 10 日）已过" in page and 'action="/status/object"' not in page


def test_objection_state_table(app, case):
    with app.app_context():
        tip = tip_of(case)
        assert services.objection_state(tip) is None  # not concluded
        tip.status = "concluded"
        tip.deadline_at = datetime(2027, 1, 10, tzinfo=timezone.utc)
        now = datetime(2027, 1, 5, tzinfo=timezone.utc)
        assert services.objection_state(tip, now) == "open"
        assert services.objection_state(tip, datetime(2027, 1, 11, tzinfo=timezone.utc)) == "closed"
        tip.reviews = 1
        assert services.objection_state(tip, now) == "reviewed"
        db.session.rollback()
