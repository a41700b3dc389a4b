"""CSRF: every state-changing browser route refuses a post without a token, with a wrong one, with another
session's token, and from another site even with a good token. The routes come from the URL map (the
concrete paths from the authorization matrix), so a new form route is covered the day it appears."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.security.conftest import browser, csrf_from
from tests.security.test_authorization_matrix import MATRIX
from tipoff.extensions import db

BROWSER_POSTS = sorted((rule, row) for (method, rule), row in MATRIX.items()
                       if method == "POST" and not row.api)


def _principal(rule: str) -> str:
    """Someone the route would serve: staff routes get a logged-in overseer, public ones anyone."""
    if rule.startswith("/staff/login") or not rule.startswith("/staff"):
        return "anonymous"
    return "overseer"


def _refused(response) -> bool:
    return response.status_code == 400


def test_every_browser_post_route_is_listed(world):
    """The list below comes from the matrix, which fails for a route without a row: together, complete."""
    posts = {rule.rule for rule in world.app.url_map.iter_rules()
             if "POST" in rule.methods and not rule.rule.startswith("/api/")}
    assert posts == {rule for rule, _row in BROWSER_POSTS}


@pytest.mark.parametrize("rule, row", BROWSER_POSTS, ids=[rule for rule, _row in BROWSER_POSTS])
def test_post_without_or_with_a_wrong_token_is_refused(world, rule, row):
    client = world.clients[_principal(rule)]
    path = row.path.format(**world.ids)
    data = {key: value.format(**world.ids) if isinstance(value, str) else value
            for key, value in (row.data or {}).items()}
    assert _refused(client.post(path, data=data)), "no token"
    assert _refused(client.post(path, data={**data, "csrf_token": "IjAwMDAwMDAwMDAwMDAwMDAi.aaaa.bbbb"})), "forged"
    other = browser(world.app)
    assert _refused(client.post(path, data={**data, "csrf_token": csrf_from(other, "/report")})), "another session's"


@pytest.mark.parametrize("rule, row", BROWSER_POSTS, ids=[rule for rule, _row in BROWSER_POSTS])
def test_cross_site_post_is_refused_even_with_a_token(world, rule, row):
    client = world.clients[_principal(rule)]
    token = csrf_from(client, "/report")
    response = client.post(row.path.format(**world.ids), data={"csrf_token": token},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_refused_posts_change_nothing(world):
    from tipoff.accounts.models import User
    from tipoff.intake.models import Tip

    with world.app.app_context():
        tips = db.session.scalar(select(func.count(Tip.id)))
    admin = world.clients["admin"]
    spare = world.ids["spare"]
    from tests.security.conftest import MAJOR_NAMED

    assert browser(world.app).post("/report", data=MAJOR_NAMED).status_code == 400
    assert admin.post(f"/staff/users/{spare}/deactivate").status_code == 400
    assert admin.post("/staff/logout").status_code == 400
    with world.app.app_context():
        assert db.session.scalar(select(func.count(Tip.id))) == tips
        assert db.session.get(User, spare).active
    assert admin.get("/staff/account").status_code == 200  # still logged in


def test_the_json_api_is_exempt_because_it_takes_no_cookies(world):
    """The API skips the form token; it must then never act on a session cookie alone."""
    staff_session = world.clients["overseer"]
    assert staff_session.get("/api/v1/me").status_code == 401
    assert staff_session.post(f"/api/v1/cases/{world.ids['case']}/actions",
                              json={"action": "note", "body": "跨站请求"}).status_code == 401
