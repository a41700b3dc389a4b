"""Case pages and the cases API: scope, actions through forms and JSON, refusals that change nothing."""
from __future__ import annotations

from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.accounts.tokens import create_api_token
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake.models import Tip


def _views(app, reference: str) -> int:
    with app.app_context():
        return len(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.view",
                                                               AuditEntry.object_id == reference)).all())


def test_handler_works_a_case_through_the_pages(app, client, login_as):
    reference, _ = receipt_of(app.test_client().post("/report", data=VALID))
    login_as("handler", "zjj")
    queue = client.get("/staff/cases/").get_data(as_text=True)
    assert reference in queue and "一般事故隐患" in queue and ">hazard<" not in queue  # words, not codes
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    assert VALID["description"] in page and "受理" in page
    assert "一般事故隐患 / 燃气 / 灵井镇" in page and "（网站、二维码）" in page
    assert "· 受理决定期限" in page  # which clock the deadline is
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.view")) is not None
        version = db.session.scalar(select(Tip.version))
    response = client.post(f"/staff/cases/{reference}/actions/accept", data={"version": version})
    assert response.status_code == 302
    views_before = _views(app, reference)
    bad = client.post(f"/staff/cases/{reference}/actions/conclude",
                      data={"version": version + 1, "outcome": "substantiated", "summary": "查实", "fine": "12.345",
                            "enforcement": ["rectification_order", "penalty"]})
    assert bad.status_code == 422 and "两位小数" in bad.get_data(as_text=True)
    body = bad.get_data(as_text=True)
    assert 'value="12.345"' in body  # what was typed stays, the ticked measures too
    assert 'value="rectification_order" checked' in body and 'value="penalty" checked' in body
    assert 'value="suspension" checked' not in body and 'value="suspension"' in body
    assert _views(app, reference) == views_before + 1  # the page shows the case again: an audited read
    history = client.get(f"/staff/cases/{reference}").get_data(as_text=True).split('id="history-title"')[1]
    assert ">受理</td>" in history and ">accept<" not in history
    stale = client.post(f"/staff/cases/{reference}/actions/note", data={"version": version, "body": "x"})
    assert stale.status_code == 409 and "刚被他人更新" in stale.get_data(as_text=True)


def test_other_departments_get_404_in_pages_and_api(app, client, login_as, make_staff):
    reference, _ = receipt_of(app.test_client().post("/report", data=VALID))
    other = login_as("handler", "yjj")
    assert reference not in client.get("/staff/cases/").get_data(as_text=True)
    assert client.get(f"/staff/cases/{reference}").status_code == 404
    assert client.post(f"/staff/cases/{reference}/actions/accept", data={}).status_code == 404
    with app.app_context():
        token = create_api_token(db.session.get(User, other.id), "t")
    headers = {"Authorization": f"Bearer {token}"}
    api = app.test_client()
    assert api.get(f"/api/v1/cases/{reference}", headers=headers).status_code == 404
    assert api.post(f"/api/v1/cases/{reference}/actions", json={"action": "accept"}, headers=headers).status_code == 404
    assert api.get("/api/v1/cases", headers=headers).get_json()["cases"] == []


def test_cases_api_actions(app, make_staff):
    reference, _ = receipt_of(app.test_client().post("/report", data=VALID))
    handler = make_staff("handler", "zjj")
    with app.app_context():
        token = create_api_token(db.session.get(User, handler.id), "t")
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/v1/cases", headers=headers).get_json()["cases"]
    assert [c["reference"] for c in listed] == [reference] and listed[0]["status"] == "received"
    accepted = client.post(f"/api/v1/cases/{reference}/actions", json={"action": "accept"}, headers=headers)
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "verifying"
    assert accepted.get_json()["deadline"] is not None
    wrong = client.post(f"/api/v1/cases/{reference}/actions", json={"action": "accept"}, headers=headers)
    assert wrong.status_code == 409 and wrong.get_json()["error"]["code"] == "wrong_state"
    bad = client.post(f"/api/v1/cases/{reference}/actions", headers=headers,
                      json={"action": "conclude", "outcome": "substantiated", "summary": "ok", "fine": -5})
    assert bad.status_code == 422 and "fine" in bad.get_json()["error"]["fields"]
    done = client.post(f"/api/v1/cases/{reference}/actions", headers=headers,
                       json={"action": "conclude", "outcome": "substantiated", "summary": "查实", "fine": "100000.00"})
    assert done.status_code == 200 and done.get_json()["conclusion"]["fine"] == "100000.00"
    stale = client.post(f"/api/v1/cases/{reference}/actions", headers=headers,
                        json={"action": "note", "body": "x", "version": 1})
    assert stale.status_code == 409 and stale.get_json()["error"]["code"] == "case_changed"
    garbage = client.post(f"/api/v1/cases/{reference}/actions", headers=headers, data="nope",
                          content_type="application/json")
    assert garbage.status_code == 400


def test_reporter_sees_department_steps_on_status(app, client, make_staff):
    reference, code = receipt_of(client.post("/report", data=VALID))
    handler = make_staff("handler", "zjj")
    with app.app_context():
        from tipoff.cases import services

        user = db.session.get(User, handler.id)
        services.perform(user, reference, "accept", {})
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "已受理，正在核查" in page


def test_case_page_ids_are_unique(app, client, login_as):
    """Labels must point at their own field: every action form's fields get ids of their own."""
    import collections
    import re

    reference, _ = receipt_of(app.test_client().post("/report", data=VALID))
    login_as("handler", "zjj")
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    ids = collections.Counter(re.findall(r'\sid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    assert 'for="transfer-reason"' in page and 'id="transfer-reason"' in page


def test_the_home_page_says_what_waits(app, client, login_as):
    """A handler sees how many cases are open (and overdue); a custodian how many disclosures wait."""
    for _ in range(2):
        receipt_of(app.test_client().post("/report", data=VALID))
    login_as("handler", "zjj")
    home = client.get("/staff/").get_data(as_text=True)
    assert "2 件办理中" in home and "已逾期" not in home
    client.post("/staff/logout")
    login_as("custodian")
    assert "0 件待审批" in client.get("/staff/").get_data(as_text=True)
