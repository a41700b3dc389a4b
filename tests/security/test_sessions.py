"""Sessions and redirects: open redirects, session fixation, TOTP replay, security headers."""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.security.conftest import DEPT_A, browser, create_staff, csrf_from, login_with_csrf, post_form

COOKIE = "tipoff_session"
EVIL = ["//evil.example", "https://evil.example/", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
        "/\t/evil.example", "http:evil.example", "https:/evil.example", " //evil.example", "//evil.example%2F..",
        "/%0d%0aLocation:%20https://evil.example"]


def _stays_on_site(location: str) -> bool:
    parts = urlsplit(location)
    return (parts.scheme in ("", "http") and parts.netloc in ("", "localhost") and "evil" not in parts.netloc
            and not parts.path.startswith("//") and "\\" not in location and not {"\r", "\n"} & set(location))


def _session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def _with_cookie(app, value: str):
    client = browser(app)
    client.set_cookie(COOKIE, value)
    return client


def _is_logged_in(client) -> bool:
    return client.get("/staff/account").status_code == 200


# ---------------------------------------------------------------------------------------- open redirects

@pytest.mark.parametrize("target", EVIL)
def test_login_next_never_leaves_the_site(world, target):
    staff = create_staff(world.app, "handler", DEPT_A, f"redir{EVIL.index(target)}")
    client = browser(world.app)
    page = client.get(f"/staff/login?next={quote(target, safe='')}")
    assert page.status_code == 200
    token = csrf_from(client, f"/staff/login?next={quote(target, safe='')}")
    response = client.post("/staff/login", data={"username": staff.username, "password": staff.password,
                                                 "next": target, "csrf_token": token})
    assert response.status_code == 302
    response = post_form(client, "/staff/login/totp", {"code": staff.next_code()})
    assert response.status_code == 302
    assert _stays_on_site(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_language_switch_next_never_leaves_the_site(world, target):
    response = browser(world.app).get(f"/lang/en?next={quote(target, safe='')}")
    assert response.status_code == 302
    assert _stays_on_site(response.headers["Location"]), response.headers["Location"]


def test_a_same_site_next_is_kept(world):
    """The guard is not simply 'always go home': a page of our own is where login leads."""
    staff = create_staff(world.app, "handler", DEPT_A, "redir_ok")
    client = browser(world.app)
    token = csrf_from(client, "/staff/login")
    client.post("/staff/login", data={"username": staff.username, "password": staff.password,
                                      "next": "/staff/cases/?due=overdue", "csrf_token": token})
    response = post_form(client, "/staff/login/totp", {"code": staff.next_code()})
    assert response.headers["Location"].endswith("/staff/cases/?due=overdue")


# ---------------------------------------------------------------------------------------- session fixation

def test_session_changes_at_each_login_step_and_old_cookies_stay_anonymous(world):
    staff = create_staff(world.app, "leader", DEPT_A, "fixation")
    client = browser(world.app)
    token = csrf_from(client, "/staff/login")
    before = _session_cookie(client)
    assert before, "the login page hands out a session (for its CSRF token)"
    client.post("/staff/login", data={"username": staff.username, "password": staff.password, "csrf_token": token})
    pending = _session_cookie(client)
    assert pending and pending != before
    post_form(client, "/staff/login/totp", {"code": staff.next_code()})
    after = _session_cookie(client)
    assert after and after not in (before, pending)
    assert _is_logged_in(client)
    # A cookie planted or copied before the login, or between its steps, grants nothing afterwards.
    assert not _is_logged_in(_with_cookie(world.app, before))
    assert not _is_logged_in(_with_cookie(world.app, pending))
    # The fully logged-in cookie works while the session lives …
    assert _is_logged_in(_with_cookie(world.app, after))
    # … and not after logout, even replayed by someone who copied it.
    post_form(client, "/staff/logout", token_from="/staff/account")
    assert not _is_logged_in(_with_cookie(world.app, after))


def test_a_planted_pre_login_session_does_not_carry_into_the_login(world):
    """An attacker who makes the victim use the attacker's cookie does not share the victim's session."""
    staff = create_staff(world.app, "handler", DEPT_A, "planted")
    attacker = browser(world.app)
    csrf_from(attacker, "/staff/login")
    planted = _session_cookie(attacker)
    victim = _with_cookie(world.app, planted)
    login_with_csrf(victim, staff)
    assert _is_logged_in(victim)
    assert not _is_logged_in(attacker)
    assert _session_cookie(victim) != planted


# ---------------------------------------------------------------------------------------- TOTP replay

def test_a_totp_code_is_accepted_once(world):
    staff = create_staff(world.app, "overseer", None, "replay")
    code = staff.next_code()
    first = browser(world.app)
    post_form(first, "/staff/login", {"username": staff.username, "password": staff.password})
    assert post_form(first, "/staff/login/totp", {"code": code}).status_code == 302
    assert _is_logged_in(first)
    # Someone who watched the code being typed replays it within its 30-second window.
    second = browser(world.app)
    post_form(second, "/staff/login", {"username": staff.username, "password": staff.password})
    response = post_form(second, "/staff/login/totp", {"code": code})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/staff/login"
    assert not _is_logged_in(second)


# ---------------------------------------------------------------------------------------- headers

PAGES = ["/", "/report", "/status", "/verify", "/public", "/rewards/calculator", "/staff/login", "/api/v1/catalog",
         "/no-such-page", "/api/v1/no-such-endpoint"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers(world, path):
    response = browser(world.app).get(path)
    headers = response.headers
    csp = {part.split()[0]: part.split()[1:] for part in headers["Content-Security-Policy"].split("; ")}
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    if path.startswith(("/staff", "/api/", "/report", "/status", "/verify")):
        assert headers["Cache-Control"] == "no-store"


def test_pages_carry_no_inline_script_for_the_policy_to_block(world):
    for principal in ("anonymous", "admin", "handler"):
        for path in ("/", "/report", "/staff/", "/staff/cases/", f"/staff/cases/{world.ids['case']}"):
            body = world.clients[principal].get(path).get_data(as_text=True)
            assert "<script>" not in body and " onclick=" not in body and " onload=" not in body, (principal, path)


def test_session_cookie_flags(world):
    client = browser(world.app)
    response = client.get("/staff/login")
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_sets_secure_cookies_and_hsts():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True and ProductionConfig.TIPOFF_HSTS is True


def test_hsts_is_sent_when_configured_on_pages_and_on_refusals_before_flask(tmp_path, pg_schema):
    from tests.conftest import make_app
    from tests.intake.test_lookup_slots import holding_slots

    app = make_app(tmp_path, pg_schema, TIPOFF_HSTS=True, TIPOFF_LOOKUP_KDF_SLOTS=1)
    client = app.test_client()
    assert client.get("/").headers["Strict-Transport-Security"].startswith("max-age=31536000")
    with holding_slots(app, 1):
        refused = client.post("/api/v1/tips/lookup", json={"reference": "JA-2026-000001", "access_code": "1" * 16})
    assert refused.status_code == 503 and refused.headers["Strict-Transport-Security"].startswith("max-age=")
