"""Administration of rewards: rule sets (adopt, stop, add a local one) and the exclusion register (R7)."""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from tipoff import crypto
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake.validators import id_check_char
from tipoff.money import to_string
from tipoff.rewards import catalog
from tipoff.rewards.calculator import Facts, quote
from tipoff.rewards.eligibility import excluded
from tipoff.rewards.models import ExcludedPerson, RewardRuleSet

BASE = "/staff/admin/rewards"
ID_NUMBER = "11010519491231002X"
OTHER_ID = "41100319800101003" + id_check_char("41100319800101003")
PHONE = "13912345678"

ROUTES = [("get", f"{BASE}/rule-sets"), ("post", f"{BASE}/rule-sets/henan-2025/in-force"),
          ("get", f"{BASE}/rule-sets/new"), ("post", f"{BASE}/rule-sets/new"), ("get", f"{BASE}/exclusions"),
          ("post", f"{BASE}/exclusions"), ("post", f"{BASE}/exclusions/1/revoke"),
          ("post", f"{BASE}/exclusions/check")]


def error_beside(body: str, field: str) -> str:
    """The error message shown next to an input (empty when there is none)."""
    found = re.search(rf'<p class="error-message" id="{re.escape(field)}-error">([^<]*)</p>', body)
    return found.group(1) if found else ""


def input_value(body: str, field: str) -> str | None:
    found = re.search(rf'<input [^>]*name="{re.escape(field)}" value="([^"]*)"', body)
    return found.group(1) if found else None


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


# ---------------------------------------------------------------- who may

@pytest.mark.parametrize("role, department", [("leader", "zjj"), ("handler", "zjj"), ("overseer", None),
                                              ("finance", "zjj")])
def test_only_an_administrator_may_configure_rewards(app, client, login_as, role, department):
    login_as(role, department)
    for method, url in ROUTES:
        response = getattr(client, method)(url, data={"in_force": "1", "value": ID_NUMBER})
        assert response.status_code == 403, (method, url)
    with app.app_context():
        assert db.session.scalar(select(RewardRuleSet).where(RewardRuleSet.code == "henan-2025")).in_force is False


def test_logged_out_visitors_are_sent_to_the_login_page(client):
    for method, url in ROUTES:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"], url


# ---------------------------------------------------------------- rule sets

def test_listing_shows_both_seed_sets_in_plain_words_with_their_sources(client, login_as):
    login_as("admin")
    body = client.get(f"{BASE}/rule-sets").get_data(as_text=True)
    assert "举报受理之日有效的规则集适用于该举报；同时有效的，以生效日期最晚者为准。" in body
    for text_ in ("national-2018", "国家2018办法", "安全生产领域举报奖励办法（安监总财〔2018〕19号）", "2018-01-04",
                  "henan-2025", "河南2025办法", "2025-01-01",
                  "按罚款的 15% 计奖，最低 ¥3,000，最高 ¥300,000。", "按罚款的 15% 计奖，最低 ¥1,000，最高 ¥300,000。",
                  "一般事故 ¥30,000、较大事故 ¥40,000、重大事故 ¥50,000、特别重大事故 ¥60,000；合计最高 ¥300,000。",
                  "在标准金额上加奖 15%，加奖不少于 ¥1,000。", "每项奖励合计不超过 ¥300,000（含加奖）。",
                  "一般事故隐患不在本办法奖励范围内。", "河南未另行规定的，按国家2018办法。"):
        assert text_ in body, text_
    national = body[body.index('id="set-national-2018"'):body.index('id="set-henan-2025"')]
    assert "已采用" in national and "今天受理的举报适用" in national and "一般事故隐患</strong>：不按罚款计奖" in national
    assert "吹哨人加奖</strong>：无。" in national


def test_an_administrator_puts_henan_2025_in_force_and_back(app, client, login_as):
    admin = login_as("admin")
    response = client.post(f"{BASE}/rule-sets/henan-2025/in-force", data={"in_force": "1"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已采用 河南2025办法" in body
    with app.app_context():
        row, _ = catalog.in_force_on(date(2026, 6, 1))
        assert row.code == "henan-2025"
        assert catalog.in_force_on(date(2024, 12, 31))[0].code == "national-2018"
    henan = body[body.index('id="set-henan-2025"'):]
    assert "今天受理的举报适用" in henan
    response = client.post(f"{BASE}/rule-sets/henan-2025/in-force", data={"in_force": "0"}, follow_redirects=True)
    assert "已停用 河南2025办法" in response.get_data(as_text=True)
    with app.app_context():
        assert catalog.in_force_on(date(2026, 6, 1))[0].code == "national-2018"
    entries = audit(app, "rewards.rule_set.in_force")
    assert [(e.object_id, e.details["in_force"], e.actor_user_id) for e in entries] == [
        ("henan-2025", True, admin.id), ("henan-2025", False, admin.id)]


def test_national_2018_cannot_be_switched_off(app, client, login_as):
    login_as("admin")
    response = client.post(f"{BASE}/rule-sets/national-2018/in-force", data={"in_force": "0"}, follow_redirects=True)
    assert "国家2018办法是默认规则集，不能停用。" in response.get_data(as_text=True)
    with app.app_context():
        assert catalog.rule_set("national-2018")[0].in_force is True
    assert audit(app, "rewards.rule_set.in_force") == []


def test_switching_an_unknown_set_is_404_and_a_missing_choice_changes_nothing(app, client, login_as):
    login_as("admin")
    assert client.post(f"{BASE}/rule-sets/mars-2099/in-force", data={"in_force": "1"}).status_code == 404
    response = client.post(f"{BASE}/rule-sets/henan-2025/in-force", data={"in_force": "yes"}, follow_redirects=True)
    assert "未说明采用还是停用" in response.get_data(as_text=True)
    with app.app_context():
        assert catalog.rule_set("henan-2025")[0].in_force is False


JIANAN = {
    "code": "jianan-2027", "name": "建安区安全生产领域举报奖励实施办法（试行）", "short_name": "建安2027办法",
    "effective_from": "2027-01-01",
    "major_hazard_rate": "20", "major_hazard_floor": "3000", "major_hazard_cap": "300000",
    "violation_rate": "20", "violation_floor": "3000", "violation_cap": "300000",
    "hazard_rate": "", "hazard_floor": "", "hazard_cap": "",
    "death_general": "30000", "death_larger": "40000", "death_major": "50000", "death_especially_major": "60000",
    "concealed_cap": "500000", "insider_rate": "15", "insider_floor": "1000", "total_cap": "500000",
    "source_fine_rules": "建安区试行办法第五条：按罚款的20%计奖。", "source_per_death": "沿用国家2018办法。",
    "source_insider": "", "source_scope": "",
}


def test_an_administrator_adds_a_local_set_at_20_percent(app, client, login_as):
    admin = login_as("admin")
    response = client.post(f"{BASE}/rule-sets/new", data={**JIANAN, "in_force": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith("#set-jianan-2027")
    with app.app_context():
        row, rules = catalog.rule_set("jianan-2027")
        assert row.in_force and row.created_by_id == admin.id and row.name == JIANAN["name"]
        assert row.data["fine_rules"]["violation"]["rate"] == "0.2" and "hazard" not in row.data["fine_rules"]
        result = quote(Facts("violation", fine=D("100000")), rules)
        assert to_string(result.amount) == "20000.00" and "20%" in result.explanation
        assert to_string(quote(Facts("hazard", fine=D("100000")), rules).amount) == "0.00"
        assert to_string(quote(Facts("concealed_accident", accident_grade="major", concealed_deaths=12),
                               rules).amount) == "500000.00"
        assert rules.sources == {"fine_rules": JIANAN["source_fine_rules"], "per_death": "沿用国家2018办法。"}
        assert catalog.in_force_on(date(2027, 3, 1))[0].code == "jianan-2027"
        assert catalog.in_force_on(date(2026, 12, 31))[0].code == "national-2018"
    (entry,) = audit(app, "rewards.rule_set.create")
    assert entry.object_id == "jianan-2027" and entry.actor_user_id == admin.id
    body = client.get(f"{BASE}/rule-sets").get_data(as_text=True)
    assert "建安2027办法" in body and "按罚款的 20% 计奖，最低 ¥3,000，最高 ¥300,000。" in body


def test_a_local_set_saved_without_in_force_is_not_applied(app, client, login_as):
    login_as("admin")
    assert client.post(f"{BASE}/rule-sets/new", data={**JIANAN, "effective_from": "2020-01-01"}).status_code == 302
    with app.app_context():
        assert catalog.rule_set("jianan-2027")[0].in_force is False
        assert catalog.in_force_on(date(2026, 1, 1))[0].code == "national-2018"


@pytest.mark.parametrize("change, field, message", [
    ({"code": "Jianan 2027"}, "code", "代码以小写字母开头"),
    ({"name": " "}, "name", "请填写名称"),
    ({"short_name": ""}, "short_name", "请填写简称"),
    ({"short_name": "建" * 41}, "short_name", "不超过 40 字"),
    ({"effective_from": "2027/01/01"}, "effective_from", "2027-01-01"),
    ({"violation_rate": "twenty"}, "violation_rate", "百分数"),
    ({"violation_rate": "150"}, "violation_rate", "不超过 100"),
    ({"violation_rate": "0"}, "violation_rate", "大于 0"),
    ({"violation_rate": "12.345"}, "violation_rate", "最多两位小数"),
    ({"violation_rate": "", "violation_floor": "3000"}, "violation_rate", "请填写比例"),
    ({"violation_floor": "三千"}, "violation_floor", "金额须写成数字"),
    ({"major_hazard_cap": "1000"}, "major_hazard_cap", "最高额不能低于最低额"),
    ({"hazard_floor": "1000"}, "hazard_rate", "请填写比例"),
    ({"death_general": ""}, "death_general", "请填写金额"),
    ({"death_larger": "-5"}, "death_larger", "不能为负数"),
    ({"concealed_cap": "12.345"}, "concealed_cap", "两位小数"),
    ({"insider_rate": ""}, "insider_rate", "请填写比例"),
    ({"insider_floor": "很多"}, "insider_floor", "金额须写成数字"),
    ({"total_cap": "abc"}, "total_cap", "金额须写成数字"),
    ({"source_per_death": "依" * 1001}, "source_per_death", "最多 1000 个字"),
])
def test_a_bad_field_is_refused_beside_it_and_everything_typed_is_kept(app, client, login_as, change, field, message):
    login_as("admin")
    form = {**JIANAN, "in_force": "1", **change}
    response = client.post(f"{BASE}/rule-sets/new", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in error_beside(body, field), body[:3000]
    assert f'href="#{field}"' in body  # the summary links to the input
    for name in ("code", "name", "short_name", "effective_from", "violation_rate", "violation_floor",
                 "death_general", "concealed_cap", "insider_rate", "total_cap"):
        assert input_value(body, name) == form[name].strip() or name == "name", name
    assert 'name="in_force" value="1" checked' in body
    if field != "source_per_death":
        assert form["source_per_death"] in body
    with app.app_context():
        codes = set(db.session.scalars(select(RewardRuleSet.code)))
        assert codes == {"national-2018", "henan-2025"}


def test_several_bad_fields_are_all_reported_at_once(client, login_as):
    login_as("admin")
    body = client.post(f"{BASE}/rule-sets/new", data={**JIANAN, "code": "henan-2025", "violation_rate": "x",
                                                       "death_major": "y"}).get_data(as_text=True)
    assert "已有代码为 henan-2025 的规则集" in error_beside(body, "code")
    assert "百分数" in error_beside(body, "violation_rate")
    assert "金额须写成数字" in error_beside(body, "death_major")


def test_a_duplicate_code_is_refused(app, client, login_as):
    login_as("admin")
    response = client.post(f"{BASE}/rule-sets/new", data={**JIANAN, "code": "henan-2025"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已有代码为 henan-2025 的规则集" in error_beside(body, "code")
    assert input_value(body, "code") == "henan-2025"
    with app.app_context():
        assert catalog.rule_set("henan-2025")[0].short_name == "河南2025办法"
    assert audit(app, "rewards.rule_set.create") == []


def test_copy_from_henan_2025_prefills_everything_but_code_and_date(client, login_as):
    login_as("admin")
    response = client.get(f"{BASE}/rule-sets/new?from=henan-2025")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已复制 河南2025办法" in body
    expected = {"code": "", "effective_from": "", "short_name": "河南2025办法", "violation_rate": "15",
                "violation_floor": "3000", "violation_cap": "300000", "hazard_rate": "15", "hazard_floor": "1000",
                "death_general": "30000", "death_especially_major": "60000", "concealed_cap": "300000",
                "insider_rate": "15", "insider_floor": "1000", "total_cap": "300000"}
    for name, value in expected.items():
        assert input_value(body, name) == value, name
    assert "企业员工举报本单位：在标准金额上加奖15%" in body  # the source notes come along
    assert client.get(f"{BASE}/rule-sets/new?from=mars-2099").status_code == 404


def test_a_copy_changed_to_20_percent_can_be_saved(app, client, login_as):
    login_as("admin")
    body = client.get(f"{BASE}/rule-sets/new?from=henan-2025").get_data(as_text=True)
    form = {name: value for name, value in re.findall(r'<input [^>]*name="([a-z_]+)" value="([^"]*)"', body)
            if name not in ("csrf_token", "in_force")}
    form.update(code="henan-2025-local", effective_from="2026-01-01", short_name="河南2025办法（本区20%）",
                violation_rate="20", major_hazard_rate="20")
    form.update({m: re.search(rf'<textarea [^>]*name="{m}"[^>]*>([^<]*)</textarea>', body).group(1)
                 for m in ("source_fine_rules", "source_per_death", "source_insider", "source_scope")})
    assert client.post(f"{BASE}/rule-sets/new", data=form).status_code == 302
    with app.app_context():
        _, rules = catalog.rule_set("henan-2025-local")
        assert to_string(quote(Facts("violation", fine=D("100000"), insider=True), rules).amount) == "23000.00"
        assert rules.fine_rules["hazard"].floor == D("1000")


# ---------------------------------------------------------------- the exclusion register

def add(client, **changes):
    return client.post(f"{BASE}/exclusions", data={"id_number": ID_NUMBER, "phone": "", "relation": "staff",
                                                   "department": "yjj", "note": "区应急管理局执法人员", **changes})


def everything_stored(app) -> str:
    """Every row of every table, as text (to prove a value is stored nowhere)."""
    with app.app_context():
        dump = []
        for table in db.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in db.session.execute(text(f'SELECT * FROM "{table.name}"'))]
        return "\n".join(dump)


def test_an_id_number_is_registered_as_its_blind_index_only(app, client, login_as):
    admin = login_as("admin")
    response = add(client)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已登记（仅保存不可逆的比对码）" in page and ID_NUMBER not in page and "身份证号 ✓ / 手机号 —" in page
    assert "区应急管理局执法人员" in page
    with app.app_context():
        row = db.session.scalar(select(ExcludedPerson))
        assert row.id_number_index == crypto.blind_index("id_number", ID_NUMBER) and row.phone_index is None
        assert row.relation == "staff" and row.created_by_id == admin.id and row.revoked_at is None
        stored = db.session.execute(text("SELECT * FROM reward_exclusions")).all()
        assert len(stored) == 1 and ID_NUMBER not in repr(tuple(stored[0]))
        assert ID_NUMBER.lower() not in repr(tuple(stored[0])).lower()
        entries = list(db.session.scalars(select(AuditEntry)))
        for entry in entries:
            assert ID_NUMBER not in json.dumps([entry.action, entry.object_id, entry.reason, entry.details],
                                               ensure_ascii=False)
            assert row.id_number_index not in json.dumps(entry.details or {})
        (added,) = [e for e in entries if e.action == "reward.exclusion.add"]
        assert added.object_id == str(row.id) and added.details == {"relation": "staff", "department_code": "yjj"}
        assert excluded(id_number_index=crypto.blind_index("id_number", ID_NUMBER)) is True
    assert ID_NUMBER not in everything_stored(app)


def test_a_phone_and_a_lowercase_x_are_normalised_before_indexing(app, client, login_as):
    login_as("admin")
    assert add(client, id_number=ID_NUMBER.lower(), phone="+86 139-1234-5678", relation="relative",
               department="").status_code == 302
    with app.app_context():
        row = db.session.scalar(select(ExcludedPerson))
        assert row.id_number_index == crypto.blind_index("id_number", ID_NUMBER)
        assert row.phone_index == crypto.blind_index("phone", PHONE) and row.department_id is None
        assert excluded(phone_index=crypto.blind_index("phone", PHONE)) is True
    assert PHONE not in everything_stored(app)


@pytest.mark.parametrize("change, field, message", [
    ({"id_number": "110105194912310021"}, "id_number", "校验位不正确"),
    ({"id_number": "12345"}, "id_number", "18 位"),
    ({"id_number": "", "phone": ""}, "id_number", "至少一项"),
    ({"phone": "1391234"}, "phone", "11 位手机号码"),
    ({"relation": "cousin"}, "relation", "请选择人员类别"),
    ({"department": "nasa"}, "department", "请从列表中选择部门"),
    ({"note": "张三，电话13912345678"}, "note", "不要填写证件号码、电话号码"),
    ({"note": "执" * 201}, "note", "最多 200 个字"),
])
def test_a_bad_registration_is_refused_beside_the_field_and_keeps_what_was_typed(app, client, login_as, change,
                                                                                 field, message):
    login_as("admin")
    response = add(client, **change)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and message in error_beside(body, field), body[:2000]
    typed = {"id_number": ID_NUMBER, "phone": "", **change}
    assert input_value(body, "id_number") == typed["id_number"]  # the admin's own typing, on their own page
    assert input_value(body, "phone") == typed["phone"]
    with app.app_context():
        assert db.session.scalar(select(ExcludedPerson)) is None
    assert audit(app, "reward.exclusion.add") == []


def test_a_duplicate_registration_is_refused(app, client, login_as):
    login_as("admin")
    assert add(client, phone=PHONE).status_code == 302
    response = add(client, id_number="", phone="139 1234 5678", relation="relative")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "已在登记中（登记号 1）" in error_beside(body, "phone")
    response = add(client)
    assert response.status_code == 422 and "已在登记中" in error_beside(response.get_data(as_text=True), "id_number")
    with app.app_context():
        assert len(db.session.scalars(select(ExcludedPerson)).all()) == 1


def test_revoking_keeps_the_row_and_ends_the_exclusion(app, client, login_as):
    login_as("admin")
    add(client)
    with app.app_context():
        index = crypto.blind_index("id_number", ID_NUMBER)
        assert excluded(id_number_index=index) is True
    response = client.post(f"{BASE}/exclusions/1/revoke", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已撤销登记 1" in body and "撤销" in body
    with app.app_context():
        row = db.session.get(ExcludedPerson, 1)
        assert row is not None and row.revoked_at is not None and row.id_number_index == index
        assert excluded(id_number_index=index) is False
    (entry,) = audit(app, "reward.exclusion.revoke")
    assert entry.object_id == "1" and entry.details == {"relation": "staff", "department_code": "yjj"}
    again = client.post(f"{BASE}/exclusions/1/revoke", follow_redirects=True).get_data(as_text=True)
    assert "已于此前撤销" in again and len(audit(app, "reward.exclusion.revoke")) == 1
    assert client.post(f"{BASE}/exclusions/99/revoke").status_code == 404
    # Once revoked, the same person may be registered again.
    assert add(client).status_code == 302
    with app.app_context():
        assert excluded(id_number_index=index) is True


def test_the_check_form_says_yes_or_no_without_keeping_the_value(app, client, login_as):
    login_as("admin")
    add(client, phone=PHONE)
    response = client.post(f"{BASE}/exclusions/check", data={"value": ID_NUMBER})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "是：在登记中，不予奖励。" in body and "相符的登记：1" in body
    assert ID_NUMBER not in body
    body = client.post(f"{BASE}/exclusions/check", data={"value": "139 1234 5678"}).get_data(as_text=True)
    assert "是：在登记中" in body and "按手机号码核对" in body and PHONE not in body
    body = client.post(f"{BASE}/exclusions/check", data={"value": OTHER_ID}).get_data(as_text=True)
    assert "否：不在登记中。" in body and OTHER_ID not in body
    entries = audit(app, "reward.exclusion.check")
    assert [e.details for e in entries] == [{"kind": "id_number", "found": True}, {"kind": "phone", "found": True},
                                            {"kind": "id_number", "found": False}]
    assert ID_NUMBER not in everything_stored(app) and OTHER_ID not in everything_stored(app)


def test_a_bad_check_value_is_refused_and_kept(app, client, login_as):
    login_as("admin")
    response = client.post(f"{BASE}/exclusions/check", data={"value": "110105194912310021"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "校验位不正确" in error_beside(body, "value")
    assert input_value(body, "value") == "110105194912310021"
    response = client.post(f"{BASE}/exclusions/check", data={"value": "12345"})
    assert response.status_code == 422 and "11 位手机号码" in error_beside(response.get_data(as_text=True), "value")
    assert audit(app, "reward.exclusion.check") == []


def test_the_register_is_matched_against_a_reporters_identity(app, client, login_as):
    """Eligibility (R7) finds a registered person among a tip's reporters by the same blind index."""
    from tests.intake.helpers import NAMED, receipt_of
    from tipoff.intake.models import Tip
    from tipoff.rewards.eligibility import identities_of

    login_as("admin")
    add(client, id_number="", phone=PHONE)
    reference, _ = receipt_of(app.test_client().post("/report", data=NAMED))
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert excluded(identities_of(tip)) is True
    client.post(f"{BASE}/exclusions/1/revoke")
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert excluded(identities_of(tip)) is False
