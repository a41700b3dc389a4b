"""A gunicorn worker is SIGKILLed mid-submit: each tip exists whole (row, sealed identity, audit entry) or
not at all, the audit chain verifies, and the master's new worker serves."""
from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.reliability import faults
from tests.reliability.clients import Reporter, submit_api
from tests.reliability.deployment import Deployment

pytestmark = pytest.mark.slow

IN_FLIGHT = 12


@pytest.fixture
def held_site(tmp_path, database_url, redis_store):
    hold_dir = tmp_path / "holds"
    hold_dir.mkdir()
    site = Deployment(tmp_path, database_url, TIPOFF_FAULT_HOLD_DIR=str(hold_dir))
    site.initialise()
    site.hold_dir = hold_dir
    yield site
    site.stop()


def whole_or_nothing(site: Deployment, reporter: Reporter) -> dict:
    records = faults.tip_records(site.database_url, reporter.subject)
    assert records in ({"tips": 0, "identities": 0, "audit": 0},) or (
        records["tips"], records["identities"], records["audit"]) == (1, 1, 1), records
    return records


def kill_during_submissions(site: Deployment, base: str, point: str, first: int) -> tuple[list, int]:
    """Fire IN_FLIGHT named submissions; SIGKILL the worker that holds one of them at `point`."""
    server = site.servers[0]
    reporters = [Reporter(n, named=True) for n in range(first, first + IN_FLIGHT)]
    faults.arm(site.hold_dir, point)
    with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
        pending = [pool.submit(submit_api, base, reporter) for reporter in reporters]
        pid, release = faults.wait_for_hold(site.hold_dir, point)
        assert pid in site.worker_pids(server)
        os.kill(pid, signal.SIGKILL)
        outcomes = [p.result() for p in pending]
    release.unlink(missing_ok=True)
    return outcomes, pid


def wait_for_replacement(site: Deployment, killed: int, workers: int) -> set[int]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = site.worker_pids(site.servers[0])
        if killed not in pids and len(pids) == workers:
            return pids
        time.sleep(0.1)
    raise AssertionError("the master did not replace the killed worker")


def test_worker_killed_before_commit_leaves_whole_tips_or_none(held_site):
    site = held_site
    base = site.start(workers=4)

    outcomes, killed = kill_during_submissions(site, base, "tip.before_commit", first=0)

    dropped = [o for o in outcomes if o.status is None]
    assert dropped, "the killed worker's request got an answer: the kill did not happen mid-submit"
    assert {o.status for o in outcomes} <= {201, None}
    for outcome in outcomes:
        records = whole_or_nothing(site, outcome.reporter)
        if outcome.status == 201:
            assert records.get("reference") == outcome.reference  # a receipt shown is a tip kept
    # The held request was killed before its commit: nothing of it may exist.
    assert any(whole_or_nothing(site, o.reporter)["tips"] == 0 for o in dropped)

    replacements = wait_for_replacement(site, killed, 4)
    later = [submit_api(base, Reporter(n, named=True)) for n in range(100, 108)]
    assert {o.status for o in later} == {201}
    assert len(replacements) == 4
    verified = site.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_worker_killed_after_commit_keeps_the_tip_and_the_retry_gets_its_receipt(held_site):
    """The commit happened, the answer never left: the Idempotency-Key retry returns the same receipt."""
    site = held_site
    base = site.start(workers=2)
    reporter = Reporter(200, named=True)
    key = str(uuid.uuid4())
    faults.arm(site.hold_dir, "tip.after_commit")

    def send():
        try:
            return requests.post(f"{base}/api/v1/tips", json=reporter.api_body(), timeout=120,
                                 headers={**reporter.headers(), "Idempotency-Key": key})
        except requests.ConnectionError:
            return None

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(send)
        pid, release = faults.wait_for_hold(site.hold_dir, "tip.after_commit")
        os.kill(pid, signal.SIGKILL)
        assert pending.result() is None  # no receipt reached the reporter
    release.unlink(missing_ok=True)

    records = whole_or_nothing(site, reporter)
    assert records["tips"] == 1
    wait_for_replacement(site, pid, 2)
    retry = requests.post(f"{base}/api/v1/tips", json=reporter.api_body(), timeout=120,
                          headers={**reporter.headers(), "Idempotency-Key": key})
    assert retry.status_code == 201, retry.text[:300]
    assert retry.json()["reference"] == records["reference"]
    assert faults.tip_records(site.database_url, reporter.subject)["tips"] == 1
    verified = site.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    site.stop()
    logs = site.log_text()
    assert reporter.name not in logs and reporter.phone not in logs and reporter.address not in logs
