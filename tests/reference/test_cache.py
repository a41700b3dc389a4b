"""The per-process reference cache (tipoff.reference.cache): reused, yet never stale after a change,
whether the change is made in this process or by another worker sharing the database."""
from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import event, func, insert, select, text

from config import TestingConfig
from tests.intake.helpers import VALID, receipt_of
from tipoff import create_app
from tipoff.audit.models import AuditEntry
from tipoff.audit.services import record
from tipoff.db import utcnow
from tipoff.intake import services as intake
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference import cache
from tipoff.reference.models import Category, Department
from tipoff.reference.services import update_sector_lead
from tipoff.routing.rules import get_rule, save_rule
from tipoff.routing.services import routing_table

ROOT = Path(__file__).resolve().parents[2]


def _department_of(app, reference: str) -> str:
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        return db.session.get(Department, tip.department_id).code


def _other_worker(app):
    """A second app on the same database: what another gunicorn worker or a CLI process is."""
    keys = ("TIPOFF_DATA_DIR", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS")
    return create_app(TestingConfig, {k: app.config[k] for k in keys if k in app.config})


def test_the_table_is_reused_until_something_changes(app):
    with app.app_context():
        first = routing_table()
        db.session.commit()  # a new transaction reads the version again, and it has not moved
        assert routing_table() is first
        update_sector_lead("gas", "xfj", actor="test")
        assert routing_table() is not first


def test_a_change_by_another_worker_reaches_this_one(app):
    client = app.test_client()
    assert _department_of(app, receipt_of(client.post("/report", data=VALID))[0]) == "zjj"  # warms the cache
    other = _other_worker(app)
    with other.app_context():
        update_sector_lead("gas", "xfj", actor="test")  # audited, like every edit through the services
        db.session.remove()
        db.engine.dispose()
    assert _department_of(app, receipt_of(client.post("/report", data=VALID))[0]) == "xfj"


def test_a_rule_edited_elsewhere_is_followed_by_the_next_tip(app):
    client = app.test_client()
    receipt_of(client.post("/report", data=VALID))
    other = _other_worker(app)
    with other.app_context():
        row = get_rule("r4_hazchem_transport")
        values = {name: getattr(row, name) for name in ("priority", "category_codes", "township_codes", "keywords",
                                                         "accept_by", "source", "effective_from", "active")}
        save_rule("r4_hazchem_transport", {**values, "sector_codes": ["gas"], "department_code": "xfj",
                                           "copy_to": [], "explanation": "试行：燃气由区消防救援大队受理。",
                                           "supervised": False}, actor="test")
        db.session.remove()
        db.engine.dispose()
    reference = receipt_of(client.post("/report", data=VALID))[0]
    assert _department_of(app, reference) == "xfj"


def test_an_unaudited_change_in_this_process_is_seen_at_once(app):
    """Any ORM write to a reference row clears the store, audited or not (tests, loaders)."""
    with app.app_context():
        assert "hazard" in intake.catalogue().categories
        db.session.scalar(select(Category).where(Category.code == "hazard")).active = False
        db.session.flush()
        # Uncommitted: this session sees its own change, and nothing it reads now is kept for others.
        assert "hazard" not in intake.catalogue().categories
        db.session.rollback()
        assert "hazard" in intake.catalogue().categories
        db.session.scalar(select(Category).where(Category.code == "hazard")).active = False
        db.session.commit()
        assert "hazard" not in intake.catalogue().categories
    response = app.test_client().post("/report", data=VALID)
    assert response.status_code == 422 and "未知的举报类别" in response.get_data(as_text=True)


def _set_active_elsewhere(app, code: str, active: bool) -> None:
    """Another worker retires or activates a category, audited as the reference loader does."""
    other = _other_worker(app)
    with other.app_context():
        db.session.scalar(select(Category).where(Category.code == code)).active = active
        record("reference.load", actor="test", details={"category": code, "active": active})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_a_code_retired_elsewhere_is_refused_by_the_next_submit(app):
    """The codes are first checked against this worker's last catalogue, with no query; the write
    transaction sees the newer version and checks again, so the retired code is refused, nothing saved."""
    client = app.test_client()
    receipt_of(client.post("/report", data=VALID))  # this worker now holds a catalogue with "hazard"
    with app.app_context():
        assert "hazard" in cache.last_known("intake_catalogue").categories
        before = db.session.scalar(select(func.count(Tip.id)))
    _set_active_elsewhere(app, "hazard", False)
    response = client.post("/report", data=VALID)
    assert response.status_code == 422 and "未知的举报类别" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Tip.id))) == before
        assert "hazard" not in cache.last_known("intake_catalogue").categories


def test_a_code_activated_elsewhere_is_accepted_by_the_next_submit(app):
    """What this worker's last catalogue refuses is checked against the current one before refusing."""
    with app.app_context():
        db.session.scalar(select(Category).where(Category.code == "hazard")).active = False
        db.session.commit()
    client = app.test_client()
    receipt_of(client.post("/report", data={**VALID, "category": "violation"}))  # cached without "hazard"
    with app.app_context():
        assert "hazard" not in cache.last_known("intake_catalogue").categories
    _set_active_elsewhere(app, "hazard", True)
    reference = receipt_of(client.post("/report", data=VALID))[0]
    with app.app_context():
        assert db.session.scalar(select(Tip.category_code).where(Tip.reference == reference)) == "hazard"


def test_a_submit_checks_its_codes_without_a_transaction_of_its_own(app):
    """With the catalogue known, a submit opens two transactions: its write and the audit seal."""
    client = app.test_client()
    receipt_of(client.post("/report", data=VALID))
    begins = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn: begins.append(conn)  # noqa: E731
    event.listen(engine, "begin", listener)
    try:
        receipt_of(client.post("/report", data=VALID))
    finally:
        event.remove(engine, "begin", listener)
    assert len(begins) == 2


def test_nothing_is_last_known_while_this_session_changes_reference_rows(app):
    with app.app_context():
        known = intake.catalogue()
        assert cache.last_known("intake_catalogue") is known
        db.session.scalar(select(Category).where(Category.code == "hazard")).active = False
        db.session.flush()
        assert cache.last_known("intake_catalogue") is None
        db.session.rollback()


def test_the_version_query_probes_the_action_index_not_the_whole_log(app):
    """Reference changes are few and old. PostgreSQL planned max(id) as a backward walk of the primary
    key, filtering on the action, and so read every audit entry on every request (8 ms at 19,500). The
    plan it guards is PostgreSQL's; SQLite used the action index either way."""
    with app.app_context():
        now = utcnow()
        # A district's log after a while: some hundreds of reference changes, all of them long ago.
        old = [{"created_at": now, "actor_label": "test", "action": "calendar.override"}] * 300
        db.session.execute(insert(AuditEntry.__table__), old)
        db.session.execute(insert(AuditEntry.__table__),
                           [{"created_at": now, "actor_label": "test", "action": "tip.submit"}] * 20_000)
        db.session.commit()
        sql = str(cache._VERSION_QUERY.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE audit_entries"))
            plan = "\n".join(db.session.execute(text("EXPLAIN " + sql)).scalars())
        else:
            plan = "\n".join(row[-1] for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        db.session.rollback()
    assert "ix_audit_entries_action" in plan and "Backward" not in plan, plan


def test_every_audited_reference_change_moves_the_version():
    """A new `record("reference…")`, `record("routing…")` or `record("calendar…")` must be listed, or other
    workers would not see it."""
    actions = set()
    for path in (ROOT / "tipoff").rglob("*.py"):
        actions |= set(re.findall(r'record\(\s*f?"((?:reference|routing|calendar)\.[a-z_.]+)"', path.read_text("utf-8")))
    assert actions and actions <= set(cache.VERSION_ACTIONS)


def test_a_holiday_set_by_the_cli_elsewhere_moves_the_next_deadline(app):
    """The working calendar is cached too; a `holidays set` in another process is seen by the next request."""
    from datetime import date, timedelta

    from tipoff.cases import clocks

    client = app.test_client()
    receipt_of(client.post("/report", data=VALID))  # warms the cached calendar
    day = date.today() + timedelta(days=400)
    with app.app_context():
        assert day not in clocks.calendar().overrides
    other = _other_worker(app)
    result = other.test_cli_runner().invoke(
        args=["tipoff", "holidays", "set", day.isoformat(), "--rest", "--note", "测试：临时调休"])
    assert result.exit_code == 0, result.output
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
    with app.test_request_context("/"):
        assert clocks.calendar().overrides[day].working is False
    revoked = other.test_cli_runner().invoke(args=["tipoff", "holidays", "revoke", day.isoformat()])
    assert revoked.exit_code == 0, revoked.output
    with app.test_request_context("/"):
        assert day not in clocks.calendar().overrides
