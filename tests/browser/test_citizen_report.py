"""A worried citizen on a phone: reports anonymously, writes down the code, comes back, answers.

Every public page the citizen sees is checked with axe-core; serious findings fail the test.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, serious_accessibility_problems
from tipoff.extensions import db
from tests.intake.test_evidence import DEVICE_STRINGS, photo_with_exif
from tipoff.intake import attachments, services
from tipoff.intake.models import Tip

pytestmark = pytest.mark.browser


def assert_accessible(page, name: str) -> None:
    problems = serious_accessibility_problems(page)
    assert not problems, f"{name}: " + "; ".join(problems)


def test_anonymous_report_and_conversation_on_a_phone(live_app, live_server, phone):
    page = phone
    page.goto(live_server + "/")
    assert_accessible(page, "home")
    page.get_by_role("link", name="我要举报").click()
    page.wait_for_url(re.compile(r".*/report$"))
    assert_accessible(page, "report form")

    # First attempt: too short a description. The error is named and nothing typed is lost.
    page.get_by_label("举报类别").select_option("hazard")
    page.get_by_label("行业领域").select_option(label="燃气")
    page.get_by_label("情况描述").fill("漏气")
    page.get_by_label("被举报单位或个人").fill("许由路燃气调压站")
    page.get_by_label("所在乡镇（街道）").select_option(label="许由街道")
    page.get_by_role("button", name="提交举报").click()
    summary = page.locator("#error-summary")
    assert "至少 10 个字" in summary.inner_text()
    assert page.get_by_label("被举报单位或个人").input_value() == "许由路燃气调压站"
    assert_accessible(page, "report form with errors")

    page.get_by_label("情况描述").fill("调压站围栏倒了，闻到很重的燃气味，晚上有小孩在旁边玩。")
    page.set_input_files("#evidence", files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg",
                                              "buffer": photo_with_exif()}])
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_selector("#receipt-reference")
    assert_accessible(page, "receipt")
    reference = page.locator("#receipt-reference").inner_text()
    code = page.locator("#receipt-access-code").inner_text()  # "written down" by the citizen
    assert re.fullmatch(r"JA-\d{4}-\d{6}", reference) and re.fullmatch(r"(\d{4} ){3}\d{4}", code)
    assert "区住房和城乡建设局" in page.content()
    page.screenshot(path=str(ARTIFACTS / "citizen-receipt-phone.png"), full_page=True)
    with live_app.app_context():  # the photo arrived, without the phone's identifying metadata
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        (photo,) = attachments.tip_attachments(tip)
        stored = attachments.read_attachment(tip, photo)
        assert stored.startswith(b"\xff\xd8\xff") and not any(s in stored for s in DEVICE_STRINGS)

    # The department writes back (the case pages arrive with the workflow issue).
    with live_app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        services.post_message(tip, "您好，请问调压站是在许由路的哪一侧？", sender="department")

    # Days later, on the same phone: the home page, then 查询办理进度.
    page.context.clear_cookies()
    page.goto(live_server + "/")
    page.get_by_role("link", name="查询办理进度").click()
    assert_accessible(page, "lookup")
    page.get_by_label("编号").fill(reference)
    page.get_by_label("查询码").fill("0000 0000 0000 0000")
    page.get_by_role("button", name="查询").click()
    assert "编号或查询码不正确" in page.locator("[role=alert]").inner_text()
    page.get_by_label("查询码").fill(code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_selector("#messages")
    assert "已提交，等待受理" in page.content()
    assert "请问调压站是在许由路的哪一侧？" in page.locator("#messages").inner_text()
    assert_accessible(page, "status")

    page.get_by_label("回复或补充情况").fill("在路东侧，挨着公交站。")
    page.get_by_role("button", name="发送").click()
    page.wait_for_selector("text=在路东侧，挨着公交站。")
    with live_app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert [m.body for m in services.messages_of(tip)][-1] == "在路东侧，挨着公交站。"

    page.get_by_role("button", name=re.compile("退出查询")).click()
    assert reference not in page.content()


def test_back_from_the_receipt_shows_no_trace_of_a_named_report(live_server, phone):
    """On a shared phone the next person must not find the whistleblower's name, phone or words by pressing
    Back (the browser restores a form it left; report.js empties it once the tip is filed)."""
    page = phone
    page.goto(live_server + "/report")
    page.get_by_label("举报类别").select_option("hazard")
    page.get_by_label("行业领域").select_option(label="燃气")
    page.get_by_label("情况描述").fill("调压站围栏倒了，闻到很重的燃气味，晚上有小孩在旁边玩。")
    page.get_by_label("被举报单位或个人").fill("许由路燃气调压站")
    page.get_by_label("所在乡镇（街道）").select_option(label="许由街道")
    page.get_by_label("实名举报").check()
    page.get_by_label("您的姓名").fill("李桂兰")
    page.get_by_label("手机号码").fill("13512345678")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_selector("#receipt-reference")
    first_reference = page.locator("#receipt-reference").inner_text()
    page.go_back()
    page.wait_for_selector("form.report-form")
    page.wait_for_load_state("load")
    for label in ("您的姓名", "手机号码", "情况描述", "被举报单位或个人"):
        assert page.get_by_label(label).input_value() == "", label
    assert page.get_by_label("匿名举报").is_checked() and not page.locator("#named-fields").is_visible()
    assert "李桂兰" not in page.content() and "13512345678" not in page.content()
    # The next person files their own, different report from the emptied form: a new tip. (Chromium
    # reloads the no-store page, so its key is new; the next test covers a browser that brings the old
    # page back with its key.)
    page.get_by_label("举报类别").select_option("hazard")
    page.get_by_label("行业领域").select_option(label="燃气")
    page.get_by_label("情况描述").fill("小区门口的燃气表箱被撞坏了，表箱门一直开着。")
    page.get_by_label("被举报单位或个人").fill("许由路某小区物业")
    page.get_by_role("button", name="提交举报").click()
    page.wait_for_selector("#receipt-reference")
    assert page.locator("#receipt-reference").inner_text() != first_reference


def test_the_emptied_form_gets_a_key_of_its_own(live_server, phone):
    """A browser that brings back the filed page with its hidden fields (bfcache) would send the filed
    report's key with the next person's words: report.js gives the emptied form a fresh key."""
    page = phone
    page.goto(live_server + "/report")
    key = page.locator("input[name=idempotency_key]")
    filed_key = key.input_value()
    page.evaluate("sessionStorage.setItem('tipoff-report-filed', '1');"
                  "window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    fresh = key.input_value()
    assert fresh != filed_key and re.fullmatch(r"[0-9a-f]{36}", fresh), (filed_key, fresh)
    assert page.locator("input[name=csrf_token]").input_value()  # the form's token stays


def test_proof_of_filing_page_is_accessible(live_server, phone):
    phone.goto(live_server + "/verify")
    assert_accessible(phone, "verify")


def test_the_accessibility_check_can_fail(phone):
    """The checker itself finds a missing label and poor contrast (a test that cannot fail is a defect)."""
    phone.set_content('<html lang="zh-CN"><head><title>t</title></head><body><main>'
                      '<input type="text"><p style="color:#ccc;background:#fff">浅色文字</p></main></body></html>')
    found = " ".join(serious_accessibility_problems(phone))
    assert "label" in found and "color-contrast" in found
