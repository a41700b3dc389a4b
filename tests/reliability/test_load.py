"""Load and concurrency: 200 reporters at once across 4 gunicorn workers, limits shared through Redis."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.reliability.clients import Reporter, no_stack_trace, submit_api, submit_form
from tests.reliability.deployment import Deployment

pytestmark = pytest.mark.slow

REPORTERS = 200


def assert_logs_hold_no_identity(site: Deployment, reporters: list[Reporter]) -> None:
    """Nothing the gunicorn processes wrote names a reporter, their phone, or any client's address."""
    logs = site.log_text()
    assert logs.strip(), "the servers wrote no log at all: the check below would prove nothing"
    for reporter in reporters:
        assert reporter.address not in logs
        if reporter.named:
            assert reporter.name not in logs and reporter.phone not in logs
    assert "Traceback" not in logs


def test_200_reporters_at_once_across_four_workers(deployment):
    """200 distinct receipts, every tip readable by staff, no 5xx, the audit chain intact, limits on."""
    base = deployment.start(workers=4)
    token = deployment.staff_token("load.overseer", "overseer")
    reporters = [Reporter(n, named=n % 3 == 0) for n in range(REPORTERS)]
    start = threading.Barrier(REPORTERS)

    def one(reporter: Reporter):
        session = requests.Session()
        if reporter.number % 2:  # half through the HTML form with its CSRF token, half through the API
            from tests.reliability.clients import csrf_token

            token = csrf_token(session, base, reporter.headers())
            start.wait()
            return submit_form(base, reporter, session, token)
        start.wait()
        return submit_api(base, reporter, session)

    with ThreadPoolExecutor(max_workers=REPORTERS) as pool:
        outcomes = list(pool.map(one, reporters))

    statuses = {o.status for o in outcomes}
    assert statuses == {201}, [(o.status, o.body[:300]) for o in outcomes if o.status != 201][:5]
    references = {o.reference for o in outcomes}
    assert len(references) == REPORTERS and None not in references
    assert all(no_stack_trace(o.body) for o in outcomes)

    staff = requests.Session()
    staff.headers["Authorization"] = f"Bearer {token}"
    for outcome in outcomes:
        case = staff.get(f"{base}/api/v1/cases/{outcome.reference}", timeout=30)
        assert case.status_code == 200, case.text[:300]
        assert (case.json()["reference"], case.json()["subject_name"]) == (outcome.reference,
                                                                           outcome.reporter.subject)

    verified = deployment.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
    deployment.stop()
    assert_logs_hold_no_identity(deployment, reporters)


def test_a_clients_lookup_limit_is_shared_by_every_worker_and_server(deployment):
    """Two gunicorn masters (two app servers) share Redis: wrong codes counted on one are refused on the other."""
    first, second = deployment.start(workers=4), deployment.start(workers=2)
    reporter, other_client = Reporter(1, named=False), Reporter(2, named=False)
    receipt = submit_api(first, reporter)
    assert receipt.status == 201
    wrong = {"reference": receipt.reference, "access_code": "0000000000000000"}

    answers = []
    for attempt in range(5):  # the limit: 5 wrong codes per reference and client in 15 minutes
        server = first if attempt % 2 else second
        answers.append(requests.post(f"{server}/api/v1/tips/lookup", json=wrong, headers=reporter.headers(),
                                     timeout=30).status_code)
    assert answers == [404] * 5

    for server in (first, second):  # the sixth is refused wherever it lands, with the right code too
        refused = requests.post(f"{server}/api/v1/tips/lookup", json={**wrong, "access_code": receipt.access_code},
                                headers=reporter.headers(), timeout=30)
        assert refused.status_code == 429, refused.text[:300]
        assert refused.json()["error"]["code"] == "too_many_requests"
        assert int(refused.headers["Retry-After"]) > 0

    # Counted per client: another address holding the right code is let in on either server.
    for server in (first, second):
        allowed = requests.post(f"{server}/api/v1/tips/lookup", json={**wrong, "access_code": receipt.access_code},
                                headers=other_client.headers(), timeout=30)
        assert allowed.status_code == 200, allowed.text[:300]

    import redis

    keys = redis.Redis.from_url(deployment.env["TIPOFF_RATELIMIT_STORAGE_URI"]).keys("*")
    assert keys, "the limiter stored nothing in Redis"
    assert not any(reporter.address.encode() in key for key in keys)  # buckets hold a keyed hash, never the address
    deployment.stop()
    assert_logs_hold_no_identity(deployment, [reporter, other_client])
