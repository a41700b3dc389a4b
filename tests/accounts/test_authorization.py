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
}


@pytest.mark.parametrize("role", ROLES + ["anonymous"])
@pytest.mark.parametrize("method, path", sorted(MATRIX))
def test_route_role_matrix(app, make_staff, role, method, path):
    client = app.test_client()
    if role != "anonymous":
        login(client, make_staff(role, DEPARTMENT.get(role)))
    response = client.open(path, method=method)
    if role == "anonymous":
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    elif role in MATRIX[(method, path)]:
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
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
