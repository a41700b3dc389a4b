"""Deadline reminder e-mails (到期提醒) delivered to a real SMTP server running in this process."""
from __future__ import annotations

import re
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.audit.models import AuditEntry
from tipoff.cases import reminders
from tipoff.cases.reminders import send_reminders
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import Department

SHANGHAI = timezone(timedelta(hours=8))
# 10:00 on 25 November in Beijing; still the 25th in UTC, so UTC and local dates agree only by luck.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI).astimezone(timezone.utc)
DUE_TODAY = datetime(2026, 11, 25, 23, 59, 59, tzinfo=SHANGHAI)
OVERDUE = datetime(2026, 11, 24, 23, 59, 59, tzinfo=SHANGHAI)
# Still 25 November in UTC (16:30), but tomorrow in Beijing: not due yet.
TOMORROW_EARLY = datetime(2026, 11, 26, 0, 30, tzinfo=SHANGHAI)
BASE_URL = "https://jubao.jianan.example"
REFERENCE = re.compile(r"\b[A-Z]{2,}-\d{4}-\d{6}\b")


class Mailbox:
    """An aiosmtpd handler that keeps what it accepts and can answer recipients or data with an error."""

    def __init__(self) -> None:
        self.messages: list = []
        self.rcpt_attempts: dict[str, int] = {}
        self.refuse_rcpt: dict[str, str] = {}   # address -> reply, on every attempt
        self.data_replies: list[str] = []        # replies to the next DATA commands, then 250

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox():
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
def pauses(monkeypatch):
    """The backoff pauses the retry loop asked for (none are slept)."""
    asked: list[float] = []
    monkeypatch.setattr(reminders, "pause", asked.append)
    return asked


@pytest.fixture
def mail_app(app, mailbox, pauses):
    app.config.update(TIPOFF_SMTP_HOST="127.0.0.1", TIPOFF_SMTP_PORT=mailbox.port, TIPOFF_SMTP_TIMEOUT=2,
                      TIPOFF_MAIL_FROM="tipoff@jianan.example", TIPOFF_PUBLIC_BASE_URL=BASE_URL)
    return app


def file_tip(app, client, deadline, data=VALID, **changes) -> str:
    """Submit a tip through the public form, then move its deadline (and state) in the database."""
    reference, _ = receipt_of(client.post("/report", data={**data, **changes}))
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        tip.deadline_at = deadline
        db.session.commit()
    return reference


def set_case(app, reference: str, **values) -> None:
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        for name, value in values.items():
            setattr(tip, name, value)
        db.session.commit()


def set_department(app, code: str, **values) -> None:
    with app.app_context():
        department = db.session.scalar(select(Department).where(Department.code == code))
        for name, value in values.items():
            setattr(department, name, value)
        db.session.commit()


def run(app, dry_run: bool = False):
    with app.app_context():
        return send_reminders(now=NOW, dry_run=dry_run)


def text_of(message) -> str:
    """Subject and decoded body of a received mail."""
    return f"{message['Subject']}\n{message.get_content()}"


def reminder_entries(app) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.reminder_sent")
                                  .order_by(AuditEntry.object_id)).all()


def test_one_mail_per_department_with_its_due_and_overdue_cases(mail_app, client, mailbox):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    set_department(app, "yjj", email="yjj@jianan.example")
    today_1 = file_tip(app, client, DUE_TODAY)
    today_2 = file_tip(app, client, DUE_TODAY + timedelta(hours=-6))
    late = file_tip(app, client, OVERDUE)
    set_case(app, late, status="verifying", supervised=True)
    not_yet = file_tip(app, client, TOMORROW_EARLY)
    closed = file_tip(app, client, OVERDUE)
    set_case(app, closed, status="closed")
    rejected = file_tip(app, client, OVERDUE)
    set_case(app, rejected, status="rejected")
    yjj_case = file_tip(app, client, OVERDUE, sector="hazchem")

    report = run(app)

    assert report.ok and not report.dry_run
    assert len(mailbox.messages) == 2
    [zjj_mail] = mailbox.to("zjj@jianan.example")
    assert zjj_mail["Subject"] == "【建安区举报平台】今日到期 2 件、已逾期 1 件"
    assert zjj_mail["From"] == "tipoff@jianan.example"
    body = zjj_mail.get_content()
    assert set(REFERENCE.findall(body)) == {today_1, today_2, late}
    assert not {not_yet, closed, rejected} & set(REFERENCE.findall(text_of(zjj_mail)))
    assert f"{BASE_URL}/staff/cases/{late}" in body
    late_line = next(line for line in body.splitlines() if late in line)
    assert "2026-11-24" in late_line and "核查中" in late_line and "挂牌督办" in late_line
    today_line = next(line for line in body.splitlines() if today_1 in line)
    assert "2026-11-25" in today_line and "待受理" in today_line and "挂牌督办" not in today_line

    [yjj_mail] = mailbox.to("yjj@jianan.example")
    assert yjj_mail["Subject"] == "【建安区举报平台】已逾期 1 件"
    assert set(REFERENCE.findall(yjj_mail.get_content())) == {yjj_case}

    entries = reminder_entries(app)
    assert [(e.object_id, e.actor_label, e.details) for e in entries] == [
        ("yjj", "system", {"due_today": 0, "overdue": 1}),
        ("zjj", "system", {"due_today": 2, "overdue": 1}),
    ]
    assert "2 sent" in report.summary()


def test_mail_holds_no_reporter_data_and_no_tip_content(mail_app, client, mailbox):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    reference = file_tip(app, client, OVERDUE, data=NAMED)

    assert run(app).ok

    [mail] = mailbox.messages
    decoded, raw = text_of(mail), mail.as_string()
    assert reference in decoded
    for secret in (NAMED["reporter_name"], NAMED["reporter_phone"], NAMED["reporter_phone"].replace(" ", ""),
                   NAMED["reporter_id_number"], NAMED["description"], NAMED["description"][:12],
                   NAMED["subject_name"], NAMED["address"]):
        assert secret not in decoded and secret not in raw


def test_departments_without_email_or_inactive_are_skipped(mail_app, client, mailbox):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    file_tip(app, client, OVERDUE)                       # zjj
    file_tip(app, client, DUE_TODAY, sector="hazchem")   # yjj: no e-mail address
    file_tip(app, client, DUE_TODAY, sector="fire")      # xfj: deactivated after the tip arrived
    set_department(app, "xfj", email="xfj@jianan.example", active=False)

    report = run(app)

    assert report.ok
    assert [m["To"] for m in mailbox.messages] == ["zjj@jianan.example"]
    assert {(s.department_code, s.reason, s.cases) for s in report.skipped} == {
        ("yjj", "no_email", 1), ("xfj", "inactive", 1)}
    assert [e.object_id for e in reminder_entries(app)] == ["zjj"]


def test_nothing_due_sends_nothing(mail_app, client, mailbox):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    file_tip(app, client, TOMORROW_EARLY)

    report = run(app)

    assert report.ok and report.sent == [] and mailbox.messages == []


def test_dry_run_sends_and_records_nothing(mail_app, client, mailbox, runner):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    reference = file_tip(app, client, utcnow() - timedelta(days=2))  # the command runs at the real time

    with app.app_context():
        report = send_reminders(dry_run=True)
    assert report.dry_run and [r.overdue for r in report.sent] == [(reference,)]

    result = runner.invoke(args=["tipoff", "remind", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert reference in result.output and "1 would send" in result.output
    assert mailbox.messages == [] and mailbox.rcpt_attempts == {}
    assert reminder_entries(app) == []


def test_transient_refusal_is_retried_and_then_delivered(mail_app, client, mailbox, pauses):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    file_tip(app, client, DUE_TODAY)
    mailbox.data_replies = ["451 4.3.0 Try again later"]

    report = run(app)

    assert report.ok
    assert len(mailbox.messages) == 1
    assert mailbox.rcpt_attempts == {"zjj@jianan.example": 2}
    assert pauses == [reminders.RETRY_DELAYS_SECONDS[0]]


def test_a_failing_department_is_retried_reported_and_does_not_stop_the_others(
        mail_app, client, mailbox, pauses):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    set_department(app, "yjj", email="yjj@jianan.example")
    file_tip(app, client, OVERDUE)
    file_tip(app, client, OVERDUE, sector="hazchem")
    mailbox.refuse_rcpt["zjj@jianan.example"] = "450 4.2.1 Mailbox busy"

    report = run(app)

    assert not report.ok
    assert [(f.department_code, f.attempts) for f in report.failed] == [("zjj", 3)]
    assert "450" in report.failed[0].error
    assert mailbox.rcpt_attempts["zjj@jianan.example"] == 3
    assert len(pauses) == 2
    assert [m["To"] for m in mailbox.messages] == ["yjj@jianan.example"]
    assert [e.object_id for e in reminder_entries(app)] == ["yjj"]


def test_a_permanent_refusal_is_not_retried(mail_app, client, mailbox, pauses):
    app = mail_app
    set_department(app, "zjj", email="nobody@jianan.example")
    file_tip(app, client, OVERDUE)
    mailbox.refuse_rcpt["nobody@jianan.example"] = "550 5.1.1 No such user"

    report = run(app)

    assert [(f.department_code, f.attempts) for f in report.failed] == [("zjj", 1)]
    assert pauses == [] and mailbox.messages == []


@pytest.mark.parametrize("behaviour", ["drop", "silent"])
def test_a_server_that_drops_or_never_answers_is_tried_three_times(mail_app, client, pauses, behaviour):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    file_tip(app, client, OVERDUE)
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept_connections() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            accepted.append(connection)
            if behaviour == "drop":
                connection.close()  # otherwise: hold it open and never send a greeting

    threading.Thread(target=accept_connections, daemon=True).start()
    app.config.update(TIPOFF_SMTP_PORT=listener.getsockname()[1], TIPOFF_SMTP_TIMEOUT=0.05)
    try:
        report = run(app)
        patience = time.monotonic() + 2  # the accepting thread may trail the client by a moment
        while len(accepted) < 3 and time.monotonic() < patience:
            time.sleep(0.01)
    finally:
        listener.close()
        for connection in accepted:
            connection.close()

    assert len(accepted) == 3
    assert [(f.department_code, f.attempts) for f in report.failed] == [("zjj", 3)]
    if behaviour == "silent":
        assert "timed out" in report.failed[0].error
    assert len(pauses) == 2
    assert reminder_entries(app) == []


def test_cli_fails_with_one_line_when_nothing_listens_and_succeeds_when_the_server_is_up(
        mail_app, client, mailbox, runner, pauses):
    app = mail_app
    set_department(app, "zjj", email="zjj@jianan.example")
    reference = file_tip(app, client, utcnow() - timedelta(days=2))  # the command runs at the real time
    app.config["TIPOFF_SMTP_PORT"] = free_port()  # nothing listens there

    failed = runner.invoke(args=["tipoff", "remind"])

    assert failed.exit_code == 1, failed.output
    assert failed.exception is None or isinstance(failed.exception, SystemExit)
    summary = failed.output.strip().splitlines()[-1]
    assert "1 FAILED" in summary and "zjj after 3 attempts" in summary
    assert len(pauses) == 2 and mailbox.messages == []
    assert client.get("/status").status_code == 200  # the service itself carries on

    app.config["TIPOFF_SMTP_PORT"] = mailbox.port
    succeeded = runner.invoke(args=["tipoff", "remind"])

    assert succeeded.exit_code == 0, succeeded.output
    assert "1 sent" in succeeded.output and "FAILED" not in succeeded.output
    assert [set(REFERENCE.findall(m.get_content())) for m in mailbox.messages] == [{reference}]
