"""Every staff route × every role: the expected answer, from a table. A new route must be added here."""
from __future__ import annotations

import pytest

from tests.conftest import login

ROLES = ["admin", "overseer", "leader", "handler", "finance", "custodian", "operator"]
DEPARTMENT = {"leader": "zjj", "handler": "zjj", "finance": "zjj"}

# (method, path) -> roles that get 200 (everyone else logged in gets 403; anonymous is sent to login)
MATRIX = {
    ("GET", "/staff/"): set(ROLES),
    ("GET", "/staff/account"): set(ROLES),
    ("GET", "/staff/account/password"): set(ROLES),
    ("GET", "/staff/users"): {"admin", "overseer", "leader"},
    ("GET", "/staff/users/new"): {"admin"},
    ("GET", "/staff/keys"): {"admin"},
    ("GET", "/staff/audit/"): {"admin", "overseer", "leader"},
    ("GET", "/staff/admin/reference/"): {"admin"},
    ("GET", "/staff/audit/verify"): {"admin", "overseer", "leader"},
    ("GET", "/staff/tips/new"): {"operator"},
    ("GET", "/staff/cases/"): {"overseer", "leader", "handler"},
    ("GET", "/staff/disclosures/"): {"custodian", "overseer", "leader", "handler", "finance"},
    ("GET", "/staff/rewards/"): {"overseer", "leader", "handler", "finance"},
    ("GET", "/staff/rewards/ledger"): {"overseer", "leader", "handler", "finance"},
    ("GET", "/staff/oversight/"): {"overseer", "leader"},
    ("GET", "/staff/oversight/cases"): {"overseer", "leader"},
    ("GET", "/staff/exports/"): {"overseer", "leader", "handler"},
    ("GET", "/staff/exports/overdue"): {"overseer", "leader", "handler"},
    ("GET", "/staff/typical-cases/"): {"overseer"},
    ("GET", "/staff/typical-cases/new"): {"overseer"},
    ("GET", "/staff/enterprises/"): {"admin", "leader", "handler"},
    ("GET", "/staff/enterprises/new"): {"admin", "leader", "handler"},
    ("GET", "/staff/enterprises/posters"): {"admin", "leader", "handler"},
    ("GET", "/staff/enterprises/import"): {"admin", "leader", "handler"},
    ("GET", "/staff/enterprises/import/template.csv"): {"admin", "leader", "handler"},
    ("GET", "/staff/enterprises/import/template.xlsx"): {"admin", "leader", "handler"},
    ("GET", "/staff/admin/rewards/rule-sets"): {"admin"},
    ("GET", "/staff/admin/rewards/rule-sets/new"): {"admin"},
    ("GET", "/staff/admin/rewards/exclusions"): {"admin"},
    ("GET", "/staff/routing/rules/new"): {"admin"},
    ("GET", "/staff/routing/dry-run"): {"admin", "overseer"},
    ("GET", "/staff/retention/"): {"overseer"},
}
# Pages with a path argument, checked the same way (the coverage test below lists argument-free pages only).
WITH_ARGUMENTS = {
    ("GET", "/staff/routing/rules/r1_death"): {"admin"},
    ("GET", "/staff/admin/reference/departments/zjj"): {"admin"},
}
# Allowed roles are sent on from these (e.g. a result page that only exists after a POST).
REDIRECTS = {("GET", "/staff/audit/verify")}


@pytest.mark.parametrize("role", ROLES + ["anonymous"])
@pytest.mark.parametrize("method, path", sorted(MATRIX) + sorted(WITH_ARGUMENTS))
def test_route_role_matrix(app, make_staff, role, method, path):
    client = app.test_client()
    if role != "anonymous":
        login(client, make_staff(role, DEPARTMENT.get(role)))
    response = client.open(path, method=method)
    if role == "anonymous":
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    elif role in {**MATRIX, **WITH_ARGUMENTS}[(method, path)]:
        expected = 302 if (method, path) in REDIRECTS else 200
        assert response.status_code == expected, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403


def test_matrix_covers_every_staff_get_route(app):
    """A staff page without a row in MATRIX fails here, so nobody forgets its access rule."""
    staff_gets = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/staff") and "GET" in rule.methods and not rule.arguments:
            if rule.endpoint.startswith("accounts.login") or rule.endpoint == "accounts.enrol":
                continue  # the login steps themselves are public
            staff_gets.add(("GET", rule.rule))
    assert staff_gets == set(MATRIX)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
@pytest.mark.parametrize("action", ["reset-password", "reset-2fa", "deactivate", "activate", "unlock"])
def test_only_admins_act_on_users(app, make_staff, role, action):
    target = make_staff("handler", "zjj")
    client = app.test_client()
    login(client, make_staff(role, DEPARTMENT.get(role)))
    assert client.post(f"/staff/users/{target.id}/{action}").status_code == 403


def test_post_staff_routes_send_anonymous_to_login_or_refuse(app):
    """Anonymous POSTs to staff actions never act."""
    client = app.test_client()
    for path in ("/staff/users/new", "/staff/users/1/reset-2fa", "/staff/audit/verify",
                 "/staff/account/tokens/1/revoke"):
        response = client.post(path)
        assert response.status_code in (302, 401, 403), path
        if response.status_code == 302:
            assert "/staff/login" in response.headers["Location"]


def test_nobody_revokes_another_users_token(app, make_staff):
    from tipoff.accounts.models import ApiToken, User
    from tipoff.accounts.tokens import create_api_token
    from tipoff.extensions import db

    owner = make_staff("operator")
    with app.app_context():
        create_api_token(db.session.get(User, owner.id), "bridge")
        token_id = db.session.query(ApiToken.id).scalar()
    client = app.test_client()
    login(client, make_staff("handler", "zjj"))
    assert client.post(f"/staff/account/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None
