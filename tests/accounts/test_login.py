"""Staff login: password then TOTP, generic errors, lock-out, replay, throttling, sessions."""
from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, login, make_app
from tipoff.accounts import services
from tipoff.accounts.models import User
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db

GENERIC = "用户名、密码或验证码不正确"


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_full_login_reaches_staff_home(client, make_staff, app):
    staff = make_staff("handler", "zjj")
    login(client, staff)
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "承办人" in page.get_data(as_text=True)
    assert "auth.login" in actions(app)


def test_password_alone_does_not_log_in(client, make_staff):
    staff = make_staff("admin")
    response = client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    assert response.headers["Location"].endswith("/staff/login/totp")
    assert client.get("/staff/").status_code == 302  # still anonymous


@pytest.mark.parametrize("username, password", [
    ("nobody", PASSWORD),          # unknown user
    ("KNOWN", "wrong password!!"),  # known user, wrong password
    ("KNOWN", ""),                  # empty password
])
def test_login_errors_are_generic(client, make_staff, username, password):
    staff = make_staff("admin")
    username = staff.username if username == "KNOWN" else username
    response = client.post("/staff/login", data={"username": username, "password": password})
    body = response.get_data(as_text=True)
    assert response.status_code in (401, 422)
    if password:
        assert GENERIC in body
    assert "不存在" not in body


def test_username_is_case_insensitive(client, make_staff):
    staff = make_staff("admin")
    response = client.post("/staff/login", data={"username": staff.username.upper(), "password": PASSWORD})
    assert response.status_code == 302


def test_lockout_after_repeated_failures_then_unlock(app, client, make_staff):
    staff = make_staff("handler", "zjj")
    limit = app.config["TIPOFF_LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        client.post("/staff/login", data={"username": staff.username, "password": "not the password"})
    # Locked: the right password now gets the same generic refusal.
    response = client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 401 and GENERIC in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.get(User, staff.id)
        assert user.failed_logins == limit and user.locked_until is not None
        services.unlock(user, actor="test")
    assert client.post("/staff/login", data={"username": staff.username, "password": PASSWORD}).status_code == 302
    recorded = actions(app)
    assert recorded.count("auth.login_failed") == limit
    assert "auth.login_refused" in recorded and "user.unlocked" in recorded


def test_wrong_totp_counts_as_failure_and_restarts(app, client, make_staff):
    staff = make_staff("handler", "zjj")
    client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    response = client.post("/staff/login/totp", data={"code": "000000"})
    assert response.headers["Location"].endswith("/staff/login")
    with app.app_context():
        assert db.session.get(User, staff.id).failed_logins == 1
    # The pending login is gone: the TOTP page sends you back to the password.
    assert client.get("/staff/login/totp").status_code == 302


def test_totp_code_cannot_be_replayed(app, client, make_staff):
    staff = make_staff("handler", "zjj")
    code = staff.next_code()
    client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    assert client.post("/staff/login/totp", data={"code": code}).headers["Location"].endswith("/staff/")
    other = app.test_client()
    other.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    response = other.post("/staff/login/totp", data={"code": code})
    assert response.headers["Location"].endswith("/staff/login")
    assert other.get("/staff/").status_code == 302


def test_first_login_enrols_totp_then_forces_password_change(app, client):
    with app.app_context():
        user, one_time = services.create_user_with_one_time_password(
            actor="test", username="newbie", display_name="新人", role="handler", department_code="zjj")
        db.session.commit()
    response = client.post("/staff/login", data={"username": "newbie", "password": one_time})
    assert response.headers["Location"].endswith("/staff/login/enrol")
    page = client.get("/staff/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split('id="totp-secret">')[1].split("<")[0].replace(" ", "")
    response = client.post("/staff/login/enrol", data={"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"].endswith("/staff/account/password")
    # Until the password is changed, every staff page leads back to the change form.
    assert client.get("/staff/").headers["Location"].endswith("/staff/account/password")
    response = client.post("/staff/account/password", data={
        "current_password": one_time, "new_password": "a much better passphrase", "confirm_password": "a much better passphrase"})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200
    assert {"auth.totp_enrolled", "auth.login", "user.password_changed"} <= set(actions(app))


def test_enrolment_with_wrong_code_shows_error_and_keeps_secret(app, client):
    with app.app_context():
        _, one_time = services.create_user_with_one_time_password(
            actor="test", username="newbie2", display_name="新人", role="admin", department_code=None)
        db.session.commit()
    client.post("/staff/login", data={"username": "newbie2", "password": one_time})
    first = client.get("/staff/login/enrol").get_data(as_text=True).split('id="totp-secret">')[1].split("<")[0]
    response = client.post("/staff/login/enrol", data={"code": "123456"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "验证码不正确" in body
    assert body.split('id="totp-secret">')[1].split("<")[0] == first


@pytest.mark.parametrize("new, confirm, problem", [
    ("short", "short", "至少"),
    ("handler1 is my name ok", "handler1 is my name ok", "不能包含用户名"),
    ("a good long passphrase", "a different passphrase", "不一致"),
])
def test_password_change_refusals(client, login_as, new, confirm, problem):
    login_as("handler", "zjj")
    response = client.post("/staff/account/password", data={
        "current_password": PASSWORD, "new_password": new, "confirm_password": confirm})
    assert response.status_code == 422
    assert problem in response.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, make_staff):
    staff = make_staff("handler", "zjj")
    first, second = app.test_client(), app.test_client()
    login(first, staff)
    login(second, staff)
    first.post("/staff/account/password", data={
        "current_password": PASSWORD, "new_password": "brand new passphrase 7", "confirm_password": "brand new passphrase 7"})
    assert first.get("/staff/").status_code == 200
    assert second.get("/staff/").status_code == 302


def test_idle_session_times_out(app, client, login_as):
    login_as("handler", "zjj")
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - app.config["TIPOFF_SESSION_IDLE_MINUTES"] * 60 - 5
    response = client.get("/staff/")
    assert "/staff/login" in response.headers["Location"]
    assert client.get("/staff/").status_code == 302


def test_logout_ends_session(client, login_as, app):
    login_as("handler", "zjj")
    client.post("/staff/logout")
    assert client.get("/staff/").status_code == 302
    assert "auth.logout" in actions(app)


def test_login_is_throttled_per_client(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [client.post("/staff/login", data={"username": "x", "password": "y"}).status_code for _ in range(11)]
    assert codes[:10] == [401] * 10
    assert codes[10] == 429
    assert "操作过于频繁" in client.post("/staff/login", data={"username": "x", "password": "y"}).get_data(as_text=True)


def test_session_cookie_flags(app, client, make_staff):
    staff = make_staff("handler", "zjj")
    response = login(client, staff)
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_an_active_session_is_not_resent_with_every_page(app, client, login_as):
    """last_seen moves at most once a minute, so most pages send no Set-Cookie; an older one is refreshed."""
    login_as("handler", "zjj")
    client.get("/staff/")
    assert "Set-Cookie" not in client.get("/staff/").headers
    with client.session_transaction() as session:
        session["last_seen"] = time.time() - 61
    refreshed = client.get("/staff/")
    assert refreshed.status_code == 200 and "tipoff_session=" in refreshed.headers.get("Set-Cookie", "")
    with client.session_transaction() as session:
        assert time.time() - session["last_seen"] < 5
