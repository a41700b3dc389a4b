"""Enterprise posters in a real browser: an administrator registers an enterprise through the form,
prints its township's posters (one A4 page each), and the QR code on the screen opens the pre-filled
report form on a worker's phone."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.browser.conftest import ARTIFACTS, serious_accessibility_problems
from tests.enterprises.helpers import credit_code, csv_bytes

pytestmark = pytest.mark.browser

NAME = "许昌恒达建筑工程有限公司"


def test_admin_registers_an_enterprise_and_prints_the_townships_posters(desks, chromium):
    import zxingcpp

    admin = desks("poster.admin", "admin", None)
    admin.login()
    page = admin.page
    page.goto(admin.base + "/staff/enterprises/new")
    assert serious_accessibility_problems(page) == []
    page.get_by_label("单位名称").fill(NAME)
    page.get_by_label("统一社会信用代码").fill(credit_code(2026))
    page.get_by_label("乡镇（街道）").select_option(label="灵井镇")
    page.get_by_label("行业领域").select_option(label="建筑施工")
    page.get_by_label("地址").fill("灵井镇建设路 18 号")
    page.get_by_label("登记部门").select_option(label="区住房和城乡建设局")
    page.get_by_role("button", name="登记").click()
    page.wait_for_url(re.compile(r".*/staff/enterprises/\?township=lingjing$"))
    assert NAME in page.get_by_role("table").inner_text()
    assert serious_accessibility_problems(page) == []

    page.get_by_role("link", name=re.compile("打印本乡镇（街道）全部海报（1 张）")).click()
    page.wait_for_url(re.compile(r".*/staff/enterprises/posters\?township=lingjing$"))
    poster = page.locator("article.poster")
    assert poster.count() == 1
    text = poster.inner_text()
    for expected in ("安全生产举报", NAME, "12345", "12350", "区住房和城乡建设局", "/report", "举报有奖", "第五十四条"):
        assert expected in text, expected
    assert serious_accessibility_problems(page) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "enterprise_posters.png"), full_page=True)

    # Printed, the township's posters take one A4 page each.
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1
    page.emulate_media(media="screen")

    # A worker scans the code as shown on the screen and gets the form with the enterprise filled in.
    shot = page.locator("svg.poster-qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert len(found) == 1
    link = found[0].text
    assert link.startswith("http://127.0.0.1:5000/report?")  # the configured public address
    worker = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True)
    try:
        phone = worker.new_page()
        phone.goto(admin.base + link.removeprefix("http://127.0.0.1:5000"))
        assert phone.get_by_label("被举报单位或个人").input_value() == NAME
        assert phone.get_by_label("统一社会信用代码").input_value() == credit_code(2026)
        assert phone.get_by_label("行业领域").input_value() == "construction"
        assert phone.get_by_label("所在乡镇（街道）").input_value() == "lingjing"
    finally:
        worker.close()


def test_an_import_shows_each_rejected_row_beside_its_field(desks):
    handler = desks("import.handler", "handler", "zjj")
    handler.login()
    page = handler.page
    page.goto(handler.base + "/staff/enterprises/import")
    assert serious_accessibility_problems(page) == []
    content = csv_bytes([["许昌恒达机械制造有限公司", credit_code(1), "灵井镇", "工贸", ""],
                         ["坏代码公司", "91411023MA44L0E07X", "灵井镇", "工贸", ""]], encoding="gbk")
    page.get_by_label("文件").set_input_files(files=[{"name": "单位.csv", "mimeType": "text/csv", "buffer": content}])
    page.get_by_role("button", name="上传并检查").click()
    rejected = page.get_by_role("region", name=re.compile("有问题的行"))
    assert "第 3 行" in rejected.inner_text() and "校验位不正确" in rejected.inner_text()
    assert serious_accessibility_problems(page) == []
    page.get_by_role("button", name="确认导入 1 家单位").click()
    assert "已导入 1 家单位" in page.content()
    page.goto(handler.base + "/staff/enterprises/")
    assert "许昌恒达机械制造有限公司" in page.get_by_role("table").inner_text()
