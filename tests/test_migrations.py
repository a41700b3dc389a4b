"""Migrations: upgrading an empty database gives exactly the models' schema; downgrade works."""
from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from config import TestingConfig
from tests.conftest import database_overrides
from tipoff import create_app
from tipoff.extensions import db


@pytest.fixture
def empty_app(tmp_path, pg_schema):
    """An app whose database has no tables at all (a PostgreSQL schema of its own when on PostgreSQL)."""
    schema = None
    if pg_schema is not None:
        schema = pg_schema + "_mig"
    app = create_app(TestingConfig, {"TIPOFF_DATA_DIR": str(tmp_path / "data"),
                                      **database_overrides(schema, tmp_path / "data")})
    with app.app_context():
        if schema:
            with db.engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                conn.commit()
        yield app
        db.session.remove()
        if schema:
            with db.engine.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                conn.commit()
        db.engine.dispose()


def test_upgrade_on_empty_database_matches_models(empty_app):
    assert inspect(db.engine).get_table_names() == []
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], differences
    tables = set(inspect(db.engine).get_table_names())
    assert {"users", "audit_entries", "audit_seals", "departments", "data_keys"} <= tables


def test_downgrade_to_base_and_up_again(empty_app):
    upgrade()
    downgrade(revision="base")
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    upgrade()
    assert "users" in inspect(db.engine).get_table_names()


def test_init_command_is_idempotent_and_keeps_data(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["tipoff", "init"])
    assert first.exit_code == 0, first.output
    assert "one-time password:" in first.output and "保密员口令" in first.output
    second = runner.invoke(args=["tipoff", "init"])
    assert second.exit_code == 0, second.output
    assert "one-time password:" not in second.output and "保密员口令" not in second.output
    from tipoff.accounts.models import User

    assert db.session.query(User).count() == 1
