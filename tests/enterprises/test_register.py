"""Registering, listing, editing and deactivating enterprises; who sees which; the audit trail."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.enterprises.helpers import credit_code, form
from tipoff.audit.models import AuditEntry
from tipoff.enterprises.models import Enterprise
from tipoff.extensions import db
from tipoff.reference.services import department_by_code

LIST = "/staff/enterprises/"
NEW = "/staff/enterprises/new"


def _register(client, **values) -> int:
    response = client.post(NEW, data=form(**values))
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    with client.application.app_context():
        return db.session.scalar(select(Enterprise.id).order_by(Enterprise.id.desc()).limit(1))


def _listed(client, query: str = "") -> str:
    """The rows of the list page (not its flash messages)."""
    body = client.get(LIST + query).get_data(as_text=True)
    return body[body.index("<tbody>"):body.index("</tbody>")] if "<tbody>" in body else ""


def _department_id(app, code: str) -> int:
    with app.app_context():
        return department_by_code(code).id


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_handler_registers_for_their_department_and_the_admin_sees_it(app, client, make_staff):
    handler = make_staff("handler", "zjj")
    login(client, handler)
    enterprise_id = _register(client, name="许昌恒达机械制造有限公司", code=credit_code(7).lower())
    with app.app_context():
        row = db.session.get(Enterprise, enterprise_id)
        assert (row.credit_code, row.township_code, row.sector_code, row.active) == \
            (credit_code(7), "lingjing", "industry", True)  # normalised to upper case
        assert row.department_id == department_by_code("zjj").id and row.created_by_id == handler.id
    body = _listed(client)
    assert "许昌恒达机械制造有限公司" in body and "灵井镇" in body and "工贸" in body

    admin = app.test_client()
    login(admin, make_staff("admin"))
    body = _listed(admin)
    assert "许昌恒达机械制造有限公司" in body and "区住房和城乡建设局" in body  # the registering department

    entry, = _audit(app, "enterprises.create")
    assert entry.object_id == str(enterprise_id) and entry.department_id == _department_id(app, "zjj")
    assert entry.details == {"township": "lingjing", "sector": "industry", "credit_code_given": True, "active": True}
    assert "许昌恒达" not in str(entry.details)  # codes only in the log


def test_another_department_gets_404_and_does_not_see_it_in_the_list(app, client, make_staff):
    login(client, make_staff("handler", "zjj"))
    enterprise_id = _register(client, name="许昌恒达机械制造有限公司")

    other = app.test_client()
    login(other, make_staff("leader", "yjj"))
    for path in (f"/staff/enterprises/{enterprise_id}", f"/staff/enterprises/{enterprise_id}/poster"):
        assert other.get(path).status_code == 404, path
    assert other.post(f"/staff/enterprises/{enterprise_id}", data=form(name="改名")).status_code == 404
    assert other.post(f"/staff/enterprises/{enterprise_id}/deactivate").status_code == 404
    assert "许昌恒达" not in _listed(other)
    assert "许昌恒达" not in other.get("/staff/enterprises/posters?township=lingjing").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Enterprise, enterprise_id).name == "许昌恒达机械制造有限公司"
    # A colleague in the same department works on it.
    colleague = app.test_client()
    login(colleague, make_staff("leader", "zjj"))
    assert colleague.get(f"/staff/enterprises/{enterprise_id}").status_code == 200


@pytest.mark.parametrize("role, department", [("overseer", None), ("finance", "zjj"), ("operator", None),
                                              ("custodian", None)])
def test_roles_without_the_permission_are_refused(client, login_as, role, department):
    login_as(role, department)
    assert client.get(LIST).status_code == 403
    assert client.post(NEW, data=form()).status_code == 403


def test_an_admin_registers_for_any_department_or_none(app, client, login_as):
    login_as("admin")
    page = client.get(NEW).get_data(as_text=True)
    assert 'name="department"' in page and "区应急管理局" in page
    first = _register(client, name="甲单位", code=credit_code(1), department="yjj")
    second = _register(client, name="乙单位", code=credit_code(2), department="")
    with app.app_context():
        assert db.session.get(Enterprise, first).department_id == department_by_code("yjj").id
        assert db.session.get(Enterprise, second).department_id is None
    response = client.post(NEW, data=form(name="丙单位", code=credit_code(3), department="nowhere"))
    assert response.status_code == 422 and "请选择登记部门" in response.get_data(as_text=True)


def test_a_department_user_cannot_register_for_another_department(app, client, login_as):
    login_as("handler", "zjj")
    assert 'name="department"' not in client.get(NEW).get_data(as_text=True)
    enterprise_id = _register(client, department="yjj")
    with app.app_context():
        assert db.session.get(Enterprise, enterprise_id).department_id == department_by_code("zjj").id


def test_errors_show_beside_the_fields_and_keep_what_was_typed(app, client, login_as):
    login_as("handler", "zjj")
    response = client.post(NEW, data=form(name="许昌恒达机械制造有限公司", code="91411023MA44L0E07X",
                                          township="atlantis", sector="", address="灵井镇工业路 8 号"))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'value="许昌恒达机械制造有限公司"' in body and 'value="91411023MA44L0E07X"' in body
    assert 'value="灵井镇工业路 8 号"' in body
    for field, message in (("credit_code", "校验位不正确"), ("township", "请选择所在乡镇（街道）"),
                           ("sector", "请选择行业领域")):
        block = re.search(rf'<p class="error-message" id="{field}-error">([^<]*)</p>', body)
        assert block and message in block.group(1), field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', body, re.S), field
    assert 'href="#credit_code"' in body  # the summary links to the field
    response = client.post(NEW, data=form(name=" "))
    assert "请填写单位名称" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Enterprise.id)) is None


def test_duplicates_are_refused_by_code_or_by_name_in_the_township(app, client, make_staff):
    login(client, make_staff("handler", "zjj"))
    _register(client, name="许昌恒达机械制造有限公司", code=credit_code(5))
    _register(client, name="老王五金店", code="", township="xuyou", sector="commerce")

    other = app.test_client()
    login(other, make_staff("handler", "yjj"))
    response = other.post(NEW, data=form(name="恒达机械", code=credit_code(5)))
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已登记" in body and "区住房和城乡建设局" in body
    response = other.post(NEW, data=form(name="老王 五金店", code="", township="xuyou", sector="commerce"))
    assert response.status_code == 422 and "同名单位" in response.get_data(as_text=True)
    # Same name in another township: another shop.
    assert other.post(NEW, data=form(name="老王五金店", code="", township="xinyuan", sector="commerce")).status_code == 302


def test_edit_deactivate_and_reactivate_are_audited(app, client, login_as):
    login_as("handler", "zjj")
    enterprise_id = _register(client)
    edit = f"/staff/enterprises/{enterprise_id}"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="许昌恒达机械制造有限公司"' in page and '<option value="lingjing" selected>' in page
    response = client.post(edit, data=form(name="许昌恒达重工有限公司", sector="special_equipment"))
    assert response.status_code == 302
    entry, = _audit(app, "enterprises.update")
    assert entry.details["changed"] == ["name", "sector_code"]
    assert "恒达" not in str(entry.details)

    assert client.post(f"{edit}/deactivate").status_code == 302
    assert "许昌恒达重工有限公司" not in _listed(client)  # the default list: in use
    assert "许昌恒达重工有限公司" in _listed(client, "?status=inactive")
    assert "许昌恒达重工有限公司" not in client.get("/staff/enterprises/posters?township=lingjing").get_data(as_text=True)
    assert client.post(f"{edit}/reactivate").status_code == 302
    with app.app_context():
        row = db.session.get(Enterprise, enterprise_id)
        assert (row.name, row.sector_code, row.active) == ("许昌恒达重工有限公司", "special_equipment", True)
    assert len(_audit(app, "enterprises.deactivate")) == 1 and len(_audit(app, "enterprises.reactivate")) == 1


def test_the_list_filters_by_township_sector_and_name(client, login_as):
    login_as("admin")
    _register(client, name="灵井机械厂", code=credit_code(1), township="lingjing", sector="industry")
    _register(client, name="许由建筑公司", code=credit_code(2), township="xuyou", sector="construction")
    _register(client, name="灵井建材商店", code=credit_code(3), township="lingjing", sector="commerce")

    def names(query: str) -> set[str]:
        body = _listed(client, query)
        return {n for n in ("灵井机械厂", "许由建筑公司", "灵井建材商店") if n in body}

    assert names("") == {"灵井机械厂", "许由建筑公司", "灵井建材商店"}
    assert names("?township=lingjing") == {"灵井机械厂", "灵井建材商店"}
    assert names("?township=lingjing&sector=commerce") == {"灵井建材商店"}
    assert names("?q=建筑") == {"许由建筑公司"}
    assert names(f"?q={credit_code(3)}") == {"灵井建材商店"}
    assert names("?q=%25") == set()  # a LIKE wildcard is searched for literally
    body = client.get(LIST + "?township=lingjing").get_data(as_text=True)
    assert "打印本乡镇（街道）全部海报（2 张）" in body
    assert "/staff/enterprises/posters?township=lingjing" in body
