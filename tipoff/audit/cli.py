"""`flask tipoff audit …`: verify the hash chain, seal pending entries."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup


def register(group: AppGroup) -> None:
    """Add the `audit` subcommands to the tipoff command group."""

    @group.group("audit")
    def audit_group() -> None:
        """Audit log (审计日志): verify and seal the hash chain."""

    @audit_group.command("verify")
    def verify_command() -> None:
        """Recompute the whole chain; exit 1 and name the first break if it is not intact."""
        from tipoff.audit import services
        from tipoff.extensions import db

        result = services.verify_chain()
        # A cron job running this leaves a trace too, like the button in the staff view.
        services.record("audit.verify", actor="cli", details={
            "ok": result.ok, "checked": result.checked, "head_hash": result.head_hash,
            "first_broken_seq": result.first_broken_seq, "kind": result.kind, "unsealed": result.unsealed,
        })
        db.session.commit()
        if result.ok:
            click.echo(f"audit chain OK: {result.checked} entries, head {result.head_hash or '(empty)'}")
            return
        if result.first_broken_seq is None:
            click.echo(f"audit chain BROKEN: {result.problem}")
        else:
            entry = f" (entry {result.first_broken_entry_id})" if result.first_broken_entry_id else ""
            click.echo(f"audit chain BROKEN at seq {result.first_broken_seq}{entry}: {result.problem}")
        sys.exit(1)

    @audit_group.command("seal")
    @click.option("--all", "everything", is_flag=True,
                  help="Also seal entries far below the chain head (after a very long transaction).")
    def seal_command(everything: bool) -> None:
        """Seal committed entries that have no seal yet."""
        from tipoff.audit import services

        sealed = services.seal_all_pending(everything=everything)
        click.echo(f"sealed {sealed} audit entries")
