"""A citizen on a phone asks what a verified tip could earn: the public reward calculator, checked with axe-core."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import ARTIFACTS, serious_accessibility_problems

pytestmark = pytest.mark.browser


def test_citizen_on_a_phone_sees_what_a_tip_could_earn(live_server, phone):
    page = phone
    page.goto(live_server + "/rewards/calculator")
    assert page.get_by_role("heading", level=1).inner_text() == "举报奖励计算器"
    assert serious_accessibility_problems(page) == []

    # A mistyped fine: the error sits beside the field, nothing typed is lost.
    page.get_by_label("举报类别").select_option(label="重大事故隐患")
    page.get_by_label("罚款金额（元）").fill("10万")
    page.get_by_label("我是被举报单位的员工（吹哨人）").check()
    page.get_by_role("button", name="计算奖励").click()
    page.wait_for_selector("#fine-error")
    assert "金额须写成数字" in page.locator("#fine-error").inner_text()
    assert page.get_by_label("罚款金额（元）").input_value() == "10万"
    assert page.get_by_label("我是被举报单位的员工（吹哨人）").is_checked()
    assert serious_accessibility_problems(page) == []

    page.get_by_label("罚款金额（元）").fill("100000")
    page.get_by_role("button", name="计算奖励").click()
    page.wait_for_url(re.compile(r".*/rewards/calculator\?.*fine=100000.*#result$"))
    amount = page.locator("#quote-amount")
    assert amount.inner_text() == "¥15,000" and amount.is_visible()
    assert page.locator("#quote-explanation").inner_text() == (
        "罚款 ¥100,000 × 15% = ¥15,000（国家2018办法，最低¥3,000，最高¥300,000）")
    assert page.get_by_label("罚款金额（元）").input_value() == "100000"
    assert page.get_by_label("举报类别").input_value() == "major_hazard"
    assert "国家2018办法没有吹哨人加奖，以上为标准金额。" in page.content()
    assert "谁受理、谁奖励" in page.content()
    # Phone-sized: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert serious_accessibility_problems(page) == []
    page.screenshot(path=str(ARTIFACTS / "reward-calculator-phone.png"), full_page=True)
