"""Fixtures of the security suite: an app with CSRF protection on (as in production), logins through the
real forms with their tokens, one populated "world" per module, and the log guard on every test."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pyotp
import pytest
from PIL import Image
from sqlalchemy import select

from tests.conftest import PASSWORD, Staff, make_app, totp_step
from tests.intake.helpers import NAMED
from tests.security.logguard import CLIENT_ENVIRON, log_guard  # noqa: F401  (re-exported fixture)
from tipoff.extensions import db

# Department A owns the case and the reward; department B's staff must not reach them.
DEPT_A, DEPT_B = "zjj", "yjj"
ROLES = ["admin", "overseer", "leader", "handler", "finance", "custodian", "operator"]
DEPARTMENT = {"leader": DEPT_A, "handler": DEPT_A, "finance": DEPT_A}
# Every principal of the matrix: anonymous, each role, and department B's leader and handler.
PRINCIPALS = ["anonymous", *ROLES, "leader_b", "handler_b"]
MAJOR_NAMED = {**NAMED, "category": "major_hazard", "idempotency_key": ""}

EXCLUDED_ID = "411023198001011237"  # on the exclusion register of the world (a valid check digit)

_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(autouse=True)
def _guard_logs(log_guard):  # noqa: F811
    """Every security test also proves it logged no identity and no client address."""
    return log_guard


def secure_app(tmp_path, pg_schema, **overrides):
    """A testing app with CSRF protection on, as in production (the shared fixture turns it off)."""
    return make_app(tmp_path, pg_schema, WTF_CSRF_ENABLED=True, **overrides)


def browser(app):
    """A test client that comes from a fixed documentation address (so logs can be searched for it)."""
    client = app.test_client()
    client.environ_base.update(CLIENT_ENVIRON)
    return client


def csrf_from(client, path: str = "/staff/account") -> str:
    """The CSRF token a page hands out to this client's session."""
    body = client.get(path).get_data(as_text=True)
    match = _TOKEN.search(body)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path: str, data: dict | None = None, *, token_from: str | None = None, **kwargs):
    """POST a form with a valid CSRF token taken from `token_from` (default: the same path)."""
    token = csrf_from(client, token_from or path)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)


def login_with_csrf(client, staff: Staff) -> None:
    """Log in through the real forms (password, then TOTP), each with the token its page gave."""
    response = post_form(client, "/staff/login", {"username": staff.username, "password": staff.password})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    response = post_form(client, "/staff/login/totp", {"code": staff.next_code()})
    assert response.status_code == 302 and not response.headers["Location"].endswith("/staff/login")


def create_staff(app, role: str, department: str | None, username: str) -> Staff:
    """An enrolled staff user made through the services (as tests.conftest.make_staff does)."""
    from tipoff.accounts import services

    with app.app_context():
        user = services.create_user(username=username, display_name=f"测试{username}", role=role,
                                    department_code=department, password=PASSWORD,
                                    must_change_password=False, actor="test")
        secret = services.begin_totp_enrolment(user)
        step = totp_step()
        services.confirm_totp_enrolment(user, pyotp.TOTP(secret).at(step * 30), actor=user)
        staff = Staff(user.id, username, role, department, secret)
        staff._last_step = step
        db.session.commit()
    return staff


@dataclass
class World:
    """One app with one of everything a route can point at, and a logged-in client per principal."""

    app: object
    staff: dict[str, Staff] = field(default_factory=dict)
    clients: dict[str, object] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, object] = field(default_factory=dict)
    counter: int = 0

    def fresh_client(self, principal: str):
        """A client logged in as a new user of the principal's role (for actions that end a session)."""
        client = browser(self.app)
        if principal == "anonymous":
            return client
        self.counter += 1
        role, department = principal_role(principal)
        login_with_csrf(client, create_staff(self.app, role, department, f"{principal}x{self.counter}"))
        return client


def principal_role(principal: str) -> tuple[str, str | None]:
    """(role, department) of a matrix principal."""
    if principal.endswith("_b"):
        return principal[:-2], DEPT_B
    return principal, DEPARTMENT.get(principal)


def build_world(app) -> World:
    """File and conclude a named tip of department A (its reward opens), ask for its reporter's identity,
    register an enterprise, an exclusion, a typical case, a token and a spare user."""
    from tipoff.accounts.models import ApiToken, User
    from tipoff.accounts.tokens import create_api_token
    from tipoff.cases import services as cases
    from tipoff.disclosure import services as disclosure
    from tipoff.enterprises import services as enterprises
    from tipoff.intake.models import Tip
    from tipoff.oversight import typical
    from tipoff.rewards import exclusions
    from tipoff.rewards import services as rewards
    from tests.enterprises.helpers import form as enterprise_form
    from tests.intake.helpers import receipt_of

    world = World(app)
    for principal in PRINCIPALS[1:]:
        role, department = principal_role(principal)
        world.staff[principal] = create_staff(app, role, department, principal)
    world.staff["spare"] = create_staff(app, "handler", DEPT_A, "spare")
    world.staff["token_owner"] = create_staff(app, "operator", None, "token_owner")

    public = browser(app)
    photo = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(photo, "PNG")
    photo.seek(0)
    reference, code = receipt_of(public.post("/report", content_type="multipart/form-data", data={
        **MAJOR_NAMED, "csrf_token": csrf_from(public, "/report"), "evidence": [(photo, "photo.png")]}))
    with app.app_context():
        user = lambda key: db.session.get(User, world.staff[key].id)  # noqa: E731
        for principal in PRINCIPALS[1:]:
            world.tokens[principal] = create_api_token(user(principal), "matrix")
        create_api_token(user("token_owner"), "someone else's")
        cases.perform(user("handler"), reference, "accept", {})
        cases.perform(user("handler"), reference, "conclude",
                      {"outcome": "substantiated", "summary": "查实", "fine": "100000.00"})
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        reward = rewards.reward_of_tip(tip)
        request = disclosure.request_disclosure(user("handler"), reference, "contact", "需要电话核实漏气位置")
        enterprise = enterprises.register_enterprise(
            {**enterprise_form(), "department": DEPT_A}, user("handler"))
        exclusion = exclusions.register({"id_number": EXCLUDED_ID, "phone": "", "relation": "staff",
                                         "department": DEPT_A, "note": "执法人员"}, user("admin"))
        case = typical.create_case({"title": "某加气站燃气管道泄漏隐患被及时消除", "category_code": "major_hazard",
                                    "sector_code": "gas", "body": "查实管道接口老化泄漏，责令立即停用整改。"},
                                   user("overseer"))
        typical.publish_case(case, user("overseer"))
        from tipoff.intake.models import Attachment

        attachment = db.session.scalar(select(Attachment.id).where(Attachment.tip_id == tip.id))
        world.ids = {"case": reference, "attachment": attachment, "access_code": code, "reward": reward.id,
                     "disclosure": request.id,
                     "enterprise": enterprise.id, "exclusion": exclusion.id, "typical": case.id,
                     "token": db.session.scalar(select(ApiToken.id)
                                                .where(ApiToken.user_id == world.staff["token_owner"].id)),
                     "spare": world.staff["spare"].id}
    for principal in PRINCIPALS:
        client = browser(app)
        if principal != "anonymous":
            login_with_csrf(client, world.staff[principal])
        world.clients[principal] = client
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory, pg_schema):
    """The populated app of a test module (built once: logins and argon2 are the costly part)."""
    app = secure_app(tmp_path_factory.mktemp("world"), pg_schema)
    yield build_world(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
