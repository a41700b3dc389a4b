"""A new administrator's first session, in a real browser: the foundation issue's walk-through.

Log in with the one-time password, bind an authenticator by the QR page's key, set a password,
create a handler for 区住房和城乡建设局, and find all of it in the audit log.
"""
from __future__ import annotations

import re

import pyotp
import pytest

from tipoff.accounts import services
from tipoff.extensions import db

pytestmark = pytest.mark.browser


def test_admin_first_login_creates_handler_and_sees_audit(live_app, live_server, page):
    with live_app.app_context():
        username, one_time = services.create_first_admin()
        db.session.commit()

    page.goto(live_server + "/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_role("link", name="工作人员登录").click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(one_time)
    page.get_by_role("button", name="下一步").click()

    # Enrolment: the QR code is there; the manual key is what a phone app would read from it.
    page.wait_for_url(re.compile(r".*/staff/login/enrol$"))
    assert page.locator(".qr svg").count() == 1
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("6 位动态验证码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="完成绑定").click()

    page.wait_for_url(re.compile(r".*/staff/account/password$"))
    page.get_by_label("当前密码").fill(one_time)
    page.get_by_label("新密码", exact=True).fill("river bridge lantern 2026")
    page.get_by_label("再次输入新密码").fill("river bridge lantern 2026")
    page.get_by_role("button", name="保存新密码").click()
    page.wait_for_url(re.compile(r".*/staff/$"))
    assert "密码已修改" in page.content()

    page.get_by_role("navigation").get_by_role("link", name="用户").click()
    page.get_by_role("link", name="新建用户").click()
    page.get_by_label("用户名").fill("li.jian")
    page.get_by_label("姓名").fill("李建")
    page.get_by_label("角色").select_option("handler")
    page.get_by_label("所属部门").select_option(label="区住房和城乡建设局")
    page.get_by_role("button", name="创建并生成一次性密码").click()
    assert page.locator("#one-time-password").inner_text()

    page.get_by_role("navigation").get_by_role("link", name="审计日志").click()
    log = page.locator("main").inner_text()
    for action in ("auth.login", "auth.totp_enrolled", "user.password_changed", "user.create"):
        assert action in log, action
    assert "li.jian" in log
