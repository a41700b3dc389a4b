"""A transaction the database cancels for colliding with another is a 409 'try again', not a 503 or a 500."""
from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from tipoff.errors import database_unavailable, transaction_conflict


class _DriverError(Exception):
    def __init__(self, sqlstate):
        super().__init__("driver error")
        self.sqlstate = sqlstate


@pytest.mark.parametrize("sqlstate, conflict, unavailable", [
    ("40P01", True, False),   # deadlock detected
    ("40001", True, False),   # serialization failure
    ("57P01", False, True),   # admin shutdown: the server went away
    ("08006", False, True),   # connection failure
    (None, False, True),      # SQLite: database is locked / unable to open
])
def test_collisions_and_outages_are_told_apart(sqlstate, conflict, unavailable):
    exc = OperationalError("UPDATE tips …", {}, _DriverError(sqlstate))
    assert transaction_conflict(exc) is conflict
    assert database_unavailable(exc) is unavailable


def test_a_deadlock_answers_409_with_a_retry_message(app, client, monkeypatch):
    from tipoff.public import views

    def collide():
        raise OperationalError("SELECT 1", {}, _DriverError("40P01"))

    monkeypatch.setattr(views, "render_template", lambda *a, **k: collide())
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "transaction_conflict"
