"""The database goes away: 503 with Retry-After, a clear page or JSON, no receipt, the typed text kept."""
from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import PG_URL, make_app
from tests.intake.helpers import NAMED
from tests.reliability import faults
from tests.reliability.clients import Reporter, csrf_token, no_stack_trace, submit_api, submit_form
from tests.reliability.deployment import Deployment


def assert_form_kept(body: str, typed: dict) -> None:
    """The report form came back with everything typed, and no receipt."""
    assert 'id="receipt-reference"' not in body and 'id="receipt-access-code"' not in body
    for name in ("subject_name", "address", "description", "reporter_name"):
        if typed.get(name):
            assert typed[name] in body, name
    assert no_stack_trace(body)


# ------------------------------------------------------------------ SQLite: the file is locked (in process)


@pytest.fixture
def sqlite_app(tmp_path, monkeypatch):
    """An app on SQLite whatever the suite's database, waiting 0.2 s (not 15 s) for a lock."""
    from tipoff import db as tipoff_db
    from tipoff.extensions import db

    monkeypatch.setattr(tipoff_db, "SQLITE_BUSY_TIMEOUT_MS", 200)
    app = make_app(tmp_path, None)
    with app.app_context():
        db.engine.dispose()  # connections made from now on use the short timeout
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def locked_database(sqlite_app):
    """Another process holds SQLite's write lock (what a stuck writer or a backup tool does)."""
    path = sqlite_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    yield holder
    holder.execute("ROLLBACK")
    holder.close()


def tip_count(app) -> int:
    from tipoff.extensions import db
    from tipoff.intake.models import Tip

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Tip))


def test_locked_sqlite_gives_the_form_back_with_503_and_keeps_every_word(sqlite_app, locked_database):
    client = sqlite_app.test_client()
    client.get("/report")  # the form, read while the database still answers
    typed = {**NAMED, "idempotency_key": "retry-key-for-the-locked-database"}

    response = client.post("/report", data=typed)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    body = response.get_data(as_text=True)
    assert_form_kept(body, typed)
    assert "没有提交成功" in body and "您填写的内容都还在" in body
    assert 'value="retry-key-for-the-locked-database"' in body  # the retry files the tip once

    locked_database.execute("ROLLBACK")  # the lock is released: the same form, sent again, is filed once
    assert tip_count(sqlite_app) == 0
    again = client.post("/report", data=typed)
    assert again.status_code == 201
    assert client.post("/report", data=typed).status_code == 201  # the replayed receipt, not a second tip
    assert tip_count(sqlite_app) == 1
    locked_database.execute("BEGIN EXCLUSIVE")


def test_locked_sqlite_answers_the_api_and_other_pages_with_503(sqlite_app, locked_database):
    client = sqlite_app.test_client()
    body = {"category": "hazard", "sector": "gas", "subject_name": "灵井燃气加气站",
            "description": "加气站东侧的燃气管道有明显漏气味道，已经持续一周。"}

    api = client.post("/api/v1/tips", json=body)
    lookup_page = client.post("/status", data={"reference": "JA-2026-000001", "access_code": "1" * 16})
    lookup_api = client.post("/api/v1/tips/lookup", json={"reference": "JA-2026-000001", "access_code": "1" * 16})

    assert api.status_code == 503 and api.json["error"]["code"] == "database_unavailable"
    assert "access_code" not in api.get_data(as_text=True) and "reference" not in api.json
    assert lookup_api.status_code == 503 and lookup_api.json["error"]["code"] == "database_unavailable"
    assert lookup_page.status_code == 503 and lookup_page.mimetype == "text/html"
    assert "数据库暂时无法访问" in lookup_page.get_data(as_text=True)
    for response in (api, lookup_page, lookup_api):
        assert int(response.headers["Retry-After"]) > 0
        assert no_stack_trace(response.get_data(as_text=True))


# ------------------------------------------------------------------ PostgreSQL: the connection is cut


@pytest.mark.slow
def test_postgresql_cut_mid_submit_then_back(tmp_path, database_url, redis_store):
    """Cut between the inserts and the commit: 503, no receipt, nothing stored; later the retry is filed."""
    if not PG_URL:
        pytest.skip("PostgreSQL only (TIPOFF_TEST_DATABASE_URL unset); SQLite is covered by the lock tests above")
    host_port = database_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = faults.TcpProxy((host, int(port)))
    hold_dir = tmp_path / "holds"
    hold_dir.mkdir()
    site = Deployment(tmp_path, database_url.replace(host_port, f"127.0.0.1:{proxy.port}"),
                      TIPOFF_FAULT_HOLD_DIR=str(hold_dir))
    try:
        site.initialise()
        base = site.start(workers=2)
        reporter = Reporter(7, named=True)
        session = requests.Session()
        token = csrf_token(session, base, reporter.headers())
        faults.arm(hold_dir, "tip.before_commit")
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(submit_form, base, reporter, session, token)
            _, release = faults.wait_for_hold(hold_dir, "tip.before_commit")
            proxy.cut()  # the database is gone while the request holds its uncommitted tip
            release.unlink()
            outcome = pending.result()

        assert outcome.status == 503, outcome.body[:500]
        assert_form_kept(outcome.body, reporter.fields())
        assert "没有提交成功" in outcome.body

        down = submit_api(base, Reporter(8, named=False))  # while it stays down: JSON 503, not 500
        assert down.status == 503 and '"database_unavailable"' in down.body and no_stack_trace(down.body)

        proxy.restore()
        assert faults.tip_records(database_url, reporter.subject)["tips"] == 0
        again = submit_form(base, reporter, session, token)
        assert again.status == 201, again.body[:500]
        records = faults.tip_records(database_url, reporter.subject)
        assert (records["tips"], records["identities"], records["audit"]) == (1, 1, 1)
        verified = site.audit_verify()
        assert verified.returncode == 0, verified.stdout + verified.stderr
        site.stop()
        logs = site.log_text()
        assert reporter.name not in logs and reporter.phone not in logs and reporter.address not in logs
        assert "Traceback" not in logs
    finally:
        site.stop()
        proxy.cut()
