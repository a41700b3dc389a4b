"""Fuzz the JSON API from its own OpenAPI document (schemathesis, in-process through the WSGI app).

Every operation, public ones without a token and staff ones with an overseer's bearer token (district
scope: every case and reward exists for it), must answer without a 5xx, with a status the document
lists, the documented content type and a body that matches the documented schema. The default run is
small enough for `make test`; TIPOFF_RUN_SLOW=1 runs a heavier one (marker `slow`).
"""
from __future__ import annotations

import pytest
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, given, settings

from tests.security.conftest import build_world, secure_app
from tipoff.extensions import db


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory, pg_schema):
    app = secure_app(tmp_path_factory.mktemp("fuzz"), pg_schema)
    world = build_world(app)
    yield world
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# What the issue asks: no 5xx, documented statuses, content types, headers and bodies. Not
# `positive_data_acceptance`: a schema-valid body may still name an unknown category or a reference that
# does not exist, and the 4xx that follows is right.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance]
FUZZ_SETTINGS = dict(deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(HealthCheck))


def _call(case, world, role: str = "overseer"):
    headers = {}
    if "security" in case.operation.definition.raw:
        headers["Authorization"] = f"Bearer {world.tokens[role]}"
    case.call_and_validate(headers=headers, checks=CHECKS)


def fuzz_every_operation(world, max_examples: int) -> None:
    """Run every documented operation through hypothesis; report every operation that failed."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", world.app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, **FUZZ_SETTINGS)
        def run(case):
            _call(case, world)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report every operation's failure
            failures.append(f"{operation.label}:\n{str(exc)[:3000]}")
    assert operations >= 15, f"only {operations} operations in the OpenAPI document"
    assert not failures, "\n\n".join(failures)


def test_api_answers_as_documented(fuzz_world):
    fuzz_every_operation(fuzz_world, max_examples=25)


@pytest.mark.slow
def test_api_answers_as_documented_heavy(fuzz_world):
    fuzz_every_operation(fuzz_world, max_examples=300)
