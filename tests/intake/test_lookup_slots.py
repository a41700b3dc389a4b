"""Bounded KDF concurrency for access-code lookups: excess lookups are refused at once with 503 + Retry-After,
a lookup that finds a free slot works as before, and a refusal leaves no trace of the reference typed.
The slots are shared by every process on the host (file locks), so a second process is refused too."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from tests.intake.test_api import TIP
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake import kdf_slots


@contextmanager
def holding_slots(app, count: int):
    """Hold `count` lookup slots from other threads for the block, as lookups verifying a code at that moment
    would; yields the event that lets them go (set at the end of the block in any case)."""
    taken, release = threading.Barrier(count + 1, timeout=10), threading.Event()

    def hold():
        with app.app_context(), kdf_slots.lookup_kdf_slot():
            taken.wait()
            release.wait(30)

    threads = [threading.Thread(target=hold, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    taken.wait()
    try:
        yield release
    finally:
        release.set()
        for thread in threads:
            thread.join(10)


def _lookup_failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.action == "tip.lookup_failed"))


def test_lookups_beyond_the_slots_are_refused_at_once_and_a_normal_lookup_works(app, client):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=0)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    creds = {"reference": receipt["reference"], "access_code": receipt["access_code"]}
    assert client.post("/api/v1/tips/lookup", json=creds).status_code == 200

    with holding_slots(app, 1):
        def wrong_code(n: int):
            return app.test_client().post("/api/v1/tips/lookup",
                                          json={"reference": receipt["reference"], "access_code": f"{n:016d}"})

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(wrong_code, range(16)))
        right_code = client.post("/api/v1/tips/lookup", json=creds)

    for answer in [*answers, right_code]:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == str(kdf_slots.RETRY_AFTER_SECONDS)
        assert answer.get_json()["error"]["code"] == "lookup_busy"
    # Refused before the query and the KDF: not even a failed lookup was recorded.
    assert _lookup_failures(app) == 0

    # The slot is free again: the right code opens the tip, a wrong one is the usual 404.
    status = client.post("/api/v1/tips/lookup", json=creds)
    assert status.status_code == 200
    assert status.get_json()["reference"] == receipt["reference"]
    assert client.post("/api/v1/tips/lookup", json={**creds, "access_code": "1" * 16}).status_code == 404
    assert _lookup_failures(app) == 1


def test_a_free_slot_among_several_is_used(app, client):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=2)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    with holding_slots(app, 1):
        answer = client.post("/api/v1/tips/lookup",
                             json={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    assert answer.status_code == 200


def test_the_status_form_says_busy_in_chinese(app, client):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    with holding_slots(app, 1):
        page = client.post("/status", data={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    assert "请几秒钟后再试" in page.get_data(as_text=True)


def test_slots_are_shared_between_processes(app, client):
    """A slot held by another process (another gunicorn worker) counts: the lookup here is refused."""
    import subprocess
    import sys

    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    with app.app_context():
        lock = kdf_slots.slot_dir() / "slot-0.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import os, sys\nfrom tipoff.intake.kdf_slots import take_slot_lock\n"
         f"fd = os.open({str(lock)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
         "assert take_slot_lock(fd)\nprint('held', flush=True)\nsys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        busy = client.post("/api/v1/tips/lookup",
                           json={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert busy.status_code == 503
    again = client.post("/api/v1/tips/lookup",
                        json={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    assert again.status_code == 200


def test_a_slot_directory_someone_else_could_lock_is_refused(app, tmp_path, monkeypatch):
    """The slots live in the shared temp dir: one made beforehand with loose rights is not used."""
    import os

    monkeypatch.setattr(kdf_slots.tempfile, "gettempdir", lambda: str(tmp_path))
    with app.app_context():
        good = kdf_slots.slot_dir()
        assert (good.stat().st_mode & 0o777) == 0o700
        os.chmod(good, 0o777)  # as if another local user had created it, open to all
        try:
            kdf_slots.slot_dir()
        except RuntimeError as exc:
            assert "not this service's own" in str(exc)
        else:
            raise AssertionError("a world-writable slot directory was accepted")
