"""`flask tipoff rewards expire` (daily): publish notices for unclaimed rewards, then expire the overdue ones."""
from __future__ import annotations

import click
from flask.cli import with_appcontext


@click.group("rewards")
def rewards() -> None:
    """Reward jobs (举报奖励)."""


@rewards.command("expire")
@click.option("--notice-after", default=30, show_default=True, type=click.IntRange(1, 365),
              help="days after the claim notice before an unclaimed reward is listed publicly")
@with_appcontext
def expire(notice_after: int) -> None:
    """List unclaimed rewards publicly (reference and amount only), expire those past the claim deadline."""
    from tipoff.rewards.services import expire_and_publish

    published, expired = expire_and_publish(notice_after_days=notice_after)
    click.echo(f"reward notices published {published}, expired {expired}")


def register(group: click.Group) -> None:
    group.add_command(rewards)
