"""The report form: a tip is accepted and routed; bad input is named and nothing typed is lost."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import make_app
from tests.intake.helpers import NAMED, VALID, receipt_of, submit
from tipoff.extensions import db
from tipoff.intake.models import ReporterIdentity, Tip


def tip_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Tip))


def test_form_lists_reference_data_and_explains_anonymity(client):
    body = client.get("/report").get_data(as_text=True)
    assert "重大事故隐患" in body and "燃气" in body and "灵井镇" in body
    assert "查询码" in body and "丢失无法找回" in body


def test_poster_link_prefills_the_form(client):
    body = client.get("/report?sector=gas&township=lingjing&subject_name=某某公司").get_data(as_text=True)
    assert '<option value="gas" selected>' in body and 'value="某某公司"' in body


def test_anonymous_tip_gets_receipt_routed_by_table(app, client):
    response = submit(client)
    assert response.status_code == 201
    reference, code = receipt_of(response)
    assert re.fullmatch(r"JA-\d{4}-\d{6}", reference) and re.fullmatch(r"\d{16}", code)
    body = response.get_data(as_text=True)
    assert "区住房和城乡建设局" in body and "TIPOFF-PROOF-1." in body
    with app.app_context():
        tip = db.session.scalar(select(Tip))
        assert tip.reference == reference and tip.department.code == "zjj" and tip.anonymous
        assert tip.routing_rule == "r3_sector_lead" and tip.copy_to == ["tw_lingjing"]
        assert tip.access_code_hash.startswith("$argon2id$") and code not in tip.access_code_hash


def test_named_tip_stores_sealed_identity_with_blind_indexes(app, client):
    submit(client, **{k: v for k, v in NAMED.items() if k not in VALID or k == "identity"})
    submit(client, **{**{k: v for k, v in NAMED.items() if k not in VALID or k == "identity"},
                      "reporter_phone": "+86 13912345678"})
    with app.app_context():
        identities = db.session.scalars(select(ReporterIdentity)).all()
        assert len(identities) == 2
        assert identities[0].phone_index == identities[1].phone_index  # same phone, typed differently
        assert identities[0].sealed and b"13912345678" not in identities[0].sealed


@pytest.mark.parametrize("changes, field, message", [
    ({"category": ""}, "category", "请选择举报类别"),
    ({"category": "bogus"}, "category", "未知的举报类别"),
    ({"sector": "nope"}, "sector", "未知的行业领域"),
    ({"township": "atlantis"}, "township", "未知的乡镇"),
    ({"subject_name": "a"}, "subject_name", "至少 2 个字"),
    ({"subject_credit_code": "91350100M000100Y44"}, "subject_credit_code", "校验位"),
    ({"description": "太短了"}, "description", "至少 10 个字"),
    ({"description": "长" * 5001}, "description", "最多 5000 个字"),
    ({"description": "有控制字符\x07的描述内容很长"}, "description", "控制字符"),
    ({"occurred_on": "2099-01-01"}, "occurred_on", "不能晚于今天"),
    ({"occurred_on": "20/11/2026"}, "occurred_on", "年-月-日"),
    ({"identity": "named", "reporter_name": "", "reporter_phone": "13912345678"}, "reporter_name", "请填写姓名"),
    ({"identity": "named", "reporter_name": "李四", "reporter_phone": "12345"}, "reporter_phone", "11 位手机号码"),
    ({"identity": "named", "reporter_name": "李四", "reporter_phone": "13912345678",
      "reporter_id_number": "110105194912310021"}, "reporter_id_number", "校验位"),
])
def test_bad_input_is_named_beside_the_field_and_kept(app, client, changes, field, message):
    typed = {**VALID, "address": "我写的地址 123", **changes}
    response = client.post("/report", data=typed)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert f'id="{field}-error"' in body and f'href="#{field}"' in body
    assert 'value="我写的地址 123"' in body  # what was typed is still there
    if typed.get("reporter_name"):
        assert f'value="{typed["reporter_name"]}"' in body
    assert tip_count(app) == 0


CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("changes, field, english", [
    ({"category": ""}, "category", "Choose a category."),
    ({"sector": "nope"}, "sector", "Unknown sector; please choose one from the list."),
    ({"subject_name": "a"}, "subject_name",
     "The name of the business or person you are reporting: at least 2 characters, please."),
    ({"description": "长" * 5001}, "description", "What is happening: at most 5000 characters (now 5001)."),
    ({"occurred_on": "20/11/2026"}, "occurred_on", "Please write the date as year-month-day, e.g. 2026-11-20."),
    ({"identity": "named", "reporter_name": "", "reporter_phone": "13912345678"}, "reporter_name",
     "Full name: please fill this in."),
    ({"identity": "named", "reporter_name": "Li Si", "reporter_phone": "12345"}, "reporter_phone",
     "Please enter an 11-digit mobile number, e.g. 138 0013 8000."),
])
def test_an_english_page_names_each_problem_in_english(app, client, changes, field, english):
    """A reporter who chose English reads why the form was refused in English, beside the field and in
    the summary at the top; the Chinese page says it in Chinese (the table above)."""
    client.get("/report?lang=en")
    response = client.post("/report", data={**VALID, "address": "my address 123", **changes})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'value="my address 123"' in body
    beside = re.search(rf'id="{field}-error">([^<]*)</p>', body).group(1)
    assert beside == english
    summary = body[body.index('id="error-summary"'):body.index("</ul>", body.index('id="error-summary"'))]
    assert f"</a>: {english}" in summary and not CHINESE.search(summary), summary
    assert tip_count(app) == 0


def test_html_and_sql_are_stored_literally_and_shown_escaped(app, client):
    response = submit(client, subject_name="<b>厂</b>'; DROP TABLE tips;--")
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Tip.subject_name)) == "<b>厂</b>'; DROP TABLE tips;--"
    response = client.post("/report", data={**VALID, "subject_name": "<script>alert(1)</script>", "category": ""})
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.get_data(as_text=True)


def test_honeypot_refuses_without_storing(app, client):
    response = submit(client, contact_website="http://spam.example")
    assert response.status_code == 422 and tip_count(app) == 0
    assert VALID["description"] in response.get_data(as_text=True)


def test_same_form_submitted_twice_makes_one_tip(app, client):
    first = submit(client, idempotency_key="form-key-0123456789abcdef")
    second = submit(client, idempotency_key="form-key-0123456789abcdef")
    assert receipt_of(first) == receipt_of(second)
    assert tip_count(app) == 1


def test_a_reused_form_key_with_other_words_is_asked_about_not_refused(app, client):
    """A page reused after filing (Back without JavaScript, or kept open) sends the first report's key
    with other words: that report stands, the new words come back as typed with a fresh key, and go in
    as a second report once the person submits again."""
    first = submit(client, idempotency_key="form-key-0123456789abcdef")
    response = submit(client, idempotency_key="form-key-0123456789abcdef", subject_name="另一家加油站")
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "那份举报已经收到" in body and 'value="另一家加油站"' in body
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', body).group(1)
    assert fresh != "form-key-0123456789abcdef" and tip_count(app) == 1
    second = submit(client, idempotency_key=fresh, subject_name="另一家加油站")
    assert second.status_code == 201 and receipt_of(second)[0] != receipt_of(first)[0] and tip_count(app) == 2


def test_expired_form_token_keeps_everything_typed(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/report", data=NAMED)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "安全校验已过期" in body
    for value in (NAMED["description"], NAMED["reporter_name"], NAMED["address"]):
        assert value in body
    assert 'name="csrf_token" value="' in body  # a fresh token to submit again
    assert tip_count(app) == 0


def test_server_error_keeps_the_text_and_stores_nothing(app, client, monkeypatch):
    from tipoff.intake import services

    def broken_record(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "record", broken_record)
    response = submit(client)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "没有提交成功" in body and VALID["description"] in body
    assert 'id="receipt-access-code"' not in body
    monkeypatch.undo()
    assert tip_count(app) == 0


def test_submissions_are_rate_limited_per_client(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [client.post("/report", data={**VALID, "category": ""}).status_code for _ in range(6)]
    assert codes == [422] * 5 + [429]


def test_reference_carries_the_beijing_year(app, client, monkeypatch):
    from datetime import datetime, timezone

    from tipoff.intake import services

    # 17:00 UTC on 31 December is 01:00 on 1 January in Beijing.
    monkeypatch.setattr(services, "utcnow", lambda: datetime(2026, 12, 31, 17, 0, tzinfo=timezone.utc))
    reference, _ = receipt_of(submit(client))
    assert reference.startswith("JA-2027-")
