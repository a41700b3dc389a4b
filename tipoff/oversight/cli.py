"""`flask tipoff stats refresh` (cron, every few minutes): rebuild the dashboard's monthly aggregates."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("stats")
def stats() -> None:
    """Dashboard aggregates (督办统计)."""


@stats.command("refresh")
@click.option("--full", is_flag=True, help="rebuild every month, not only those with new activity")
@with_appcontext
def refresh(full: bool) -> None:
    """Rebuild the months touched since the last run (or all of them)."""
    from tipoff.oversight.stats import refresh as run

    click.echo(str(run(full=full)))


def register(group: click.Group) -> None:
    group.add_command(stats)
