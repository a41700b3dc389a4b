"""Several worker processes writing to one SQLite file at once: no "database is locked", chain intact."""
from __future__ import annotations

import multiprocessing

import pytest

from config import TestingConfig

WRITERS = 4
WRITES_EACH = 25


def _writer(data_dir: str, database_url: str, index: int, results) -> None:
    from tipoff import create_app
    from tipoff.audit.services import record
    from tipoff.extensions import db

    app = create_app(TestingConfig, {"TIPOFF_DATA_DIR": data_dir, "SQLALCHEMY_DATABASE_URI": database_url})
    errors = 0
    for n in range(WRITES_EACH):
        with app.app_context():
            try:
                record("test.concurrent_write", actor="test", object_type="writer", object_id=f"{index}-{n}")
                db.session.commit()
            except Exception:  # noqa: BLE001 - counted and asserted on
                errors += 1
    results.put(errors)


def test_processes_write_concurrently_without_locking_errors(app, tmp_path):
    from tipoff.audit.services import verify_chain
    from tipoff.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL has its own concurrency tests")
        url = str(db.engine.url)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [context.Process(target=_writer, args=(app.config["TIPOFF_DATA_DIR"], url, i, results))
               for i in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [results.get(timeout=5) for _ in workers] == [0] * WRITERS
    with app.app_context():
        from sqlalchemy import func, select

        from tipoff.audit.models import AuditEntry

        count = db.session.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.action == "test.concurrent_write"))
        assert count == WRITERS * WRITES_EACH
        result = verify_chain()
        assert result.ok, result
