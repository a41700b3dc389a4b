"""Operators enter tips received by hotline, letter or visit: same rules, channel and actor recorded."""
from __future__ import annotations

from sqlalchemy import select

from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity, Tip


def test_operator_enters_a_hotline_tip_for_a_named_caller(app, client, login_as):
    operator = login_as("operator")
    assert "收到举报的渠道" in client.get("/staff/tips/new").get_data(as_text=True)
    response = client.post("/staff/tips/new", data={**NAMED, "channel": "hotline_12350"})
    assert response.status_code == 201
    reference, code = receipt_of(response)
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert tip.channel == "hotline_12350" and tip.entered_by_user_id == operator.id and not tip.anonymous
        assert db.session.scalar(select(ReporterIdentity.source)) == "operator"
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tip.submit"))
        assert entry.actor_user_id == operator.id and entry.details["channel"] == "hotline_12350"
    # The caller can follow the case with what the operator read out.
    public = app.test_client()
    assert public.post("/status", data={"reference": reference, "access_code": code}).status_code == 302


def test_channel_is_required_and_web_is_not_a_staff_channel(client, login_as):
    login_as("operator")
    for channel in ("", "web"):
        response = client.post("/staff/tips/new", data={**VALID, "channel": channel})
        assert response.status_code == 422 and "请选择举报渠道" in response.get_data(as_text=True)
        assert VALID["description"] in response.get_data(as_text=True)
    empty = client.post("/staff/tips/new", data={}).get_data(as_text=True)  # every problem in one answer
    assert "请选择举报渠道" in empty and "请选择举报类别" in empty and "情况描述至少 10 个字" in empty


def test_the_entry_form_speaks_of_the_reporter_not_to_them(client, login_as):
    login_as("operator")
    page = client.get("/staff/tips/new").get_data(as_text=True)
    assert "录入举报" in page and "举报人姓名" in page and "举报人在被举报的单位工作" in page
    assert "您的姓名" not in page and "我在被举报的单位工作" not in page and "我要举报</h1>" not in page


def test_only_operators_enter_tips(client, login_as):
    login_as("handler", "zjj")
    assert client.post("/staff/tips/new", data={**VALID, "channel": "letter"}).status_code == 403
