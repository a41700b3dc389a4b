"""Backup and restore (备份与恢复): one encrypted archive holds everything needed to bring tipoff back.

An archive holds the whole database as a portable logical dump (tipoff.backup.tables), the evidence
files exactly as stored (already encrypted under each tip's data key), the key material that reads
them (content keys, blind-index key, signing key, identity public key and `identity.key.enc`, which
stays sealed under the custodian passphrase — the identity private key is never in an archive in
clear), and a manifest: format, alembic revision, time, row counts and a SHA-256 per member.

Why a backup public key and not a passphrase: backups run unattended from cron, and a passphrase the
server can read to encrypt would also decrypt. The server holds only `backup.pub`; the private half
lives offline sealed under the backup officer's passphrase (tipoff.crypto.backupkey). Stealing the
server's disk or the backup medium alone does not open an archive.

Restore reads the archive twice: first to check every chunk and every member hash without writing
anything, then to load it. A wrong passphrase, another key or a tampered archive stops it before the
first write.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import sqlalchemy as sa
from flask import current_app

from tipoff.backup.archive import ArchiveError, ArchiveWriter, Member, open_archive
from tipoff.backup.tables import dump_table, table_layout
from tipoff.crypto import keyfiles
from tipoff.crypto.identity import IdentityKey
from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.primitives import b64encode
from tipoff.db import set_write_intent
from tipoff.errors import ConfigError
from tipoff.extensions import db

MANIFEST_FORMAT = 1
KEY_MEMBERS = {  # archive member -> file name in <data dir>/keys/
    "keys/content-keys.json": "content-keys.json",
    "keys/blind-index.key": "blind-index.key",
    "keys/signing.key": "signing.key",
    "keys/identity.pub": "identity.pub",
    "keys/identity.key.enc": "identity.key.enc",
}
REQUIRED_KEYS = {"keys/content-keys.json", "keys/blind-index.key", "keys/signing.key", "keys/identity.pub"}


@dataclass
class BackupReport:
    """What a backup wrote (no secrets): for the command's output and the audit entry."""

    path: str
    size: int
    sha256: str
    revision: str | None
    rows: dict[str, int]
    attachments: int
    identity_private_key: bool


@dataclass
class RestoreReport:
    """What a restore loaded, and the audit chain's state afterwards."""

    revision: str | None
    rows: dict[str, int]
    attachments: int
    chain_ok: bool
    chain_checked: int
    head_hash: str | None
    moved_aside: list[str] = field(default_factory=list)
    problem: str | None = None
    retention: str = ""  # what the retention run right after the load destroyed again


def backup_public_key() -> bytes:
    """The backup public key: TIPOFF_BACKUP_PUBLIC_KEY, else `<data dir>/keys/backup.pub`."""
    configured = current_app.config.get("TIPOFF_BACKUP_PUBLIC_KEY")
    if configured:
        return keyfiles.decode_public(configured, "TIPOFF_BACKUP_PUBLIC_KEY")
    path = Path(current_app.config["TIPOFF_DATA_DIR"]) / "keys" / "backup.pub"
    text = keyfiles.read_key_file(path)
    if text is None:
        raise ConfigError(f"backup public key missing (TIPOFF_BACKUP_PUBLIC_KEY or {path}); create a pair "
                          "offline with `flask tipoff backup keygen` and put only backup.pub on the server")
    return keyfiles.decode_public(text, str(path))


def _key_material() -> dict[str, bytes]:
    """The key files to archive, taken from the keyring (keys given in the environment included)."""
    ring = current_keyring()
    content = ring.reload_content_keys()
    public = ring.identity_public_key()
    if public is None:
        raise ConfigError("the identity public key is missing: nothing to back up it with")
    found = {
        "keys/content-keys.json": content.to_json(),
        "keys/blind-index.key": (b64encode(ring.blind_index_key()) + "\n").encode(),
        "keys/signing.key": (b64encode(ring.signing_seed()) + "\n").encode(),
        "keys/identity.pub": (b64encode(public) + "\n").encode(),
    }
    if ring.identity_enc_path.exists():  # sealed under the custodian passphrase; copied as is
        found["keys/identity.key.enc"] = ring.identity_enc_path.read_bytes()
    return found


def _attachment_dir() -> Path:
    return Path(current_app.config["TIPOFF_DATA_DIR"]) / "attachments"


def _current_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def write_backup(target: BinaryIO, recipient: bytes, created_at: str) -> tuple[dict, int]:
    """Write the archive to `target`; return (manifest, attachments written)."""
    from tipoff.audit.services import seal_all_pending

    seal_all_pending()  # an entry left unsealed in the archive would look stale when restored later
    db.session.remove()
    writer = ArchiveWriter(target, recipient, created_at)
    layout = table_layout(db.metadata)
    # One read transaction for every table: a consistent snapshot (WAL on SQLite, REPEATABLE READ on
    # PostgreSQL), and on SQLite a plain BEGIN, so running writers are never blocked by the backup.
    set_write_intent(False)
    try:
        with db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                revision = _current_revision(conn)
                for entry, table in zip(layout, db.metadata.sorted_tables):
                    entry["rows"] = dump_table(conn, table, writer)
    finally:
        set_write_intent(True)
    for name, data in _key_material().items():
        writer.add(name, data)
    attachments = 0
    folder = _attachment_dir()
    if folder.is_dir():
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.name.endswith(".partial"):
                continue  # an upload being written: its row is not in the snapshot either
            writer.begin(f"attachments/{path.name}")
            with path.open("rb") as handle:
                while piece := handle.read(1024 * 1024):
                    writer.write(piece)
            writer.end()
            attachments += 1
    manifest = {
        "format": MANIFEST_FORMAT, "app": "tipoff", "created_at": created_at, "alembic_revision": revision,
        "dialect": db.engine.dialect.name, "crypto_profile": current_keyring().profile, "tables": layout,
        "members": {name: {"sha256": d.sha256, "size": d.size} for name, d in writer.members.items()},
        "identity_private_key": ("included, sealed under the custodian passphrase"
                                 if "keys/identity.key.enc" in writer.members else "not on this server"),
    }
    writer.add("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    writer.close()
    return manifest, attachments


def create_backup(output: Path) -> BackupReport:
    """Write an archive to `output` (atomically, mode 0600) and audit it."""
    from tipoff.audit.services import record
    from tipoff.crypto.keyfiles import now_iso

    recipient = backup_public_key()
    if output.exists():
        raise FileExistsError(f"{output} exists; choose a new file name")
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            manifest, attachments = write_backup(handle, recipient, now_iso())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    digest = hashlib.sha256()
    with output.open("rb") as handle:
        while piece := handle.read(1024 * 1024):
            digest.update(piece)
    rows = {t["name"]: t["rows"] for t in manifest["tables"]}
    report = BackupReport(str(output), output.stat().st_size, digest.hexdigest(), manifest["alembic_revision"],
                          rows, attachments, "keys/identity.key.enc" in manifest["members"])
    record("backup.created", actor="cli", details={
        "sha256": report.sha256, "bytes": report.size, "revision": report.revision,
        "rows": sum(rows.values()), "attachments": attachments})
    db.session.commit()
    return report


# ---------------------------------------------------------------------- reading


def _check_member(member: Member, expected: dict, consume: Callable[[bytes], None] | None = None) -> None:
    digest, size = hashlib.sha256(), 0
    for piece in member.chunks():
        digest.update(piece)
        size += len(piece)
        if consume:
            consume(piece)
    if digest.hexdigest() != expected.get("sha256") or size != expected.get("size"):
        raise ArchiveError(f"member {member.name} does not match the manifest's hash")


def verify_archive(path: Path, private: IdentityKey) -> dict:
    """Read the whole archive: every chunk authenticated, every member's hash and row count checked.

    Returns the manifest; raises ArchiveError on the first problem.
    """
    seen: dict[str, tuple[str, int, int]] = {}
    manifest = None
    with path.open("rb") as source:
        _, members = open_archive(source, private)
        for member in members:
            if member.name == "manifest.json":
                body = b"".join(member.chunks())
                try:
                    manifest = json.loads(body)
                except ValueError:
                    raise ArchiveError("the archive's manifest is malformed") from None
                continue
            if manifest is not None:
                raise ArchiveError("the archive has members after its manifest")
            digest, size, lines = hashlib.sha256(), 0, 0
            for piece in member.chunks():
                digest.update(piece)
                size += len(piece)
                lines += piece.count(b"\n")
            seen[member.name] = (digest.hexdigest(), size, lines)
    if manifest is None or manifest.get("format") != MANIFEST_FORMAT or manifest.get("app") != "tipoff":
        raise ArchiveError("the archive has no tipoff manifest")
    listed = manifest.get("members") or {}
    if set(listed) != set(seen):
        raise ArchiveError("the archive's members differ from its manifest")
    for name, (sha256, size, _) in seen.items():
        if listed[name].get("sha256") != sha256 or listed[name].get("size") != size:
            raise ArchiveError(f"member {name} does not match the manifest's hash")
    for table in manifest["tables"]:
        if seen.get(f"db/{table['name']}.jsonl", ("", 0, -1))[2] != table["rows"]:
            raise ArchiveError(f"table {table['name']} does not have the manifest's row count")
    if not REQUIRED_KEYS <= set(seen):
        raise ArchiveError("the archive lacks key material")
    return manifest
