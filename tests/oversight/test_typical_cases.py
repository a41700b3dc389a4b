"""Typical cases (典型案例): only the 安委办 writes them; text that names a phone, an ID number or a reference
is never published; publish and withdraw decide what /public shows; every step is audited."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.intake.helpers import VALID, receipt_of
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.oversight.models import TypicalCase
from tipoff.oversight.typical import publication_problems

CASE = {"title": "某加气站燃气管道泄漏隐患被及时消除", "category_code": "major_hazard", "sector_code": "gas",
        "body": "群众反映某加气站燃气管道有漏气味道。区住房和城乡建设局接报后当日到场核查，\n\n"
                "查实管道接口老化泄漏，责令立即停用整改，依法罚款五万元。举报人获得奖励。"}
OTHERS = [("admin", None), ("leader", "zjj"), ("handler", "zjj"), ("finance", "zjj"), ("custodian", None),
          ("operator", None)]


@pytest.fixture
def overseer(client, login_as):
    return login_as("overseer")


def create(client, **changes) -> int:
    response = client.post("/staff/typical-cases/new", data={**CASE, **changes})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def audit_actions(app, case_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_type == "typical_case", AuditEntry.object_id == str(case_id)).order_by(AuditEntry.id)))


def test_only_the_overseer_manages_typical_cases(app, client, make_staff, overseer):
    assert client.get("/staff/typical-cases/").status_code == 200
    assert client.get("/staff/typical-cases/new").status_code == 200
    case_id = create(client)
    for role, department in OTHERS:
        other = app.test_client()
        login(other, make_staff(role, department))
        for path in ("/staff/typical-cases/", "/staff/typical-cases/new", f"/staff/typical-cases/{case_id}"):
            assert other.get(path).status_code == 403, (role, path)
        for path in ("/staff/typical-cases/new", f"/staff/typical-cases/{case_id}",
                     f"/staff/typical-cases/{case_id}/publish", f"/staff/typical-cases/{case_id}/withdraw"):
            assert other.post(path, data=CASE).status_code == 403, (role, path)
    anonymous = app.test_client()
    response = anonymous.get("/staff/typical-cases/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert anonymous.post(f"/staff/typical-cases/{case_id}/publish").status_code in (302, 403)
    with app.app_context():
        assert db.session.get(TypicalCase, case_id).published_at is None


def test_publish_and_withdraw_decide_what_the_public_sees(app, client, overseer):
    case_id = create(client)
    assert CASE["title"] not in client.get("/public").get_data(as_text=True)
    assert client.get(f"/public/cases/{case_id}").status_code == 404  # a draft is not public
    response = client.post(f"/staff/typical-cases/{case_id}/publish", follow_redirects=True)
    assert "已发布" in response.get_data(as_text=True)
    page = client.get("/public").get_data(as_text=True)
    assert CASE["title"] in page and f"/public/cases/{case_id}" in page
    public = client.get(f"/public/cases/{case_id}")
    assert public.status_code == 200 and "依法罚款五万元" in public.get_data(as_text=True)
    listed = client.get("/api/v1/public/report").get_json()["typical_cases"]
    assert [c["id"] for c in listed] == [case_id]
    assert client.post(f"/staff/typical-cases/{case_id}/publish").status_code == 302  # 409 shown as a flash
    client.post(f"/staff/typical-cases/{case_id}/withdraw")
    assert CASE["title"] not in client.get("/public").get_data(as_text=True)
    assert client.get(f"/public/cases/{case_id}").status_code == 404
    assert client.get("/api/v1/public/report").get_json()["typical_cases"] == []
    client.post(f"/staff/typical-cases/{case_id}/publish")  # may go public again
    assert client.get(f"/public/cases/{case_id}").status_code == 200
    assert audit_actions(app, case_id) == ["typical_case.create", "typical_case.publish", "typical_case.withdraw",
                                           "typical_case.publish"]


def test_newest_published_first(client, overseer):
    first = create(client, title="第一个案例")
    second = create(client, title="第二个案例")
    client.post(f"/staff/typical-cases/{second}/publish")
    client.post(f"/staff/typical-cases/{first}/publish")
    page = client.get("/public").get_data(as_text=True)
    assert page.index("第一个案例") < page.index("第二个案例")  # published last, shown first


@pytest.mark.parametrize("text, says", [
    ("举报人电话13912345678，请联系。", "11 位手机号码"),
    ("联系 139 1234 5678", "11 位手机号码"),
    ("电话：+86 139-1234-5678", "11 位手机号码"),
    ("身份证 11010519491231002X", "18 位身份证号码"),
    ("身份证 110105194912310021", "18 位身份证号码"),
    ("见举报 JA-2026-000123 的核查", "举报编号"),
    ("见举报 ja-2026-000123", "举报编号"),
    ("全角 １３９１２３４５６７８", "11 位手机号码"),
])
def test_publishing_is_refused_while_the_text_names_a_phone_an_id_or_a_reference(app, client, overseer, text, says):
    case_id = create(client, body=CASE["body"] + text)
    edit_page = client.get(f"/staff/typical-cases/{case_id}").get_data(as_text=True)
    assert says in edit_page  # the writer is warned before trying
    response = client.post(f"/staff/typical-cases/{case_id}/publish")
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TypicalCase, case_id).published_at is None
    assert client.get(f"/public/cases/{case_id}").status_code == 404
    assert audit_actions(app, case_id) == ["typical_case.create"]


def test_the_check_names_each_problem_and_passes_ordinary_numbers():
    problems = publication_problems("JA-2026-000001", "电话 13800138000，身份证 11010519491231002X")
    assert any("举报编号" in p for p in problems["title"])
    assert any("手机号码" in p for p in problems["body"]) and any("身份证号码" in p for p in problems["body"])
    assert "13800138000" not in str(problems) and "11010519491231002X" not in str(problems)
    assert publication_problems("2026年罚款 50000 元", "死亡 3 人，直接经济损失 12345678 元，2026-11-28 整改") == {}


def test_a_published_case_cannot_be_edited_to_expose_someone(app, client, overseer):
    case_id = create(client)
    client.post(f"/staff/typical-cases/{case_id}/publish")
    response = client.post(f"/staff/typical-cases/{case_id}", data={**CASE, "body": "联系人 13912345678"})
    assert response.status_code == 422 and "11 位手机号码" in response.get_data(as_text=True)
    assert "13912345678" not in client.get(f"/public/cases/{case_id}").get_data(as_text=True)
    response = client.post(f"/staff/typical-cases/{case_id}", data={**CASE, "title": "标题改了"})
    assert response.status_code == 302
    assert "标题改了" in client.get(f"/public/cases/{case_id}").get_data(as_text=True)
    assert audit_actions(app, case_id) == ["typical_case.create", "typical_case.publish", "typical_case.edit"]
    with app.app_context():
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "typical_case.edit")).one()
        assert entry.details == {"changed": ["title"], "status": "published"}


def test_the_tip_link_is_for_staff_only(app, client, overseer):
    reference, _ = receipt_of(client.post("/report", data=VALID))
    case_id = create(client, tip_reference=reference.lower())
    assert reference in client.get(f"/staff/typical-cases/{case_id}").get_data(as_text=True)
    client.post(f"/staff/typical-cases/{case_id}/publish")
    assert reference not in client.get(f"/public/cases/{case_id}").get_data(as_text=True)
    assert reference not in client.get("/public").get_data(as_text=True)
    assert reference not in client.get("/api/v1/public/report").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(TypicalCase, case_id).tip_id is not None


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"), ({"title": "标" * 201}, "title"), ({"body": ""}, "body"),
    ({"body": "文" * 5001}, "body"), ({"category_code": "nonsense"}, "category_code"),
    ({"sector_code": "nonsense"}, "sector_code"), ({"tip_reference": "JA-2026-999999"}, "tip_reference"),
    ({"body": "控制字符\x00"}, "body"),
])
def test_bad_input_is_refused_beside_the_field(app, client, overseer, changes, field):
    response = client.post("/staff/typical-cases/new", data={**CASE, **changes})
    assert response.status_code == 422
    assert f'href="#{field}"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(TypicalCase.id)) is None


def test_longest_allowed_text_is_accepted(client, overseer):
    create(client, title="标" * 200, body="文" * 5000, category_code="", sector_code="")


def test_the_form_reminds_the_writer_not_to_expose_the_reporter(client, overseer):
    page = client.get("/staff/typical-cases/new").get_data(as_text=True)
    assert "不要暴露举报人" in page and "举报编号" in page


@pytest.mark.parametrize("text", ["银行卡6222021234567890123", "查询码 1234 5678 9012 3456", "电话0374-5123456",
                                  "编号JA2026000123", "手机138.1234.5678", "邮箱 zhang@example.cn"])
def test_publication_refuses_other_ways_to_point_at_a_person(text):
    from tipoff.oversight.typical import publication_problems

    assert publication_problems("标题", f"某加气站隐患整改情况。{text}。")["body"]


def test_ordinary_figures_are_fine_to_publish():
    from tipoff.oversight.typical import publication_problems

    assert publication_problems("2026年查处一起燃气隐患", "罚款 3.5 万元（35000 元），责令停产整改 30 日。") == {}
