"""The staff audit view: department scope, filters, the audited read, and chain verification."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.audit.helpers import execute_raw, seal_of, write_entries
from tipoff.accounts.models import User
from tipoff.audit import services
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.reference.models import Department


def department_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Department.id).where(Department.code == code))


@pytest.fixture
def two_departments(app):
    """One entry for department zjj and one for yjj, told apart by their reason."""
    zjj, yjj = department_id(app, "zjj"), department_id(app, "yjj")
    with app.app_context():
        services.record("test.case", actor="test", department_id=zjj, reason="甲部门的记录")
        services.record("test.case", actor="test", department_id=yjj, reason="乙部门的记录")
        db.session.commit()


def test_leader_sees_own_department_only(client, login_as, two_departments):
    login_as("leader", "zjj")
    page = client.get("/staff/audit/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "甲部门的记录" in html and "乙部门的记录" not in html


@pytest.mark.parametrize("role", ["admin", "overseer"])
def test_district_roles_see_every_department(client, login_as, two_departments, role):
    login_as(role)
    html = client.get("/staff/audit/").get_data(as_text=True)
    assert "甲部门的记录" in html and "乙部门的记录" in html


@pytest.mark.parametrize("role, department", [("handler", "zjj"), ("finance", "zjj"), ("custodian", None)])
def test_roles_without_audit_view_are_refused(client, login_as, role, department):
    login_as(role, department)
    assert client.get("/staff/audit/").status_code == 403
    assert client.post("/staff/audit/verify").status_code == 403


def test_viewing_the_log_is_itself_audited_and_sealed(app, client, login_as):
    leader = login_as("leader", "zjj")
    assert client.get("/staff/audit/?action=user.&date_from=2024-01-01&page=1").status_code == 200
    zjj = department_id(app, "zjj")
    with app.app_context():
        views = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "audit.view", AuditEntry.actor_label == leader.username)).all()
        assert len(views) == 1
        view = views[0]
        assert view.actor_role == "leader" and view.department_id == zjj
        assert view.details == {"filters": {"action": "user.", "date_from": "2024-01-01"}, "page": 1}
        view_id = view.id
    # Sealed by the request's teardown, not by a later verify.
    assert seal_of(app, view_id) is not None


def test_page_shows_time_in_beijing_and_seal_status(app, client, login_as):
    with app.app_context():
        entry_id = services.record("test.timed", actor="test", reason="定时记录",
                                details={"备注": "<script>alert(1)</script>"})
        db.session.get(AuditEntry, entry_id).created_at = datetime(2024, 5, 1, 16, 30, 5, tzinfo=timezone.utc)
        db.session.commit()
    login_as("admin")
    html = client.get("/staff/audit/?action=test.timed").get_data(as_text=True)
    assert "2024-05-02 00:30:05" in html  # 16:30 UTC is 00:30 the next day in Asia/Shanghai
    assert "已封存" in html
    assert "备注" in html and "&lt;script&gt;" in html and "<script>alert" not in html
    assert '<th scope="col">' in html and 'for="f-actor"' in html and 'id="f-actor"' in html


def test_filters_and_paging(app, make_staff):
    admin = make_staff("admin")
    write_entries(app, 60, action="test.page")
    with app.app_context():
        late = db.session.get(AuditEntry, services.record("test.dated", actor="cli", object_type="case",
                                                          object_id="A-1"))
        late.created_at = datetime(2024, 5, 1, 16, 30, tzinfo=timezone.utc)  # 2024-05-02 in Beijing
        db.session.commit()
        user = db.session.get(User, admin.id)

        def actions(**args):
            filters = services.AuditFilters.from_args(args)
            return [entry.action for entry, _ in services.entries_for(user, filters, 1, 50).rows]

        first = services.entries_for(user, services.AuditFilters.from_args({"action": "test.page"}), 1, 50)
        second = services.entries_for(user, services.AuditFilters.from_args({"action": "test.page"}), 2, 50)
        assert len(first.rows) == 50 and first.has_next and len(second.rows) == 10 and not second.has_next
        assert first.rows[0][0].id > first.rows[-1][0].id > second.rows[0][0].id  # newest first
        assert all(seq is not None for _, seq in first.rows)
        assert actions(date_from="2024-05-02", date_to="2024-05-02") == ["test.dated"]
        assert actions(date_from="2024-05-01", date_to="2024-05-01") == []
        assert actions(actor="cli", object_type="case", object_id="A-1") == ["test.dated"]
        assert actions(action="test.dat%") == []  # prefix match is literal, not a LIKE pattern
        assert services.AuditFilters.from_args({"date_from": "yesterday"}).errors == {"date_from": "yesterday"}


def test_overseer_verifies_the_chain_and_it_is_audited(app, client, login_as):
    overseer = login_as("overseer")
    ids = write_entries(app, 3)
    response = client.post("/staff/audit/verify")
    assert response.status_code == 200
    assert "哈希链完整" in response.get_data(as_text=True)
    with app.app_context():
        check = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.verify"))
        assert check.actor_label == overseer.username and check.details["ok"] is True
    execute_raw(app, "UPDATE audit_entries SET reason = 'x' WHERE id = :entry", entry=ids[1])
    html = client.post("/staff/audit/verify").get_data(as_text=True)
    assert "审计记录在封存后被改动" in html and f"entry {ids[1]} was altered" in html


def test_leader_may_not_verify(client, login_as):
    login_as("leader", "zjj")
    assert client.post("/staff/audit/verify").status_code == 403


def test_audit_view_is_marked_as_writing(app):
    """The audited read writes an entry, so SQLite must begin it as a writer (BEGIN IMMEDIATE)."""
    assert getattr(app.view_functions["audit.index"], "writes", False) is True


@pytest.mark.parametrize("query", [
    "page=99999999999999999999", "page=-5", "date_to=9999-12-31", "date_from=0001-01-01",
    "actor=::", "actor=192.168.0.1", "date_from=not-a-date", "object_id=" + "x" * 500,
])
def test_odd_filters_never_500(client, login_as, query):
    login_as("admin")
    assert client.get(f"/staff/audit/?{query}").status_code == 200
