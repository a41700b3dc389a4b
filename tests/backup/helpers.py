"""Shared by the backup tests: a backup key pair, a populated app, and an empty app to restore into."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from config import TestingConfig
from tests.conftest import database_overrides
from tests.intake.helpers import NAMED, VALID, receipt_of
from tests.rewards.helpers import MAJOR_NAMED, verified
from tipoff import create_app
from tipoff.crypto.backupkey import generate_backup_keypair
from tipoff.crypto.primitives import FAST_PARAMS
from tipoff.extensions import db
from tipoff.intake import services as intake
from tipoff.intake.models import Tip

BACKUP_PASSPHRASE = "backup officer passphrase, tests only"
PDF = b"%PDF-1.4\n% evidence kept by the backup test\n" + bytes(range(256)) * 300  # > one archive chunk


def make_backup_key(folder: Path) -> tuple[str, Path]:
    """A backup key pair with fast KDF parameters: (public base64, path of backup.key.enc)."""
    folder.mkdir(parents=True, exist_ok=True)
    public, sealed = generate_backup_keypair(BACKUP_PASSPHRASE, FAST_PARAMS)
    private = folder / "backup.key.enc"
    private.write_bytes(sealed)
    return public, private


def install_backup_public_key(app, public: str) -> None:
    """Give the server only the public half, as the README says."""
    keys = Path(app.config["TIPOFF_DATA_DIR"]) / "keys"
    (keys / "backup.pub").write_text(public + "\n")


@dataclass
class Filed:
    """What the populated app holds, as a user would look for it afterwards."""

    anonymous: tuple[str, str]
    named: tuple[str, str]
    rewarded: tuple[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)
    message: str = "请问漏气的具体位置在哪里？"


def populate(app, client, people) -> Filed:
    """File an anonymous tip with evidence, a named one with a message, and a verified one with a reward."""
    anonymous = receipt_of(client.post("/report", data={**VALID, "evidence": [(io.BytesIO(PDF), "现场.pdf")]},
                                       content_type="multipart/form-data"))
    named = receipt_of(client.post("/report", data={**NAMED, "description": "实名举报：配电房长期无人值守，门锁损坏。"}))
    reference, code, reward_id = verified(app, client, people, data=MAJOR_NAMED)
    assert reward_id is not None
    filed = Filed(anonymous, named, (reference, code))
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == named[0]))
        intake.post_message(tip, filed.message, sender="department")
        for ref, _ in (anonymous, named, (reference, code)):
            tip = db.session.scalar(select(Tip).where(Tip.reference == ref))
            filed.descriptions[ref] = intake.description_of(tip)
    return filed


def empty_app(tmp_path: Path, pg_schema: str | None, name: str = "restored", **overrides):
    """A testing app over a new data dir and a database without any table (a fresh machine)."""
    data_dir = tmp_path / name
    settings = {"TIPOFF_DATA_DIR": str(data_dir), **database_overrides(pg_schema, data_dir), **overrides}
    return create_app(TestingConfig, settings)
