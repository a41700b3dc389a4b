"""Every rule of the URL map × every method × every principal → the expected status, declared as data.

The table is keyed by (method, rule) exactly as `app.url_map` spells it, so a route added without a row
fails `test_every_route_has_a_row` by name. Each row gives the concrete path (with the world's objects
filled in), optionally a form or JSON body, and the expected status per principal, in the column order of
PRINCIPALS:

    anonymous  admin  overseer  leader  handler  finance  custodian  operator  leader_b  handler_b

Codes: a number is the status; "L" is a 302 to the staff login page (with a `next=` back to the page).
Department A (zjj) owns the case, its reward and the disclosure request; leader_b and handler_b are
staff of department B (yjj). Browser POSTs carry a valid CSRF token, so what is tested is the access
rule, not the token (tests/security/test_csrf.py tests the token). JSON API rows send each principal's
bearer token instead of a session; anonymous sends none.

Set TIPOFF_MATRIX_OBSERVE=1 to print what each route answers (for writing a new row), not to assert.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from tests.security.conftest import PRINCIPALS, browser, csrf_from


@dataclass(frozen=True)
class Row:
    path: str                  # with {case}, {attachment}, {reward}, {disclosure}, {enterprise}, {typical}, {token} …
    expect: str                # ten codes, one per principal (see the module docstring), or one code for all
    data: dict | None = None   # form fields (browser) or JSON body (API)
    fresh: bool = False        # the request ends the session or changes the user: use a new user each time
    api: bool = False          # bearer token instead of the session

    def codes(self) -> list[str]:
        codes = self.expect.split()
        return codes * len(PRINCIPALS) if len(codes) == 1 else codes


def R(path, expect, **kw):
    return Row(path, expect, **kw)


def A(path, expect, **kw):
    return Row(path, expect, api=True, **kw)


S = "/staff"
ADM = "/staff/admin"
MATRIX: dict[tuple[str, str], Row] = {
    # ---------------------------------------------------------------- public pages
    ("GET", "/"): R("/", "200"),
    ("GET", "/healthz"): R("/healthz", "200"),
    ("GET", "/lang/<code>"): R("/lang/en?next=/public", "302"),
    ("GET", "/public"): R("/public", "200"),
    ("GET", "/public/cases/<int:case_id>"): R("/public/cases/{typical}", "200"),
    ("GET", "/report"): R("/report", "200"),
    ("POST", "/report"): R("/report", "422", data={"description": "太短"}),
    ("GET", "/rewards/calculator"): R("/rewards/calculator", "200"),
    ("GET", "/rewards/notices"): R("/rewards/notices", "200"),
    ("GET", "/static/<path:filename>"): R("/static/css/tipoff.css", "200"),
    ("GET", "/status"): R("/status", "200"),
    ("POST", "/status"): R("/status", "404", data={"reference": "{case}", "access_code": "2345 6789 2345 6789"}),
    ("POST", "/status/evidence"): R("/status/evidence", "302"),
    ("POST", "/status/identity"): R("/status/identity", "302"),
    ("POST", "/status/insider-check"): R("/status/insider-check", "302"),
    ("POST", "/status/leave"): R("/status/leave", "302"),
    ("POST", "/status/object"): R("/status/object", "302"),
    ("POST", "/status/rating"): R("/status/rating", "302"),
    ("POST", "/status/reply"): R("/status/reply", "302"),
    ("POST", "/status/reward/claim"): R("/status/reward/claim", "302"),
    ("POST", "/status/reward/decline"): R("/status/reward/decline", "302"),
    ("POST", "/status/reward/object"): R("/status/reward/object", "302"),
    ("GET", "/verify"): R("/verify", "200"),
    ("POST", "/verify"): R("/verify", "200", data={"proof": "not a proof"}),
    # ---------------------------------------------------------------- login steps
    ("GET", "/staff/login"): R(f"{S}/login", "200 302 302 302 302 302 302 302 302 302"),
    ("POST", "/staff/login"): R(f"{S}/login", "422 302 302 302 302 302 302 302 302 302"),
    ("GET", "/staff/login/totp"): R(f"{S}/login/totp", "302"),
    ("POST", "/staff/login/totp"): R(f"{S}/login/totp", "302"),
    ("GET", "/staff/login/enrol"): R(f"{S}/login/enrol", "302"),
    ("POST", "/staff/login/enrol"): R(f"{S}/login/enrol", "302"),
    ("POST", "/staff/logout"): R(f"{S}/logout", "302", fresh=True),
    # ---------------------------------------------------------------- every staff member
    ("GET", "/staff/"): R(f"{S}/", "L 200 200 200 200 200 200 200 200 200"),
    ("GET", "/staff/account"): R(f"{S}/account", "L 200 200 200 200 200 200 200 200 200"),
    ("GET", "/staff/account/password"): R(f"{S}/account/password", "L 200 200 200 200 200 200 200 200 200"),
    ("POST", "/staff/account/password"): R(f"{S}/account/password", "L 422 422 422 422 422 422 422 422 422"),
    # someone else's token: only an administrator (users.manage) revokes it; others do not learn it exists
    ("POST", "/staff/account/tokens/<int:token_id>/revoke"): R(f"{S}/account/tokens/{{token}}/revoke",
                                                               "L 302 404 404 404 404 404 404 404 404"),
    # ---------------------------------------------------------------- staff pages by permission
    ("GET", "/staff/users"): R(f"{S}/users", "L 200 200 200 403 403 403 403 200 403"),
    ("GET", "/staff/users/new"): R(f"{S}/users/new", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/users/new"): R(f"{S}/users/new", "L 422 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/users/<int:user_id>/<action>"):
        R(f"{S}/users/{{spare}}/unlock", "L 302 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/keys"): R(f"{S}/keys", "L 200 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/audit/"): R(f"{S}/audit/", "L 200 200 200 403 403 403 403 200 403"),
    ("GET", "/staff/audit/verify"): R(f"{S}/audit/verify", "L 302 302 302 403 403 403 403 302 403"),
    ("POST", "/staff/audit/verify"): R(f"{S}/audit/verify", "L 200 200 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/reference/"): R(f"{ADM}/reference/", "L 200 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/reference/departments/<code>"):
        R(f"{ADM}/reference/departments/zjj", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/reference/departments/<code>"):
        R(f"{ADM}/reference/departments/zjj", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/reference/sectors/<code>"):
        R(f"{ADM}/reference/sectors/gas", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/reference/sectors/<code>"):
        R(f"{ADM}/reference/sectors/gas", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/reference/townships/<code>"):
        R(f"{ADM}/reference/townships/lingjing", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/reference/townships/<code>"):
        R(f"{ADM}/reference/townships/lingjing", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/rewards/exclusions"):
        R(f"{ADM}/rewards/exclusions", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/rewards/exclusions"):
        R(f"{ADM}/rewards/exclusions", "L 422 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/rewards/exclusions/<int:exclusion_id>/revoke"):
        R(f"{ADM}/rewards/exclusions/999999/revoke", "L 404 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/rewards/exclusions/check"):
        R(f"{ADM}/rewards/exclusions/check", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/rewards/rule-sets"): R(f"{ADM}/rewards/rule-sets", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/rewards/rule-sets/<code>/in-force"):
        R(f"{ADM}/rewards/rule-sets/national-2018/in-force", "L 302 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/admin/rewards/rule-sets/new"):
        R(f"{ADM}/rewards/rule-sets/new", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/admin/rewards/rule-sets/new"):
        R(f"{ADM}/rewards/rule-sets/new", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/cases/"): R(f"{S}/cases/", "L 403 200 200 200 403 403 403 200 200"),
    ("GET", "/staff/cases/<reference>"): R(f"{S}/cases/{{case}}", "L 403 200 200 200 403 403 403 404 404"),
    # an evidence file of the case (an audited read), for those who see the case
    ("GET", "/staff/cases/<reference>/evidence/<int:attachment_id>"):
        R(f"{S}/cases/{{case}}/evidence/{{attachment}}", "L 403 200 200 200 403 403 403 404 404"),
    # an internal note without a body: refused as invalid (422) for those who may act on the case
    ("POST", "/staff/cases/<reference>/actions/<action>"):
        R(f"{S}/cases/{{case}}/actions/note", "L 403 422 422 422 403 403 403 404 404"),
    ("GET", "/staff/disclosures/"): R(f"{S}/disclosures/", "L 403 200 200 200 200 200 403 200 200"),
    # only the requester (department A's handler) reads a disclosure; pending: sent back to the list
    ("GET", "/staff/disclosures/<int:request_id>"):
        R(f"{S}/disclosures/{{disclosure}}", "L 403 404 404 302 404 403 403 404 404"),
    # only a custodian decides; a wrong passphrase is refused and the request stays pending
    ("POST", "/staff/disclosures/<int:request_id>/decide"):
        R(f"{S}/disclosures/{{disclosure}}/decide", "L 403 403 403 403 403 302 403 403 403",
        data={"decision": "approve", "passphrase": "not the custodian passphrase"}),
    ("POST", "/staff/disclosures/request/<reference>"):
        R(f"{S}/disclosures/request/{{case}}", "L 403 422 422 422 403 403 403 404 404"),
    ("GET", "/staff/enterprises/"): R(f"{S}/enterprises/", "L 200 403 200 200 403 403 403 200 200"),
    ("GET", "/staff/enterprises/<int:enterprise_id>"):
        R(f"{S}/enterprises/{{enterprise}}", "L 200 403 200 200 403 403 403 404 404"),
    ("POST", "/staff/enterprises/<int:enterprise_id>"):
        R(f"{S}/enterprises/{{enterprise}}", "L 422 403 422 422 403 403 403 404 404"),
    ("POST", "/staff/enterprises/<int:enterprise_id>/deactivate"):
        R(f"{S}/enterprises/{{enterprise}}/deactivate", "L 302 403 302 302 403 403 403 404 404"),
    ("GET", "/staff/enterprises/<int:enterprise_id>/poster"):
        R(f"{S}/enterprises/{{enterprise}}/poster", "L 200 403 200 200 403 403 403 404 404"),
    ("POST", "/staff/enterprises/<int:enterprise_id>/reactivate"):
        R(f"{S}/enterprises/{{enterprise}}/reactivate", "L 302 403 302 302 403 403 403 404 404"),
    ("GET", "/staff/enterprises/import"): R(f"{S}/enterprises/import", "L 200 403 200 200 403 403 403 200 200"),
    ("POST", "/staff/enterprises/import"): R(f"{S}/enterprises/import", "L 422 403 422 422 403 403 403 422 422"),
    ("POST", "/staff/enterprises/import/confirm"):
        R(f"{S}/enterprises/import/confirm", "L 302 403 302 302 403 403 403 302 302"),
    ("GET", "/staff/enterprises/import/template.csv"):
        R(f"{S}/enterprises/import/template.csv", "L 200 403 200 200 403 403 403 200 200"),
    ("GET", "/staff/enterprises/import/template.xlsx"):
        R(f"{S}/enterprises/import/template.xlsx", "L 200 403 200 200 403 403 403 200 200"),
    ("GET", "/staff/enterprises/new"): R(f"{S}/enterprises/new", "L 200 403 200 200 403 403 403 200 200"),
    ("POST", "/staff/enterprises/new"): R(f"{S}/enterprises/new", "L 422 403 422 422 403 403 403 422 422"),
    ("GET", "/staff/enterprises/posters"): R(f"{S}/enterprises/posters", "L 200 403 200 200 403 403 403 200 200"),
    ("GET", "/staff/exports/"): R(f"{S}/exports/", "L 403 200 200 200 403 403 403 200 200"),
    ("GET", "/staff/exports/overdue"): R(f"{S}/exports/overdue", "L 403 200 200 200 403 403 403 200 200"),
    ("GET", "/staff/oversight/"): R(f"{S}/oversight/", "L 403 200 200 403 403 403 403 200 403"),
    ("GET", "/staff/oversight/cases"): R(f"{S}/oversight/cases", "L 403 200 200 403 403 403 403 200 403"),
    ("POST", "/staff/oversight/refresh"): R(f"{S}/oversight/refresh", "L 403 302 302 403 403 403 403 302 403"),
    ("GET", "/staff/rewards/"): R(f"{S}/rewards/", "L 403 200 200 200 200 403 403 200 200"),
    ("GET", "/staff/rewards/<int:reward_id>"): R(f"{S}/rewards/{{reward}}", "L 403 200 200 200 200 403 403 404 404"),
    # approving an unproposed reward: leaders and the overseer may try (409 in this state), handlers may not
    ("POST", "/staff/rewards/<int:reward_id>/actions/<action>"):
        R(f"{S}/rewards/{{reward}}/actions/approve", "L 403 409 409 403 403 403 403 404 404"),
    # the reward is not approved yet: no decision or notice to print (409), but the scope is checked first
    ("GET", "/staff/rewards/<int:reward_id>/decision"):
        R(f"{S}/rewards/{{reward}}/decision", "L 403 409 409 409 409 403 403 404 404"),
    ("POST", "/staff/rewards/<int:reward_id>/disclosure"):
        R(f"{S}/rewards/{{reward}}/disclosure", "L 403 404 403 403 409 403 403 404 404"),
    ("GET", "/staff/rewards/<int:reward_id>/notice"):
        R(f"{S}/rewards/{{reward}}/notice", "L 403 409 409 409 409 403 403 404 404"),
    ("GET", "/staff/rewards/ledger"): R(f"{S}/rewards/ledger", "L 403 200 200 200 200 403 403 200 200"),
    ("POST", "/staff/routing/adopt/<reference>"):
        R(f"{S}/routing/adopt/{{case}}", "L 403 409 403 403 403 403 403 403 403"),
    ("GET", "/staff/routing/dry-run"): R(f"{S}/routing/dry-run", "L 200 200 403 403 403 403 403 403 403"),
    ("GET", "/staff/routing/rules/<code>"): R(f"{S}/routing/rules/r1_death", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/routing/rules/<code>"): R(f"{S}/routing/rules/r1_death", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/routing/rules/new"): R(f"{S}/routing/rules/new", "L 200 403 403 403 403 403 403 403 403"),
    ("POST", "/staff/routing/rules/new"): R(f"{S}/routing/rules/new", "L 422 403 403 403 403 403 403 403 403"),
    ("GET", "/staff/tips/new"): R(f"{S}/tips/new", "L 403 403 403 403 403 403 200 403 403"),
    ("POST", "/staff/tips/new"): R(f"{S}/tips/new", "L 403 403 403 403 403 403 422 403 403"),
    ("GET", "/staff/typical-cases/"): R(f"{S}/typical-cases/", "L 403 200 403 403 403 403 403 403 403"),
    ("GET", "/staff/typical-cases/<int:case_id>"):
        R(f"{S}/typical-cases/{{typical}}", "L 403 200 403 403 403 403 403 403 403"),
    ("POST", "/staff/typical-cases/<int:case_id>"):
        R(f"{S}/typical-cases/{{typical}}", "L 403 422 403 403 403 403 403 403 403"),
    ("POST", "/staff/typical-cases/<int:case_id>/publish"):
        R(f"{S}/typical-cases/{{typical}}/publish", "L 403 302 403 403 403 403 403 403 403"),
    ("POST", "/staff/typical-cases/<int:case_id>/withdraw"):
        R(f"{S}/typical-cases/999999/withdraw", "L 403 404 403 403 403 403 403 403 403"),
    ("GET", "/staff/typical-cases/new"): R(f"{S}/typical-cases/new", "L 403 200 403 403 403 403 403 403 403"),
    ("POST", "/staff/typical-cases/new"): R(f"{S}/typical-cases/new", "L 403 422 403 403 403 403 403 403 403"),
    # retention (issue 7): only the 区安委会办公室 sets or lifts a legal hold; without a reason it is refused
    # (422: the case page again, the problem beside the form)
    ("GET", "/staff/retention/"): R(f"{S}/retention/", "L 403 200 403 403 403 403 403 403 403"),
    ("POST", "/staff/retention/cases/<reference>/hold"): R(f"{S}/retention/cases/{{case}}/hold",
                                                             "L 403 422 403 403 403 403 403 403 403"),
    ("POST", "/staff/retention/cases/<reference>/hold/lift"): R(f"{S}/retention/cases/{{case}}/hold/lift",
                                                                  "L 403 422 403 403 403 403 403 403 403"),
    # ---------------------------------------------------------------- JSON API (bearer tokens)
    ("GET", "/api/v1/catalog"): A("/api/v1/catalog", "200"),
    ("GET", "/api/v1/openapi.json"): A("/api/v1/openapi.json", "200"),
    ("GET", "/api/v1/me"): A("/api/v1/me", "401 200 200 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/public/report"): A("/api/v1/public/report", "200"),
    ("POST", "/api/v1/tips"): A("/api/v1/tips", "422", data={"channel": "hotline"}),
    ("POST", "/api/v1/tips/evidence"): A("/api/v1/tips/evidence", "422"),
    ("POST", "/api/v1/tips/lookup"):
        A("/api/v1/tips/lookup", "404", data={"reference": "JA-00000000-0000", "access_code": "1" * 16}),
    ("POST", "/api/v1/tips/messages"): A("/api/v1/tips/messages", "422", data={}),
    ("POST", "/api/v1/rewards/quote"): A("/api/v1/rewards/quote", "422", data={}),
    ("GET", "/api/v1/cases"): A("/api/v1/cases", "401 403 200 200 200 403 403 403 200 200"),
    ("GET", "/api/v1/cases/<reference>"): A("/api/v1/cases/{case}", "401 403 200 200 200 403 403 403 404 404"),
    ("POST", "/api/v1/cases/<reference>/actions"):
        A("/api/v1/cases/{case}/actions", "401 403 422 422 422 403 403 403 404 404",
          data={"action": "note", "body": ""}),
    ("GET", "/api/v1/rewards"): A("/api/v1/rewards", "401 403 200 200 200 200 403 403 200 200"),
    ("GET", "/api/v1/rewards/<int:reward_id>"):
        A("/api/v1/rewards/{reward}", "401 403 200 200 200 200 403 403 404 404"),
    ("POST", "/api/v1/rewards/<int:reward_id>/actions"):
        A("/api/v1/rewards/{reward}/actions", "401 403 409 409 403 403 403 403 404 404", data={"action": "approve"}),
    ("GET", "/api/v1/exports/cases"): A("/api/v1/exports/cases", "401 403 200 200 200 403 403 403 200 200"),
    ("GET", "/api/v1/exports/overdue"): A("/api/v1/exports/overdue", "401 403 200 200 200 403 403 403 200 200"),
    ("GET", "/api/v1/exports/rewards"): A("/api/v1/exports/rewards", "401 403 200 200 200 200 403 403 200 200"),
}

OBSERVE = os.environ.get("TIPOFF_MATRIX_OBSERVE", "") not in ("", "0")


def _fill(path: str, ids: dict) -> str:
    return path.format(**ids)


def _request(world, principal: str, method: str, row: Row):
    path = _fill(row.path, world.ids)
    data = {key: _fill(value, world.ids) if isinstance(value, str) else value
            for key, value in (row.data or {}).items()}
    if row.api:
        client = browser(world.app)
        headers = {} if principal == "anonymous" else {"Authorization": f"Bearer {world.tokens[principal]}"}
        if method == "POST":
            return client.open(path, method=method, json=data, headers=headers)
        return client.open(path, method=method, headers=headers)
    client = world.fresh_client(principal) if row.fresh else world.clients[principal]
    if method == "POST":
        token = csrf_from(client, "/report")  # every page's token is the session's token
        return client.open(path, method=method, data={**data, "csrf_token": token})
    return client.open(path, method=method)


def _code(response) -> str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/staff/login" in location and "next=" in location:
        return "L"
    return str(response.status_code)


def test_every_route_has_a_row(world):
    """A rule of the URL map (any method) without a row fails here, by name: decide its access rule first."""
    routes = {(method, rule.rule) for rule in world.app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    missing = sorted(routes - set(MATRIX))
    stale = sorted(set(MATRIX) - routes)
    assert not missing, "routes without a row in MATRIX:\n" + "\n".join(f"  {m} {r}" for m, r in missing)
    assert not stale, "rows for routes that no longer exist:\n" + "\n".join(f"  {m} {r}" for m, r in stale)


@pytest.mark.parametrize("method, rule", sorted(MATRIX), ids=[f"{m} {r}" for m, r in sorted(MATRIX)])
def test_route_answers_each_principal_as_declared(world, method, rule):
    row = MATRIX[(method, rule)]
    expected = row.codes()
    assert len(expected) == len(PRINCIPALS), f"{method} {rule}: {len(expected)} codes for {len(PRINCIPALS)} principals"
    got = [_code(_request(world, principal, method, row)) for principal in PRINCIPALS]
    if OBSERVE:
        print(f"\nOBSERVED {method} {rule}: {' '.join(got)}")
        return
    wrong = [f"{p}: expected {e}, got {g}" for p, e, g in zip(PRINCIPALS, expected, got) if e != g]
    assert not wrong, f"{method} {rule} ({_fill(row.path, world.ids)}):\n  " + "\n  ".join(wrong)


OTHER_DEPARTMENT = ("leader_b", "handler_b")


@pytest.mark.parametrize("method, rule", sorted(k for k in MATRIX if k[0] == "GET"),
                         ids=[f"GET {r}" for m, r in sorted(MATRIX) if m == "GET"])
def test_another_department_never_sees_the_case_in_a_list(world, method, rule):
    """A 200 is not enough: a list, an export or a dashboard that department B may open must not carry
    department A's case reference (the case, its reward and its disclosure all belong to A)."""
    row = MATRIX[(method, rule)]
    if not (row.path.startswith("/staff") or row.path.startswith("/api")) or "{case}" in row.path:
        pytest.skip("public page, or a path naming the case itself (its status code is the rule)")
    reference = world.ids["case"]
    for principal in OTHER_DEPARTMENT:
        response = _request(world, principal, method, row)
        if response.status_code == 200:  # bytes: CSV and HTML alike (an XLSX is zipped, its CSV twin is checked)
            assert reference.encode() not in response.get_data(), f"{principal} sees {reference} on {rule}"


def test_the_list_check_can_see_the_case_where_it_belongs(world):
    """Control for the test above: department A's handler and the 安委办 do find the reference in the lists."""
    reference = world.ids["case"].encode()
    for principal in ("handler", "overseer"):
        assert reference in _request(world, principal, "GET", MATRIX[("GET", "/staff/cases/")]).get_data()
        assert reference in _request(world, principal, "GET", MATRIX[("GET", "/api/v1/cases")]).get_data()
