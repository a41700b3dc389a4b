"""Shared fixtures: app, client, runner, db, users per role with a real login, fast crypto.

The suite runs on SQLite by default. With TIPOFF_TEST_DATABASE_URL set (PostgreSQL), every test runs
there instead, inside a schema of its own that is dropped afterwards.
"""
from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import pyotp
import pytest
from sqlalchemy import create_engine, text

from config import TestingConfig
from tipoff import create_app
from tipoff.extensions import db

PG_URL = os.environ.get("TIPOFF_TEST_DATABASE_URL", "").strip()
PG_SKIP_REASON = "PostgreSQL tests need TIPOFF_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"


SLOW = os.environ.get("TIPOFF_RUN_SLOW", "").strip() not in {"", "0", "false"}
SLOW_SKIP_REASON = "slow load and fault tests run with TIPOFF_RUN_SLOW=1 (.ci/run sets it)"


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason=PG_SKIP_REASON)
    skip_slow = pytest.mark.skip(reason=SLOW_SKIP_REASON)
    for item in items:
        if "postgres" in item.keywords and not PG_URL:
            item.add_marker(skip_pg)
        if "slow" in item.keywords and not SLOW:
            item.add_marker(skip_slow)


def _pg_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)


@pytest.fixture(scope="session")
def pg_schema():
    """A private PostgreSQL schema for this test session (None on SQLite)."""
    if not PG_URL:
        yield None
        return
    schema = f"tipoff_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(_pg_url(PG_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def database_overrides(pg_schema: str | None, data_dir: Path) -> dict:
    """Config overrides that point an app at this session's test database."""
    if pg_schema is None:
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'tipoff.db'}"}
    return {
        "SQLALCHEMY_DATABASE_URI": _pg_url(PG_URL),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                      "connect_args": {"options": f"-csearch_path={pg_schema}"}},
    }


def make_app(tmp_path: Path, pg_schema: str | None, **overrides):
    """Build a testing app with its own data dir and an empty, current schema with reference data."""
    data_dir = tmp_path / "data"
    settings = {"TIPOFF_DATA_DIR": str(data_dir), **database_overrides(pg_schema, data_dir), **overrides}
    app = create_app(TestingConfig, settings)
    with app.app_context():
        from tipoff import crypto

        if not (data_dir / "keys" / "identity.pub").exists():
            crypto.generate_identity_keypair(CUSTODIAN_PASSPHRASE)
        reset_database()
        from tipoff.reference.services import load_reference_data

        load_reference_data(Path(app.config["TIPOFF_REFERENCE_FILE"]))
        from tipoff.rewards.catalog import load_seed_rule_sets

        load_seed_rule_sets(actor="test")
    return app


def reset_database() -> None:
    """Create missing tables and empty every table (fast on both SQLite and PostgreSQL)."""
    db.create_all()
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()


ENGLISH_CATALOGUE = Path(__file__).resolve().parents[1] / "tipoff" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


@pytest.fixture(scope="session")
def english() -> dict[str, str]:
    """The English catalogue as msgid -> translation (fuzzy entries left out)."""
    from babel.messages.pofile import read_po

    with ENGLISH_CATALOGUE.open("rb") as handle:
        return {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}


@pytest.fixture
def app(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app


# ---------------------------------------------------------------- staff users and logging in

PASSWORD = "correct horse battery staple 42"
CUSTODIAN_PASSPHRASE = "custodian passphrase for tests only"


TOTP_EDGE_SECONDS = 2


def totp_step(after: int | None = None) -> int:
    """The oldest 30-s TOTP step the server accepts now and has not seen yet (> `after`).

    The server accepts the previous, current and next step. A code for the previous step computed in the
    last moment of the current one can reach the server after the boundary, when that step is no longer
    accepted (seen in CI on a busy machine): near the edge, wait for the next step first. When every
    usable step is spent, wait for a new one."""
    while True:
        now = time.time()
        current = int(now) // 30
        step = current - 1 if after is None else max(current - 1, after + 1)
        if step > current + 1:
            time.sleep(0.5)
        elif step == current - 1 and 30 - now % 30 < TOTP_EDGE_SECONDS:
            time.sleep(30 - now % 30 + 0.05)
        else:
            return step


class Staff:
    """A staff user created through the services, with the TOTP secret the test knows."""

    def __init__(self, user_id: int, username: str, role: str, department: str | None, totp_secret: str):
        self.id, self.username, self.role, self.department = user_id, username, role, department
        self.totp_secret, self.password = totp_secret, PASSWORD
        self._last_step = 0

    def next_code(self) -> str:
        """A TOTP code the server has not seen yet (each 30-s step is accepted once, within ±1 step)."""
        self._last_step = totp_step(after=self._last_step)
        return pyotp.TOTP(self.totp_secret).at(self._last_step * 30)


@pytest.fixture
def make_staff(app):
    """Create a fully enrolled staff user: make_staff("handler", "zjj")."""
    from tipoff.accounts import services

    counter = {"n": 0}

    def _make(role: str, department: str | None = None, username: str | None = None) -> Staff:
        counter["n"] += 1
        name = username or f"{role}{counter['n']}"
        with app.app_context():
            user = services.create_user(username=name, display_name=f"测试{name}", role=role,
                                        department_code=department, password=PASSWORD,
                                        must_change_password=False, actor="test")
            secret = services.begin_totp_enrolment(user)
            # Enrol with the previous step's code, leaving the current and next steps for logins.
            enrolled_step = totp_step()
            services.confirm_totp_enrolment(user, pyotp.TOTP(secret).at(enrolled_step * 30), actor=user)
            staff = Staff(user.id, name, role, department, secret)
            staff._last_step = enrolled_step
            db.session.commit()
        return staff

    return _make


def login(client, staff: Staff):
    """Log in through the real forms (password, then TOTP)."""
    response = client.post("/staff/login", data={"username": staff.username, "password": staff.password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    response = client.post("/staff/login/totp", data={"code": staff.next_code()})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert not response.headers["Location"].endswith("/staff/login"), "the TOTP step was refused"
    return response


@pytest.fixture
def login_as(client, make_staff):
    """Create a user of a role (and department) and log the test client in as them."""

    def _login(role: str, department: str | None = None) -> Staff:
        staff = make_staff(role, department)
        login(client, staff)
        return staff

    return _login
