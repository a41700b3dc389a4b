"""Backup test fixtures: staff around 区住房和城乡建设局, a backup key pair, a fresh PostgreSQL schema."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.backup.helpers import install_backup_public_key, make_backup_key
from tests.conftest import PG_URL, _pg_url, totp_step


@pytest.fixture
def people(app, make_staff):
    """The staff a verified tip with a reward needs (as in tests/rewards)."""
    return {key: make_staff(role, department) for key, role, department in (
        ("handler", "handler", "zjj"), ("leader", "leader", "zjj"), ("custodian", "custodian", None))}


@pytest.fixture
def backup_key(app, tmp_path):
    """(public base64, path of the offline private key file); the server gets only backup.pub."""
    public, private = make_backup_key(tmp_path / "offline")
    install_backup_public_key(app, public)
    return public, private


@pytest.fixture
def fresh_pg_schema():
    """A PostgreSQL schema of its own, empty, for a restore target (skips without PostgreSQL)."""
    if not PG_URL:
        pytest.skip("PostgreSQL restore needs TIPOFF_TEST_DATABASE_URL")
    schema = f"tipoff_restore_{uuid.uuid4().hex[:10]}"
    engine = create_engine(_pg_url(PG_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def make_staff_on():
    """Staff and a client on an app other than the suite's `app` (e.g. a SQLite source on a PostgreSQL run)."""

    import pyotp

    from tests.conftest import PASSWORD, Staff
    from tipoff.accounts import services
    from tipoff.extensions import db

    made = []

    def _make(app):
        people = {}
        with app.app_context():
            for key, role, department in (("handler", "handler", "zjj"), ("leader", "leader", "zjj"),
                                          ("custodian", "custodian", None)):
                user = services.create_user(username=key, display_name=f"测试{key}", role=role,
                                            department_code=department, password=PASSWORD,
                                            must_change_password=False, actor="test")
                secret = services.begin_totp_enrolment(user)
                step = totp_step()
                services.confirm_totp_enrolment(user, pyotp.TOTP(secret).at(step * 30), actor=user)
                people[key] = Staff(user.id, key, role, department, secret)
                people[key]._last_step = step
                db.session.commit()
        made.append(app)
        return app, app.test_client(), people

    yield _make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
