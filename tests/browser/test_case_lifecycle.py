"""One tip's whole life, in real browsers: a citizen on a phone, three staff members at their desks.

The citizen files an anonymous gas hazard; 区住房和城乡建设局 transfers it to 区应急管理局, whose handler
accepts it, asks for more time (the leader approves), concludes it with a fine; the citizen objects,
the case is concluded again after re-review and finally closed. After each public step the citizen
looks the tip up on /status and sees what happened in plain words.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip

pytestmark = pytest.mark.browser

DESCRIPTION = "许由街道燃气调压站围栏倒塌，闻到明显燃气味，附近有小孩玩耍。"
TRANSFER_REASON = "调压站属城镇燃气设施，但现场为工贸企业厂区内，由应急管理局核查。"
EXTENSION_REASON = "需委托检测机构对管道进行检测，检测报告尚未出具。"
SUMMARY = "经现场核查，调压站围栏损坏、燃气管道接口泄漏属实，已责令立即整改并依法处罚。"
REVIEW_SUMMARY = "复查后维持原结论：泄漏属实，企业已完成整改，经复测无泄漏。"
DECISION_NO = "建应急罚〔2026〕17号"


def test_tip_from_report_through_transfer_extension_conclusion_objection_to_closure(
        live_app, live_server, phone, desks):
    ARTIFACTS.mkdir(exist_ok=True)
    citizen = phone

    def citizen_status(shot: str) -> str:
        """The citizen comes back later: a fresh lookup with reference and code; returns the page text."""
        citizen.context.clear_cookies()
        citizen.goto(live_server + "/status")
        citizen.get_by_label("编号").fill(reference)
        citizen.get_by_label("查询码").fill(code)
        citizen.get_by_role("button", name="查询").click()
        citizen.wait_for_selector("#messages")
        citizen.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        return citizen.locator("main").inner_text()

    def state_heading() -> str:
        return citizen.locator("#state-title").inner_text().strip()

    # 1. The anonymous report, from a phone.
    citizen.goto(live_server + "/report")
    citizen.get_by_label("举报类别").select_option(label="一般事故隐患")
    citizen.get_by_label("行业领域").select_option(label="燃气")
    citizen.get_by_label("所在乡镇（街道）").select_option(label="许由街道")
    citizen.get_by_label("情况描述").fill(DESCRIPTION)
    citizen.get_by_label("被举报单位或个人").fill("许由路燃气调压站")
    citizen.get_by_role("button", name="提交举报").click()
    citizen.wait_for_selector("#receipt-reference")
    reference = citizen.locator("#receipt-reference").inner_text().strip()
    code = citizen.locator("#receipt-access-code").inner_text().strip()
    assert re.fullmatch(r"JA-\d{4}-\d{6}", reference) and re.fullmatch(r"(\d{4} ){3}\d{4}", code)
    assert "区住房和城乡建设局" in citizen.locator("main").inner_text()
    citizen.screenshot(path=str(ARTIFACTS / "lifecycle-01-receipt.png"), full_page=True)

    zjj = desks("zjj.handler", "handler", "zjj")
    yjj = desks("yjj.handler", "handler", "yjj")
    leader = desks("yjj.leader", "leader", "yjj")
    for desk in (zjj, yjj, leader):
        desk.login()

    # 2. 区住房和城乡建设局 transfers the case to 区应急管理局.
    zjj.open_case(reference)
    page = zjj.page
    assert DESCRIPTION in page.locator("#description-title + p").inner_text()
    assert "待受理" in page.locator("dl.facts").first.inner_text()
    transfer = zjj.action("移交")
    transfer.get_by_label("移交给").select_option(label="区应急管理局")
    # By name, not label: every action form renders its field as id="reason", so the label of the
    # transfer form's 理由 points at the reject form's textarea (duplicate ids in cases/case.html).
    transfer.locator("textarea[name=reason]").fill(TRANSFER_REASON)
    zjj.shot("lifecycle-02-zjj-transfer-form.png")
    zjj.submit(transfer, "移交")
    page.wait_for_url(re.compile(r".*/staff/cases/$"))  # no longer ours: back to the queue
    assert "已移交 区应急管理局。" in page.locator(".flashes").inner_text()
    assert page.get_by_role("link", name=reference).count() == 0
    zjj.shot("lifecycle-03-zjj-queue-after-transfer.png")

    text = citizen_status("lifecycle-04-citizen-transferred.png")
    assert state_heading() == "已提交，等待受理"
    assert "您的举报已转由 区应急管理局 办理。" in citizen.locator("#messages").inner_text()
    assert "区应急管理局" in citizen.locator("dl.facts").first.inner_text()
    assert TRANSFER_REASON not in text  # the internal reason stays internal

    # 3. 区应急管理局 accepts.
    yjj.open_case(reference)
    assert "区应急管理局" in yjj.page.locator("dl.facts").first.inner_text()
    yjj.submit(yjj.action("受理"), "受理")
    assert "已受理，核查期限 60 日。" in yjj.page.locator(".flashes").inner_text()
    assert "核查中" in yjj.page.locator("dl.facts").first.inner_text()

    citizen_status("lifecycle-05-citizen-accepted.png")
    assert state_heading() == "已受理，正在核查"

    # 4. The handler asks for 10 more days; the leader approves.
    extension = yjj.action("申请延期")
    extension.locator("input[name=days]").fill("10")
    extension.locator("textarea[name=reason]").fill(EXTENSION_REASON)
    yjj.submit(extension, "申请延期")
    assert "延期申请已提交，等待负责人批准。" in yjj.page.locator(".flashes").inner_text()

    leader.open_case(reference)
    leader.submit(leader.action("批准延期"), "批准延期")
    assert "已批准延期 10 日，并已告知举报人。" in leader.page.locator(".flashes").inner_text()
    leader.shot("lifecycle-06-leader-approved-extension.png")

    citizen_status("lifecycle-07-citizen-extension.png")
    assert state_heading() == "已受理，正在核查"
    assert f"核查期限延长 10 日。理由：{EXTENSION_REASON}" in citizen.locator("#messages").inner_text()

    # 5. Concluded: substantiated, with an administrative penalty.
    yjj.page.reload()
    conclude = yjj.action("办结")
    conclude.locator("select[name=outcome]").select_option(label="属实")
    conclude.locator("textarea[name=summary]").fill(SUMMARY)
    conclude.get_by_label("行政处罚").check()
    conclude.locator("input[name=fine]").fill("100000.00")
    conclude.locator("input[name=penalty_decision_no]").fill(DECISION_NO)
    yjj.shot("lifecycle-08-yjj-conclude-form.png")
    yjj.submit(conclude, "办结")
    assert "已办结，并已告知举报人核查结论。" in yjj.page.locator(".flashes").inner_text()
    assert "已办结" in yjj.page.locator("dl.facts").first.inner_text()
    history = yjj.page.locator("#history-title + .table-wrap").inner_text()
    assert "100000.00" in history and DECISION_NO in history and "处理措施：行政处罚" in history

    citizen_status("lifecycle-09-citizen-concluded.png")
    assert state_heading() == "已办结"
    messages = citizen.locator("#messages").inner_text()
    assert f"核查结论：属实。{SUMMARY}" in messages
    assert "可在收到本告知之日起 10 日内申请复查" in messages

    # 6. The citizen objects, on the same status page: 对结果有异议？ → 复查理由 → 申请复查.
    assert "对结果有异议？" in citizen.locator("main").inner_text()
    citizen.get_by_label("复查理由").fill("企业只修了围栏，管道接口仍有燃气味，请求复查。")
    citizen.get_by_role("button", name="申请复查").click()
    citizen.wait_for_selector("#state-title")
    assert "复查申请已收到，将在 30 日内答复。" in citizen.locator(".flashes").inner_text()
    assert state_heading() == "复查中"
    assert citizen.get_by_role("button", name="申请复查").count() == 0  # one objection, then it is gone
    citizen_status("lifecycle-10-citizen-under-review.png")
    assert state_heading() == "复查中"
    assert "您的复查申请已收到" in citizen.locator("main").inner_text()

    # 7. Re-review: concluded again, then closed.
    yjj.page.reload()
    assert "复查中" in yjj.page.locator("dl.facts").first.inner_text()
    conclude = yjj.action("办结")
    conclude.locator("select[name=outcome]").select_option(label="属实")
    conclude.locator("textarea[name=summary]").fill(REVIEW_SUMMARY)
    yjj.submit(conclude, "办结")
    assert "已办结，并已告知举报人核查结论。" in yjj.page.locator(".flashes").inner_text()

    yjj.submit(yjj.action("结案"), "结案")
    assert "举报人申请复查的期限尚未届满，暂不能结案。" in yjj.page.locator("#error-summary").inner_text()
    assert "已办结" in yjj.page.locator("dl.facts").first.inner_text()
    yjj.shot("lifecycle-11-yjj-close-refused.png")

    # The 10-day objection window (T6) cannot be waited out in a test: move the deadline into the past,
    # as if the days had passed, so that closing is allowed.
    with live_app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        tip.deadline_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    yjj.open_case(reference)  # (not reload: the refused close was a POST the browser would resend)
    yjj.submit(yjj.action("结案"), "结案")
    assert "已结案。" in yjj.page.locator(".flashes").inner_text()
    assert "已结案" in yjj.page.locator("dl.facts").first.inner_text()
    yjj.shot("lifecycle-12-yjj-closed.png")

    citizen_status("lifecycle-13-citizen-closed.png")
    assert state_heading() == "已结案"
    assert "本件举报已经结案。" in citizen.locator("main").inner_text()
    assert f"核查结论：属实。{REVIEW_SUMMARY}" in citizen.locator("#messages").inner_text()
