"""Loading reference data into the database: idempotent, never deletes, admin edits survive."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.reference import services
from tipoff.reference.models import Category, Department, RoutingRule, Sector, Township
from tipoff.reference.seedfile import ReferenceDataError

TABLES = {"departments": Department, "townships": Township, "sectors": Sector, "categories": Category,
          "routing_rules": RoutingRule}


def row_counts() -> dict[str, int]:
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in TABLES.items()}


def seed_file(app) -> Path:
    return Path(app.config["TIPOFF_REFERENCE_FILE"])


def audit_actions(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_first_load_inserts_everything_and_is_audited(app_ctx):
    # The app fixture loaded the seed file into an empty database.
    assert row_counts() == {"departments": 37, "townships": 19, "sectors": 22, "categories": 5, "routing_rules": 8}
    [entry] = audit_actions("reference.load")
    assert entry.actor_label == "cli"
    assert entry.details["counts"]["sectors"] == {"inserted": 22, "updated": 0}


def test_loading_again_changes_nothing(app_ctx):
    before = row_counts()
    report = services.load_reference_data(seed_file(app_ctx))
    assert str(report) == "departments +0, townships +0, sectors +0, categories +0, routing rules +0 (0 updated)"
    assert row_counts() == before
    assert len(audit_actions("reference.load")) == 1  # an empty re-load is not logged


def test_report_wording_on_empty_database(app_ctx):
    from tests.conftest import reset_database

    reset_database()
    report = services.load_reference_data(seed_file(app_ctx))
    assert str(report) == "departments +37, townships +19, sectors +22, categories +5, routing rules +8 (0 updated)"
    assert report.district == "许昌市建安区"


def test_admin_edit_survives_reload_and_update_overwrites_only_the_files_fields(app_ctx):
    services.update_department("zjj", name="区住房和城乡建设局（更名）", email="zjj@example.gov.cn", phone="0374-1234567",
                               active=True, actor="test")
    services.update_sector_lead("gas", "yjj", actor="test")

    services.load_reference_data(seed_file(app_ctx))
    assert services.department_by_code("zjj").name == "区住房和城乡建设局（更名）"
    assert db.session.scalar(select(Sector).where(Sector.code == "gas")).lead_department.code == "yjj"

    report = services.load_reference_data(seed_file(app_ctx), update=True)
    zjj = services.department_by_code("zjj")
    assert zjj.name == "区住房和城乡建设局"
    assert zjj.email == "zjj@example.gov.cn"  # not written in the file: kept
    assert db.session.scalar(select(Sector).where(Sector.code == "gas")).lead_department.code == "zjj"
    assert (report.tallies["departments"].updated, report.tallies["sectors"].updated, report.updated) == (1, 1, 2)
    assert str(report).endswith("(2 updated)")


def test_load_never_deletes_and_adds_new_codes(app_ctx, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("departments:\n  - {code: yjj, name: 改名不生效, kind: bureau}\n"
                     "sectors:\n  - {code: pipeline, name: 油气管道, lead_department: fgw}\n", encoding="utf-8")
    before = row_counts()
    report = services.load_reference_data(extra)
    assert str(report) == "departments +0, townships +0, sectors +1, categories +0, routing rules +0 (0 updated)"
    assert row_counts() == {**before, "sectors": before["sectors"] + 1}
    assert services.department_by_code("yjj").name == "区应急管理局"
    assert [s.code for s in services.active_sectors()][-1] == "pipeline"


@pytest.mark.parametrize("text, expected", [
    ("sectors:\n  - {code: gas, name: 燃气, lead_department: zzz}\n",
     "sector 'gas': lead_department 'zzz' is not a department code"),
    ("departments:\n  - {code: new_dept, name: 新部门, kind: bureau}\n"
     "townships:\n  - {code: lingjing, name: 灵井镇, kind: 镇, department: tw_nowhere}\n",
     "township 'lingjing': department 'tw_nowhere' is not a department code"),
])
def test_invalid_file_writes_nothing(app_ctx, tmp_path, text, expected):
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, encoding="utf-8")
    before = row_counts()
    with pytest.raises(ReferenceDataError) as caught:
        services.load_reference_data(broken, update=True)
    assert expected in str(caught.value)
    assert row_counts() == before
    assert services.department_by_code("new_dept") is None


def test_every_reference_between_tables_resolves(app_ctx):
    sectors = services.active_sectors()
    assert {s.code for s in sectors if s.lead_department is None} == {"confined_space", "new_formats", "other"}
    for sector in sectors:
        if sector.lead_department is not None:
            assert sector.lead_department.active and sector.lead_department.kind != "township", sector.code
    for township in services.active_townships():
        assert township.department is not None and township.department.kind == "township", township.code
    codes = {d.code for d in services.handling_departments()}
    for rule in services.routing_rules():
        assert rule.department_code is None or rule.department_code in codes, rule.code
        assert set(rule.copy_to or []) <= codes | {"township", "sector_lead"}, rule.code


def test_read_helpers_follow_display_order_and_hide_inactive(app_ctx):
    assert [c.code for c in services.active_categories()] == [
        "major_hazard", "hazard", "violation", "concealed_accident", "other"]
    assert [r.code for r in services.routing_rules()][0] == "r1_concealed_accident"
    services.update_department("rsj", name="区人力资源和社会保障局", email=None, phone=None, active=False, actor="test")
    assert "rsj" not in {d.code for d in services.handling_departments()}
    assert services.department_by_code("rsj").active is False
    assert services.department_by_code("nope") is None


def test_department_edit_is_audited_without_contact_values(app_ctx):
    services.update_department("wlj", name="区文化和旅游局", email="wlj@example.gov.cn", phone=None, active=True,
                               actor="test")
    [entry] = audit_actions("reference.department.update")
    assert entry.object_id == "wlj"
    assert entry.details["before"] == {"department_name": "区文化广电和旅游局"}
    assert entry.details["after"] == {"department_name": "区文化和旅游局"}
    assert entry.details["contact_changed"] == ["email"]
    assert "wlj@example.gov.cn" not in str(entry.details)


def test_sector_lead_change_is_audited(app_ctx):
    services.update_sector_lead("new_formats", "wlj", actor="test")
    [entry] = audit_actions("reference.sector.lead")
    assert (entry.details["before"], entry.details["after"]) == (
        {"lead_department": None}, {"lead_department": "wlj"})


def test_township_edit_is_audited(app_ctx):
    services.update_township("kaifaqu", name="先进制造业开发区", department_code="tw_xuyou", active=True,
                             actor="test")
    township = db.session.scalar(select(Township).where(Township.code == "kaifaqu"))
    assert township.department.code == "tw_xuyou"
    [entry] = audit_actions("reference.township.update")
    assert entry.details["before"] == {"department": "tw_kaifaqu"}
    assert entry.details["after"] == {"department": "tw_xuyou"}


@pytest.mark.parametrize("call, field", [
    (lambda: services.update_department("zjj", name=" ", email=None, phone=None, active=True, actor="test"), "name"),
    (lambda: services.update_department("zjj", name="住建局", email="not-an-email", phone=None, active=True,
                                        actor="test"), "email"),
    # zjj still leads gas, construction and crowded venues: deactivating it would strand them.
    (lambda: services.update_department("zjj", name="住建局", email=None, phone=None, active=False,
                                        actor="test"), "active"),
    (lambda: services.update_sector_lead("gas", "no_such_dept", actor="test"), "lead_department"),
    # A township government does not lead a district-wide sector, nor a bureau govern a township.
    (lambda: services.update_sector_lead("gas", "tw_lingjing", actor="test"), "lead_department"),
    (lambda: services.update_township("lingjing", name="灵井镇", department_code="zjj", active=True,
                                      actor="test"), "department"),
    (lambda: services.update_township("lingjing", name="灵井镇", department_code="nope", active=True,
                                      actor="test"), "department"),
])
def test_invalid_edits_are_refused_naming_the_field(app_ctx, call, field):
    from tipoff.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        call()
    assert field in caught.value.fields
    db.session.rollback()
    assert services.department_by_code("zjj").name == "区住房和城乡建设局"
    assert services.department_by_code("zjj").active


def test_unknown_code_is_not_found(app_ctx):
    from tipoff.errors import NotFound

    with pytest.raises(NotFound):
        services.update_sector_lead("no_such_sector", "zjj", actor="test")
