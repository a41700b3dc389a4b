"""Migrations: upgrading an empty database gives exactly the models' schema; downgrade works."""
from __future__ import annotations

import json

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


def test_shipped_rule_sets_lose_their_research_grades_and_an_administrators_wording_stays(empty_app):
    """0016: the sources shown to the public and printed on decisions are citations, not MED-HIGH notes."""
    from tipoff.rewards.catalog import load_seed_rule_sets
    from tipoff.rewards.models import RewardRuleSet

    graded = {("national-2018", "fine_rules"): "举报重大事故隐患和安全生产违法行为，按行政处罚金额的15%计奖，最低3000元，"
                                               "最高不超过30万元（安监总财〔2018〕19号第十二条；多种转载一致，MED-HIGH）。",
              ("henan-2025", "per_death"): "未见河南另行规定，沿用国家2018办法（OPEN）。",
              ("national-2018", "scope"): "本区补充说明：一般事故隐患由区里另行奖励。"}  # an administrator's own

    def sources() -> dict:
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT code, data FROM reward_rule_sets")).all()
        return {code: (data if isinstance(data, dict) else json.loads(data))["sources"] for code, data in rows}

    upgrade(revision="0015")
    load_seed_rule_sets(actor="test")
    for (code, key), wording in graded.items():  # as an install before 0016 holds them
        row = db.session.query(RewardRuleSet).filter_by(code=code).one()
        row.data = {**row.data, "sources": {**row.data["sources"], key: wording}}
    db.session.commit()
    db.session.remove()

    upgrade()
    now = sources()
    assert not any(grade in wording for texts in now.values() for wording in texts.values()
                   for grade in ("MED", "OPEN", "全文未获得"))
    assert now["national-2018"]["fine_rules"].endswith("（安监总财〔2018〕19号第十二条）。")
    assert now["henan-2025"]["per_death"] == "河南未另行规定的，按国家2018办法。"
    assert now["national-2018"]["scope"] == graded[("national-2018", "scope")]
    downgrade(revision="0015")
    before = sources()
    assert {key: before[code][key] for code, key in graded} == {key: w for (_, key), w in graded.items()}
