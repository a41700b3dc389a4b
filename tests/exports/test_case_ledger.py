"""The case ledger (案件台账): filters, scope, counts that match the files, CSV/XLSX content, no identity, audit."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.exports.helpers import (
    YJJ_TIP,
    ZJJ_TIP,
    as_client,
    csv_of,
    file_tip,
    received,
    user_of,
    xlsx_of,
    xlsx_text,
)
from tests.intake.helpers import NAMED
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as case_services
from tipoff.cases.queue import QueueFilter, counts
from tipoff.db import utcnow
from tipoff.exports import cases
from tipoff.exports.cases import CaseFilter, Choices
from tipoff.exports.writers import XLSX_MIME
from tipoff.extensions import db

UTC = timezone.utc
CHOICES = Choices(departments={"zjj": "区住房和城乡建设局", "yjj": "区应急管理局"}, own_department=None,
                  own_department_name=None, categories={"hazard": "安全隐患"}, sectors={"gas": "燃气"},
                  townships={"lingjing": "灵井镇"})
DEPARTMENT_CHOICES = Choices(departments=None, own_department="zjj", own_department_name="区住房和城乡建设局",
                             categories={}, sectors={}, townships={})


def concluded(people, tip, department: str = "zjj", fine: str = "100000", decision: str = "建安应急罚〔2026〕7号"):
    """Accept and conclude a tip as substantiated with a fine, through the case workflow."""
    handler = user_of(people("handler", department))
    case_services.perform(handler, tip.reference, "accept", {})
    case_services.perform(handler, tip.reference, "conclude", {
        "outcome": "substantiated", "summary": "现场查实，已责令整改并处罚。", "enforcement": ["penalty"],
        "fine": fine, "penalty_decision_no": decision})
    db.session.refresh(tip)
    return tip


def data_rows(lines: list[list[str]]) -> list[list[str]]:
    """A CSV download's rows after the two "# " lines and the titles."""
    assert lines[0][0].startswith("# 导出人: ") and lines[1][0].startswith("# 内部资料")
    return lines[3:]


def page_count(body: str) -> int:
    return int(re.search(r'id="export-count">[^<]*?([\d,]+) 件', body).group(1).replace(",", ""))


# ------------------------------------------------------------------------------------------- the filter


@pytest.mark.parametrize("args, field", [
    ({"due": "yesterday"}, "due"), ({"status": "lost"}, "status"), ({"from": "2026-13"}, "from"),
    ({"to": "26-01"}, "to"), ({"from": "2026-05", "to": "2026-04"}, "to"), ({"department": "nowhere"}, "department"),
    ({"category": "gossip"}, "category"), ({"sector": "mars"}, "sector"), ({"township": "atlantis"}, "township"),
])
def test_filter_refuses_what_it_does_not_know(args, field):
    _, errors = CaseFilter.parse(args, CHOICES)
    assert list(errors) == [field]


def test_filter_reads_every_field_and_gives_them_back_as_arguments():
    args = {"due": "overdue", "status": "verifying", "department": "zjj", "from": "2026-01", "to": "2026-03",
            "category": "hazard", "sector": "gas", "township": "lingjing"}
    wanted, errors = CaseFilter.parse(args, CHOICES)
    assert not errors and wanted.args() == args
    assert wanted.describe(CHOICES) == ("期限=已逾期；部门=区住房和城乡建设局；状态=核查中；收到月份=2026-01 至 2026-03；"
                                        "类别=安全隐患；行业=燃气；属地=灵井镇")


def test_a_department_user_may_name_only_their_own_department():
    assert CaseFilter.parse({"department": "zjj"}, DEPARTMENT_CHOICES) == (CaseFilter(), {})
    assert list(CaseFilter.parse({"department": "yjj"}, DEPARTMENT_CHOICES)[1]) == ["department"]


def test_the_overdue_list_takes_open_states_only_and_no_due_filter():
    assert list(CaseFilter.parse({"status": "closed"}, CHOICES, overdue_list=True)[1]) == ["status"]
    assert CaseFilter.parse({"due": "today", "status": "open"}, CHOICES, overdue_list=True) == \
        (CaseFilter(status="open"), {})
    assert cases.parse_order("sideways")[1] and cases.parse_order(None) == ("most", {})


@pytest.mark.parametrize("deadline, now, days", [
    (datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), datetime(2026, 3, 2, 1, 0, tzinfo=UTC), 1),   # end of 3-01 Beijing
    (datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), datetime(2026, 3, 11, 15, 0, tzinfo=UTC), 10),
    (datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), datetime(2026, 3, 11, 16, 30, tzinfo=UTC), 11),  # 00:30 on 3-12
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), datetime(2026, 3, 2, 2, 0, tzinfo=UTC), 1),          # passed an hour ago
])
def test_days_overdue_are_beijing_calendar_days(deadline, now, days):
    assert cases.days_overdue(deadline, now) == days


# ------------------------------------------------------------------------------------------- scope and counts


def test_scope_is_the_case_queues(client, people):
    zjj = file_tip(client, ZJJ_TIP)
    yjj = file_tip(client, YJJ_TIP)
    assert (zjj.department.code, yjj.department.code) == ("zjj", "yjj")

    def exported(role, department=None, query=""):
        as_client(client, people, role, department)
        response = client.get(f"/staff/exports/?format=csv{query}")
        assert response.status_code == 200
        return {row[0] for row in data_rows(csv_of(response)[1])}

    assert exported("handler", "jtj") == set()  # another department: none of the rows
    assert exported("handler", "yjj") == {yjj.reference}
    assert exported("leader", "zjj") == {zjj.reference}
    assert exported("overseer") == {zjj.reference, yjj.reference}
    assert exported("overseer", query="&department=yjj") == {yjj.reference}
    body = as_client(client, people, "handler", "jtj").get("/staff/exports/").get_data(as_text=True)
    assert page_count(body) == 0 and "没有符合条件的案件" in body


def test_filters_match_the_pages_counts_and_the_case_queue(client, people):
    now = utcnow()
    overdue = file_tip(client, deadline_at=now - timedelta(days=3))
    later = file_tip(client, deadline_at=now + timedelta(days=10))
    february = file_tip(client, {**ZJJ_TIP, "township": "chencao"})
    received(february, datetime(2026, 1, 31, 17, tzinfo=UTC))  # 2026-02-01 01:00 in Beijing
    january = file_tip(client, YJJ_TIP)
    received(january, datetime(2026, 1, 10, 2, tzinfo=UTC))
    done = concluded(people, file_tip(client))
    done.status = "closed"
    db.session.commit()
    everyone = {t.reference for t in (overdue, later, february, january, done)}

    as_client(client, people, "overseer")
    expected = {
        "": everyone,
        "due=overdue": {overdue.reference},
        "status=open": everyone - {done.reference},
        "status=closed": {done.reference},
        "from=2026-02&to=2026-02": {february.reference},
        "to=2026-01": {january.reference},
        "department=yjj": {january.reference},
        "township=chencao": {february.reference},
        "category=major_hazard&sector=confined_space": {january.reference},
        "due=overdue&department=yjj": set(),
    }
    for query, references in expected.items():
        page = client.get(f"/staff/exports/?{query}")
        assert page.status_code == 200 and page_count(page.get_data(as_text=True)) == len(references), query
        assert {r[0] for r in data_rows(csv_of(client.get(f"/staff/exports/?format=csv&{query}"))[1])} == references
        assert {r[0] for r in xlsx_of(client.get(f"/staff/exports/?format=xlsx&{query}"))[4:]} == references, query

    overseer = user_of(people("overseer"))
    for due in (None, "overdue", "today"):  # the queue's own numbers, for the queue's own filter
        queue = counts(overseer, QueueFilter(due=due))[due or "all"]
        assert cases.count_cases(overseer, CaseFilter(due=due, status=None if due else "open")) == queue


# ------------------------------------------------------------------------------------------- the files


def test_csv_has_bom_exporter_line_and_the_ledgers_columns(client, people):
    tip = concluded(people, file_tip(client, supervised=True))
    received(tip, datetime(2026, 3, 5, 2, 30, tzinfo=UTC))
    leader = people("leader", "zjj")
    response = as_client(client, people, "leader", "zjj").get("/staff/exports/?format=csv&status=concluded")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert 'filename="case-ledger-' in response.headers["Content-Disposition"]
    assert response.headers["X-Total-Rows"] == "1" and response.headers["Cache-Control"] == "no-store"
    raw, lines = csv_of(response)
    assert raw.startswith(b"\xef\xbb\xbf# ")
    assert f"导出人: 测试{leader.username}" in lines[0][0] and "导出时间: " in lines[0][0]
    assert "筛选: 部门=区住房和城乡建设局；状态=已办结；收到月份=全部" in lines[0][0]
    assert lines[2] == ["举报编号", "收到时间（北京时间）", "渠道", "举报类别", "行业领域", "属地", "被举报单位", "承办部门",
                        "状态", "分办规则", "办理期限", "核查结论", "受理时间", "办结时间", "移送次数", "罚款金额（元）",
                        "处罚决定书文号", "挂牌督办"]
    [row] = data_rows(lines)
    assert row[:9] == [tip.reference, "2026-03-05 10:30", "网站、二维码", "一般事故隐患", "燃气", "灵井镇", "灵井燃气加气站",
                       "区住房和城乡建设局", "已办结"]
    assert row[9] == tip.routing_rule and row[11] == "属实" and row[14] == "0"
    assert row[12] and row[13] and row[15:] == ["100000.00", "建安应急罚〔2026〕7号", "是"]


def test_xlsx_opens_with_the_exporter_first_and_typed_cells(client, people):
    tip = concluded(people, file_tip(client))
    received(tip, datetime(2026, 3, 5, 2, 30, tzinfo=UTC))
    overseer = people("overseer")
    response = as_client(client, people, "overseer").get("/staff/exports/?format=xlsx&category=hazard")
    assert response.status_code == 200 and response.mimetype == XLSX_MIME
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body) and response.headers["X-Total-Rows"] == "1"
    rows = xlsx_of(response)
    assert rows[0][0].startswith("导出人: ") and f"测试{overseer.username}" in rows[0][0] and "类别=一般事故隐患" in rows[0][0]
    assert rows[1][0].startswith("内部资料") and rows[3][:2] == ("举报编号", "收到时间（北京时间）")
    [row] = rows[4:]
    assert row[0] == tip.reference and row[1] == datetime(2026, 3, 5, 10, 30)  # Beijing wall-clock time
    assert row[15] == 100000 and row[17] == "否"
    from openpyxl import load_workbook
    import io
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet.cell(row=5, column=16).number_format == "0.00"
    assert sheet.cell(row=5, column=2).is_date and sheet.cell(row=5, column=11).number_format == "yyyy-mm-dd"


def test_no_identity_description_or_insider_flag_in_either_file(client, people):
    named = concluded(people, file_tip(client, {**NAMED, "insider": "1"}))
    assert named.anonymous is False
    as_client(client, people, "handler", "zjj")
    raw, _ = csv_of(client.get("/staff/exports/?format=csv"))
    text = raw.decode("utf-8-sig")
    sheet = xlsx_text(client.get("/staff/exports/?format=xlsx"))
    for content in (text, sheet):
        assert named.reference in content
        for secret in (NAMED["reporter_name"], NAMED["reporter_phone"], "13912345678", NAMED["reporter_id_number"],
                       NAMED["description"], NAMED["description"][:8], NAMED["address"], "匿名", "内部人员", "现场查实"):
            assert secret not in content, secret


def test_a_formula_in_a_subject_name_stays_text(client, people):
    file_tip(client, {**ZJJ_TIP, "subject_name": '=HYPERLINK("http://x","单位")'})
    as_client(client, people, "handler", "zjj")
    _, lines = csv_of(client.get("/staff/exports/?format=csv"))
    assert data_rows(lines)[0][6] == '\'=HYPERLINK("http://x","单位")'
    assert xlsx_of(client.get("/staff/exports/?format=xlsx"))[4][6] == '\'=HYPERLINK("http://x","单位")'


def test_every_export_is_audited_with_filter_count_and_format(client, people):
    file_tip(client)
    file_tip(client, YJJ_TIP)
    as_client(client, people, "overseer")
    client.get("/staff/exports/?format=csv&department=yjj&from=2020-01").get_data()
    client.get("/staff/exports/?format=xlsx").get_data()
    client.get("/staff/exports/")  # looking at the page is not an export
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "export.cases")
                                 .order_by(AuditEntry.id)).all()
    assert [e.details for e in entries] == [
        {"format": "csv", "filter": {"department": "yjj", "from": "2020-01"}, "rows": 1},
        {"format": "xlsx", "filter": {}, "rows": 2},
    ]
    assert entries[0].actor_role == "overseer" and entries[0].object_type == "case_ledger"
    assert entries[0].department_id is not None and entries[1].department_id is None


@pytest.mark.parametrize("query, message", [
    ("due=yesterday", "期限筛选只能是"), ("from=2026-13", "月份须写成 YYYY-MM"), ("category=gossip", "没有这个举报类别"),
    ("department=yjj", "只能导出本部门的案件"), ("format=pdf", "导出格式只能是"), ("format=csv&to=abc", "月份须写成 YYYY-MM"),
])
def test_bad_filters_are_422_with_the_form_still_there_and_nothing_exported(client, people, query, message):
    response = as_client(client, people, "handler", "zjj").get(f"/staff/exports/?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and 'class="error-summary"' in body and 'action="/staff/exports/"' in body
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export.cases")) is None


def test_roles_without_the_permission_have_no_exports(client, people):
    for role in ("admin", "finance", "custodian", "operator"):
        department = "zjj" if role == "finance" else None
        assert as_client(client, people, role, department).get("/staff/exports/").status_code == 403
        assert client.get("/staff/exports/overdue?format=csv").status_code == 403


def test_fine_is_read_from_the_conclusion():
    assert cases._fine({"fine": "1234.50"}) == Decimal("1234.50")
    assert cases._fine({"fine": None}) is None and cases._fine(None) is None and cases._fine({"fine": "x"}) is None


def test_the_page_suggests_csv_when_an_xlsx_would_be_slow(client, people, monkeypatch):
    from tipoff.exports import views

    file_tip(client)
    as_client(client, people, "handler", "zjj")
    assert "建议导出 CSV" not in client.get("/staff/exports/").get_data(as_text=True)
    monkeypatch.setattr(views, "XLSX_ADVISED_ROWS", 0)
    assert "建议导出 CSV" in client.get("/staff/exports/").get_data(as_text=True)
