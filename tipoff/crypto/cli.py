"""`flask tipoff keys …`: status, generate, generate-identity, rotate-content. Never prints a secret."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import inspect as sa_inspect

from tipoff.crypto.identity import IdentityKeyError, generate_identity_keypair
from tipoff.crypto.keyring import current_keyring, generate_missing_keys, keys_status, rotate_content_key
from tipoff.crypto.primitives import b64decode, fingerprint_public
from tipoff.errors import ConfigError
from tipoff.extensions import db


def _audit(action: str, details: dict) -> None:
    from tipoff.audit.models import AuditEntry
    from tipoff.audit.services import record

    # On a new server keys are made before `flask tipoff init` creates the database: say so, don't crash.
    if not sa_inspect(db.session.connection()).has_table(AuditEntry.__tablename__):
        click.echo(f"note: no audit entry for {action}: the database is not initialised yet "
                   "(run `flask tipoff init`)", err=True)
        db.session.rollback()
        return
    record(action, actor="cli", details=details)
    db.session.commit()


def _read_passphrase(from_stdin: bool) -> str:
    if from_stdin:
        # Only the line ending is dropped: spaces inside or around a passphrase are part of it.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("custodian passphrase", hide_input=True, confirmation_prompt=True)


def register(group: click.Group) -> None:
    """Add the `keys` subgroup to the `flask tipoff` group."""

    @group.group("keys", cls=AppGroup)
    def keys() -> None:
        """Key status, generation and content-key rotation (key values are never shown)."""

    @keys.command("status")
    def status_command() -> None:
        """Print whether each key is present, with its fingerprint and source."""
        rows = keys_status()
        for row in rows:
            click.echo(f"{row.name}: {'present' if row.present else 'missing'} - {row.detail}")

    @keys.command("generate")
    def generate_command() -> None:
        """Generate missing content, blind-index and signing keys (existing keys are kept)."""
        lines = generate_missing_keys(explicit=True)
        for line in lines:
            click.echo(line)
        if not lines:
            click.echo("nothing to generate: content, blind-index and signing keys are present")
            return
        _audit("keys.generate", {"generated": lines})

    @keys.command("generate-identity")
    @click.option("--passphrase-stdin", is_flag=True, help="Read the custodian passphrase from one line of stdin.")
    @click.option("--force", is_flag=True, help="Replace an existing pair (old files are kept as *.replaced-*).")
    def generate_identity_command(passphrase_stdin: bool, force: bool) -> None:
        """Create the identity key pair; the private half is sealed under the custodian passphrase."""
        passphrase = _read_passphrase(passphrase_stdin)
        try:
            public_b64 = generate_identity_keypair(passphrase, overwrite=force)
        except (ValueError, IdentityKeyError) as exc:
            raise click.ClickException(str(exc)) from None
        fingerprint = fingerprint_public(b64decode(public_b64))
        ring = current_keyring()
        click.echo(f"identity key pair created in {ring.key_dir} (public key fingerprint {fingerprint})")
        click.echo(f"identity public key: {public_b64}")
        click.echo("Move identity.key.enc offline if this server should never hold it; keep the passphrase offline.")
        if ring.env.get("TIPOFF_IDENTITY_PUBLIC_KEY"):
            click.echo("TIPOFF_IDENTITY_PUBLIC_KEY is set and still wins: set it to the public key above.")
        _audit("keys.generate_identity", {"fingerprint": fingerprint, "replaced": force})

    @keys.command("rotate-content")
    @click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1),
                  help="Data keys re-wrapped per transaction.")
    def rotate_content_command(batch_size: int) -> None:
        """Make a new content key active and re-wrap every data key under it (no downtime)."""
        try:
            result = rotate_content_key(batch_size=batch_size)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"new content key {result['new_kid']}; re-wrapped {result['rewrapped']} data key(s); "
                   f"retired: {', '.join(result['retired']) or 'none'} (kept for old backups)")
        if result["unreadable"]:
            click.echo(f"WARNING: {len(result['unreadable'])} data key(s) could not be unwrapped and were left "
                       f"as they were (ids {', '.join(map(str, result['unreadable'][:20]))})", err=True)
        _audit("keys.rotate_content", {"new_kid": result["new_kid"], "rewrapped": result["rewrapped"],
                                       "retired": result["retired"], "unreadable": len(result["unreadable"])})
