"""Parallel login attempts: a TOTP code works once, every failure is counted, logout ends the session."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import PASSWORD, login
from tipoff.accounts.models import User
from tipoff.extensions import db


def _password_step(app, staff):
    client = app.test_client()
    response = client.post("/staff/login", data={"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


@pytest.mark.postgres
def test_one_totp_code_logs_in_once_even_in_parallel(app, make_staff):
    staff = make_staff("handler", "zjj")
    clients = [_password_step(app, staff) for _ in range(8)]
    code = staff.next_code()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda c: c.post("/staff/login/totp", data={"code": code}), clients))
    successes = [a for a in answers if a.headers.get("Location", "").endswith("/staff/")]
    assert len(successes) == 1


@pytest.mark.postgres
def test_parallel_wrong_passwords_are_all_counted_and_lock(app, make_staff):
    staff = make_staff("handler", "zjj")
    limit = app.config["TIPOFF_LOGIN_MAX_FAILURES"]

    def attempt(_):
        return app.test_client().post("/staff/login", data={"username": staff.username, "password": "nope!"})

    with ThreadPoolExecutor(max_workers=limit * 2) as pool:
        list(pool.map(attempt, range(limit * 2)))
    with app.app_context():
        user = db.session.get(User, staff.id)
        assert user.failed_logins >= limit and user.locked_until is not None


def test_logout_invalidates_a_copied_session_cookie(app, client, make_staff):
    staff = make_staff("handler", "zjj")
    login(client, staff)
    stolen = client.get_cookie("tipoff_session").value
    client.post("/staff/logout")
    thief = app.test_client()
    thief.set_cookie("tipoff_session", stolen)
    assert thief.get("/staff/").status_code == 302
