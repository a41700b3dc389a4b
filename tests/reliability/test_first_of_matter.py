"""Two reporters of the same matter at the same instant: exactly one is first (R4, R6).

Both tips are filed at once on different workers, linked into one matter from both sides at once, and
concluded as verified by two handlers at once. The matter gets one reward, for the tip that sorts
first by (received_at, id), and no request fails.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.reliability import faults
from tests.reliability.clients import Reporter, no_stack_trace

pytestmark = pytest.mark.slow

MATTERS = 4  # pairs of reporters; each pair races on every step


def _together(calls):
    """Run the calls at the same instant (one thread each, released by a barrier)."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def test_two_reporters_at_once_exactly_one_is_first(deployment):
    base = deployment.start(workers=4)
    pairs = [(Reporter(2 * m, named=True), Reporter(2 * m + 1, named=True)) for m in range(MATTERS)]

    def body(reporter: Reporter, matter: int) -> dict:
        return {**reporter.api_body(), "category": "major_hazard", "subject_name": f"建安区同一事项加工厂{matter}号"}

    filed = _together([
        (lambda r=r, m=m: requests.post(f"{base}/api/v1/tips", json=body(r, m), headers=r.headers(), timeout=120))
        for m, pair in enumerate(pairs) for r in pair])
    assert [f.status_code for f in filed] == [201] * 2 * MATTERS, [f.text[:200] for f in filed]
    receipts = [f.json() for f in filed]
    department = receipts[0]["department"]["code"]
    assert {r["department"]["code"] for r in receipts} == {department}
    handlers = [requests.Session(), requests.Session()]
    for n, session in enumerate(handlers):
        session.headers["Authorization"] = "Bearer " + deployment.staff_token(f"handler{n}", "handler", department)

    def act(session, reference, payload):
        return lambda: session.post(f"{base}/api/v1/cases/{reference}/actions", json=payload, timeout=120)

    answers = []
    for m in range(MATTERS):
        a, b = receipts[2 * m]["reference"], receipts[2 * m + 1]["reference"]
        answers += [act(handlers[0], a, {"action": "accept"})(), act(handlers[0], b, {"action": "accept"})()]
        # Each handler links its case to the other's at the same moment.
        answers += _together([act(handlers[0], a, {"action": "link", "to_reference": b}),
                              act(handlers[1], b, {"action": "link", "to_reference": a})])
        conclusion = {"action": "conclude", "outcome": "substantiated", "summary": "查实", "fine": "100000.00"}
        answers += _together([act(handlers[0], a, conclusion), act(handlers[1], b, conclusion)])
    assert all(r.status_code < 500 and no_stack_trace(r.text) for r in answers), \
        [(r.status_code, r.text[:300]) for r in answers if r.status_code >= 500]
    refused = [r for r in answers if r.status_code != 200]
    assert all(r.status_code == 409 for r in refused), [(r.status_code, r.text[:200]) for r in refused]

    url = deployment.database_url
    for m in range(MATTERS):
        references = (receipts[2 * m]["reference"], receipts[2 * m + 1]["reference"])
        tips = faults.query(url, "SELECT id, matter_id, received_at FROM tips WHERE reference IN (:a, :b)",
                            a=references[0], b=references[1])
        first = min(tips, key=lambda t: (t.received_at, t.id))
        # One matter, rooted at the first tip; one reward for it, in the first reporter's name.
        assert sorted((t.matter_id or t.id) for t in tips) == [first.id, first.id]
        rewards = faults.query(url, "SELECT tip_id, matter_tip_id FROM rewards WHERE matter_tip_id IN (:a, :b)",
                               a=tips[0].id, b=tips[1].id)
        assert [(r.tip_id, r.matter_tip_id) for r in rewards] == [(first.id, first.id)]
    verified = deployment.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
