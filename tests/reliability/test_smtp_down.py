"""The SMTP server is down: `flask tipoff remind` retries, reports the failure and exits 1, while the
running service goes on filing tips; once the server is back the reminder goes out.

tests/cases/test_reminders.py covers the retry loop in process (refusals, timeouts, backoff); this is the
same with real processes: the cron command against a server that drops every connection, beside gunicorn.
"""
from __future__ import annotations

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.controller import Controller

from tests.cases.test_reminders import REFERENCE, Mailbox
from tests.reliability import faults
from tests.reliability.clients import Reporter, submit_api
from tests.reliability.deployment import free_port

pytestmark = pytest.mark.slow


class DroppingServer:
    """Accepts SMTP connections and closes them at once (a relay restarting); counts the attempts."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.attempts = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.attempts += 1
            connection.close()

    def close(self) -> None:
        self.listener.close()


def test_reminders_retry_and_report_while_the_service_carries_on(deployment):
    base = deployment.start(workers=2)
    overdue = submit_api(base, Reporter(41, named=True))
    assert overdue.status == 201
    url = deployment.database_url
    from sqlalchemy import create_engine, text

    from config import _database_url

    engine = create_engine(_database_url(url))
    with engine.begin() as conn:
        conn.execute(text("UPDATE tips SET deadline_at = :due WHERE reference = :r"),
                     {"due": "2020-01-02 00:00:00", "r": overdue.reference})
        department = conn.execute(text("SELECT department_id FROM tips WHERE reference = :r"),
                                  {"r": overdue.reference}).scalar()
        conn.execute(text("UPDATE departments SET email = 'duty@jianan.example' WHERE id = :d"), {"d": department})
    engine.dispose()

    dropping = DroppingServer()
    smtp = {"TIPOFF_SMTP_HOST": "127.0.0.1", "TIPOFF_SMTP_PORT": str(dropping.port), "TIPOFF_SMTP_TIMEOUT": "2"}
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            reminding = pool.submit(deployment.flask, "remind", check=False, env=smtp)
            meanwhile = [submit_api(base, Reporter(n, named=False)) for n in range(42, 46)]
            failed = reminding.result()
    finally:
        dropping.close()

    assert failed.returncode == 1, failed.stdout + failed.stderr
    summary = (failed.stdout + failed.stderr).strip().splitlines()[-1]
    assert "1 FAILED" in summary and "after 3 attempts" in summary, summary
    assert dropping.attempts == 3
    assert "Traceback" not in failed.stdout + failed.stderr
    assert [o.status for o in meanwhile] == [201] * 4  # nothing else failed
    assert faults.query(url, "SELECT count(*) FROM audit_entries WHERE action = 'case.reminder_sent'")[0][0] == 0

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        sent = deployment.flask("remind", check=False, env={**smtp, "TIPOFF_SMTP_PORT": str(controller.port)})
    finally:
        controller.stop()
    assert sent.returncode == 0, sent.stdout + sent.stderr
    assert "1 sent" in sent.stdout and "FAILED" not in sent.stdout
    [message] = mailbox.messages
    assert overdue.reference in set(REFERENCE.findall(message.get_content()))
    assert overdue.reporter.name not in message.as_string() and overdue.reporter.phone not in message.as_string()
    assert faults.query(url, "SELECT count(*) FROM audit_entries WHERE action = 'case.reminder_sent'")[0][0] == 1
    verified = deployment.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
