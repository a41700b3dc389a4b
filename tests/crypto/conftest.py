"""Fixtures for the crypto tests: a minimal Flask app with only the crypto package and its table.

The full `create_app` pulls in every feature package; these tests need only crypto, so they build
the smallest app that has the same config, database and keyring wiring (plus the audit table the
CLI writes to, with `record` itself faked by `audit_calls`).
"""
from __future__ import annotations

import base64
import sys
import types
from pathlib import Path

import pytest
from flask import Flask
from flask.cli import AppGroup

from config import TestingConfig
from tipoff import crypto
from tipoff.audit.models import AuditEntry
from tipoff.crypto.keyring import current_keyring
from tipoff.crypto.models import DataKey
from tipoff.extensions import db

def build_app(data_dir: Path, **overrides) -> Flask:
    """A testing app with crypto initialised over `data_dir` (database file inside it)."""
    app = Flask("tipoff_crypto_tests")
    app.config.from_object(TestingConfig)
    app.config.update(TIPOFF_ENV="testing", TIPOFF_DATA_DIR=str(data_dir),
                      SQLALCHEMY_DATABASE_URI=f"sqlite:///{data_dir / 'crypto.db'}")
    app.config.update(overrides)
    data_dir.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    crypto.init_app(app)
    with app.app_context():
        DataKey.__table__.create(db.engine, checkfirst=True)
        # The CLI writes audit entries (recorded by the `audit_calls` fake); it checks the table exists.
        AuditEntry.__table__.create(db.engine, checkfirst=True)
    group = AppGroup("tipoff")
    from tipoff.crypto.cli import register

    register(group)
    app.cli.add_command(group)
    return app


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def make_crypto_app(data_dir: Path):
    """Build apps over one shared data dir and database (like several workers or a restart)."""
    apps: list[Flask] = []

    def _make(**overrides) -> Flask:
        app = build_app(data_dir, **overrides)
        apps.append(app)
        return app

    yield _make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def crypto_app(make_crypto_app) -> Flask:
    return make_crypto_app()


@pytest.fixture
def ctx(crypto_app):
    with crypto_app.app_context():
        yield crypto_app


@pytest.fixture
def audit_calls(monkeypatch) -> list[tuple]:
    """Replace tipoff.audit.services with a recorder (the CLI calls `record` then commits)."""
    calls: list[tuple] = []
    fake = types.ModuleType("tipoff.audit.services")
    fake.record = lambda action, **kwargs: calls.append((action, kwargs))
    monkeypatch.setitem(sys.modules, "tipoff.audit.services", fake)
    return calls


def secret_forms(raw: bytes) -> list[str]:
    """Every text form a leaked key could take in output or logs."""
    return [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("="),
            base64.b64encode(raw).decode().rstrip("="), raw.hex(), raw.hex().upper()]


def keyring_secrets() -> list[bytes]:
    """The raw secret keys of the current app's keyring (content keys, blind-index, signing)."""
    ring = current_keyring()
    content = ring.reload_content_keys()
    return [*content.keys.values(), ring.blind_index_key(), ring.signing_seed()]


@pytest.fixture
def assert_no_secrets():
    """assert_no_secrets(text, extra_raw_keys=()): fail if any key of the app appears in `text`."""

    def _check(text: str, extra: tuple[bytes, ...] = ()) -> None:
        raws = [*keyring_secrets(), *extra]
        assert len(raws) >= 3
        for raw in raws:
            for form in secret_forms(raw):
                assert form not in text, "a key value leaked"

    return _check
