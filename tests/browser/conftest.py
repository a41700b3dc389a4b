"""Browser fixtures: a live tipoff server in a thread and a real Chromium driven by Playwright.

Without /usr/bin/chromium the browser tests skip with a visible reason, unless TIPOFF_REQUIRE_BROWSER
is set (CI sets it), in which case they fail.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

import pyotp
import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD, make_app, totp_step
from tipoff.accounts import services as accounts
from tipoff.extensions import db

CHROMIUM = os.environ.get("TIPOFF_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _browser_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


@pytest.fixture(scope="session")
def chromium():
    if not _browser_available():
        message = f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')"
        if os.environ.get("TIPOFF_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path, pg_schema):
    """A tipoff app as users meet it: CSRF on, real keys in a temporary data dir."""
    return make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True)


@pytest.fixture
def live_server(live_app):
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def serious_accessibility_problems(page) -> list[str]:
    """Run axe-core (shipped in a Python package, nothing downloaded) and list serious findings."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"],
                                       "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                                              "wcag21aa", "best-practice"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.fixture
def phone(chromium, request):
    """A phone-sized browser (390×844, touch, Chinese locale)."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844},
                                   device_scale_factor=2, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser context per test; a screenshot is kept in test-artifacts/ at the end."""
    context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


class Desk:
    """A staff member with their own browser context, logged in through the real pages."""

    def __init__(self, live_app, chromium, base: str, username: str, role: str, department: str):
        with live_app.app_context():
            user = accounts.create_user(username=username, display_name=f"测试{username}", role=role,
                                        department_code=department, password=PASSWORD,
                                        must_change_password=False, actor="test")
            self.secret = accounts.begin_totp_enrolment(user)
            # Enrol with the previous step's code, leaving the current and next steps for logins.
            self.last_step = totp_step()
            accounts.confirm_totp_enrolment(user, pyotp.TOTP(self.secret).at(self.last_step * 30), actor=user)
            db.session.commit()
        self.username, self.base = username, base
        self.context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()

    def next_code(self) -> str:
        """A code for a 30-s step the server has not seen yet (each step is accepted once)."""
        self.last_step = totp_step(after=self.last_step)
        return pyotp.TOTP(self.secret).at(self.last_step * 30)

    def login(self) -> None:
        page = self.page
        page.goto(self.base + "/staff/login")
        page.get_by_label("用户名").fill(self.username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="下一步").click()
        page.get_by_label("6 位动态验证码").fill(self.next_code())
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(re.compile(r".*/staff/$"))

    def open_case(self, reference: str) -> None:
        """From the navigation: 案件 → the case in the queue."""
        page = self.page
        page.get_by_role("navigation").get_by_role("link", name="案件").click()
        page.wait_for_url(re.compile(r".*/staff/cases/$"))
        page.get_by_role("link", name=reference).click()
        page.wait_for_url(re.compile(rf".*/staff/cases/{reference}$"))

    def action(self, label: str):
        """Open the <details> whose summary is exactly `label`; returns the details element."""
        details = self.page.locator("details.action").filter(
            has=self.page.locator("summary", has_text=re.compile(rf"^\s*{label}\s*$")))
        details.locator("summary").click()
        return details

    def submit(self, details, label: str) -> None:
        details.get_by_role("button", name=label, exact=True).click()
        self.page.wait_for_load_state()

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@pytest.fixture
def desks(live_app, live_server, chromium):
    made: list[Desk] = []

    def _desk(username: str, role: str, department: str) -> Desk:
        desk = Desk(live_app, chromium, live_server, username, role, department)
        made.append(desk)
        return desk

    yield _desk
    for desk in made:
        desk.context.close()
