"""`flask tipoff reference …` — load a seed file and show what the database holds."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from sqlalchemy import func, select

from tipoff.reference.seedfile import ReferenceDataError


def register(group: click.Group) -> None:
    """Add the `reference` subcommands to the tipoff command group."""

    @group.group("reference")
    def reference_cli() -> None:
        """Reference data: departments, townships, sectors, categories, routing rules."""

    @reference_cli.command("load")
    @click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--update", is_flag=True,
                  help="Also overwrite existing rows with the file's values (default: only add missing codes).")
    def load_command(file: Path | None, update: bool) -> None:
        """Load FILE (default: TIPOFF_REFERENCE_FILE); never deletes, idempotent."""
        from tipoff.reference.services import load_reference_data

        path = file or Path(current_app.config["TIPOFF_REFERENCE_FILE"])
        try:
            report = load_reference_data(path, update=update)
        except ReferenceDataError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"reference data from {path}: {report}")

    @reference_cli.command("show")
    def show_command() -> None:
        """Count the rows of each reference table (active / all)."""
        from tipoff.extensions import db
        from tipoff.reference.services import MODELS, REPORT_ORDER

        for section, label in REPORT_ORDER:
            model = MODELS[section]
            total = db.session.scalar(select(func.count()).select_from(model))
            active = db.session.scalar(select(func.count()).select_from(model).where(model.active.is_(True)))
            click.echo(f"{label:<14} {active:>4} active / {total:>4}")
