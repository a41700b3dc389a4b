"""The A4 poster: the channels, the rewards in force, insider protection, and a QR code that decodes to
a link opening the report form pre-filled with the enterprise's facts — and nothing that tracks."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from tests.enterprises.helpers import credit_code, form
from tipoff.enterprises.models import Enterprise
from tipoff.enterprises.posters import amount_words
from tipoff.extensions import db
from tipoff.reference import services as reference

BASE = "http://127.0.0.1:5000"  # TIPOFF_PUBLIC_BASE_URL of the testing configuration
NAME = "许昌恒达机械制造有限公司"


def _register(client, **values) -> int:
    assert client.post("/staff/enterprises/new", data=form(**values)).status_code == 302
    with client.application.app_context():
        return db.session.scalar(select(Enterprise.id).order_by(Enterprise.id.desc()).limit(1))


def qr_image(svg: str, pixels_per_module: int = 8) -> Image.Image:
    """Rasterise segno's inline SVG (horizontal runs: M/m moves, h draws) back into a black-and-white image."""
    box = re.search(r'viewBox="0 0 (\d+) (\d+)"', svg)
    width, height = int(box.group(1)), int(box.group(2))
    image = Image.new("L", (width * pixels_per_module, height * pixels_per_module), 255)
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", re.search(r' d="([^"]+)"', svg).group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # a dark run of `a` modules on row y - 0.5
            row = int(y - 0.5) * pixels_per_module
            image.paste(0, (int(x) * pixels_per_module, row, int(x + float(a)) * pixels_per_module,
                            row + pixels_per_module))
            x += float(a)
    return image


def decode(svg: str) -> str:
    import zxingcpp

    found = zxingcpp.read_barcodes(qr_image(svg))
    assert len(found) == 1, "the poster's QR code does not decode"
    return found[0].text


def _qr_svgs(body: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", body, re.S)


def _selected(body: str, name: str) -> str | None:
    select_html = re.search(rf'<select id="{name}" name="{name}".*?</select>', body, re.S).group(0)
    chosen = re.search(r'<option value="([^"]*)" selected>', select_html)
    return chosen.group(1) if chosen else None


def _input_value(body: str, name: str) -> str:
    return html.unescape(re.search(rf'<input type="text" id="{name}" name="{name}" value="([^"]*)"', body).group(1))


def test_the_qr_code_decodes_to_a_link_that_opens_the_pre_filled_form(app, client, login_as):
    login_as("handler", "zjj")
    enterprise_id = _register(client, name=NAME, code=credit_code(42), township="lingjing", sector="construction",
                              address="灵井镇工业路 8 号")
    body = client.get(f"/staff/enterprises/{enterprise_id}/poster").get_data(as_text=True)
    svg, = _qr_svgs(body)
    link = decode(svg)

    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}" == BASE and parts.path == "/report"
    # Only the form's own facts: no enterprise id, no token, nothing per poster or per print.
    assert dict(parse_qsl(parts.query)) == {"subject_name": NAME, "subject_credit_code": credit_code(42),
                                            "sector": "construction", "township": "lingjing"}
    assert len(parse_qsl(parts.query)) == 4 and not parts.fragment

    public = app.test_client()  # a worker's phone: not logged in
    page = public.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    form_html = page.get_data(as_text=True)
    assert _input_value(form_html, "subject_name") == NAME
    assert _input_value(form_html, "subject_credit_code") == credit_code(42)
    assert _selected(form_html, "sector") == "construction"
    assert _selected(form_html, "township") == "lingjing"
    assert _selected(form_html, "category") is None  # what to report is the worker's choice
    assert _input_value(form_html, "address") == ""  # not pre-filled: the hazard may be elsewhere


def test_two_prints_of_a_poster_carry_the_same_link(client, login_as):
    login_as("admin")
    enterprise_id = _register(client, code="")
    first = client.get(f"/staff/enterprises/{enterprise_id}/poster").get_data(as_text=True)
    second = client.get(f"/staff/enterprises/{enterprise_id}/poster").get_data(as_text=True)
    assert _qr_svgs(first) == _qr_svgs(second)
    assert "subject_credit_code" not in decode(_qr_svgs(first)[0])  # no code registered: not in the link


def test_the_poster_shows_the_channels_rewards_and_insider_protection(app, client, login_as):
    with app.app_context():
        reference.department_by_code("zjj").phone = "0374-5551234"
        db.session.commit()
    login_as("handler", "zjj")
    enterprise_id = _register(client, name=NAME, code=credit_code(1), township="lingjing", sector="construction")
    response = client.get(f"/staff/enterprises/{enterprise_id}/poster")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    assert "安全生产举报" in text and NAME in text and "灵井镇 · 建筑施工" in text
    assert f"{BASE}/report" in text and "12345" in text and "12350" in text
    # Construction tips go to the sector's lead department (区住建局): its name and phone are on the poster.
    assert "区住房和城乡建设局" in text and "0374-5551234" in text
    # The rule set in force (national 2018) in a sentence, amounts the way notices write them.
    assert "经核查属实的，按规定给予奖励： 举报重大事故隐患、安全生产违法行为：罚款的 15%，最低 3000 元，最高 30 万元" in text
    assert "按查实的瞒报死亡人数每人 3 万元至 6 万元，最高 30 万元。" in text
    assert f"{BASE}/rewards/calculator" in text
    assert "第五十四条" in text and "降低其工资、福利等待遇或者解除与其订立的劳动合同" in text
    assert "加密" in text and "匿名" in text
    assert re.search(r'<svg role="img" aria-label="[^"]*' + NAME, body)


def test_the_rewards_follow_the_rule_set_in_force(app, client, login_as):
    from tipoff.rewards import catalog

    with app.app_context():
        catalog.set_in_force("henan-2025", True, "test")
    login_as("admin")
    enterprise_id = _register(client)
    text = client.get(f"/staff/enterprises/{enterprise_id}/poster").get_data(as_text=True)
    assert "河南省安全生产领域举报奖励办法" in text
    assert "举报一般事故隐患：罚款的 15%，最低 1000 元，最高 30 万元" in text
    assert "本单位职工举报本单位的，另加奖 15%，不少于 1000 元。" in text


def test_a_department_without_a_phone_is_named_without_one(app, client, login_as):
    login_as("admin")
    # Hazardous-goods transport goes to 区交通运输局 by rule r4, whatever the township.
    enterprise_id = _register(client, sector="hazchem_transport", township="xuyou")
    text = client.get(f"/staff/enterprises/{enterprise_id}/poster").get_data(as_text=True)
    assert "区交通运输局" in text and "受理部门" in text


def test_all_posters_of_a_township_one_per_page(app, client, login_as):
    login_as("admin")
    for n, name in enumerate(("甲厂", "乙厂", "丙厂"), start=1):
        _register(client, name=name, code=credit_code(n), township="lingjing")
    _register(client, name="外乡厂", code=credit_code(9), township="xuyou")
    gone = _register(client, name="关停厂", code=credit_code(10), township="lingjing")
    client.post(f"/staff/enterprises/{gone}/deactivate")
    body = client.get("/staff/enterprises/posters?township=lingjing").get_data(as_text=True)
    assert body.count('<article class="poster"') == 3 and len(_qr_svgs(body)) == 3
    assert "灵井镇全部举报海报" in body
    body = body[body.index("<article"):]  # the posters (not the flash messages above them)
    assert "外乡厂" not in body and "关停厂" not in body
    names = {dict(parse_qsl(urlsplit(decode(svg)).query))["subject_name"] for svg in _qr_svgs(body)}
    assert names == {"甲厂", "乙厂", "丙厂"}
    css = client.get("/static/css/tipoff.css").get_data(as_text=True)
    assert "size: A4" in css and re.search(r"\.poster \{[^}]*page-break-after: always", css)


def test_the_township_posters_page_asks_for_a_township(client, login_as):
    login_as("handler", "zjj")
    page = client.get("/staff/enterprises/posters")
    assert page.status_code == 200 and 'name="township"' in page.get_data(as_text=True)
    assert client.get("/staff/enterprises/posters?township=atlantis").status_code == 422


@pytest.mark.parametrize("amount, words", [("300000", "30 万元"), ("3000", "3000 元"), ("15000", "15000 元"),
                                           ("50000", "5 万元"), ("1500.50", "1500.5 元")])
def test_amounts_in_words(app, amount, words):
    from decimal import Decimal

    with app.test_request_context():
        assert amount_words(Decimal(amount)) == words
