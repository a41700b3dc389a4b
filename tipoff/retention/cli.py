"""`flask tipoff retention [--dry-run]` (cron, daily): destroy what closed cases keep past their periods."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="list what would be destroyed (reference, what, why); change nothing")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 1000),
              help="matters per transaction")
@with_appcontext
def retention(dry_run: bool, batch_size: int) -> None:
    """Crypto-shred evidence and remove identities of closed cases whose retention period is over."""
    from tipoff.retention.policy import PART_LABELS
    from tipoff.retention.services import periods, run

    policy = periods()
    click.echo(f"periods: evidence {policy.evidence_days} days, identity {policy.identity_days} days after closing")
    report = run(dry_run=dry_run, batch_size=batch_size, actor="cli")
    if dry_run:
        for item in report.due:
            matter = "" if item.matter == item.reference else f" (matter {item.matter})"
            click.echo(f"{item.reference}{matter}\t{item.part.value} ({PART_LABELS[item.part]})\t{item.reason}")
        click.echo(f"dry run: {len(report.due)} item(s) due in {report.matters_checked} matter(s) checked; "
                   f"{report.held} held back by a legal hold; nothing changed")
        return
    click.echo(report.summary())


def register(group: click.Group) -> None:
    group.add_command(retention)
