"""The API shell: one error shape for malformed JSON, invalid fields, wrong methods and crashes."""
from __future__ import annotations

import pytest
from flask import Blueprint
from marshmallow import Schema, fields, validate

from tests.conftest import make_app
from tipoff.api import json_body


class EchoSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=10))
    count = fields.Integer(required=True)


@pytest.fixture
def api_app(tmp_path, pg_schema):
    """A tipoff app with two extra JSON routes that exercise the shared helpers."""
    app = make_app(tmp_path, pg_schema)
    probe = Blueprint("probe", __name__, url_prefix="/api/v1/probe")

    @probe.post("/echo")
    def echo():
        return json_body(EchoSchema())

    @probe.get("/boom")
    def boom():
        raise RuntimeError("secret internals 13800138000")

    from tipoff.extensions import csrf

    csrf.exempt(probe)
    app.register_blueprint(probe)
    return app


def error_of(response) -> dict:
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:200]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    return body["error"]


@pytest.mark.parametrize("data, content_type, status, code", [
    ("{not json", "application/json", 400, "malformed_json"),
    ("", "application/json", 400, "malformed_json"),
    ('{"name": "x", "count": 1}', "text/plain", 400, "malformed_json"),
    ("[1, 2]", "application/json", 422, "validation_failed"),
    ('{"name": "", "count": "many"}', "application/json", 422, "validation_failed"),
    ('{"name": "x", "count": 1, "extra": true}', "application/json", 422, "validation_failed"),
])
def test_bad_json_gets_one_error_shape(api_app, data, content_type, status, code):
    response = api_app.test_client().post("/api/v1/probe/echo", data=data, content_type=content_type)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_invalid_fields_are_named(api_app):
    response = api_app.test_client().post("/api/v1/probe/echo", json={"name": "far too long a name"})
    error = error_of(response)
    assert set(error["fields"]) == {"name", "count"}


def test_valid_json_passes(api_app):
    response = api_app.test_client().post("/api/v1/probe/echo", json={"name": "ok", "count": 2})
    assert response.status_code == 200 and response.get_json() == {"name": "ok", "count": 2}


def test_unexpected_error_is_json_500_without_internals(api_app):
    response = api_app.test_client().get("/api/v1/probe/boom")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "13800138000" not in response.get_data(as_text=True)


def test_wrong_method_is_json_405(client):
    response = client.post("/api/v1/catalog", json={})
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_rate_limit_key_is_not_the_client_address(app):
    from tipoff.privacy import client_fingerprint

    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        key = client_fingerprint()
    assert "203.0.113.9" not in key and len(key) == 32
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.10"}):
        assert client_fingerprint() != key


def test_absurdly_deep_json_is_400_not_500(api_app):
    body = "[" * 100_000 + "]" * 100_000
    response = api_app.test_client().post("/api/v1/probe/echo", data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"


def test_ipv6_clients_share_a_bucket_per_64(app):
    from tipoff.privacy import client_fingerprint

    def key(address):
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
            return client_fingerprint()

    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:ffff::9")
    assert key("2001:db8:1:2::1") != key("2001:db8:1:3::1")
    assert key("::ffff:203.0.113.9") == key("203.0.113.9")
