"""Intake over JSON: same rules as the form, one error shape, idempotent retries, operator channels."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tipoff.extensions import db
from tipoff.intake.models import Tip

TIP = {"category": "major_hazard", "sector": "hazchem", "township": "kaifaqu", "subject_name": "某化工有限公司",
       "subject_credit_code": "91350100M000100Y43", "occurred_on": "2026-11-01",
       "description": "储罐区可燃气体报警器被人为关闭了两个月。", "insider": True}


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Tip))


def test_public_submit_answers_201_with_receipt(app, client):
    response = client.post("/api/v1/tips", json=TIP)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"reference", "access_code", "status", "department", "proof"}
    assert body["department"] == {"code": "yjj", "name": "区应急管理局"} and body["status"] == "submitted"
    assert len(body["access_code"]) == 16


@pytest.mark.parametrize("payload, fields", [
    ({**TIP, "category": "nope"}, {"category"}),
    ({**TIP, "description": "短"}, {"description"}),
    ({**TIP, "occurred_on": "yesterday"}, {"occurred_on"}),
    ({**TIP, "insider": "maybe"}, {"insider"}),
    ({**TIP, "subject_credit_code": "123"}, {"subject_credit_code"}),
    ({**TIP, "reporter": {"name": "赵六", "phone": "999"}}, {"reporter.phone"}),
    ({**TIP, "reporter": {"name": "赵六", "phone": "13800138000", "id_number": "123"}}, {"reporter.id_number"}),
    ({**TIP, "channel": "carrier_pigeon"}, {"channel"}),
    ({k: v for k, v in TIP.items() if k != "sector"}, {"sector"}),
    ({**TIP, "description": 42}, {"description"}),
])
def test_invalid_fields_are_422_naming_them(app, client, payload, fields):
    response = client.post("/api/v1/tips", json=payload)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == fields
    assert count(app) == 0


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/tips", data="{oops", content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "malformed_json"


def test_idempotency_key_returns_the_first_answer(app, client):
    headers = {"Idempotency-Key": "3b0c4c1e-8d5a-4a43-9f0e-1f2d3c4b5a69"}
    first = client.post("/api/v1/tips", json=TIP, headers=headers)
    second = client.post("/api/v1/tips", json=TIP, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert count(app) == 1


def test_short_idempotency_key_is_refused(client):
    response = client.post("/api/v1/tips", json=TIP, headers={"Idempotency-Key": "abc"})
    assert response.status_code == 422


def test_staff_channels_need_an_operator_token(app, client, make_staff):
    payload = {**TIP, "channel": "hotline_12350"}
    assert client.post("/api/v1/tips", json=payload).status_code == 401
    from tipoff.accounts.models import User
    from tipoff.accounts.tokens import create_api_token

    handler, operator = make_staff("handler", "zjj"), make_staff("operator")
    with app.app_context():
        handler_token = create_api_token(db.session.get(User, handler.id), "t")
        operator_token = create_api_token(db.session.get(User, operator.id), "t")
    denied = client.post("/api/v1/tips", json=payload, headers={"Authorization": f"Bearer {handler_token}"})
    assert denied.status_code == 403
    ok = client.post("/api/v1/tips", json=payload, headers={"Authorization": f"Bearer {operator_token}"})
    assert ok.status_code == 201
    with app.app_context():
        tip = db.session.scalar(select(Tip))
        assert tip.channel == "hotline_12350" and tip.entered_by_user_id == operator.id


def test_lookup_and_reply(app, client):
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    creds = {"reference": receipt["reference"], "access_code": receipt["access_code"]}
    status = client.post("/api/v1/tips/lookup", json=creds)
    assert status.status_code == 200
    assert status.get_json()["department"]["code"] == "yjj" and status.get_json()["messages"] == []
    reply = client.post("/api/v1/tips/messages", json={**creds, "body": "补充：报警器在 3 号储罐旁。"})
    assert reply.status_code == 201
    messages = client.post("/api/v1/tips/lookup", json=creds).get_json()["messages"]
    assert [m["sender"] for m in messages] == ["reporter"] and "3 号储罐" in messages[0]["body"]


def test_lookup_failures_share_one_body(app, client):
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    wrong = client.post("/api/v1/tips/lookup", json={"reference": receipt["reference"], "access_code": "1" * 16})
    unknown = client.post("/api/v1/tips/lookup", json={"reference": "JA-2026-424242", "access_code": "1" * 16})
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.get_json() == unknown.get_json()


def test_openapi_documents_intake(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/tips", "/api/v1/tips/lookup", "/api/v1/tips/messages"} <= set(paths)
    assert "201" in paths["/api/v1/tips"]["post"]["responses"]


def test_idempotency_key_with_different_content_is_refused(app, client):
    headers = {"Idempotency-Key": "3b0c4c1e-8d5a-4a43-9f0e-1f2d3c4b5a69"}
    assert client.post("/api/v1/tips", json=TIP, headers=headers).status_code == 201
    other = client.post("/api/v1/tips", json={**TIP, "subject_name": "另一家公司"}, headers=headers)
    assert other.status_code == 409 and "access_code" not in other.get_data(as_text=True)
    assert count(app) == 1


def test_public_cannot_replay_an_operators_key(app, client, make_staff):
    from tipoff.accounts.models import User
    from tipoff.accounts.tokens import create_api_token

    operator = make_staff("operator")
    with app.app_context():
        token = create_api_token(db.session.get(User, operator.id), "t")
    headers = {"Idempotency-Key": "12345-ticket-00001234"}
    payload = {**TIP, "channel": "hotline_12345", "reporter": {"name": "钱七", "phone": "13800001111"}}
    first = client.post("/api/v1/tips", json=payload, headers={**headers, "Authorization": f"Bearer {token}"})
    assert first.status_code == 201
    public = client.post("/api/v1/tips", json={k: v for k, v in TIP.items()}, headers=headers)
    assert public.status_code == 201
    assert public.get_json()["access_code"] != first.get_json()["access_code"]
    assert public.get_json()["reference"] != first.get_json()["reference"]


def test_intake_pages_are_not_cached(client):
    for path in ("/report", "/status", "/verify"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path


@pytest.mark.parametrize("payload, field", [
    ({**TIP, "category": "\ud800"}, "category"),
    ({**TIP, "description": "正常的描述文字\u0000在这里"}, "description"),
    ({**TIP, "reporter": {"name": "赵\udfff", "phone": "13800138000"}}, "reporter.name"),
])
def test_unreadable_characters_are_422_not_500(app, client, payload, field):
    import json

    response = client.post("/api/v1/tips", data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("reference", ["\ud800", "JA-2026-\u0000001", "x" * 500])
def test_odd_references_in_lookup_are_404(client, reference):
    import json

    response = client.post("/api/v1/tips/lookup", content_type="application/json",
                           data=json.dumps({"reference": reference, "access_code": "1" * 16}))
    assert response.status_code in (404, 422)


def test_non_ascii_proof_is_invalid_not_500(client):
    page = client.post("/verify", data={"proof": "TIPOFF-PROOF-1.中文.x"}).get_data(as_text=True)
    assert "凭证无效" in page
