"""`flask tipoff backup …` and `flask tipoff restore`: archives sealed to an offline backup key."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from tipoff.errors import ConfigError


def _read_passphrase(from_stdin: bool, *, confirm: bool = False) -> str:
    if from_stdin:
        # Only the line ending is dropped: spaces inside or around a passphrase are part of it.
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("backup passphrase", hide_input=True, confirmation_prompt=confirm)


def _unlock(key_file: Path, from_stdin: bool):
    from tipoff.crypto.backupkey import BackupKeyError, unlock_backup_key

    try:
        text = key_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the backup private key file {key_file}: {exc}") from None
    try:
        return unlock_backup_key(text, _read_passphrase(from_stdin))
    except BackupKeyError as exc:
        raise click.ClickException(str(exc)) from None


def _verify(archive: Path, key_file: Path, from_stdin: bool) -> None:
    from tipoff.backup.archive import ArchiveError
    from tipoff.backup.services import verify_archive

    private = _unlock(key_file, from_stdin)
    try:
        manifest = verify_archive(archive, private)
    except (ArchiveError, OSError) as exc:
        raise click.ClickException(f"backup NOT intact: {exc}") from None
    rows = sum(t["rows"] for t in manifest["tables"])
    files = sum(1 for name in manifest["members"] if name.startswith("attachments/"))
    click.echo(f"backup OK: made {manifest['created_at']}, revision {manifest['alembic_revision']}, "
               f"{len(manifest['tables'])} tables, {rows} rows, {files} evidence files; "
               f"identity private key: {manifest['identity_private_key']}")


KEY_OPTION = click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
                          help="The backup private key file (backup.key.enc), kept offline.")
STDIN_OPTION = click.option("--passphrase-stdin", is_flag=True, help="Read the backup passphrase from stdin.")


def register(group: click.Group) -> None:
    """Add `backup` (with `keygen`, `verify`) and `restore` to the tipoff command group."""

    @group.group("backup", cls=AppGroup, invoke_without_command=True)
    @click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write a new archive here (a new file, mode 0600).")
    @click.option("--verify", "verify_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                  help="Check an archive instead (needs --key and the backup passphrase).")
    @click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path),
                  help="With --verify: the backup private key file.")
    @STDIN_OPTION
    @click.pass_context
    @with_appcontext
    def backup(ctx: click.Context, output: Path | None, verify_file: Path | None, key_file: Path | None,
               passphrase_stdin: bool) -> None:
        """Write one encrypted archive: database, evidence files, key material, manifest."""
        if ctx.invoked_subcommand:
            return
        if verify_file:
            if not key_file:
                raise click.UsageError("--verify needs --key (the backup private key file)")
            _verify(verify_file, key_file, passphrase_stdin)
            return
        if not output:
            raise click.UsageError("give --output FILE (or --verify FILE --key KEYFILE)")
        from tipoff.backup.services import create_backup

        try:
            report = create_backup(output)
        except (ConfigError, FileExistsError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"backup written: {report.path} ({report.size} bytes, sha256 {report.sha256})")
        click.echo(f"  revision {report.revision}, {sum(report.rows.values())} rows in {len(report.rows)} tables, "
                   f"{report.attachments} evidence files, identity private key "
                   f"{'included (sealed under the custodian passphrase)' if report.identity_private_key else 'not on this server'}")

    @backup.command("verify")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @KEY_OPTION
    @STDIN_OPTION
    def verify_command(archive: Path, key_file: Path, passphrase_stdin: bool) -> None:
        """Check every chunk and member hash of an archive without restoring it."""
        _verify(archive, key_file, passphrase_stdin)

    @backup.command("keygen")
    @click.option("--public-out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write backup.pub (give it to the server).")
    @click.option("--private-out", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Where to write backup.key.enc (keep it offline, never on the server).")
    @STDIN_OPTION
    def keygen_command(public_out: Path, private_out: Path, passphrase_stdin: bool) -> None:
        """Create a backup key pair; the private half is sealed under a new backup passphrase."""
        from tipoff.crypto import keyfiles
        from tipoff.crypto.backupkey import (BACKUP_KDF_PARAMS, BackupKeyError, backup_key_fingerprint,
                                             generate_backup_keypair)
        from tipoff.crypto.primitives import FAST_PARAMS, b64decode

        for path in (public_out, private_out):
            if path.exists():
                raise click.ClickException(f"{path} exists; a backup key is never overwritten")
        params = FAST_PARAMS if current_app.config.get("TIPOFF_FAST_CRYPTO") else BACKUP_KDF_PARAMS
        passphrase = _read_passphrase(passphrase_stdin, confirm=True)
        try:
            public, sealed = generate_backup_keypair(passphrase, params)
        except BackupKeyError as exc:
            raise click.ClickException(str(exc)) from None
        if not keyfiles.write_new_file(private_out, sealed) or not keyfiles.write_new_file(
                public_out, (public + "\n").encode("ascii")):
            raise click.ClickException("another process created the key files at the same time")
        click.echo(f"backup key pair created, fingerprint {backup_key_fingerprint(b64decode(public))}")
        click.echo(f"  public:  {public_out}  -> on the server as <data dir>/keys/backup.pub or TIPOFF_BACKUP_PUBLIC_KEY")
        click.echo(f"  private: {private_out}  -> offline with the backup officer; needed to verify and restore")

    @group.command("restore")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @KEY_OPTION
    @STDIN_OPTION
    @click.option("--force", is_flag=True,
                  help="Replace a database and data dir that hold data (kept aside, never deleted).")
    def restore_command(archive: Path, key_file: Path, passphrase_stdin: bool, force: bool) -> None:
        """Restore an archive into this data dir and database, then verify the audit chain."""
        from tipoff.backup.archive import ArchiveError
        from tipoff.backup.restore import RestoreRefused, TargetNotEmpty, restore_archive

        private = _unlock(key_file, passphrase_stdin)
        try:
            report = restore_archive(archive, private, force=force,
                                     on_kept=lambda kept: click.echo(f"  kept the replaced {kept}"))
        except (ArchiveError, TargetNotEmpty, RestoreRefused, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"restored: revision {report.revision}, {sum(report.rows.values())} rows in {len(report.rows)} "
                   f"tables, {report.attachments} evidence files")
        click.echo(f"retention re-applied: {report.retention}")
        if not report.chain_ok:
            click.echo(f"audit chain BROKEN after restore: {report.problem}")
            sys.exit(1)
        click.echo(f"audit chain OK: {report.chain_checked} entries, head {report.head_hash}")
