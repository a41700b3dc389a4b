"""User administration: creating a handler, resets, deactivation, department scoping, CLI and tokens."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, login
from tipoff import crypto
from tipoff.accounts import services
from tipoff.accounts.models import ApiToken, User
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db


def test_admin_creates_handler_and_one_time_password_is_shown_once(app, client, login_as):
    login_as("admin")
    response = client.post("/staff/users/new", data={
        "username": "wang.li", "display_name": "王力", "role": "handler", "department": "zjj"})
    assert response.status_code == 201
    body = response.get_data(as_text=True)
    one_time = body.split('id="one-time-password">')[1].split("<")[0]
    assert len(one_time) == 23
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "wang.li"))
        assert user.department.code == "zjj" and user.must_change_password
        assert one_time not in user.password_hash
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.create",
                                                            AuditEntry.object_id == str(user.id)))
        assert entry.department_id == user.department_id
        assert one_time not in str(entry.details)
    assert one_time not in client.get("/staff/users").get_data(as_text=True)


@pytest.mark.parametrize("fields, field, message", [
    ({"username": "Bad Name", "role": "handler", "department": "zjj"}, "username", "小写字母"),
    ({"username": "ok.name", "role": "handler", "department": ""}, "department", "必须属于一个部门"),
    ({"username": "ok.name", "role": "admin", "department": "zjj"}, "department", "不属于任何部门"),
    ({"username": "ok.name", "role": "leader", "department": "nope"}, "department", "不是有效的选择"),
])
def test_create_user_refusals_name_the_field(client, login_as, fields, field, message):
    login_as("admin")
    response = client.post("/staff/users/new", data={"display_name": "某人", **fields})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body
    assert f'value="{fields["username"]}"' in body  # what was typed is kept


def test_duplicate_username_is_refused(client, login_as, make_staff):
    existing = make_staff("handler", "zjj")
    login_as("admin")
    response = client.post("/staff/users/new", data={
        "username": existing.username, "display_name": "x", "role": "handler", "department": "zjj"})
    assert response.status_code == 422
    assert "已被使用" in response.get_data(as_text=True)


def test_reset_2fa_ends_sessions_and_forces_enrolment(app, client, make_staff, login_as):
    target = make_staff("handler", "zjj")
    target_client = app.test_client()
    login(target_client, target)
    login_as("admin")
    client.post(f"/staff/users/{target.id}/reset-2fa")
    assert target_client.get("/staff/").status_code == 302
    response = target_client.post("/staff/login", data={"username": target.username, "password": PASSWORD})
    assert response.headers["Location"].endswith("/staff/login/enrol")


def test_deactivated_user_cannot_log_in_and_sessions_end(app, client, make_staff, login_as):
    target = make_staff("handler", "zjj")
    target_client = app.test_client()
    login(target_client, target)
    login_as("admin")
    client.post(f"/staff/users/{target.id}/deactivate")
    assert target_client.get("/staff/").status_code == 302
    response = target_client.post("/staff/login", data={"username": target.username, "password": PASSWORD})
    assert response.status_code == 401


def test_reset_password_shows_new_one_time_password(app, client, make_staff, login_as):
    target = make_staff("handler", "zjj")
    login_as("admin")
    body = client.post(f"/staff/users/{target.id}/reset-password").get_data(as_text=True)
    one_time = body.split('id="one-time-password">')[1].split("<")[0]
    response = app.test_client().post("/staff/login", data={"username": target.username, "password": one_time})
    assert response.status_code == 302


def test_leader_sees_only_own_department_users(client, make_staff, login_as):
    make_staff("handler", "zjj", username="zjj.handler")
    make_staff("handler", "yjj", username="yjj.handler")
    login_as("leader", "zjj")
    body = client.get("/staff/users").get_data(as_text=True)
    assert "zjj.handler" in body and "yjj.handler" not in body
    assert client.post("/staff/users/new", data={}).status_code == 403


def test_admin_sees_all_users(client, make_staff, login_as):
    make_staff("handler", "zjj", username="zjj.handler")
    make_staff("handler", "yjj", username="yjj.handler")
    login_as("admin")
    body = client.get("/staff/users").get_data(as_text=True)
    assert "zjj.handler" in body and "yjj.handler" in body


def test_cli_create_user_and_token(app, runner):
    result = runner.invoke(args=["tipoff", "create-user", "--username", "ops", "--role", "operator",
                                 "--password-stdin"], input="a long enough passphrase\n")
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tipoff", "create-token", "--username", "ops", "--name", "12345 bridge"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("tpf_")
    client = app.test_client()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["role"] == "operator"
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert token not in stored.digest and stored.digest == crypto.token_digest(token)
    result = runner.invoke(args=["tipoff", "revoke-token", "--prefix", token[:12]])
    assert result.exit_code == 0, result.output
    again = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "token_invalid"


@pytest.mark.parametrize("args, message", [
    (["--username", "h", "--role", "handler"], "必须属于一个部门"),
    (["--username", "boss", "--role", "king"], "未知角色"),
    (["--username", "h2", "--role", "handler", "--department", "zzz"], "未知部门"),
])
def test_cli_create_user_refusals(runner, args, message):
    result = runner.invoke(args=["tipoff", "create-user", *args])
    assert result.exit_code != 0
    assert message in result.output


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer tpf_nonsense", "Basic abc", "Bearer " + "x" * 300])
def test_api_rejects_missing_or_bad_tokens_with_json(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}


def test_first_admin_is_created_once(app):
    with app.app_context():
        first = services.create_first_admin()
        assert first is not None and first[0] == "admin"
        assert services.create_first_admin() is None


def test_cli_recovers_a_locked_out_admin_without_phone(app, runner, make_staff):
    staff = make_staff("admin")
    with app.app_context():
        user = db.session.get(User, staff.id)
        user.failed_logins, user.locked_until = 9, services.utcnow() + services.timedelta(hours=5)
        db.session.commit()
    result = runner.invoke(args=["tipoff", "reset-user", "--username", staff.username, "--unlock", "--2fa",
                                 "--password"])
    assert result.exit_code == 0, result.output
    one_time = result.output.strip().splitlines()[-1].split(": ")[-1]
    response = app.test_client().post("/staff/login", data={"username": staff.username, "password": one_time})
    assert response.headers["Location"].endswith("/staff/login/enrol")
    assert runner.invoke(args=["tipoff", "reset-user", "--username", staff.username]).exit_code != 0
