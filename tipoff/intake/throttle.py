"""Throttling wrong access codes: per (reference, client) and per reference, counted on failures only.

The same limits cover the status form and the JSON API, and apply whether or not the reference exists
(a 429 must not reveal which references are real). Windows are minutes, never a permanent lock.
"""
from __future__ import annotations

from flask import current_app, request

from tipoff.extensions import limiter
from tipoff.intake.services import normalise_reference
from tipoff.privacy import client_fingerprint


def _typed_reference() -> str:
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("reference") if isinstance(body, dict) else ""
    else:
        value = request.form.get("reference", "")
    return normalise_reference(value if isinstance(value, str) else "") or "invalid"


def _per_reference_and_client() -> str:
    return f"{_typed_reference()}|{client_fingerprint()}"


def _failed(response) -> bool:
    return response.status_code == 404


def _limit(name: str):
    return lambda: current_app.config[name]


# Used as decorators on every view that checks an access code.
per_reference_and_client = limiter.shared_limit(
    _limit("TIPOFF_LOOKUP_LIMIT_PER_CLIENT"), scope="tip-reference-client", key_func=_per_reference_and_client,
    deduct_when=_failed)
per_reference = limiter.shared_limit(
    _limit("TIPOFF_LOOKUP_LIMIT_PER_REFERENCE"), scope="tip-reference", key_func=_typed_reference,
    deduct_when=_failed)
