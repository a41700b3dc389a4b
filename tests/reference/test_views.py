"""The reference-data admin pages: who may see them, and edits through the forms."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.reference import services
from tipoff.reference.models import Sector, Township

INDEX = "/staff/admin/reference/"


def test_admin_sees_every_table(client, login_as):
    login_as("admin")
    response = client.get(INDEX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    for text in ("区住房和城乡建设局", "灵井镇", "艾庄回族乡", "燃气", "瞒报、谎报、迟报、漏报生产安全事故",
                 "r7_fallback", "挂牌督办", '<th scope="col">'):
        assert text in body, text
    rules = body[body.index('id="rules"'):]
    assert "行业：危险货物运输" in rules and "区公安局、区应急管理局" in rules  # names, not codes
    # Rules are listed in the order they are tried.
    assert body.index("r1_concealed_accident") < body.index("r4_hazchem_transport") < body.index("r3_sector_lead") \
        < body.index("r7_fallback")


@pytest.mark.parametrize("role, department", [("handler", "zjj"), ("overseer", None), ("leader", "yjj")])
def test_other_roles_are_forbidden(client, login_as, role, department):
    login_as(role, department)
    assert client.get(INDEX).status_code == 403
    assert client.get("/staff/admin/reference/departments/zjj").status_code == 403
    assert client.post("/staff/admin/reference/sectors/gas", data={"lead_department": "yjj"}).status_code == 403


@pytest.mark.parametrize("path", [INDEX, "/staff/admin/reference/departments/zjj"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_admin_renames_a_department(app, client, login_as):
    login_as("admin")
    page = client.get("/staff/admin/reference/departments/wlj")
    assert page.status_code == 200 and 'value="区文化广电和旅游局"' in page.get_data(as_text=True)
    response = client.post("/staff/admin/reference/departments/wlj", data={
        "name": "区文化和旅游局", "email": "wlj@example.gov.cn", "phone": "", "active": "y"})
    assert response.status_code == 302
    assert "区文化和旅游局" in client.get(INDEX).get_data(as_text=True)
    with app.app_context():
        wlj = services.department_by_code("wlj")
        assert (wlj.name, wlj.email, wlj.phone, wlj.active) == ("区文化和旅游局", "wlj@example.gov.cn", None, True)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reference.department.update"))
        assert entry.actor_role == "admin"


def test_deactivating_a_lead_department_is_refused_with_the_reason(app, client, login_as):
    login_as("admin")
    response = client.post("/staff/admin/reference/departments/zjj", data={"name": "区住房和城乡建设局"})
    assert response.status_code == 422
    assert "燃气" in response.get_data(as_text=True)
    with app.app_context():
        assert services.department_by_code("zjj").active


def test_admin_reassigns_a_sector_lead(app, client, login_as):
    login_as("admin")
    page = client.get("/staff/admin/reference/sectors/new_formats").get_data(as_text=True)
    assert '<label for="lead_department">' in page
    response = client.post("/staff/admin/reference/sectors/new_formats", data={"lead_department": "wlj"})
    assert response.status_code == 302
    with app.app_context():
        sector = db.session.scalar(select(Sector).where(Sector.code == "new_formats"))
        assert sector.lead_department.code == "wlj"
    assert client.post("/staff/admin/reference/sectors/gas",
                       data={"lead_department": "no_such"}).status_code == 422


def test_admin_edits_a_township(app, client, login_as):
    login_as("admin")
    response = client.post("/staff/admin/reference/townships/kaifaqu", data={
        "name": "许昌市先进制造业开发区", "department": "tw_kaifaqu", "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        township = db.session.scalar(select(Township).where(Township.code == "kaifaqu"))
        assert (township.name, township.department.code, township.active) == ("许昌市先进制造业开发区", "tw_kaifaqu", True)


def test_unknown_code_is_404(client, login_as):
    login_as("admin")
    assert client.get("/staff/admin/reference/sectors/no_such_sector").status_code == 404
