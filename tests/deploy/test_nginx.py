"""deploy/nginx.conf in front of gunicorn, as in production (the HTTP listener on a free port instead of
TLS): a tip goes through, /healthz answers, and neither nginx's logs nor gunicorn's hold the client's
address (nor the address a client claims in X-Forwarded-For)."""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
from urllib.parse import quote

import pytest

from benchmarks.nginx import NGINX, Nginx
from tests.intake.test_api import TIP
from tests.reliability.deployment import Deployment, free_port

CLIENT = "127.0.0.2"        # the client connects from here (any 127/8 address is local on Linux)
CLAIMED = "203.0.113.77"    # what the client pretends to be in X-Forwarded-For
IN_FLIGHT = 4               # deploy/nginx.conf: limit_conn tipoff_access_code_inflight (all addresses)
IN_FLIGHT_PER_ADDRESS = 2   # and tipoff_access_code_inflight_client

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx-light)")]


def request(port: int, method: str, path: str, body: dict | None = None,
            source: str = CLIENT) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))
    headers = {"X-Forwarded-For": CLAIMED, "Host": "tipoff.example.gov.cn"}
    payload = None
    if body is not None:
        payload = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


@pytest.fixture
def stack(tmp_path):
    yield from running_stack(tmp_path)


def running_stack(tmp_path, **app_env: str):
    """A deployment (2 workers) behind deploy/nginx.conf: yields (deployment, nginx's port, nginx's prefix)."""
    deployment = Deployment(tmp_path, None, TIPOFF_LOG_FORMAT="json", TIPOFF_RATELIMIT_STORAGE_URI="memory://")
    deployment.initialise()
    upstream = deployment.start(workers=2, **app_env)
    nginx = Nginx(tmp_path / "nginx", free_port(), int(upstream.rsplit(":", 1)[1]))
    try:
        nginx.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if request(nginx.port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        yield deployment, nginx.port, nginx.prefix
    finally:
        nginx.stop()
        deployment.stop()


def test_a_tip_through_nginx_leaves_no_address_in_any_log(stack):
    deployment, port, prefix = stack
    status, headers, body = request(port, "GET", "/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    assert "max-age=31536000" in headers["Strict-Transport-Security"]
    status, headers, body = request(port, "POST", "/api/v1/tips", TIP)
    assert status == 201, body[:500]
    request_id = headers["X-Request-ID"]
    reference = json.loads(body)["reference"]
    assert request(port, "GET", "/report?unit=" + quote("某某化工"))[0] == 200
    time.sleep(1)  # nginx writes its access log line after the response
    nginx_log = (prefix / "tipoff.log").read_text()
    gunicorn_log = deployment.log_text()
    assert f"POST /api/v1/tips HTTP/1.1\" 201" in nginx_log and f"rid={request_id}" in nginx_log
    assert quote("某某") not in nginx_log and "unit=" not in nginx_log  # the query string stays out
    assert f"rid={request_id}" in gunicorn_log
    for text in (nginx_log, gunicorn_log, (prefix / "tipoff-error.log").read_text()):
        assert CLIENT not in text and CLAIMED not in text
    # gunicorn's lines and the application's are all JSON objects, and none holds the reference's tip text.
    for line in filter(str.strip, gunicorn_log.splitlines()):
        json.loads(line)
    assert reference and TIP["subject_name"] not in gunicorn_log


def keep_alive(port: int, source: str = CLIENT) -> http.client.HTTPConnection:
    """One connection kept open for several requests, as a browser or a flooding script keeps one."""
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60, source_address=(source, 0))


def timed_request(conn: http.client.HTTPConnection, path: str, *, body: dict | None = None,
                  form: str | None = None) -> tuple[int, dict, bytes, float]:
    """POST JSON (`body`) or a form on `conn`; with the seconds the answer took."""
    started = time.monotonic()
    if form is None:
        payload, content_type = json.dumps(body).encode(), "application/json"
    else:
        payload, content_type = form.encode(), "application/x-www-form-urlencoded"
    conn.request("POST", path, body=payload, headers={"Host": "tipoff.example.gov.cn", "Content-Type": content_type})
    response = conn.getresponse()
    data = response.read()
    return response.status, dict(response.getheaders()), data, time.monotonic() - started


def nginx_made(headers: dict) -> bool:
    """nginx's own answers carry its request id (32 hex digits); the app's carry the app's."""
    return re.fullmatch(r"[0-9a-f]{32}", headers.get("X-Request-ID", "")) is not None


def test_nginx_refuses_an_access_code_flood_before_the_app_slowly_and_never_limits_reports(stack):
    """Beyond its burst, one address's lookups get nginx's own 429 (the API's JSON, Retry-After), held about
    two seconds on a connection kept open, so that a flood waiting for answers sends few; a refusal on a
    new connection is not held (it would pin a connection per request); reports from that address pass."""
    deployment, port, prefix = stack
    wrong = {"reference": "JA-2026-000000", "access_code": "0" * 16}
    conn = keep_alive(port)
    answers = [timed_request(conn, "/api/v1/tips/lookup", body=wrong) for _ in range(13)]
    conn.close()
    assert all(status < 500 for status, *_ in answers), [status for status, *_ in answers]
    refused_by_nginx = [answer for answer in answers if answer[0] == 429 and nginx_made(answer[1])]
    assert refused_by_nginx, [(status, headers.get("X-Request-ID")) for status, headers, *_ in answers]
    for status, headers, body, seconds in refused_by_nginx:
        assert json.loads(body)["error"]["code"] == "too_many_requests" and headers["Retry-After"] == "10"
        assert headers["Cache-Control"] == "no-store" and seconds >= 1.5, seconds
    # A new connection for each check: nginx still refuses (the address is over its rate), at once.
    fresh = [timed_request(keep_alive(port), "/api/v1/tips/lookup", body=wrong) for _ in range(4)]
    at_once = [seconds for status, headers, _, seconds in fresh if status == 429 and nginx_made(headers)]
    assert at_once and max(at_once) < 1.5, [(status, seconds) for status, _, _, seconds in fresh]
    status, _, body = request(port, "POST", "/api/v1/tips", TIP)  # the same address may still report
    assert status == 201, body[:300]
    time.sleep(1)
    for text in ((prefix / "tipoff.log").read_text(), (prefix / "tipoff-error.log").read_text()):
        assert CLIENT not in text  # refusals leave no address behind either


def test_refusals_are_logged_one_in_a_hundred_and_everything_else_always(stack):
    """A flood must not fill the disk with its own log lines: 429s are sampled (1 %), other answers not."""
    deployment, port, prefix = stack
    wrong = {"reference": "JA-2026-000000", "access_code": "0" * 16}
    statuses = [request(port, "POST", "/api/v1/tips/lookup", wrong, source="127.0.0.4")[0] for _ in range(300)]
    refused, answered = statuses.count(429), statuses.count(404)
    assert refused >= 250 and answered >= 1 and refused + answered == 300, statuses
    assert request(port, "GET", "/healthz", source="127.0.0.4")[0] == 200
    time.sleep(1)  # nginx writes its access log line after the response
    lines = (prefix / "tipoff.log").read_text().splitlines()
    logged_refusals = [line for line in lines if '"POST /api/v1/tips/lookup HTTP/1.1" 429' in line]
    assert len(logged_refusals) < refused / 10, len(logged_refusals)  # 1 % expected: ~3 of ~290
    assert len([line for line in lines if '"POST /api/v1/tips/lookup HTTP/1.1" 404' in line]) == answered
    assert any('"GET /healthz HTTP/1.1" 200' in line for line in lines)


def test_nginx_refuses_the_web_forms_flood_with_a_page(stack):
    """The reporter's page (POST /status) beyond nginx's rate: a short page in both languages, not JSON."""
    deployment, port, prefix = stack
    form = "reference=JA-2026-000000&access_code=0000000000000000"
    conn = keep_alive(port, "127.0.0.3")
    answers = [timed_request(conn, "/status", form=form) for _ in range(13)]
    conn.close()
    assert all(status < 500 for status, *_ in answers), [status for status, *_ in answers]
    pages = [answer for answer in answers if answer[0] == 429 and nginx_made(answer[1])]
    assert pages, [status for status, *_ in answers]
    for status, headers, body, seconds in pages:
        assert headers["Content-Type"] == "text/html; charset=utf-8" and seconds >= 1.5, seconds
        text = body.decode()
        assert '<html lang="zh-CN">' in text and "请稍等片刻再试" in text and "Too many attempts" in text


def test_nginx_lets_only_a_few_api_access_code_checks_in_at_once(tmp_path):
    """However many addresses send them, the API's checks beyond the in-flight limits (per address, and all
    together) get nginx's 503 at once, the app's JSON body with Retry-After, so they never queue in the
    workers' threads ahead of submissions; the ones let in get the app's own answer."""
    from flask import Flask

    from tests.intake.test_lookup_slots import holding_slots

    wrong = {"reference": "JA-2026-000000", "access_code": "0" * 16}
    for deployment, port, _prefix in running_stack(tmp_path, TIPOFF_LOOKUP_KDF_SLOTS="1",
                                                   TIPOFF_LOOKUP_KDF_WAIT_MS="30000"):
        slots = Flask("slots")  # the deployment's slot files, held from here as busy lookups would hold them
        slots.config.update(TIPOFF_DATA_DIR=str(deployment.data_dir), TIPOFF_LOOKUP_KDF_SLOTS=1,
                            TIPOFF_LOOKUP_KDF_WAIT_MS=0)
        let_in: list = []

        def check_in_background(source: str) -> threading.Thread:
            sender = threading.Thread(target=lambda: let_in.append(
                request(port, "POST", "/api/v1/tips/lookup", wrong, source=source)))
            sender.start()
            return sender

        def refused_by_nginx(source: str) -> None:
            status, headers, body = request(port, "POST", "/api/v1/tips/lookup", wrong, source=source)
            assert status == 503 and headers.get("Retry-After") == "2", (status, body[:200])
            assert json.loads(body)["error"]["code"] == "lookup_busy"
            assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])  # nginx's id: the app never saw it

        senders = []
        with holding_slots(slots, 1):  # every check let in waits for the slot
            first = "127.0.0.10"
            senders += [check_in_background(first) for _ in range(IN_FLIGHT_PER_ADDRESS)]
            time.sleep(1.5)
            refused_by_nginx(first)  # one address cannot hold more
            others = [f"127.0.0.{11 + n}" for n in range(IN_FLIGHT // IN_FLIGHT_PER_ADDRESS - 1)]
            senders += [check_in_background(source) for source in others for _ in range(IN_FLIGHT_PER_ADDRESS)]
            time.sleep(1.5)
            refused_by_nginx("127.0.0.30")  # a fresh address too, once all together hold the limit
            assert let_in == []  # the ones let in are still waiting for the app's slot
        for sender in senders:
            sender.join(30)
        assert len(let_in) == IN_FLIGHT and all(status == 404 for status, _, _ in let_in), \
            [status for status, _, _ in let_in]
        status, _, body = request(port, "POST", "/api/v1/tips", TIP, source="127.0.0.30")
        assert status == 201, body[:300]  # submissions were never counted
