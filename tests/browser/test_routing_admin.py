"""The routing table in a real browser: an administrator adds a rule, tries it on the dry-run page,
and a handler narrows the queue to overdue cases — each page checked with axe-core."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import serious_accessibility_problems

pytestmark = pytest.mark.browser


def test_admin_adds_a_rule_and_sees_it_decide_in_the_dry_run(desks):
    admin = desks("routeadmin", "admin", None)
    admin.login()
    page = admin.page
    page.get_by_role("navigation").get_by_role("link", name="基础数据").click()
    page.get_by_role("link", name="新增分办规则").click()
    page.wait_for_url(re.compile(r".*/staff/routing/rules/new$"))
    assert serious_accessibility_problems(page) == []
    page.get_by_label("规则代码").fill("r8_gas_stations")
    page.get_by_label("优先级").fill("35")
    page.get_by_role("group", name="行业领域").get_by_label("燃气", exact=True).check()
    page.get_by_label("关键词").fill("加气站\n加油站")
    page.get_by_label("由谁受理").select_option("department")
    page.get_by_label("受理部门").select_option(label="区应急管理局")
    page.get_by_role("group", name="抄送").get_by_label("所在属地政府").check()
    page.get_by_role("textbox", name=re.compile(r"^说明")).fill("加气站由应急管理局受理（试行）。")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(re.compile(r".*/staff/admin/reference/#rules$"))
    assert "已保存分办规则 r8_gas_stations" in page.content()

    page.get_by_role("link", name=re.compile("试分办")).first.click()
    page.wait_for_url(re.compile(r".*/staff/routing/dry-run$"))
    page.get_by_label("举报类别").select_option(label="一般事故隐患")
    page.get_by_label("行业领域").select_option(label="燃气")
    page.get_by_label("属地").select_option(label="灵井镇")
    page.get_by_label("举报描述").fill("灵井加气站的储气罐阀门漏气。")
    page.get_by_role("button", name="试分办").click()
    result = page.get_by_role("region", name="结果")
    assert "区应急管理局" in result.inner_text() and "r8_gas_stations" in result.inner_text()
    assert "灵井镇人民政府" in result.inner_text()
    assert serious_accessibility_problems(page) == []


def test_handler_filters_the_queue_to_overdue(desks):
    handler = desks("queuehandler", "handler", "zjj")
    handler.login()
    page = handler.page
    page.get_by_role("navigation").get_by_role("link", name="案件").click()
    page.get_by_role("link", name=re.compile("已逾期")).click()
    page.wait_for_url(re.compile(r".*/staff/cases/\?due=overdue$"))
    assert page.get_by_role("link", name=re.compile("已逾期")).get_attribute("aria-current") == "page"
    assert serious_accessibility_problems(page) == []
