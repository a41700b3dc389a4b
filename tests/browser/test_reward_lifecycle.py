"""A reward's whole life in real browsers: an anonymous citizen on a phone reports a major hazard; the
department verifies it, proposes and approves ¥15,000, tells the citizen; the citizen claims it on /status
with nothing but the reference and access code; finance pays it against the code shown at the counter."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, Desk, serious_accessibility_problems

pytestmark = pytest.mark.browser


def test_anonymous_tip_to_a_paid_reward_claimed_by_code(live_app, live_server, phone, desks):
    ARTIFACTS.mkdir(exist_ok=True)
    citizen = phone

    def look_up() -> str:
        citizen.context.clear_cookies()
        citizen.goto(live_server + "/status")
        citizen.get_by_label("编号").fill(reference)
        citizen.get_by_label("查询码").fill(code)
        citizen.get_by_role("button", name="查询").click()
        citizen.wait_for_selector("#messages")
        return citizen.locator("main").inner_text()

    citizen.goto(live_server + "/report")
    citizen.get_by_label("举报类别").select_option(label="重大事故隐患")
    citizen.get_by_label("行业领域").select_option(label="燃气")
    citizen.get_by_label("所在乡镇（街道）").select_option(label="灵井镇")
    citizen.get_by_label("情况描述").fill("灵井镇加气站储罐区安全阀失效，站长要求照常加气，随时可能爆炸。")
    citizen.get_by_label("被举报单位或个人").fill("灵井加气站")
    citizen.get_by_role("button", name="提交举报").click()
    citizen.wait_for_selector("#receipt-reference")
    reference = citizen.locator("#receipt-reference").inner_text().strip()
    code = citizen.locator("#receipt-access-code").inner_text().strip()

    handler = desks("reward.handler", "handler", "zjj")
    leader = desks("reward.leader", "leader", "zjj")
    finance = desks("reward.finance", "finance", "zjj")
    for desk in (handler, leader, finance):
        desk.login()

    # Verified and concluded with a ¥100,000 fine: the reward opens by itself.
    handler.open_case(reference)
    handler.submit(handler.action("受理"), "受理")
    conclude = handler.action("办结")
    conclude.locator("select[name=outcome]").select_option(label="属实")
    conclude.locator("textarea[name=summary]").fill("现场查实安全阀失效，责令停业整改并罚款。")
    conclude.get_by_label("行政处罚").check()
    conclude.locator("input[name=fine]").fill("100000.00")
    handler.submit(conclude, "办结")

    def open_reward(desk: Desk) -> None:
        desk.page.get_by_role("navigation").get_by_role("link", name="举报奖励").click()
        desk.page.get_by_role("row", name=re.compile(reference)).get_by_role("link").click()
        desk.page.wait_for_url(re.compile(r".*/staff/rewards/\d+$"))

    open_reward(handler)
    page = handler.page
    assert "罚款 ¥100,000 × 15% = ¥15,000" in page.locator("dl.facts").inner_text()
    assert serious_accessibility_problems(page) == []
    propose = handler.action("提出奖励建议")
    propose.locator("select[name=known_before]").select_option("no")
    handler.submit(propose, "提出奖励建议")
    assert "已提出奖励建议 ¥15,000" in page.locator(".flashes").inner_text()

    open_reward(leader)
    leader.submit(leader.action("批准"), "批准")
    assert "已批准。" in leader.page.locator(".flashes").inner_text()

    handler.page.reload()
    handler.submit(handler.action("通知举报人领奖"), "通知举报人领奖")
    assert "已通知举报人领奖" in handler.page.locator(".flashes").inner_text()

    # The citizen sees the amount and how it was reached, and claims in person — no name asked.
    text = look_up()
    assert "¥15,000" in text and "罚款 ¥100,000 × 15% = ¥15,000" in text and "领取期限" in text
    assert serious_accessibility_problems(citizen) == []
    citizen.get_by_label(re.compile("现场领取")).check()
    citizen.get_by_role("button", name="提交领取申请").click()
    citizen.wait_for_selector("#reward")
    assert "领取申请已收到" in citizen.locator(".flashes").inner_text()
    citizen.screenshot(path=str(ARTIFACTS / "reward-01-citizen-claimed.png"), full_page=True)

    # Finance pays against the code the citizen shows at the counter.
    open_reward(finance)
    pay = finance.action("登记发放")
    pay.locator("input[name=amount]").fill("15000.00")
    pay.locator("select[name=method]").select_option("cash")
    pay.locator("input[name=voucher_no]").fill("JZ-2026-0088")
    pay.locator("input[name=access_code]").fill("1234 5678 1234 5678")
    pay.locator("input[name=collector_id_number]").fill("11010519491231002X")
    finance.submit(pay, "登记发放")
    assert "查询码不正确" in finance.page.locator("#error-summary").inner_text()
    pay = finance.page.locator("details.action[open]")  # the refused form comes back open, values kept
    assert pay.locator("input[name=voucher_no]").input_value() == "JZ-2026-0088"
    pay.locator("input[name=amount]").fill("15000.00")
    pay.locator("select[name=method]").select_option("cash")
    pay.locator("input[name=voucher_no]").fill("JZ-2026-0088")
    pay.locator("input[name=access_code]").fill(code)
    pay.locator("input[name=collector_id_number]").fill("11010519491231002X")
    finance.submit(pay, "登记发放")
    assert "已登记发放 ¥15,000" in finance.page.locator(".flashes").inner_text()
    finance.shot("reward-02-finance-paid.png")

    text = look_up()
    assert "奖励已发放" in text and "已于" in citizen.locator("#messages").inner_text()
