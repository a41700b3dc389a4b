"""Deadline reminders (到期提醒): one e-mail a day to each department with open cases due today or overdue.

`flask tipoff remind` runs `send_reminders` (from cron, once a morning). A reminder names cases by
reference, deadline date and state only: no reporter data, no description, not even the reported unit,
because e-mail leaves the platform and is kept in mailboxes the platform does not control. Staff follow
the link and log in to see the case.

A department's mail is retried a few times on transient SMTP failures (refused or dropped connections,
timeouts, 4xx replies); a department that still fails is reported and the others still get their mail.
"""
from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from datetime import datetime, time as clock_time, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import quote

from flask import current_app
from sqlalchemy import select

from tipoff.audit.services import record
from tipoff.cases.states import CaseState, internal_label
from tipoff.clockview import SHANGHAI, deadline_badge
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.reference.models import Department

# States whose deadline binds the office; a concluded case's clock is the reporter's objection window.
OFFICE_CLOCKS = (CaseState.RECEIVED, CaseState.VERIFYING, CaseState.UNDER_REVIEW)

SUBJECT_PREFIX = "【建安区举报平台】"
# Pauses before the second and third attempt: short, since cron runs the command again tomorrow.
RETRY_DELAYS_SECONDS: tuple[float, ...] = (2.0, 5.0)
# How the retry loop waits; tests swap it for one that records the pauses instead of sleeping.
pause: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class DueCase:
    """One case in a reminder: what staff need to find it, nothing about the tip itself."""

    reference: str
    deadline_date: str  # YYYY-MM-DD, Beijing time
    status_label: str
    supervised: bool
    overdue: bool


@dataclass(frozen=True)
class Reminder:
    """The e-mail for one department (sent, or only composed in a dry run)."""

    department_code: str
    department_name: str
    recipients: tuple[str, ...]
    due_today: tuple[str, ...]  # references
    overdue: tuple[str, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class Skipped:
    """A department with cases due that could not be reminded, and why."""

    department_code: str
    reason: str  # "no_email" or "inactive"
    cases: int


@dataclass(frozen=True)
class Failed:
    """A department whose mail could not be delivered after every attempt."""

    department_code: str
    attempts: int
    error: str


@dataclass
class ReminderReport:
    """What one run did: mails sent (or that would be sent), departments skipped, deliveries failed."""

    dry_run: bool = False
    sent: list[Reminder] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every department that could be reminded was."""
        return not self.failed

    def summary(self) -> str:
        """One line for the operator and the cron log."""
        verb = "would send" if self.dry_run else "sent"
        parts = [f"reminders: {len(self.sent)} {verb}"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped ("
                         + ", ".join(f"{s.department_code}: {s.reason}" for s in self.skipped) + ")")
        if self.failed:
            parts.append(f"{len(self.failed)} FAILED ("
                         + "; ".join(f"{f.department_code} after {f.attempts} attempts: {f.error}"
                                     for f in self.failed) + ")")
        return ", ".join(parts)


@dataclass(frozen=True)
class SmtpSettings:
    """The relay to send through, read from `TIPOFF_SMTP_*`."""

    host: str
    port: int
    user: str | None
    password: str | None
    starttls: bool
    timeout: float
    sender: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "SmtpSettings":
        """Read the settings from an app's configuration."""
        return cls(host=config["TIPOFF_SMTP_HOST"], port=int(config["TIPOFF_SMTP_PORT"]),
                   user=config.get("TIPOFF_SMTP_USER") or None,
                   password=config.get("TIPOFF_SMTP_PASSWORD") or None,
                   starttls=bool(config.get("TIPOFF_SMTP_STARTTLS")),
                   timeout=float(config["TIPOFF_SMTP_TIMEOUT"]), sender=config["TIPOFF_MAIL_FROM"])


class PermanentFailure(Exception):
    """A refusal that another attempt would not change (5xx, bad login, no STARTTLS)."""


# ---------------------------------------------------------------- the run

def send_reminders(now: datetime | None = None, dry_run: bool = False) -> ReminderReport:
    """E-mail every department its open cases due today or overdue (Beijing dates); report the outcome."""
    now = now or utcnow()
    report = ReminderReport(dry_run=dry_run)
    config = current_app.config
    smtp = SmtpSettings.from_config(config)
    by_department = due_cases(now)
    departments = db.session.scalars(select(Department).where(Department.id.in_(list(by_department)))
                                     .order_by(Department.sort_order, Department.code)).all()
    for department in departments:
        cases = by_department[department.id]
        recipients = email_addresses(department.email)
        if not department.active or not recipients:
            reason = "inactive" if not department.active else "no_email"
            report.skipped.append(Skipped(department.code, reason, len(cases)))
            continue
        reminder = compose_reminder(department.code, department.name, recipients, cases, now,
                                    config["TIPOFF_PUBLIC_BASE_URL"])
        if dry_run:
            report.sent.append(reminder)
            continue
        attempts, error = deliver(reminder, smtp)
        if error is not None:
            current_app.logger.warning("reminder to %s failed after %d attempts: %s",
                                       department.code, attempts, error)
            report.failed.append(Failed(department.code, attempts, error))
            continue
        record("case.reminder_sent", actor="system", object_type="department", object_id=department.code,
               department_id=department.id,
               details={"due_today": len(reminder.due_today), "overdue": len(reminder.overdue)})
        db.session.commit()
        report.sent.append(reminder)
    return report


def due_cases(now: datetime) -> dict[int, list[DueCase]]:
    """Open cases whose deadline falls today or earlier (Beijing time), by department id."""
    local_today = now.astimezone(SHANGHAI).date()
    end_of_today = datetime.combine(local_today + timedelta(days=1), clock_time(0), SHANGHAI)
    rows = db.session.execute(
        select(Tip.department_id, Tip.reference, Tip.deadline_at, Tip.status, Tip.supervised)
        .where(Tip.status.in_([state.value for state in OFFICE_CLOCKS]), Tip.deadline_at.is_not(None),
               Tip.deadline_at < end_of_today, Tip.reference.is_not(None))
        .order_by(Tip.deadline_at, Tip.reference))
    found: dict[int, list[DueCase]] = {}
    for department_id, reference, deadline_at, status, supervised in rows:
        badge, local_date = deadline_badge(deadline_at, now)
        if badge not in ("overdue", "due_today"):
            continue
        found.setdefault(department_id, []).append(
            DueCase(reference, local_date, internal_label(status), bool(supervised), badge == "overdue"))
    return found


def email_addresses(value: str | None) -> tuple[str, ...]:
    """The addresses in a department's e-mail field (several may be separated by , or ;)."""
    if not value:
        return ()
    return tuple(part.strip() for part in value.replace(";", ",").split(",") if part.strip())


# ---------------------------------------------------------------- the message

def compose_reminder(department_code: str, department_name: str, recipients: Iterable[str],
                     cases: list[DueCase], now: datetime, base_url: str) -> Reminder:
    """The subject and plain-text body of one department's reminder."""
    overdue = [c for c in cases if c.overdue]
    due_today = [c for c in cases if not c.overdue]
    subject = SUBJECT_PREFIX + "、".join(
        text for count, text in ((len(due_today), f"今日到期 {len(due_today)} 件"),
                                 (len(overdue), f"已逾期 {len(overdue)} 件")) if count)
    lines = [f"{department_name}：", "",
             f"截至 {now.astimezone(SHANGHAI):%Y-%m-%d %H:%M}（北京时间），贵单位以下举报件的办理期限已到，请及时办理。", ""]
    for title, group in (("已逾期", overdue), ("今日到期", due_today)):
        if not group:
            continue
        lines.append(f"{title} {len(group)} 件：")
        for case in group:
            flag = "  【挂牌督办】" if case.supervised else ""
            lines.append(f"  {case.reference}  期限 {case.deadline_date}  {case.status_label}{flag}")
            lines.append(f"    {case_link(base_url, case.reference)}")
        lines.append("")
    lines += ["本邮件由建安区安全生产举报平台自动发送，不含举报内容和举报人信息；请登录平台查看和办理。请勿回复。"]
    return Reminder(department_code, department_name, tuple(recipients),
                    tuple(c.reference for c in due_today), tuple(c.reference for c in overdue),
                    subject, "\n".join(lines) + "\n")


def case_link(base_url: str, reference: str) -> str:
    """The staff page of a case."""
    return f"{base_url.rstrip('/')}/staff/cases/{quote(reference, safe='')}"


def as_message(reminder: Reminder, sender: str) -> EmailMessage:
    """The reminder as a UTF-8 e-mail."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(reminder.recipients)
    message["Subject"] = reminder.subject
    message["Date"] = formatdate(localtime=False)
    # A domain of our own: make_msgid() would otherwise ask DNS for this host's name.
    message["Message-ID"] = make_msgid("reminder", domain=sender.rpartition("@")[2] or "localhost")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(reminder.body, charset="utf-8", cte="base64")
    return message


# ---------------------------------------------------------------- delivery

def deliver(reminder: Reminder, smtp: SmtpSettings) -> tuple[int, str | None]:
    """Send one reminder, retrying transient failures: (attempts made, last error or None)."""
    message = as_message(reminder, smtp.sender)
    attempts = 0
    while True:
        attempts += 1
        try:
            send_message(message, smtp)
            return attempts, None
        except PermanentFailure as exc:
            return attempts, str(exc)
        except OSError as exc:  # smtplib.SMTPException is an OSError too
            if attempts > len(RETRY_DELAYS_SECONDS):
                return attempts, describe(exc)
            pause(RETRY_DELAYS_SECONDS[attempts - 1])


def send_message(message: EmailMessage, smtp: SmtpSettings) -> None:
    """One delivery attempt; raises PermanentFailure for refusals a retry would not change."""
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as connection:
            if smtp.starttls:
                connection.starttls(context=ssl.create_default_context())
            if smtp.user:
                connection.login(smtp.user, smtp.password or "")
            connection.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        if not all(400 <= code < 500 for code, _ in exc.recipients.values()):
            raise PermanentFailure(describe(exc)) from exc
        raise
    except smtplib.SMTPResponseException as exc:
        if not 400 <= exc.smtp_code < 500:
            raise PermanentFailure(describe(exc)) from exc
        raise
    except (smtplib.SMTPNotSupportedError, ssl.SSLError) as exc:
        raise PermanentFailure(describe(exc)) from exc


def describe(exc: BaseException) -> str:
    """A short, single-line account of a delivery error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"recipients refused ({', '.join(map(str, codes))})"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        return f"{exc.smtp_code} {text}".replace("\n", " ").strip()
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__).replace("\n", " ")
