"""The operator's path on real processes: production settings, a nightly backup from the CLI, and a
restore on a new machine that has no keys yet, which then serves again."""
from __future__ import annotations

import stat

import pytest
import requests

from tests.backup.helpers import BACKUP_PASSPHRASE
from tests.intake.test_api import TIP
from tests.reliability.deployment import Deployment

pytestmark = pytest.mark.slow


def test_backup_and_restore_on_a_new_production_machine(tmp_path):
    old = Deployment(tmp_path / "old", None, TIPOFF_RATELIMIT_STORAGE_URI="memory://")
    old.initialise()
    offline = tmp_path / "offline"
    offline.mkdir()
    made = old.flask("backup", "keygen", "--public-out", str(offline / "backup.pub"),
                     "--private-out", str(offline / "backup.key.enc"), "--passphrase-stdin",
                     stdin=BACKUP_PASSPHRASE + "\n")
    assert "fingerprint" in made.stdout
    (old.data_dir / "keys" / "backup.pub").write_text((offline / "backup.pub").read_text())
    base = old.start(workers=1)
    filed = requests.post(f"{base}/api/v1/tips", json=TIP, headers={"X-Forwarded-For": "203.0.113.5"}, timeout=60)
    assert filed.status_code == 201, filed.text
    old.stop()
    archive = tmp_path / "nightly.backup"
    written = old.flask("backup", "--output", str(archive))
    assert "backup written" in written.stdout and "identity private key included" in written.stdout

    new = Deployment(tmp_path / "new", None, TIPOFF_RATELIMIT_STORAGE_URI="memory://")
    refused = new.flask("init", check=False)  # production: no keys, no start
    assert refused.returncode != 0
    restored = new.flask("restore", str(archive), "--key", str(offline / "backup.key.enc"), "--passphrase-stdin",
                         stdin=BACKUP_PASSPHRASE + "\n")
    assert "audit chain OK" in restored.stdout, restored.stdout + restored.stderr
    assert stat.S_IMODE((new.data_dir / "keys" / "signing.key").stat().st_mode) == 0o600
    assert "audit chain OK" in new.audit_verify().stdout
    base = new.start(workers=1)
    assert requests.get(f"{base}/healthz", timeout=30).json() == {"status": "ok"}
    again = requests.post(f"{base}/api/v1/tips", json=TIP, timeout=60)
    assert again.status_code == 201 and again.json()["reference"] != filed.json()["reference"]
    new.stop()
