"""Writing entries: what the actor is, what details are refused, and sealing after commit."""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import timezone

import pytest
from flask_login import login_user
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.audit.helpers import chain_stats, seal_of, write_entries
from tipoff.accounts.models import User
from tipoff.audit import chain, services
from tipoff.audit.chain import ZERO_HASH
from tipoff.audit.models import AuditEntry, AuditSeal
from tipoff.extensions import db


@pytest.mark.parametrize("details", [
    {"ip": "x"},
    {"IP-Address": "x"},
    {"remote_addr": "x"},
    {"X-Forwarded-For": "x"},
    {"meta": {"phone": "13800000000"}},
    {"items": [{"name": "张三"}]},
    {"id_number": "x"},
    {"source": "203.0.113.7"},
    {"source": " 2001:db8::1 "},
])
def test_record_refuses_personal_data_and_addresses(app_ctx, details):
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ValueError):
        services.record("test.refused", actor="test", details=details)
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    assert not db.session.info.get(services._PENDING)


def test_record_accepts_ordinary_details(app_ctx):
    entry = db.session.get(AuditEntry, services.record(
        "test.ok", actor="test", object_id=42,
        details={"username": "leader1", "at": "12:30:00", "version": "1.2.3", 1: "x"}))
    assert entry.object_id == "42"
    # Stored as a JSON round trip gives it back (non-string keys become strings), so hashes stay stable.
    assert entry.details == {"username": "leader1", "at": "12:30:00", "version": "1.2.3", "1": "x"}


@pytest.mark.parametrize("actor", ["张三", "Some Name", "", "x" * 70])
def test_record_refuses_free_text_actor_labels(app_ctx, actor):
    with pytest.raises(ValueError):
        services.record("test.actor", actor=actor)


def test_actor_defaults_to_logged_in_user_then_system(app, make_staff):
    staff = make_staff("leader", "zjj")
    with app.app_context():
        assert db.session.get(AuditEntry, services.record("test.actor")).actor_label == "system"
        db.session.rollback()
    with app.test_request_context("/staff/"):
        user = db.session.get(User, staff.id)
        login_user(user)
        entry = db.session.get(AuditEntry, services.record("test.actor"))
        assert (entry.actor_user_id, entry.actor_label, entry.actor_role) == (staff.id, staff.username, "leader")
        labelled = db.session.get(AuditEntry, services.record("test.actor", actor="cli"))
        assert (labelled.actor_user_id, labelled.actor_label, labelled.actor_role) == (None, "cli", None)
        db.session.rollback()


def test_entries_are_sealed_when_the_context_ends(app):
    with app.app_context():
        entry_id = services.record("test.seal", actor="test", reason="理由", details={"b": 1, "a": [1, "二"]})
        db.session.commit()
        # Committed but not yet sealed: sealing runs in its own transaction after this context.
        assert db.session.scalar(select(AuditSeal).where(AuditSeal.entry_id == entry_id)) is None
    seal = seal_of(app, entry_id)
    assert seal is not None
    stats = chain_stats(app)
    assert stats["unsealed"] == 0 and stats["contiguous"] and seal.seq == stats["seals"]


def test_hash_format_is_the_documented_canonical_json(app):
    """An outside verifier can recompute the hashes from the rows with nothing but SHA-256."""
    [entry_id] = write_entries(app, 1, reason="核查")
    seal = seal_of(app, entry_id)
    with app.app_context():
        entry = db.session.get(AuditEntry, entry_id)
        previous = db.session.scalar(select(AuditSeal.chain_hash).where(AuditSeal.seq == seal.seq - 1))
        payload = {
            "id": entry.id, "created_at": entry.created_at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
            "actor_user_id": None, "actor_label": "test", "actor_role": None, "action": "test.entry",
            "object_type": "thing", "object_id": "0", "department_id": None, "reason": "核查",
            "details": {"n": 0, "备注": "中文"},
        }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert seal.alg == "sha256"
    assert seal.entry_hash == hashlib.sha256(canonical).hexdigest()
    assert seal.prev_hash == (previous or ZERO_HASH)
    link = f"{seal.prev_hash}|{seal.seq}|{entry_id}|{seal.entry_hash}".encode()
    assert seal.chain_hash == hashlib.sha256(link).hexdigest()


def test_rolled_back_entries_leave_nothing(app):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(AuditEntry))
        services.record("test.rolled_back", actor="test")
        db.session.flush()
        db.session.rollback()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_sealing_failure_never_fails_the_request(app, client, login_as, monkeypatch, caplog):
    login_as("admin")

    def broken(**kwargs):
        raise OperationalError("INSERT INTO audit_seals", {}, Exception("disk full"))

    monkeypatch.setattr(chain, "seal_all_pending", broken)  # what a commit's teardown seals with
    with caplog.at_level(logging.ERROR, logger="tipoff.audit"):
        response = client.get("/staff/audit/")
    assert response.status_code == 200
    assert "sealing after commit failed" in caplog.text
    with app.app_context():
        view_id = db.session.scalar(select(func.max(AuditEntry.id)).where(AuditEntry.action == "audit.view"))
    assert view_id is not None and seal_of(app, view_id) is None
    monkeypatch.undo()
    with app.app_context():
        assert services.verify_chain().ok
    assert seal_of(app, view_id) is not None
