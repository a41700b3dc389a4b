"""The overdue list (超期案件清单): open cases past their deadline, days overdue, the deadline rule, both orders."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.exports.helpers import YJJ_TIP, as_client, csv_of, file_tip, user_of, xlsx_of
from tipoff.audit.models import AuditEntry
from tipoff.db import utcnow
from tipoff.exports import cases
from tipoff.exports.writers import keyset_rows
from tipoff.extensions import db


def overdue_cases(client):
    """Three overdue cases at zjj (2, 9 and 30 days), one not yet due, one overdue but closed, one at yjj."""
    now = utcnow()
    tips = {days: file_tip(client, deadline_at=now - timedelta(days=days)) for days in (9, 30, 2)}
    tips["later"] = file_tip(client, deadline_at=now + timedelta(days=3))
    tips["closed"] = file_tip(client, deadline_at=now - timedelta(days=5), status="closed")
    tips["yjj"] = file_tip(client, YJJ_TIP, deadline_at=now - timedelta(days=1))
    return tips


def test_the_page_lists_overdue_open_cases_most_overdue_first(client, people):
    tips = overdue_cases(client)
    response = as_client(client, people, "handler", "zjj").get("/staff/exports/overdue")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="export-count">超期案件：3 件' in body
    positions = [body.index(tips[days].reference) for days in (30, 9, 2)]
    assert positions == sorted(positions)
    for other in ("later", "closed", "yjj"):
        assert tips[other].reference not in body
    assert "T2 作出受理、不予受理或移送的决定" in body and "?order=least" in body.replace("&amp;", "&")

    body = client.get("/staff/exports/overdue?order=least").get_data(as_text=True)
    positions = [body.index(tips[days].reference) for days in (2, 9, 30)]
    assert positions == sorted(positions)
    assert client.get("/staff/exports/overdue?order=sideways").status_code == 422


def test_the_files_carry_days_overdue_and_the_rule_in_the_pages_order(client, people):
    tips = overdue_cases(client)
    as_client(client, people, "overseer")
    response = client.get("/staff/exports/overdue?format=csv")
    assert response.headers["X-Total-Rows"] == "4"
    _, lines = csv_of(response)
    assert "筛选: 部门=全部；状态=全部；收到月份=全部；排序=逾期最久在前" in lines[0][0]
    assert lines[2] == ["举报编号", "承办部门", "状态", "被举报单位", "举报类别", "属地", "收到时间（北京时间）", "办理期限",
                        "期限规则", "逾期天数", "挂牌督办"]
    rows = lines[3:]
    assert [r[0] for r in rows] == [tips[30].reference, tips[9].reference, tips[2].reference, tips["yjj"].reference]
    assert [r[9] for r in rows] == ["30", "9", "2", "1"]
    assert rows[0][1:3] == ["区住房和城乡建设局", "待受理"] and rows[0][8] == "T2 作出受理、不予受理或移送的决定"

    sheet = xlsx_of(client.get("/staff/exports/overdue?format=xlsx&order=least&department=zjj"))
    assert "排序=逾期最短在前" in sheet[0][0] and "部门=区住房和城乡建设局" in sheet[0][0]
    assert [(r[0], r[9]) for r in sheet[4:]] == [(tips[d].reference, d) for d in (2, 9, 30)]
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export.overdue")
                                 .order_by(AuditEntry.id)).all()
    assert [e.details for e in entries] == [
        {"format": "csv", "filter": {"order": "most"}, "rows": 4},
        {"format": "xlsx", "filter": {"department": "zjj", "order": "least"}, "rows": 3},
    ]


def test_batches_keep_the_order_across_equal_deadlines(client, people):
    """Keyset pages continue after the last (deadline, id): ties and batch edges lose or repeat nothing."""
    now = utcnow()
    same = now - timedelta(days=4)
    tips = [file_tip(client, deadline_at=same if i % 2 else now - timedelta(days=i + 1)) for i in range(7)]
    user = user_of(people("overseer"))
    expected = [r.reference for r in cases.overdue_page(user, cases.CaseFilter(), "most", now=now)]
    assert sorted(expected) == sorted(t.reference for t in tips)
    stmt = cases._ledger_query(cases.overdue_conditions(user, cases.CaseFilter(), now))
    for size in (1, 2, 3, 7, 50):
        assert [r.reference for r in keyset_rows(stmt, cases._overdue_keys("most"), size)] == expected
        assert [r.reference for r in keyset_rows(stmt, cases._overdue_keys("least"), size)] == expected[::-1]
