"""Editing the routing table in the staff UI, the dry run, and a designation adopted as a rule."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import login
from tests.intake.helpers import VALID, receipt_of
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as cases
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import RoutingRule


def rule_form(app, code: str) -> dict:
    """The edit form of a stored rule, as the browser would post it back unchanged."""
    with app.app_context():
        row = db.session.scalar(select(RoutingRule).where(RoutingRule.code == code))
        return {"priority": str(row.priority), "category_codes": row.category_codes or [],
                "sector_codes": row.sector_codes or [], "township_codes": row.township_codes or [],
                "keywords": "\n".join(row.keywords or []), "accept_by": row.accept_by,
                "department_code": row.department_code or "", "copy_to": row.copy_to or [],
                "supervised": "1" if row.supervised else "", "explanation": row.explanation,
                "source": row.source or "", "effective_from": row.effective_from.isoformat(),
                "active": "1" if row.active else ""}


def routed(app, client, **changes) -> Tip:
    reference, _ = receipt_of(client.post("/report", data={**VALID, **changes}))
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        db.session.expunge(tip)
        return tip


def test_admin_changes_a_rule_and_new_tips_follow_it(app, client, login_as):
    login_as("admin")
    page = client.get("/staff/routing/rules/r4_hazchem_transport").get_data(as_text=True)
    assert "危险货物运输" in page and 'value="30"' in page
    form = {**rule_form(app, "r4_hazchem_transport"), "sector_codes": ["gas"], "department_code": "xfj",
            "copy_to": ["township"], "explanation": "试行：燃气由区消防救援大队受理。"}
    response = client.post("/staff/routing/rules/r4_hazchem_transport", data=form)
    assert response.status_code == 302
    tip = routed(app, app.test_client())
    assert tip.routing_rule == "r4_hazchem_transport" and tip.department_id is not None
    assert "区消防救援大队受理" in tip.routing_explanation and "灵井镇人民政府" in tip.routing_explanation
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "routing.rule.update"))
        assert entry.object_id == "r4_hazchem_transport"
        assert entry.details["before"]["sector_codes"] == ["hazchem_transport"]
        assert entry.details["after"]["department_code"] == "xfj"


@pytest.mark.parametrize("change, field, message", [
    ({"priority": "soon"}, "priority", "1 至 100000"),
    ({"priority": "0"}, "priority", "1 至 100000"),
    ({"sector_codes": ["gas", "moon_mining"]}, "sector_codes", "moon_mining"),
    ({"township_codes": ["atlantis"]}, "township_codes", "atlantis"),
    ({"department_code": ""}, "department_code", "请选择部门"),
    ({"department_code": "nasa"}, "department_code", "nasa"),
    ({"accept_by": "whoever"}, "accept_by", "请选择由谁受理"),
    ({"copy_to": ["township", "nasa"]}, "copy_to", "nasa"),
    ({"explanation": "  "}, "explanation", "请填写说明"),
    ({"effective_from": "31/12/2026"}, "effective_from", "2026-01-31"),
    ({"keywords": "、".join(f"词{i}" for i in range(61))}, "keywords", "不超过 60 个"),
    ({"keywords": "一" * 31}, "keywords", "不超过 30 个字"),
])
def test_bad_edits_are_refused_beside_the_field_and_keep_what_was_typed(app, client, login_as, change, field,
                                                                         message):
    login_as("admin")
    form = {**rule_form(app, "r4_hazchem_transport"), "explanation": "我新写的说明", **change}
    response = client.post("/staff/routing/rules/r4_hazchem_transport", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in body
    assert f'href="#{field}"' in body  # the summary links to the field
    if field != "explanation":
        assert "我新写的说明" in body  # nothing typed is lost
    with app.app_context():
        row = db.session.scalar(select(RoutingRule).where(RoutingRule.code == "r4_hazchem_transport"))
        assert row.explanation.startswith("危险货物运输") and row.sector_codes == ["hazchem_transport"]
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "routing.rule.update")) is None


def test_the_last_catch_all_rule_cannot_be_switched_off_or_narrowed(app, client, login_as):
    login_as("admin")
    off = client.post("/staff/routing/rules/r7_fallback", data={**rule_form(app, "r7_fallback"), "active": ""})
    assert off.status_code == 422 and "兜底规则" in off.get_data(as_text=True)
    narrowed = client.post("/staff/routing/rules/r7_fallback",
                           data={**rule_form(app, "r7_fallback"), "category_codes": ["other"]})
    assert narrowed.status_code == 422
    # With another catch-all in place, the old one may go.
    new = {**rule_form(app, "r7_fallback"), "code": "r9_new_fallback", "priority": "999"}
    assert client.post("/staff/routing/rules/new", data=new).status_code == 302
    assert client.post("/staff/routing/rules/r7_fallback",
                       data={**rule_form(app, "r7_fallback"), "active": ""}).status_code == 302
    tip = routed(app, app.test_client(), category="other", sector="new_formats",
                 description="一个新的业态，没有对应的行业主管部门，存在安全隐患，请处理。")
    assert tip.routing_rule == "r6_new_formats"


def test_new_rule_needs_a_fresh_well_formed_code(app, client, login_as):
    login_as("admin")
    form = {**rule_form(app, "r4_hazchem_transport"), "priority": "35"}
    for code, message in (("", "小写字母开头"), ("R8 Bad", "小写字母开头"), ("r4_hazchem_transport", "已有代码")):
        response = client.post("/staff/routing/rules/new", data={**form, "code": code})
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert client.post("/staff/routing/rules/new", data={**form, "code": "r8_gas_trial",
                                                          "sector_codes": ["gas"]}).status_code == 302
    with app.app_context():
        row = db.session.scalar(select(RoutingRule).where(RoutingRule.code == "r8_gas_trial"))
        assert row.priority == 35 and row.sector_codes == ["gas"] and row.active
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "routing.rule.create")) is not None


def test_rule_table_links_to_editing_and_the_dry_run(client, login_as):
    login_as("admin")
    page = client.get("/staff/admin/reference/").get_data(as_text=True)
    assert "/staff/routing/rules/r1_death" in page and "/staff/routing/rules/new" in page
    assert "/staff/routing/dry-run" in page


def test_dry_run_shows_department_copies_and_every_rule_tried(client, login_as):
    login_as("admin")
    page = client.get("/staff/routing/dry-run", query_string={
        "category": "hazard", "sector": "gas", "township": "lingjing", "text": "管道漏气"}).get_data(as_text=True)
    assert "区住房和城乡建设局" in page and "灵井镇人民政府" in page and "r3_sector_lead" in page
    for code in ("r1_concealed_accident", "r1_death", "r2_illegal_operation", "r6_new_formats"):
        assert code in page  # the rules tried before the one that decided are listed
    assert "r7_fallback" not in page
    death = client.get("/staff/routing/dry-run", query_string={
        "category": "hazard", "sector": "gas", "township": "", "text": "昨天工地上死了一个工人"}).get_data(as_text=True)
    assert "r1_death" in death and "挂牌督办" in death and "区安委会办公室" in death


def test_dry_run_refuses_unknown_facts_and_changes_nothing(app, client, login_as):
    login_as("overseer")
    response = client.get("/staff/routing/dry-run", query_string={"category": "x", "sector": "gas", "text": "t"})
    assert response.status_code == 422 and "请选择举报类别" in response.get_data(as_text=True)
    assert client.get("/staff/routing/dry-run").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Tip.id)) is None


def designated_new_format_tip(app, make_staff, department="wlj", **changes) -> str:
    reference, _ = receipt_of(app.test_client().post("/report", data={
        **VALID, "sector": "new_formats", "subject_name": "某剧本杀店",
        "description": "剧本杀店的密室只有一个出口，没有应急照明，消防通道堆满杂物。", **changes}))
    overseer = make_staff("overseer")
    with app.app_context():
        from tipoff.accounts.models import User
        cases.perform(db.session.get(User, overseer.id), reference, "designate",
                      {"to_department": department, "reason": "剧本杀等新业态由文化旅游部门牵头"})
    return reference


def test_overseer_adopts_a_designation_as_a_rule_in_one_click(app, client, make_staff):
    reference = designated_new_format_tip(app, make_staff)
    login(client, make_staff("overseer"))
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    assert "将指定保存为分办规则" in page
    response = client.post(f"/staff/routing/adopt/{reference}", data={"keywords": "剧本杀，密室"})
    assert response.status_code == 302
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已新增分办规则 designated_new_formats" in followed
    tip = routed(app, app.test_client(), sector="new_formats", subject_name="另一家密室逃脱",
                 description="密室逃脱店没有安全出口标志，请查处。")
    assert tip.routing_rule == "designated_new_formats" and "区安委会办公室指定" in tip.routing_explanation
    other = routed(app, app.test_client(), sector="new_formats", subject_name="共享充电宝柜",
                   description="共享充电宝柜放在楼道里，电线裸露，存在隐患。")
    assert other.routing_rule == "r6_new_formats"  # only the kind of tip the keywords name
    again = client.post(f"/staff/routing/adopt/{reference}", data={"keywords": "密室、剧本杀"})
    body = again.get_data(as_text=True)
    assert again.status_code == 409 and "已有相同的分办规则" in body
    assert 'name="keywords" value="密室、剧本杀"' in body  # what was typed stays
    with app.app_context():
        assert len(db.session.scalars(select(RoutingRule).where(RoutingRule.code.like("designated%"))).all()) == 1
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "routing.rule.adopt"))
        assert entry.object_id == reference and entry.details == {"rule": "designated_new_formats"}


def test_only_a_final_designation_in_a_sector_without_a_lead_can_be_adopted(app, client, make_staff):
    login(client, make_staff("overseer"))
    ordinary, _ = receipt_of(app.test_client().post("/report", data=VALID))  # gas: led by 住建局, not designated
    assert "将指定保存为分办规则" not in client.get(f"/staff/cases/{ordinary}").get_data(as_text=True)
    refused = client.post(f"/staff/routing/adopt/{ordinary}", data={})
    assert refused.status_code == 409 and "只有区安委会办公室已最终指定" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(RoutingRule).where(RoutingRule.code.like("designated%"))) is None


def test_handlers_and_admins_cannot_adopt(app, client, make_staff):
    reference = designated_new_format_tip(app, make_staff)
    for role, department in (("handler", "wlj"), ("leader", "wlj"), ("admin", None)):
        c = app.test_client()
        login(c, make_staff(role, department))
        assert c.post(f"/staff/routing/adopt/{reference}", data={}).status_code == 403
