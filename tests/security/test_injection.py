"""SQL injection and path traversal: hostile values in every query-string filter, every JSON field and
every path argument answer a 4xx or an ordinary page, never a 5xx, and never widen what is shown."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.security.conftest import PRINCIPALS, browser, post_form
from tests.security.test_authorization_matrix import MATRIX

SQL = ["' OR '1'='1", "1 OR 1=1", "'; DROP TABLE tips; --", "\" OR \"\"=\"", "zjj' UNION SELECT NULL--",
       "%' OR 1=1 --", "1)) OR ((1=1", "\\'; SELECT pg_sleep(0); --", "\x00", "%", "_", "9" * 40, "-1",
       "ｚｊｊ", "../../etc/passwd"]

# Every filter a staff page reads from its query string, with who may open the page.
FILTERS = {
    "/staff/cases/": ("overseer", ["due", "status", "department", "page"]),
    "/staff/exports/": ("overseer", ["due", "status", "department", "from", "to", "category", "sector",
                                     "township", "format", "page"]),
    "/staff/exports/overdue": ("overseer", ["status", "department", "from", "to", "category", "sector",
                                            "township", "order", "page"]),
    "/staff/rewards/": ("overseer", ["status"]),
    "/staff/rewards/ledger": ("overseer", ["status", "from", "to", "department", "format", "page"]),
    "/staff/enterprises/": ("handler", ["township", "sector", "q", "status", "page"]),
    "/staff/enterprises/posters": ("handler", ["township", "page"]),
    "/staff/audit/": ("admin", ["action", "actor", "object_type", "object_id", "from", "to", "page"]),
    "/staff/oversight/": ("overseer", ["from", "to", "department"]),
    "/staff/oversight/cases": ("overseer", ["from", "to", "department", "metric", "page"]),
    "/staff/routing/dry-run": ("admin", ["category", "sector", "township", "text"]),
    "/staff/users": ("admin", ["status", "page"]),
    "/public": ("anonymous", ["from", "to"]),
    "/report": ("anonymous", ["category", "sector", "township", "subject_name", "address"]),
}
API_FILTERS = {
    "/api/v1/cases": ["due", "status", "department", "page"],
    "/api/v1/rewards": ["status"],
    "/api/v1/exports/cases": ["format", "due", "status", "department", "from", "to", "category", "sector", "township"],
    "/api/v1/exports/overdue": ["format", "order", "status", "department", "from", "to"],
    "/api/v1/exports/rewards": ["format", "status", "from", "to", "department"],
    "/api/v1/public/report": ["from", "to"],
}


@pytest.mark.parametrize("path", sorted(FILTERS))
def test_query_filters_never_fail_or_widen(world, path):
    principal, names = FILTERS[path]
    client = world.clients[principal]
    baseline = client.get(path)
    assert baseline.status_code == 200
    for name in names:
        for value in SQL:
            response = client.get(f"{path}?{name}={quote(value, safe='')}")
            assert response.status_code < 500, (path, name, value)
            assert response.status_code in (200, 400, 404, 422), (path, name, value, response.status_code)
            # A hostile filter never shows more than the unfiltered page (department B's cases included).
            body = response.get_data(as_text=True)
            if world.ids["case"] not in baseline.get_data(as_text=True):
                assert world.ids["case"] not in body, (path, name, value)


def test_department_filter_cannot_reach_another_department(world):
    client = world.clients["handler_b"]
    for value in ["zjj", "zjj' OR '1'='1", "yjj' OR department_id IS NOT NULL --"]:
        for path in ("/staff/cases/", "/staff/exports/"):
            body = client.get(f"{path}?department={quote(value)}").get_data(as_text=True)
            assert world.ids["case"] not in body, (path, value)
        response = browser(world.app).get(f"/api/v1/cases?department={quote(value)}",
                                          headers={"Authorization": f"Bearer {world.tokens['handler_b']}"})
        assert response.status_code in (200, 422)
        assert world.ids["case"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", sorted(API_FILTERS))
def test_api_filters_never_fail(world, path):
    headers = {"Authorization": f"Bearer {world.tokens['handler_b']}"}
    client = browser(world.app)
    for name in API_FILTERS[path]:
        for value in SQL:
            response = client.get(f"{path}?{name}={quote(value, safe='')}", headers=headers)
            assert response.status_code in (200, 400, 404, 422), (path, name, value, response.status_code)
            assert world.ids["case"] not in response.get_data(as_text=True), (path, name, value)


JSON_BODIES = {
    "/api/v1/tips/lookup": {"reference": "JA-2026-000001", "access_code": "1234123412341234"},
    "/api/v1/tips/messages": {"reference": "JA-2026-000001", "access_code": "1234123412341234", "body": "你好"},
    "/api/v1/rewards/quote": {"category": "major_hazard", "fine": "100000.00"},
    "/api/v1/tips": {"category": "hazard", "sector": "gas", "township": "lingjing", "subject_name": "某公司",
                     "address": "灵井镇", "description": "加气站东侧燃气管道漏气，已持续一周无人处理。", "identity": "anonymous"},
}


@pytest.mark.parametrize("path", sorted(JSON_BODIES))
def test_json_fields_never_fail(world, path, log_guard):
    client = browser(world.app)
    for field in JSON_BODIES[path]:
        for value in SQL + [["a"], {"$ne": None}, 10**30, None, True]:
            response = client.post(path, json={**JSON_BODIES[path], field: value})
            assert response.status_code in (201, 200, 400, 404, 401, 422), (path, field, value, response.status_code)
            assert response.mimetype == "application/json"


def test_lookup_with_sql_in_the_code_opens_nothing(world):
    client = browser(world.app)
    for value in ["' OR '1'='1", "1' OR 1=1 --", "%"]:
        response = client.post("/api/v1/tips/lookup", json={"reference": world.ids["case"], "access_code": value})
        assert response.status_code in (404, 422)
        response = post_form(client, "/status", {"reference": world.ids["case"], "access_code": value})
        assert response.status_code in (404, 422)  # never the redirect into the case


TRAVERSAL = ["../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "....//....//etc/passwd",
             "..\\..\\windows\\win.ini", "/etc/passwd", "%00", "JA-2026-000001/../../x"]


def test_path_arguments_never_traverse(world):
    client = world.clients["admin"]
    overseer = world.clients["overseer"]
    for value in TRAVERSAL:
        encoded = quote(value, safe="%")
        for who, path in ((overseer, f"/staff/cases/{encoded}"), (client, f"/staff/routing/rules/{encoded}"),
                          (client, f"/staff/admin/reference/departments/{encoded}"),
                          (browser(world.app), f"/static/{encoded}"), (browser(world.app), f"/lang/{encoded}")):
            response = who.get(path)
            assert response.status_code in (302, 308, 400, 403, 404), (path, response.status_code)
            assert b"root:" not in response.get_data() and b"[fonts]" not in response.get_data()
        response = browser(world.app).get(f"/api/v1/cases/{encoded}",
                                          headers={"Authorization": f"Bearer {world.tokens['overseer']}"})
        assert response.status_code in (308, 400, 404), (value, response.status_code)


def test_nul_characters_are_refused_plainly(world):
    """PostgreSQL cannot store or compare NUL: anywhere in a request it is a clear 400/422, never a 500."""
    overseer, admin, handler = world.clients["overseer"], world.clients["admin"], world.clients["handler"]
    for client, path in ((overseer, "/staff/cases/%00"), (admin, "/staff/audit/?action=%00"),
                         (handler, "/staff/enterprises/?q=a%00b"), (overseer, "/staff/oversight/?department=%00"),
                         (overseer, "/staff/oversight/cases?department=zjj%00"), (admin, "/staff/routing/rules/%00"),
                         (browser(world.app), "/public?from=%00")):
        response = client.get(path)
        assert response.status_code == 400, (path, response.status_code)
        assert "空字符" in response.get_data(as_text=True)
    api = browser(world.app).get("/api/v1/cases/JA%00",
                                 headers={"Authorization": f"Bearer {world.tokens['overseer']}"})
    assert api.status_code == 400 and api.get_json()["error"]["code"] == "nul_character"
    login = post_form(browser(world.app), "/staff/login", {"username": "ad\x00min", "password": "x"})
    assert login.status_code == 401  # the ordinary "wrong user name or password", not a server error
    action = browser(world.app).post(f"/api/v1/cases/{world.ids['case']}/actions",
                                     json={"action": "link", "to_reference": "JA\x00"},
                                     headers={"Authorization": f"Bearer {world.tokens['overseer']}"})
    assert action.status_code == 422 and "to_reference" in action.get_json()["error"]["fields"]


COMMON_FIELDS = ["reference", "access_code", "body", "reason", "username", "password", "code", "passphrase",
                 "decision", "name", "display_name", "note", "title", "amount", "amount_reason", "to_reference"]
_FIELD = re.compile(r'name="([a-z_]+)"')


@pytest.mark.parametrize("rule", sorted(rule for (method, rule), row in MATRIX.items()
                                        if method == "POST" and not row.api))
def test_nul_in_any_form_field_is_never_a_server_error(world, rule):
    """Every field of every form (read off the form's page) with a NUL in it: a 4xx or a re-shown form."""
    row = MATRIX[("POST", rule)]
    codes = dict(zip(PRINCIPALS, row.codes()))
    principal = next((p for p in PRINCIPALS if codes[p] not in ("403", "404", "L")), "anonymous")
    client = world.fresh_client(principal) if row.fresh else world.clients[principal]
    path = row.path.format(**world.ids)
    page = client.get(path)
    names = set(COMMON_FIELDS) | set(row.data or {})
    if page.status_code == 200:
        names |= set(_FIELD.findall(page.get_data(as_text=True))) - {"csrf_token"}
    response = post_form(client, path, {name: "测试\x00值" for name in names}, token_from="/report")
    assert response.status_code < 500, (principal, path, response.status_code)
