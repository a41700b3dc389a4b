"""GET /api/v1/exports/{cases,overdue,rewards}: staff token, permission, 422 on bad filters, audited files."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.exports.helpers import YJJ_TIP, ZJJ_TIP, csv_of, file_tip, token_for, user_of
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as case_services
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.rewards.models import Reward

PATHS = ("/api/v1/exports/cases", "/api/v1/exports/overdue", "/api/v1/exports/rewards")


def error_of(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()["error"]


@pytest.mark.parametrize("path", PATHS)
def test_a_token_is_required(client, path):
    response = client.get(path + "?format=csv")
    assert response.status_code == 401 and error_of(response)["code"] == "token_required"
    response = client.get(path, headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and error_of(response)["code"] == "token_invalid"


@pytest.mark.parametrize("path, role, department", [
    ("/api/v1/exports/cases", "finance", "zjj"), ("/api/v1/exports/overdue", "admin", None),
    ("/api/v1/exports/rewards", "custodian", None), ("/api/v1/exports/cases", "operator", None),
])
def test_roles_lacking_the_permission_get_403(client, people, path, role, department):
    response = client.get(path, headers=token_for(people, role, department))
    assert response.status_code == 403
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("%export%"))) is None


@pytest.mark.parametrize("path, query, field", [
    ("/api/v1/exports/cases", "due=someday", "due"), ("/api/v1/exports/cases", "from=2026-1", "from"),
    ("/api/v1/exports/cases", "format=pdf", "format"), ("/api/v1/exports/cases", "format=html", "format"),
    ("/api/v1/exports/cases", "department=yjj", "department"), ("/api/v1/exports/overdue", "status=closed", "status"),
    ("/api/v1/exports/overdue", "order=sideways", "order"), ("/api/v1/exports/overdue", "format=docx", "format"),
    ("/api/v1/exports/rewards", "status=lost", "status"), ("/api/v1/exports/rewards", "format=pdf", "format"),
])
def test_bad_filters_and_formats_are_422(client, people, path, query, field):
    response = client.get(f"{path}?{query}", headers=token_for(people, "leader", "zjj"))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed" and list(error["fields"]) == [field]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action.like("%export%"))) is None


def test_case_ledger_and_overdue_list_over_the_api(client, people):
    late = file_tip(client, deadline_at=utcnow() - timedelta(days=2))
    other = file_tip(client, YJJ_TIP)
    headers = token_for(people, "handler", "zjj")
    response = client.get("/api/v1/exports/cases", headers=headers)  # csv unless asked otherwise
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Total-Rows"] == "1"
    raw, lines = csv_of(response)
    assert raw.startswith(b"\xef\xbb\xbf") and [r[0] for r in lines[3:]] == [late.reference]
    assert other.reference not in raw.decode("utf-8-sig")

    response = client.get("/api/v1/exports/overdue?format=xlsx&order=least", headers=headers)
    assert response.status_code == 200 and int(response.headers["Content-Length"]) == len(response.get_data())
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert "导出人: 测试" in rows[0][0] and [(r[0], r[9]) for r in rows[4:]] == [(late.reference, 2)]

    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("export.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [(e.action, e.details) for e in entries] == [
        ("export.cases", {"format": "csv", "filter": {}, "rows": 1, "via": "api"}),
        ("export.overdue", {"format": "xlsx", "filter": {"order": "least"}, "rows": 1, "via": "api"}),
    ]
    assert entries[0].actor_user_id == people("handler", "zjj").id


def test_reward_ledger_over_the_api(client, people):
    tip = file_tip(client, {**ZJJ_TIP, "category": "major_hazard"})
    handler = user_of(people("handler", "zjj"))
    case_services.perform(handler, tip.reference, "accept", {})
    case_services.perform(handler, tip.reference, "conclude", {"outcome": "substantiated", "summary": "查实。",
                                                               "fine": "100000"})
    assert db.session.scalar(select(Reward).where(Reward.tip_id == tip.id)) is not None
    finance = token_for(people, "finance", "zjj")
    response = client.get("/api/v1/exports/rewards?format=csv&status=assessing", headers=finance)
    assert response.status_code == 200
    _, lines = csv_of(response)
    assert "筛选: 状态=" in lines[0][0] and [r[1] for r in lines[3:]] == [tip.reference]
    elsewhere = client.get("/api/v1/exports/rewards", headers=token_for(people, "finance", "yjj"))
    assert elsewhere.status_code == 200 and elsewhere.headers["X-Total-Rows"] == "0"
    db.session.expire_all()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.ledger.export"))
    assert entry.details == {"format": "csv", "filter": {"status": "assessing"}, "rows": 1, "via": "api"}


def test_the_export_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in PATHS:
        assert paths[path]["get"]["security"] == [{"bearer": []}]
        assert {"401", "403", "422"} <= set(paths[path]["get"]["responses"])


def test_more_rows_than_a_sheet_holds_is_422_before_anything_is_recorded(client, people, monkeypatch):
    from tipoff.exports import writers

    monkeypatch.setattr(writers, "XLSX_MAX_ROWS", 1)
    file_tip(client)
    file_tip(client)
    headers = token_for(people, "overseer")
    response = client.get("/api/v1/exports/cases?format=xlsx", headers=headers)
    assert response.status_code == 422 and "超过 Excel 工作表的行数上限" in error_of(response)["fields"]["format"][0]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.cases")) is None
    assert client.get("/api/v1/exports/cases?format=csv", headers=headers).headers["X-Total-Rows"] == "2"
