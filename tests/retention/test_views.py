"""The legal hold on the case page: only the 区安委会办公室 sets or lifts it, with a reason, audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.retention.helpers import closed_case, file_tip, tip_of
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.retention.models import LegalHold

ROLES = {"admin": None, "overseer": None, "leader": "zjj", "handler": "zjj", "finance": "zjj",
         "custodian": None, "operator": None}


def holds(app):
    with app.app_context():
        return [(h.reason, h.lifted_at is not None, h.lift_reason) for h in db.session.scalars(select(LegalHold))]


def test_overseer_sets_and_lifts_a_hold_from_the_case_page(app, client, people):
    reference, _ = closed_case(app, client, people)
    login(client, people["overseer"])
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    assert "设置法律保全" in page and "保存期限已满，将在下次运行时销毁" in page

    short = client.post(f"/staff/retention/cases/{reference}/hold", data={"reason": "诉讼 A"})
    body = short.get_data(as_text=True)
    assert short.status_code == 422 and "理由至少 5 个字" in body and holds(app) == []
    assert ">诉讼 A</textarea>" in body and 'aria-invalid="true"' in body  # the reason as typed, marked

    done = client.post(f"/staff/retention/cases/{reference}/hold", data={"reason": "行政诉讼（2026）豫1003行初12号"},
                       follow_redirects=True)
    body = done.get_data(as_text=True)
    assert "已设置法律保全" in body and "保全中" in body and "解除法律保全" in body
    assert "已设置法律保全（保全期间不销毁）" in body
    twice = client.post(f"/staff/retention/cases/{reference}/hold", data={"reason": "再设一次保全理由"})
    assert twice.status_code == 409 and "该案件已设置法律保全" in twice.get_data(as_text=True)
    assert len(holds(app)) == 1

    index = client.get("/staff/retention/").get_data(as_text=True)
    assert reference in index and "豫1003行初12号" in index

    lifted = client.post(f"/staff/retention/cases/{reference}/hold/lift", data={"lift_reason": "判决生效，诉讼终结"},
                         follow_redirects=True)
    assert "已解除法律保全" in lifted.get_data(as_text=True)
    assert holds(app) == [("行政诉讼（2026）豫1003行初12号", True, "判决生效，诉讼终结")]
    again = client.post(f"/staff/retention/cases/{reference}/hold/lift", data={"lift_reason": "再解除一次理由"})
    assert again.status_code == 409 and "没有生效的法律保全" in again.get_data(as_text=True)
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("retention.hold%"))
                                     .order_by(AuditEntry.id)).all()
        assert [(e.action, e.object_id, e.reason) for e in entries] == [
            ("retention.hold_set", reference, "行政诉讼（2026）豫1003行初12号"),
            ("retention.hold_lifted", reference, "判决生效，诉讼终结")]


@pytest.mark.parametrize("role", sorted(set(ROLES) - {"overseer"}))
def test_nobody_else_may_hold_or_lift(app, client, make_staff, people, role):
    reference, _ = file_tip(client)
    login(client, make_staff(role, ROLES[role]))
    for path, field in (("hold", "reason"), ("hold/lift", "lift_reason")):
        response = client.post(f"/staff/retention/cases/{reference}/{path}", data={field: "想要设置法律保全"})
        assert response.status_code == 403
    assert holds(app) == []
    if role in ("handler", "leader"):
        page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
        assert "保存期限与法律保全" in page and "设置法律保全" not in page
        assert "事项中仍有未结案的举报" in page


def test_anonymous_is_sent_to_login_and_an_unknown_case_is_404(app, client, people):
    reference, _ = file_tip(client)
    response = client.post(f"/staff/retention/cases/{reference}/hold", data={"reason": "行政诉讼案号示例"})
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    login(client, people["overseer"])
    assert client.post("/staff/retention/cases/JA-NOPE/hold", data={"reason": "行政诉讼案号示例"}).status_code == 404
    assert holds(app) == []


def test_a_hold_on_one_tip_shows_on_the_others_of_its_matter(app, client, people):
    first, _ = file_tip(client)
    second, _ = file_tip(client)
    from tests.rewards.helpers import user
    from tipoff.cases import services as cases
    from tipoff.retention import services

    with app.app_context():
        cases.perform(user(people, "handler"), second, "link", {"to_reference": first})
        services.set_hold(user(people, "overseer"), first, "纪检监察调查需要保全")
        assert tip_of(second).matter_id == tip_of(first).id
    login(client, people["overseer"])
    page = client.get(f"/staff/cases/{second}").get_data(as_text=True)
    assert f"同一事项的 {first} 已设置法律保全" in page
