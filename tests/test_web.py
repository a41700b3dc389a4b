"""The web shell: Chinese home page, English on request, headers, JSON errors, no addresses in logs."""
from __future__ import annotations

import logging

import pytest

from tipoff.privacy import RedactAddressesFilter, redact_addresses


def test_home_page_speaks_chinese_by_default(client):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in body and "安全生产举报" in body
    assert "重大事故隐患" in body  # categories come from the reference data


def test_english_on_request_and_remembered(client):
    response = client.get("/lang/en?next=/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    body = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in body and "Jian'an District Safety Reporting" in body


def test_a_link_with_lang_en_is_remembered_for_the_pages_it_leads_to(client):
    """/?lang=en on a poster: the report form it links to must not be Chinese again."""
    first = client.get("/?lang=en")
    assert '<html lang="en">' in first.get_data(as_text=True) and "tipoff_lang=en" in first.headers["Set-Cookie"]
    assert '<html lang="en">' in client.get("/report").get_data(as_text=True)
    assert "Set-Cookie" not in client.get("/?lang=en").headers  # already remembered: nothing to send
    assert "Set-Cookie" not in client.get("/?lang=fr").headers  # not one of ours: ignored
    assert '<html lang="zh-CN">' in client.get("/verify?lang=zh_CN").get_data(as_text=True)
    assert '<html lang="zh-CN">' in client.get("/report").get_data(as_text=True)


def test_the_english_report_form_names_categories_and_sectors_in_english(client):
    english = client.get("/report?lang=en").get_data(as_text=True)
    assert '<option value="hazard">Accident hazard</option>' in english
    assert '<option value="gas">Town gas</option>' in english
    chinese = client.get("/report?lang=zh_CN").get_data(as_text=True)
    assert '<option value="hazard">一般事故隐患</option>' in chinese


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)",
                                    "/\t/evil.example", "/\n/evil.example", "/%09/evil.example"[:1] + "\t/evil",
                                    "/\r\nSet-Cookie:x=1", "/\x7f/evil"])
def test_language_switch_is_not_an_open_redirect(client, target):
    response = client.get("/lang/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_security_headers(client):
    headers = client.get("/").headers
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in headers  # only in production


def test_no_inline_script_or_cdn_in_templates():
    from pathlib import Path

    for template in Path(__file__).resolve().parents[1].joinpath("templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "onclick=" not in text, template
        assert "http://" not in text and "https://" not in text, template


def test_staff_login_page_renders(client):
    response = client.get("/staff/login")
    assert response.status_code == 200
    assert "工作人员登录" in response.get_data(as_text=True)


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "找不到" in response.get_data(as_text=True)


def test_json_404_under_api(client):
    response = client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_csrf_is_enforced_when_enabled(tmp_path, pg_schema):
    from tests.conftest import make_app

    app = make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/staff/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400


def test_health_endpoint(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


@pytest.mark.parametrize("line, expected", [
    ('192.168.1.20 - - "GET / HTTP/1.1" 200', '[addr] - - "GET / HTTP/1.1" 200'),
    ("client 2001:db8::1 connected", "client [addr] connected"),
    ("from fe80:0:0:0:200:f8ff:fe21:67cf", "from [addr]"),
    ("version 1.2.3 is fine", "version 1.2.3 is fine"),
    ("time 12:30:45", "time 12:30:45"),
])
def test_addresses_are_redacted_from_log_lines(line, expected):
    assert redact_addresses(line) == expected


def test_log_filter_rewrites_records():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "%s - GET /", ("10.0.0.7",), None)
    RedactAddressesFilter().filter(record)
    assert record.getMessage() == "[addr] - GET /"


def _csrf_token(page: str) -> str:
    import re

    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_forms_work_over_https_without_a_referer(tmp_path, pg_schema):
    """Behind TLS, browsers with our no-referrer policy send no Referer: the CSRF token must suffice."""
    from tests.conftest import make_app

    app = make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True, SESSION_COOKIE_SECURE=True)
    client = app.test_client()
    page = client.get("/staff/login", base_url="https://tipoff.example").get_data(as_text=True)
    response = client.post("/staff/login", base_url="https://tipoff.example",
                           data={"csrf_token": _csrf_token(page), "username": "x", "password": "y"},
                           headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 401  # a login failure, not a CSRF refusal


def test_cross_site_form_posts_are_refused(client):
    response = client.post("/report", data={"description": "x"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_gunicorn_access_log_has_neither_the_client_address_nor_query_strings():
    """A poster's QR link carries the enterprise's name in its query: the access log keeps the path only."""
    import runpy
    from pathlib import Path

    settings = runpy.run_path(str(Path(__file__).resolve().parents[1] / "tipoff" / "gunicorn_conf.py"))
    assert "%(h)s" not in settings["access_log_format"] and "%(r)s" not in settings["access_log_format"]
    assert "%(q)s" not in settings["access_log_format"] and "%(U)s" in settings["access_log_format"]
    assert settings["worker_class"] == "gthread"


def test_retaliation_matters_are_not_counted_as_safety_tips(app, make_staff):
    from sqlalchemy import func, select

    from tests.intake.helpers import VALID
    from tipoff.intake import services as intake
    from tipoff.intake.submission import INSIDER_FOLLOWUP
    from tipoff.oversight import stats
    from tipoff.oversight.models import MonthlyStat
    from tipoff.routing.matcher import Decision
    from tipoff.extensions import db

    with app.app_context():
        intake.submit_tip(VALID)
        intake.submit_tip({**VALID, "category": "other"}, channel=INSIDER_FOLLOWUP,
                          route_to=Decision("rsj", (), False, "insider_retaliation", "转区人社局"))
        stats.refresh()
        assert db.session.scalar(select(func.sum(MonthlyStat.received))) == 1
