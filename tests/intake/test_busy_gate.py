"""The refusal before Flask (tipoff.intake.busy_gate): while every lookup slot is taken, an API access-code
check is answered exactly as the view would answer it, without running the app; otherwise it is untouched."""
from __future__ import annotations

import ast
import inspect
import os
import re

import pytest

from tests.intake.test_api import TIP
from tests.intake.test_lookup_slots import _lookup_failures, holding_slots
from tipoff.intake import api as intake_api
from tipoff.intake.busy_gate import GATED_PATHS, BusyGate

WRONG = {"reference": "JA-2026-000001", "access_code": "1" * 16}
COMPARED_HEADERS = ("Content-Type", "Retry-After", "Cache-Control", "Content-Security-Policy",
                    "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options", "Cross-Origin-Opener-Policy",
                    "Permissions-Policy", "Strict-Transport-Security")


def _flask_only(app):
    """A client of the same app without the gate: the refusal the view itself gives."""
    from flask.testing import FlaskClient

    class Ungated(FlaskClient):
        def open(self, *args, **kwargs):
            gate = app.wsgi_app
            app.wsgi_app = gate.wsgi_app
            try:
                return super().open(*args, **kwargs)
            finally:
                app.wsgi_app = gate

    return Ungated(app, app.response_class, use_cookies=True)


def test_the_gate_is_the_outermost_layer(app):
    assert isinstance(app.wsgi_app, BusyGate)


def test_every_api_view_that_checks_an_access_code_is_gated():
    """GATED_PATHS names exactly the API routes whose view runs open_for_reporter."""
    tree = ast.parse(inspect.getsource(intake_api))
    checking = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and "open_for_reporter" in ast.unparse(node):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "api_route":
                    checking.add("/api/v1" + decorator.args[0].value)
    assert checking and checking == set(GATED_PATHS)


def _count_flask_calls(app) -> list:
    """Count the requests that get past the gate into Flask."""
    calls, gate = [], app.wsgi_app
    inner = gate.wsgi_app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    gate.wsgi_app = counting
    return calls


@pytest.mark.parametrize("language, cookie", [("zh_CN", None), ("en", "en")])
def test_a_refusal_before_flask_is_the_views_refusal(app, language, cookie):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=0)
    gated, ungated = app.test_client(), _flask_only(app)
    reached_flask = _count_flask_calls(app)
    if cookie:
        for client in (gated, ungated):
            client.set_cookie("tipoff_lang", cookie)
    with holding_slots(app, 1):
        before_flask = gated.post("/api/v1/tips/lookup", json=WRONG)
        in_flask = ungated.post("/api/v1/tips/lookup", json=WRONG)
    assert reached_flask == ["/api/v1/tips/lookup"]  # the ungated client's request only
    assert before_flask.status_code == in_flask.status_code == 503
    assert before_flask.get_json() == in_flask.get_json()
    assert before_flask.get_json()["error"]["code"] == "lookup_busy"
    assert ("Many people" in before_flask.get_json()["error"]["message"]) == (language == "en")
    for name in COMPARED_HEADERS:
        assert before_flask.headers.get(name) == in_flask.headers.get(name), name
    # An id of the app's kind (16 hex digits), fresh per refusal, for finding it in the access log.
    assert re.fullmatch(r"[0-9a-f]{16}", before_flask.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{16}", in_flask.headers["X-Request-ID"])
    assert _lookup_failures(app) == 0


def test_the_gate_refuses_every_gated_path_and_nothing_else(app):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=0)
    client = app.test_client()
    reached_flask = _count_flask_calls(app)
    with holding_slots(app, 1):
        refused = [client.post(path, json=WRONG).status_code for path in sorted(GATED_PATHS)]
        assert reached_flask == []
        submitted = client.post("/api/v1/tips", json=TIP)
        health = client.get("/healthz")
        spec = client.get("/api/v1/tips/lookup")  # not a POST: Flask answers (405)
    assert refused == [503] * len(GATED_PATHS)
    assert submitted.status_code == 201 and health.status_code == 200 and spec.status_code == 405


def test_with_a_slot_free_the_request_reaches_the_view(app, client):
    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=0)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    assert client.post("/api/v1/tips/lookup", json={**WRONG, "reference": receipt["reference"]}).status_code == 404
    opened = client.post("/api/v1/tips/lookup",
                         json={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    assert opened.status_code == 200 and _lookup_failures(app) == 1


def test_looking_never_takes_a_slot_from_a_real_lookup(app):
    """The gate's look takes no lock: a lookup taking the slot while others look always gets it."""
    import threading

    from tipoff.intake import kdf_slots

    with app.app_context():
        directory = kdf_slots.slot_dir()
    stop, looks = threading.Event(), [0]

    def look():
        while not stop.is_set():
            kdf_slots.any_slot_free(directory, 1)
            looks[0] += 1

    lookers = [threading.Thread(target=look, daemon=True) for _ in range(3)]
    for thread in lookers:
        thread.start()
    try:
        taken = []
        for _ in range(300):
            fd = kdf_slots._try_slot(directory, 1)
            taken.append(fd is not None)
            if fd is not None:
                assert not kdf_slots.any_slot_free(directory, 1)  # held: the look sees it
                os.close(fd)
    finally:
        stop.set()
        for thread in lookers:
            thread.join(10)
    assert all(taken) and looks[0] > 300


def test_when_lookups_may_wait_for_a_slot_the_gate_stands_aside(app, client):
    """TIPOFF_LOOKUP_KDF_WAIT_MS > 0: the request waits in Flask and is served once the slot frees."""
    import threading
    import time

    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=5000)
    receipt = client.post("/api/v1/tips", json=TIP).get_json()
    with holding_slots(app, 1) as release:
        threading.Timer(0.3, release.set).start()
        started = time.monotonic()
        answer = client.post("/api/v1/tips/lookup",
                             json={"reference": receipt["reference"], "access_code": receipt["access_code"]})
    assert answer.status_code == 200 and time.monotonic() - started >= 0.25


def test_a_vanished_slot_directory_is_left_to_flask(app, client):
    """Deleted by a temp cleaner: nothing fails; the directory is made again and the lookup answered."""
    import shutil

    from tipoff.intake import kdf_slots

    app.config.update(TIPOFF_LOOKUP_KDF_SLOTS=1, TIPOFF_LOOKUP_KDF_WAIT_MS=0)
    with app.app_context():
        directory = kdf_slots.slot_dir()
    shutil.rmtree(directory)
    assert client.post("/api/v1/tips/lookup", json=WRONG).status_code == 404
    assert directory.is_dir()
