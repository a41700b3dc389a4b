"""The reward ledger (奖励台账): scope, filters, totals, CSV/XLSX exports without identity, audit, and the
printable 奖励决定书 / 领奖通知书."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import CUSTODIAN_PASSPHRASE, login
from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as cases
from tipoff.disclosure import services as disclosure
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.rewards import exports, ledger, services as rewards
from tipoff.rewards.exports import LedgerFilter, capital_amount
from tipoff.rewards.models import Reward
from tipoff.rewards.reporter import reporter_claim

# A major hazard in town gas goes to 区住房和城乡建设局 (zjj); confined-space work to 区应急管理局 (yjj).
ZJJ_TIP = {**VALID, "category": "major_hazard"}
YJJ_TIP = {**VALID, "category": "major_hazard", "sector": "confined_space"}
NAME, PHONE = NAMED["reporter_name"], "13912345678"


@pytest.fixture
def people(app, make_staff):
    """Staff by (role, department), made once each; the test body runs inside an app context."""
    made = {}

    def person(role: str, department: str | None = None):
        if (role, department) not in made:
            db.session.commit()  # release this context's SQLite lock for make_staff's own context
            made[(role, department)] = make_staff(role, department)
        return made[(role, department)]

    with app.app_context():
        yield person


def user_of(staff) -> User:
    return db.session.get(User, staff.id)


def concluded(client, people, data: dict, department: str = "zjj", fine: str = "100000") -> tuple[Reward, str]:
    """File a tip, accept it and conclude it substantiated with a fine through the case workflow: the
    matter's reward opens in "assessing". Returns the reward and the reporter's access code."""
    db.session.commit()
    reference, code = receipt_of(client.post("/report", data=data))
    handler = user_of(people("handler", department))
    cases.perform(handler, reference, "accept", {})
    cases.perform(handler, reference, "conclude", {"outcome": "substantiated", "summary": "现场查实，已责令整改并处罚。",
                                                   "fine": fine})
    reward = db.session.scalar(select(Reward).join(Tip, Tip.id == Reward.tip_id).where(Tip.reference == reference))
    assert reward is not None and reward.status == "assessing"
    return reward, code


def notified(client, people, data: dict, department: str = "zjj") -> tuple[Reward, str]:
    """A reward taken through the real staff steps: proposed by the handler, approved by the leader, notified."""
    reward, code = concluded(client, people, data, department)
    rewards.perform(user_of(people("handler", department)), reward.id, "propose", {"known_before": "no"})
    rewards.perform(user_of(people("leader", department)), reward.id, "approve", {})
    rewards.perform(user_of(people("handler", department)), reward.id, "notify", {})
    db.session.refresh(reward)
    assert reward.status == "notified" and reward.amount == Decimal("15000.00")
    return reward, code


def paid(client, people, data: dict, department: str = "zjj", voucher: str = "PZ-2026-0001") -> Reward:
    """An anonymous reward claimed in person and paid by finance against the reporter's access code."""
    reward, code = notified(client, people, data, department)
    reporter_claim(reward.tip, "in_person", {})
    rewards.perform(user_of(people("finance", department)), reward.id, "pay",
                    {"amount": "15000.00", "method": "cash", "paid_at": rewards.today_beijing().isoformat(),
                     "voucher_no": voucher, "access_code": code, "collector_id_number": "11010519491231002X"})
    db.session.refresh(reward)
    assert reward.status == "paid"
    return reward


def created(reward: Reward, moment: datetime) -> None:
    """Move a reward's creation time (set directly: the workflow always stamps "now")."""
    reward.created_at = moment
    db.session.commit()


def as_client(client, people, role: str, department: str | None = None):
    db.session.commit()
    login(client, people(role, department))
    return client


def csv_of(response) -> tuple[bytes, list[list[str]]]:
    raw = response.get_data()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


# ------------------------------------------------------------------------------------------- pure parts


@pytest.mark.parametrize("amount, expected", [
    ("15000", "壹万伍仟元整"), ("300000", "叁拾万元整"), ("10500", "壹万零伍佰元整"), ("1005", "壹仟零伍元整"),
    ("1234.5", "壹仟贰佰叁拾肆元伍角"), ("20030.07", "贰万零叁拾元零柒分"), ("100000000", "壹亿元整"), ("0.5", "伍角"),
])
def test_capital_amount(amount, expected):
    assert capital_amount(Decimal(amount)) == expected


@pytest.mark.parametrize("args, field", [
    ({"status": "lost"}, "status"), ({"from": "2026-13"}, "from"), ({"to": "26-01"}, "to"),
    ({"from": "2026-05", "to": "2026-04"}, "to"), ({"department": "nowhere"}, "department"),
])
def test_filter_refuses_what_it_does_not_know(args, field):
    _, errors = LedgerFilter.parse(args, departments={"zjj": "区住房和城乡建设局"})
    assert list(errors) == [field]


def test_month_range_is_beijing_months_in_utc():
    wanted, errors = LedgerFilter.parse({"from": "2026-02", "to": "2026-02"}, departments=None)
    assert not errors
    assert wanted.created_between() == (datetime(2026, 1, 31, 16, tzinfo=timezone.utc),
                                        datetime(2026, 2, 28, 16, tzinfo=timezone.utc))


def test_a_department_user_may_only_name_their_own_department():
    assert LedgerFilter.parse({"department": "zjj"}, departments=None, own_department="zjj")[1] == {}
    assert "department" in LedgerFilter.parse({"department": "yjj"}, departments=None, own_department="zjj")[1]


# ------------------------------------------------------------------------------------------- the ledger


def test_scope_department_and_district(client, people):
    zjj, _ = concluded(client, people, ZJJ_TIP)
    yjj, _ = concluded(client, people, YJJ_TIP, department="yjj")
    refs = {zjj.tip.reference, yjj.tip.reference}
    assert zjj.department.code == "zjj" and yjj.department.code == "yjj"

    seen = lambda role, dept, **wanted: {r.reference for r in ledger.ledger_page(  # noqa: E731
        user_of(people(role, dept)), LedgerFilter(**wanted))}
    assert seen("handler", "jtj") == set()
    assert seen("finance", "zjj") == {zjj.tip.reference}
    assert seen("leader", "yjj") == {yjj.tip.reference}
    assert seen("overseer", None) == refs
    assert seen("overseer", None, department="yjj") == {yjj.tip.reference}

    body = as_client(client, people, "handler", "jtj").get("/staff/rewards/ledger").get_data(as_text=True)
    assert not any(ref in body for ref in refs) and "没有符合条件的奖励" in body


def test_overseer_page_lists_every_department_and_filters_by_one(client, people):
    zjj, _ = concluded(client, people, ZJJ_TIP)
    yjj, _ = concluded(client, people, YJJ_TIP, department="yjj")
    as_client(client, people, "overseer")
    body = client.get("/staff/rewards/ledger").get_data(as_text=True)
    assert zjj.tip.reference in body and yjj.tip.reference in body and "区应急管理局" in body
    response = client.get("/staff/rewards/ledger?department=yjj")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert yjj.tip.reference in body and zjj.tip.reference not in body


def test_status_and_month_filters(client, people):
    january, _ = concluded(client, people, ZJJ_TIP)
    february = paid(client, people, ZJJ_TIP)
    created(january, datetime(2026, 1, 10, 2, tzinfo=timezone.utc))
    # 2026-01-31 17:00 UTC is 2026-02-01 01:00 in Beijing: a February reward.
    created(february, datetime(2026, 1, 31, 17, tzinfo=timezone.utc))
    handler = user_of(people("handler", "zjj"))

    def refs(**wanted):
        return [r.reference for r in ledger.ledger_page(handler, LedgerFilter(**wanted))]

    assert refs(status="paid") == [february.tip.reference]
    assert refs(status="assessing") == [january.tip.reference]
    assert refs(month_from="2026-02") == [february.tip.reference]
    assert refs(month_to="2026-01") == [january.tip.reference]
    assert refs(month_from="2026-01", month_to="2026-02") == [february.tip.reference, january.tip.reference]
    assert refs(month_from="2026-03") == []

    as_client(client, people, "handler", "zjj")
    body = client.get("/staff/rewards/ledger?status=paid&from=2026-02&to=2026-02").get_data(as_text=True)
    assert february.tip.reference in body and january.tip.reference not in body
    assert "PZ-2026-0001" in body and "¥15,000" in body


def test_totals_by_status_and_by_month(client, people):
    a = paid(client, people, ZJJ_TIP, voucher="PZ-1")
    b, _ = notified(client, people, ZJJ_TIP)
    c, _ = concluded(client, people, ZJJ_TIP)
    d, _ = notified(client, people, ZJJ_TIP)
    d.status = "expired"  # set directly: expiry is the daily job's, after 60 days
    created(a, datetime(2026, 3, 5, tzinfo=timezone.utc))
    created(b, datetime(2026, 3, 20, tzinfo=timezone.utc))
    created(c, datetime(2026, 4, 2, tzinfo=timezone.utc))
    created(d, datetime(2026, 4, 30, 16, 30, tzinfo=timezone.utc))  # 2026-05-01 00:30 in Beijing

    totals = ledger.ledger_totals(user_of(people("leader", "zjj")), LedgerFilter())
    assert totals["total"]["count"] == 4
    assert totals["by_status"]["paid"] == {"count": 1, "calculated": 1500000, "amount": 1500000, "paid": 1500000}
    assert totals["by_status"]["notified"]["count"] == 1 and totals["by_status"]["assessing"]["count"] == 1
    months = {line["month"]: line for line in totals["by_month"]}
    assert list(months) == ["2026-03", "2026-04", "2026-05"]
    assert months["2026-03"]["count"] == 2
    assert months["2026-03"]["paid"] == {"count": 1, "fen": 1500000}
    assert months["2026-03"]["approved"] == {"count": 1, "fen": 1500000}
    assert months["2026-04"]["count"] == 1 and months["2026-04"]["approved"]["count"] == 0
    assert months["2026-05"]["expired"] == {"count": 1, "fen": 1500000}

    only_march = ledger.ledger_totals(user_of(people("leader", "zjj")), LedgerFilter(month_to="2026-03"))
    assert [line["month"] for line in only_march["by_month"]] == ["2026-03"]
    body = as_client(client, people, "leader", "zjj").get("/staff/rewards/ledger").get_data(as_text=True)
    assert "2026-05" in body and "按月汇总" in body


@pytest.mark.parametrize("query, message", [
    ("status=lost", "状态筛选只能是"), ("from=2026-13", "月份须写成 YYYY-MM"), ("from=2026-05&to=2026-01", "截止月份不能早于起始月份"),
    ("department=yjj", "只能查看本部门"), ("format=pdf", "导出格式只能是"), ("format=csv&to=abc", "月份须写成 YYYY-MM"),
])
def test_bad_filters_are_422_with_the_form_still_there(client, people, query, message):
    as_client(client, people, "handler", "zjj")
    response = client.get(f"/staff/rewards/ledger?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in body and 'class="error-summary"' in body and 'action="/staff/rewards/ledger"' in body
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.ledger.export")) is None


def test_other_roles_have_no_ledger(client, people):
    as_client(client, people, "custodian")
    assert client.get("/staff/rewards/ledger").status_code == 403


# ------------------------------------------------------------------------------------------- exports


def test_csv_export_has_bom_exporter_rows_and_no_identity(client, people):
    reward, _ = notified(client, people, NAMED | {"category": "major_hazard"})
    other = paid(client, people, ZJJ_TIP, voucher="=HYPERLINK(\"x\")")
    finance = people("finance", "zjj")
    as_client(client, people, "finance", "zjj")
    response = client.get("/staff/rewards/ledger?format=csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    raw, lines = csv_of(response)
    assert raw.startswith(b"\xef\xbb\xbf")
    assert lines[0][0].startswith("# 导出人: ") and f"测试{finance.username}" in lines[0][0]
    assert "导出时间: " in lines[0][0] and "筛选: 状态=全部；月份=全部；部门=区住房和城乡建设局" in lines[0][0]
    assert lines[2][:3] == ["奖励编号", "举报编号", "承办部门"]
    rows = {line[1]: line for line in lines[3:]}
    assert set(rows) == {reward.tip.reference, other.tip.reference}
    assert rows[reward.tip.reference][3] == "已通知，待领取" and rows[reward.tip.reference][6] == "15000.00"
    assert rows[other.tip.reference][7] == "15000.00" and rows[other.tip.reference][9] == "'=HYPERLINK(\"x\")"
    text = raw.decode("utf-8-sig")
    for secret in (NAME, PHONE, "139 1234 5678", NAMED["reporter_id_number"]):
        assert secret not in text


def test_xlsx_export_opens_with_numbers(client, people):
    reward = paid(client, people, ZJJ_TIP)
    leader = people("leader", "zjj")
    as_client(client, people, "leader", "zjj")
    response = client.get("/staff/rewards/ledger?format=xlsx&status=paid")
    assert response.status_code == 200 and response.mimetype == exports.XLSX_MIME
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert f"测试{leader.username}" in rows[0][0] and "状态=已发放" in rows[0][0]
    assert rows[3][:2] == ("奖励编号", "举报编号")
    assert [r[1] for r in rows[4:]] == [reward.tip.reference]
    amount = sheet.cell(row=5, column=8)
    assert amount.value == 15000 and amount.number_format == "0.00"
    assert sheet.cell(row=5, column=9).number_format == "yyyy-mm-dd"


def test_every_export_is_audited_with_filter_and_count_not_rows(client, people):
    concluded(client, people, ZJJ_TIP)
    concluded(client, people, YJJ_TIP, department="yjj")
    as_client(client, people, "overseer")
    _, lines = csv_of(client.get("/staff/rewards/ledger?format=csv&department=yjj&from=2020-01"))
    assert "月份=2020-01 至 最新；部门=区应急管理局" in lines[0][0] and len(lines) == 4
    client.get("/staff/rewards/ledger?format=xlsx").get_data()
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "reward.ledger.export")
                                 .order_by(AuditEntry.id)).all()
    assert [e.details for e in entries] == [
        {"format": "csv", "filter": {"department": "yjj", "from": "2020-01"}, "rows": 1},
        {"format": "xlsx", "filter": {}, "rows": 2},
    ]
    assert entries[0].actor_role == "overseer" and entries[0].department_id is not None


# ------------------------------------------------------------------------------------------- documents


def test_decision_document(client, people):
    reward, _ = notified(client, people, NAMED | {"category": "major_hazard"})
    as_client(client, people, "leader", "zjj")
    response = client.get(f"/staff/rewards/{reward.id}/decision")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "举报奖励决定书" in body and reward.tip.reference in body and "区住房和城乡建设局" in body
    assert "¥15,000" in body and "壹万伍仟元整" in body and "安监总财〔2018〕19号" in body
    assert rewards.today_beijing().isoformat() in body  # approved today
    assert "（盖章）" in body
    for secret in (NAME, PHONE, "139 1234 5678"):
        assert secret not in body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.document.view"))
    assert entry.details == {"document": "decision", "tip": reward.tip.reference}


def test_documents_refuse_the_wrong_state_and_other_departments(client, people):
    assessing, _ = concluded(client, people, ZJJ_TIP)
    done = paid(client, people, ZJJ_TIP)
    as_client(client, people, "handler", "zjj")
    response = client.get(f"/staff/rewards/{assessing.id}/decision")
    assert response.status_code == 409 and "奖励批准后" in response.get_data(as_text=True)
    assert client.get(f"/staff/rewards/{assessing.id}/notice").status_code == 409
    response = client.get(f"/staff/rewards/{done.id}/notice")
    assert response.status_code == 409 and "当前状态：已发放" in response.get_data(as_text=True)
    assert client.get(f"/staff/rewards/{done.id}/decision").status_code == 200
    client.post("/staff/logout")
    as_client(client, people, "handler", "yjj")
    assert client.get(f"/staff/rewards/{done.id}/decision").status_code == 404
    assert client.get(f"/staff/rewards/{done.id}/notice").status_code == 404
    assert client.get("/staff/rewards/999999/decision").status_code == 404


def test_notice_document_without_identity(client, people):
    reward, _ = notified(client, people, NAMED | {"category": "major_hazard"})
    as_client(client, people, "handler", "zjj")
    response = client.get(f"/staff/rewards/{reward.id}/notice")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    deadline = exports.claim_deadline_text(reward.claim_deadline)
    assert "领奖通知书" in body and "¥15,000" in body and deadline and deadline in body
    assert reward.tip.reference in body and "/status" in body and "保密承诺" in body
    assert "领奖人" not in body
    for secret in (NAME, PHONE, "139 1234 5678"):
        assert secret not in body
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "reward.document.view"))
    assert entry.details == {"document": "notice", "tip": reward.tip.reference, "claimant_shown": False}


def test_notice_shows_the_claimant_only_to_finance_with_an_approved_payment_disclosure(client, people):
    reward, _ = notified(client, people, NAMED | {"category": "major_hazard"})
    reporter_claim(reward.tip, "in_person", {})
    finance = user_of(people("finance", "zjj"))
    as_client(client, people, "finance", "zjj")
    assert "领奖人" not in client.get(f"/staff/rewards/{reward.id}/notice").get_data(as_text=True)
    refused = client.post(f"/staff/rewards/{reward.id}/disclosure", data={"reason": "发放 A"})
    assert refused.status_code == 422 and "理由至少 5 个字" in refused.get_data(as_text=True)
    assert ">发放 A</textarea>" in refused.get_data(as_text=True)  # what was typed stays

    request = disclosure.request_payment_disclosure(finance, reward.id, "现场领取，核对领奖人身份后发放。")
    disclosure.decide(user_of(people("custodian")), request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
    body = client.get(f"/staff/rewards/{reward.id}/notice").get_data(as_text=True)
    assert "领奖人" in body and NAME in body and PHONE not in body
    db.session.expire_all()
    views = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "disclosure.view")).all()
    assert len(views) == 1 and views[0].actor_user_id == finance.id
    client.post("/staff/logout")

    as_client(client, people, "leader", "zjj")  # the leader prints the same notice: no identity
    body = client.get(f"/staff/rewards/{reward.id}/notice").get_data(as_text=True)
    assert NAME not in body and "领奖人" not in body

