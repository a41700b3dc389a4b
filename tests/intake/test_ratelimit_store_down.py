"""The shared rate-limit store (Redis) going down does not stop anyone from reporting or following a tip."""
from __future__ import annotations

import socket

from tests.conftest import make_app
from tests.intake.helpers import VALID, receipt_of


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


def test_reports_and_lookups_go_on_when_redis_is_unreachable(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True,
                   RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{_dead_port()}/0")
    client = app.test_client()
    filed = client.post("/report", data=VALID)
    assert filed.status_code == 201, filed.get_data(as_text=True)[:300]
    reference, code = receipt_of(filed)
    found = client.post("/api/v1/tips/lookup", json={"reference": reference, "access_code": code})
    assert found.status_code == 200
    # Limits still hold, per worker, while the store is away.
    wrong = [client.post("/api/v1/tips/lookup", json={"reference": reference, "access_code": "0" * 16}).status_code
             for _ in range(8)]
    assert 429 in wrong and 500 not in wrong and 503 not in wrong
