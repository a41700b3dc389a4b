"""`flask tipoff holidays …` (the working-day calendar's overrides), `flask tipoff clocks recompute`, `flask tipoff remind`."""
from __future__ import annotations

from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import select


@click.group("holidays")
def holidays() -> None:
    """Working-day calendar overrides (e.g. next year's State Council notice)."""


@holidays.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--working/--rest", required=True, help="a working day (调休上班) or a rest day")
@click.option("--note", required=True, help="the source, e.g. the notice and its number")
@with_appcontext
def set_day(day, working: bool, note: str) -> None:
    """Say whether DAY is a working day; replaces an earlier entry for the same day."""
    from tipoff.audit.services import record
    from tipoff.db import utcnow
    from tipoff.extensions import db
    from tipoff.reference.models import HolidayOverride

    the_day: date = day.date()
    existing = db.session.scalar(select(HolidayOverride).where(HolidayOverride.day == the_day))
    if existing is not None:
        existing.working, existing.note, existing.revoked_at = working, note.strip(), None
    else:
        db.session.add(HolidayOverride(day=the_day, working=working, note=note.strip(), created_at=utcnow()))
    record("calendar.override", actor="cli", object_type="day", object_id=the_day.isoformat(),
           details={"working": working})
    db.session.commit()
    click.echo(f"{the_day}: {'working day' if working else 'rest day'} ({note.strip()})")
    _recompute(dry_run=False)


@holidays.command("revoke")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@with_appcontext
def revoke_day(day) -> None:
    """Withdraw the override for DAY (kept on record, no longer applied); deadlines are recomputed."""
    from tipoff.audit.services import record
    from tipoff.db import utcnow
    from tipoff.extensions import db
    from tipoff.reference.models import HolidayOverride

    the_day: date = day.date()
    row = db.session.scalar(select(HolidayOverride).where(HolidayOverride.day == the_day,
                                                          HolidayOverride.revoked_at.is_(None)))
    if row is None:
        raise click.ClickException(f"no override in force for {the_day}")
    row.revoked_at = utcnow()
    record("calendar.override.revoke", actor="cli", object_type="day", object_id=the_day.isoformat())
    db.session.commit()
    click.echo(f"{the_day}: override revoked")
    _recompute(dry_run=False)


@holidays.command("list")
@with_appcontext
def list_days() -> None:
    """The overrides in force."""
    from tipoff.extensions import db
    from tipoff.reference.models import HolidayOverride

    for row in db.session.scalars(select(HolidayOverride).where(HolidayOverride.revoked_at.is_(None))
                                  .order_by(HolidayOverride.day)):
        click.echo(f"{row.day}\t{'working' if row.working else 'rest'}\t{row.note}")


def _recompute(dry_run: bool) -> None:
    from tipoff.cases.clocks import recompute_open

    changes = recompute_open("cli", dry_run=dry_run)
    for change in changes:
        note = " (provisional)" if change.provisional else ""
        click.echo(f"{change.reference}: {change.before:%Y-%m-%d %H:%M} -> {change.after:%Y-%m-%d %H:%M} UTC{note}")
    verb = "would change" if dry_run else "changed"
    click.echo(f"deadlines recomputed: {len(changes)} {verb}")


@click.group("clocks")
def clocks() -> None:
    """Case deadlines (办理时限)."""


@clocks.command("recompute")
@click.option("--dry-run", is_flag=True, help="list the deadlines that would change; change nothing")
@with_appcontext
def recompute(dry_run: bool) -> None:
    """Recompute open cases' deadlines on the calendar as it stands (after overrides or a package update)."""
    _recompute(dry_run)


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="show the e-mails that would be sent; send nothing")
@with_appcontext
def remind(dry_run: bool) -> None:
    """E-mail each department its open cases due today or overdue (到期提醒); run once a morning."""
    from tipoff.cases.reminders import send_reminders

    report = send_reminders(dry_run=dry_run)
    for reminder in report.sent:
        click.echo(f"{reminder.department_code} -> {', '.join(reminder.recipients)}: {reminder.subject}")
        if dry_run:
            click.echo("  " + reminder.body.rstrip("\n").replace("\n", "\n  "))
    click.echo(report.summary(), err=not report.ok)
    if not report.ok:
        raise click.exceptions.Exit(1)


def register(group: click.Group) -> None:
    """Attach the calendar and reminder commands to `flask tipoff`."""
    group.add_command(holidays)
    group.add_command(clocks)
    group.add_command(remind)
