"""The queue's views: all open cases, overdue only, due today only — in the page and the API, in scope."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.accounts.tokens import create_api_token
from tipoff.cases.queue import end_of_today
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip

UTC = timezone.utc


@pytest.mark.parametrize("now, end", [
    (datetime(2026, 11, 28, 15, 59, tzinfo=UTC), datetime(2026, 11, 28, 16, 0, tzinfo=UTC)),  # 23:59 Beijing
    (datetime(2026, 11, 28, 16, 0, tzinfo=UTC), datetime(2026, 11, 29, 16, 0, tzinfo=UTC)),   # 00:00 next day
    (datetime(2026, 11, 28, 1, 30, tzinfo=UTC), datetime(2026, 11, 28, 16, 0, tzinfo=UTC)),
    (datetime(2026, 12, 31, 17, 0, tzinfo=UTC), datetime(2027, 1, 1, 16, 0, tzinfo=UTC)),     # new year in Beijing
])
def test_today_ends_at_beijing_midnight(now, end):
    assert end_of_today(now) == end


@pytest.fixture
def three_cases(app):
    """An overdue case, one due later today (Beijing), one due in ten days — all at 区住房和城乡建设局."""
    references = {}
    now = utcnow()
    later_today = now + (end_of_today(now) - now) / 2
    for name, due in (("overdue", now - timedelta(days=1)), ("today", later_today),
                      ("later", now + timedelta(days=10))):
        reference, _ = receipt_of(app.test_client().post("/report", data={**VALID, "subject_name": f"单位-{name}"}))
        with app.app_context():
            tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
            tip.deadline_at = due
            db.session.commit()
        references[name] = reference
    return references


def shown(body: str, references: dict) -> set[str]:
    return {name for name, reference in references.items() if reference in body}


def test_queue_views_show_overdue_and_due_today_with_counts(client, login_as, three_cases):
    login_as("handler", "zjj")
    everything = client.get("/staff/cases/").get_data(as_text=True)
    assert shown(everything, three_cases) == {"overdue", "today", "later"}
    assert everything.index(three_cases["overdue"]) < everything.index(three_cases["today"]) \
        < everything.index(three_cases["later"])  # soonest deadline first
    overdue = client.get("/staff/cases/?due=overdue").get_data(as_text=True)
    assert shown(overdue, three_cases) == {"overdue"}
    assert '<span class="count">3</span>' in overdue and '<span class="count">1</span>' in overdue
    assert shown(client.get("/staff/cases/?due=today").get_data(as_text=True), three_cases) == {"today"}
    filtered = client.get("/staff/cases/?due=today&status=verifying").get_data(as_text=True)
    assert shown(filtered, three_cases) == set() and "没有符合条件的待办案件" in filtered


def test_unknown_filter_values_are_explained_not_ignored(client, login_as, three_cases):
    login_as("handler", "zjj")
    response = client.get("/staff/cases/?due=yesterday&status=closed")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "overdue（已逾期）" in body and "办理中的状态" in body
    assert shown(body, three_cases) == {"overdue", "today", "later"}  # still a usable page


def test_a_department_filter_never_widens_a_handlers_scope(app, client, login_as, three_cases):
    login_as("handler", "yjj")
    assert shown(client.get("/staff/cases/?department=zjj").get_data(as_text=True), three_cases) == set()


def test_overseer_narrows_the_district_queue_by_department(client, login_as, three_cases):
    login_as("overseer")
    assert shown(client.get("/staff/cases/?department=zjj&due=overdue").get_data(as_text=True),
                 three_cases) == {"overdue"}
    assert shown(client.get("/staff/cases/?department=yjj").get_data(as_text=True), three_cases) == set()


def test_api_queue_takes_the_same_filters(app, make_staff, three_cases):
    handler = make_staff("handler", "zjj")
    with app.app_context():
        token = create_api_token(db.session.get(User, handler.id), "queue")
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    body = client.get("/api/v1/cases?due=overdue", headers=headers).get_json()
    assert [c["reference"] for c in body["cases"]] == [three_cases["overdue"]]
    assert body["counts"] == {"all": 3, "overdue": 1, "today": 1,
                              "more": {"all": False, "overdue": False, "today": False}}
    assert body["filter"] == {"due": "overdue"}
    today = client.get("/api/v1/cases?due=today", headers=headers).get_json()
    assert [c["reference"] for c in today["cases"]] == [three_cases["today"]]
    bad = client.get("/api/v1/cases?due=soon", headers=headers)
    assert bad.status_code == 422 and "due" in bad.get_json()["error"]["fields"]


def test_api_rows_are_exactly_the_documented_summary(app, make_staff, three_cases):
    """The queue's hand-written row JSON (tipoff.cases.api.summary_json) equals the schema's dump of the case."""
    from tipoff.cases.api import CaseSummarySchema, summary, summary_json
    from tipoff.cases.queue import queue

    handler = make_staff("handler", "zjj")
    with app.app_context():
        user = db.session.get(User, handler.id)
        rows = queue(user)
        assert len(rows) == 3
        for row in rows:
            tip = db.session.scalar(select(Tip).where(Tip.reference == row.reference))
            assert summary_json(row) == CaseSummarySchema().dump(summary(tip))


def test_page_badges_and_labels_are_the_macros(client, login_as, three_cases):
    login_as("handler", "zjj")
    body = client.get("/staff/cases/").get_data(as_text=True)
    assert re.search(r'<span class="badge badge-bad">已逾期（\d{4}-\d{2}-\d{2}）</span>', body)
    assert '<span class="badge badge-warn">今日到期</span>' in body
    assert re.search(r'<span class="badge badge-ok">\d{4}-\d{2}-\d{2} 前</span>', body)
    assert body.count("待受理") >= 3 and body.count("区住房和城乡建设局") >= 3


def test_every_row_links_to_its_case_page(app, client, login_as, three_cases):
    """Rows join the queue's address and the reference; each link is the case page url_for builds."""
    from flask import url_for

    login_as("handler", "zjj")
    body = client.get("/staff/cases/?page=1").get_data(as_text=True)
    links = re.findall(r'<a href="([^"]+)">(JA-\d{4}-\d{6,9})</a>', body)
    assert len(links) >= 3
    with app.test_request_context("/"):
        assert all(href == url_for("cases.case", reference=reference) for href, reference in links)
    assert all(client.get(href).status_code == 200 for href, _ in links)


@pytest.mark.parametrize("cap, shown, more", [
    (1, {"all": 1, "overdue": 1, "today": 1}, {"all": True, "overdue": False, "today": False}),
    (2, {"all": 2, "overdue": 1, "today": 1}, {"all": True, "overdue": False, "today": False}),
    (3, {"all": 3, "overdue": 1, "today": 1}, {"all": False, "overdue": False, "today": False}),
])
def test_counts_stop_at_the_cap_and_say_there_are_more(app, make_staff, three_cases, cap, shown, more):
    """A backlog is counted up to the cap only (the page then shows "N+"), so its size never slows the page."""
    from tipoff.cases.queue import counts

    handler = make_staff("handler", "zjj")
    with app.app_context():
        found = counts(db.session.get(User, handler.id), cap=cap)
    assert {k: found[k] for k in ("all", "overdue", "today")} == shown and found["more"] == more


def test_the_page_shows_a_capped_count_with_a_plus(app, client, login_as, three_cases, monkeypatch):
    from tipoff.cases import queue as queue_module

    monkeypatch.setattr(queue_module, "COUNT_CAP", 2)
    login_as("handler", "zjj")
    body = client.get("/staff/cases/").get_data(as_text=True)
    assert '<span class="count">2+</span>' in body and '<span class="count">1</span>' in body
