"""Stored XSS and CSV formula injection: hostile text typed into every free-text field a reporter or staff
can fill in, then every view that shows it. Each view must show the text escaped, never as markup, and a
spreadsheet export must never start a cell with a formula."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from tests.enterprises.helpers import credit_code
from tests.intake.helpers import receipt_of
from tests.security.conftest import DEPT_A, MAJOR_NAMED, browser, build_world, post_form, secure_app
from tipoff.extensions import db

FORMULA = "=cmd|' /C calc'!A0"
SCRIPT = '<script>alert("x1")</script>'
BREAKOUT = '"><img src=x onerror=alert("x2")>'
SVG = "'><svg onload=alert(3)>"
JS_URL = "javascript:alert(4)"


def hostile(label: str) -> str:
    """A value that carries every payload at once, with a label to find where it came from."""
    return f"{FORMULA} {label} {SCRIPT} {BREAKOUT} {SVG} {JS_URL} 加气站漏气"


RAW_MARKUP = [SCRIPT, "<script>alert(", "<img src=x onerror", "<svg onload"]
JS_ATTRIBUTE = re.compile(r"""(?:href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:""", re.I)


@pytest.fixture(scope="module")
def xss_world(tmp_path_factory, pg_schema):
    """A world where every free-text field holds hostile text."""
    app = secure_app(tmp_path_factory.mktemp("xss"), pg_schema)
    world = build_world(app)
    from tipoff.accounts.models import User
    from tipoff.cases import services as cases
    from tipoff.enterprises import services as enterprises
    from tipoff.oversight import typical
    from tipoff.rewards import services as rewards

    # The reporter: every field of the public form.
    reporter = browser(app)
    response = post_form(reporter, "/report", {
        **MAJOR_NAMED, "subject_name": hostile("subject")[:100], "address": hostile("address")[:200],
        "description": hostile("description") * 2})
    assert response.status_code == 201, response.get_data(as_text=True)[:500]
    reference, code = receipt_of(response)
    world.ids.update(xss_case=reference, xss_code=code)
    assert post_form(reporter, "/status", {"reference": reference, "access_code": code},
                     token_from="/status").status_code == 302

    # A staff member whose display name is hostile, created by the administrator through the form.
    admin = world.clients["admin"]
    response = post_form(admin, "/staff/users/new", {"username": "xss.handler", "display_name": hostile("name")[:100],
                                                     "role": "handler", "department": DEPT_A})
    assert response.status_code in (200, 201, 302), response.get_data(as_text=True)[:300]
    with app.app_context():
        xss_user = db.session.scalar(select(User).where(User.username == "xss.handler"))
        assert xss_user is not None and "<script>" in xss_user.display_name
        handler = db.session.get(User, world.staff["handler"].id)
        cases.perform(xss_user, reference, "accept", {})
        cases.perform(handler, reference, "message", {"body": hostile("staff message")})
        cases.perform(handler, reference, "note", {"body": hostile("note")})
    # The reporter answers through their page.
    assert post_form(reporter, "/status/reply", {"body": hostile("reply"), "reference": reference},
                     token_from="/status").status_code == 302
    with app.app_context():
        handler = db.session.get(User, world.staff["handler"].id)
        cases.perform(handler, reference, "conclude", {"outcome": "substantiated", "summary": hostile("summary"),
                                                       "fine": "100000.00"})
        enterprises.register_enterprise({"name": hostile("enterprise")[:100], "credit_code": credit_code(7),
                                         "township": "lingjing", "sector": "gas",
                                         "address": hostile("enterprise address")[:200]}, handler)
        case = typical.create_case({"title": hostile("title")[:60], "body": hostile("body")},
                                   db.session.get(User, world.staff["overseer"].id))
        typical.publish_case(case, db.session.get(User, world.staff["overseer"].id))
        world.ids["xss_typical"] = case.id
        from tipoff.intake.models import Tip

        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        reward = rewards.reward_of_tip(tip)
        world.ids["xss_reward"] = reward.id
        rewards.perform(handler, reward.id, "propose", {"known_before": "no", "amount": "16000.00",
                                                        "amount_reason": hostile("amount reason")})
    # A second tip, rejected with a hostile reason.
    other = browser(app)
    second, _ = receipt_of(post_form(other, "/report", {**MAJOR_NAMED, "identity": "anonymous"}))
    with app.app_context():
        cases.perform(db.session.get(User, world.staff["handler"].id), second, "reject",
                      {"reason_code": "no_facts", "reason": hostile("reject reason")})
    world.ids["xss_rejected"] = second
    world.clients["reporter"] = reporter
    return world


def assert_escaped(body: str, where: str) -> None:
    for markup in RAW_MARKUP:
        assert markup not in body, f"{where}: unescaped {markup!r}"
    assert not JS_ATTRIBUTE.search(body), f"{where}: a javascript: URL in an attribute"


STAFF_VIEWS = ["/staff/", "/staff/cases/", "/staff/cases/{xss_case}", "/staff/cases/{xss_rejected}",
               "/staff/oversight/", "/staff/oversight/cases",
               "/staff/audit/", "/staff/users", "/staff/enterprises/", "/staff/typical-cases/",
               "/staff/typical-cases/{xss_typical}", "/staff/rewards/", "/staff/rewards/{xss_reward}",
               "/staff/rewards/ledger", "/staff/exports/", "/staff/exports/overdue", "/staff/disclosures/",
               "/staff/routing/dry-run"]
PUBLIC_VIEWS = ["/", "/public", "/public/cases/{xss_typical}", "/rewards/notices"]


@pytest.mark.parametrize("principal", ["admin", "overseer", "leader", "handler"])
def test_staff_views_escape_everything(xss_world, principal, log_guard):
    log_guard.watch(xss_world.ids["xss_code"])
    client = xss_world.clients[principal]
    for path in STAFF_VIEWS:
        response = client.get(path.format(**xss_world.ids))
        if response.status_code == 200 and response.mimetype == "text/html":
            assert_escaped(response.get_data(as_text=True), f"{principal} {path}")


def test_the_case_page_shows_the_hostile_text_as_text(xss_world):
    """The escaping is really exercised: the payloads are on the page, as harmless text."""
    body = xss_world.clients["handler"].get(f"/staff/cases/{xss_world.ids['xss_case']}").get_data(as_text=True)
    assert_escaped(body, "case page")
    for label in ("subject", "description", "staff message", "note", "reply", "summary"):
        assert f"{label} &lt;script&gt;alert(" in body, f"{label} not shown on the case page"
    rejected = xss_world.clients["handler"].get(f"/staff/cases/{xss_world.ids['xss_rejected']}")
    assert "reject reason &lt;script&gt;" in rejected.get_data(as_text=True)
    users = xss_world.clients["admin"].get("/staff/users").get_data(as_text=True)
    assert "name &lt;script&gt;alert(" in users


def test_enterprise_poster_escapes_the_name(xss_world):
    client = xss_world.clients["handler"]
    with xss_world.app.app_context():
        from tipoff.enterprises.models import Enterprise

        enterprise = db.session.scalar(select(Enterprise).where(Enterprise.name.like("%enterprise%")))
    for path in (f"/staff/enterprises/{enterprise.id}", f"/staff/enterprises/{enterprise.id}/poster"):
        body = client.get(path).get_data(as_text=True)
        assert_escaped(body, path)
        assert "enterprise &lt;script&gt;" in body


def test_reporter_status_page_escapes_everything(xss_world, log_guard):
    log_guard.watch(xss_world.ids["xss_code"])
    body = xss_world.clients["reporter"].get("/status").get_data(as_text=True)
    assert_escaped(body, "/status")
    assert "staff message &lt;script&gt;" in body and "reply &lt;script&gt;" in body


@pytest.mark.parametrize("path", PUBLIC_VIEWS)
def test_public_views_escape_everything(xss_world, path):
    response = browser(xss_world.app).get(path.format(**xss_world.ids))
    assert response.status_code == 200
    assert_escaped(response.get_data(as_text=True), path)


def test_typical_case_page_shows_the_title_as_text(xss_world):
    body = browser(xss_world.app).get(f"/public/cases/{xss_world.ids['xss_typical']}").get_data(as_text=True)
    assert "title &lt;script&gt;" in body


def _csv_cells(response) -> list[str]:
    text = response.get_data().decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


@pytest.mark.parametrize("path", ["/staff/exports/?format=csv", "/staff/exports/overdue?format=csv",
                                  "/staff/rewards/ledger?format=csv"])
def test_csv_exports_neutralise_formulas(xss_world, path):
    response = xss_world.clients["overseer"].get(path)
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)[:200]
    cells = _csv_cells(response)
    assert cells
    dangerous = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not dangerous, dangerous[:5]


def test_csv_export_carries_the_hostile_subject_neutralised(xss_world):
    response = xss_world.clients["overseer"].get("/staff/exports/?format=csv")
    cells = _csv_cells(response)
    assert any(cell.startswith("'=cmd") for cell in cells), "the hostile subject should be in the ledger"


def test_api_export_neutralises_formulas(xss_world):
    response = browser(xss_world.app).get("/api/v1/exports/cases?format=csv",
                                          headers={"Authorization": f"Bearer {xss_world.tokens['overseer']}"})
    assert response.status_code == 200
    cells = _csv_cells(response)
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_json_api_answers_json_not_html(xss_world):
    response = browser(xss_world.app).get(f"/api/v1/cases/{xss_world.ids['xss_case']}",
                                          headers={"Authorization": f"Bearer {xss_world.tokens['overseer']}"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
