"""Many writers and sealers at once: the chain stays one line and every entry is sealed exactly once."""
from __future__ import annotations

import logging
import threading

import pytest

from tests.audit.helpers import chain_stats
from tipoff.audit.services import record, seal_pending, verify_chain
from tipoff.extensions import db


def hammer(app, writers: int, commits: int, sealers: int) -> list[BaseException]:
    """Run writer threads (each commit in its own app context, sealed at teardown) and bare sealers."""
    errors: list[BaseException] = []
    start = threading.Barrier(writers + sealers)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(commits):
                with app.app_context():
                    record("test.concurrent", actor="test", object_id=f"{n}-{i}", details={"writer": n, "i": i})
                    if i % 3 == 0:
                        record("test.concurrent.extra", actor="test", object_id=f"{n}-{i}")
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def sealer() -> None:
        try:
            start.wait()
            for _ in range(commits):
                with app.app_context():
                    seal_pending()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    threads += [threading.Thread(target=sealer) for _ in range(sealers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return errors


def check_hammered(app, caplog, writers: int, commits: int, before: dict) -> None:
    expected = writers * (commits + (commits + 2) // 3)
    stats = chain_stats(app)
    assert stats["entries"] - before["entries"] == expected
    # Sealed by the writers' own teardowns and the sealers, before anyone ran verify.
    assert stats["unsealed"] == 0, stats
    assert stats["seals"] == stats["entries"] == stats["distinct_sealed"] and stats["contiguous"]
    assert "sealing after commit failed" not in caplog.text
    with app.app_context():
        result = verify_chain()
    assert result.ok, result.problem
    assert result.checked == stats["entries"]


def test_concurrent_writers_and_sealers(app, caplog):
    before = chain_stats(app)
    with caplog.at_level(logging.WARNING, logger="tipoff.audit"):
        errors = hammer(app, writers=4, commits=15, sealers=2)
    assert not errors, errors
    check_hammered(app, caplog, 4, 15, before)


@pytest.mark.postgres
def test_concurrent_writers_and_sealers_on_postgresql(app, caplog):
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    before = chain_stats(app)
    with caplog.at_level(logging.INFO, logger="tipoff.audit"):
        errors = hammer(app, writers=8, commits=25, sealers=3)
    assert not errors, errors
    check_hammered(app, caplog, 8, 25, before)
