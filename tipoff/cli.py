"""`flask tipoff …` — the command group; each feature package contributes its own subcommands."""
from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from tipoff.errors import ConfigError


@click.group("tipoff", cls=AppGroup)
def tipoff_cli() -> None:
    """tipoff administration: init, users, tokens, keys, audit."""
    # Keys, the database and its journals made by any command are for the service user alone.
    os.umask(0o077)


@tipoff_cli.command("init")
def init_command() -> None:
    """Initialise what is missing: data dir, keys, database schema, reference data, first admin.

    Safe to run again: nothing that exists is changed.
    """
    from flask_migrate import upgrade

    from tipoff import crypto
    from tipoff.accounts import services as accounts
    from tipoff.reference import services as reference

    data_dir = Path(current_app.config["TIPOFF_DATA_DIR"])
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)
    try:
        for line in crypto.generate_missing_keys():
            click.echo(line)
    except ConfigError as exc:
        raise click.ClickException(f"{exc} — in production, create keys with `flask tipoff keys generate` "
                                   "and `flask tipoff keys generate-identity` first") from None
    passphrase = crypto.ensure_identity_keypair_for_development()
    if passphrase:
        click.echo("")
        click.echo("保密员口令 (custodian passphrase for the identity key; shown once, keep it offline):")
        click.echo(f"  {passphrase}")
    # Alembic migrates on a connection of its own: release ours first, or SQLite would wait on itself.
    from tipoff.extensions import db

    db.session.remove()
    upgrade(directory=current_app.extensions["migrate"].directory)
    if db.engine.dialect.name == "sqlite":
        database = Path(db.engine.url.database)
        for path in database.parent.glob(database.name + "*"):
            path.chmod(0o600)
    report = reference.load_reference_data(Path(current_app.config["TIPOFF_REFERENCE_FILE"]))
    click.echo(f"reference data: {report}")
    from tipoff.rewards.catalog import load_seed_rule_sets

    click.echo(f"reward rule sets: +{load_seed_rule_sets()}")
    created = accounts.create_first_admin()
    if created:
        username, password = created
        click.echo("")
        click.echo("First administrator (the password is shown once and must be changed at first login):")
        click.echo(f"  username: {username}")
        click.echo(f"  one-time password: {password}")
        click.echo("")
    click.echo(f"tipoff is ready: data in {data_dir}")


def register_cli(app: Flask) -> None:
    """Attach the tipoff command group and every feature's subcommands."""
    from tipoff.accounts.cli import register as register_accounts
    from tipoff.audit.cli import register as register_audit
    from tipoff.backup.cli import register as register_backup
    from tipoff.cases.cli import register as register_calendar
    from tipoff.crypto.cli import register as register_keys
    from tipoff.oversight.cli import register as register_stats
    from tipoff.reference.cli import register as register_reference
    from tipoff.retention.cli import register as register_retention
    from tipoff.rewards.cli import register as register_rewards

    if "tipoff" not in app.cli.commands:
        register_accounts(tipoff_cli)
        register_audit(tipoff_cli)
        register_backup(tipoff_cli)
        register_calendar(tipoff_cli)
        register_keys(tipoff_cli)
        register_reference(tipoff_cli)
        register_retention(tipoff_cli)
        register_rewards(tipoff_cli)
        register_stats(tipoff_cli)
        app.cli.add_command(tipoff_cli)
