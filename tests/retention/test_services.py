"""Destroying what closed cases keep past their periods: through the CLI, on a real database and real files."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.intake.helpers import VALID
from tests.retention.helpers import DESCRIPTION, EVIDENCE, MAJOR_NAMED, closed_case, file_tip, tip_of, user
from tipoff import crypto
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as cases
from tipoff.crypto.models import DataKey
from tipoff.disclosure import services as disclosure
from tipoff.errors import Conflict
from tipoff.extensions import db
from tipoff.intake import attachments
from tipoff.intake.models import Attachment, ReporterIdentity
from tipoff.retention import services
from tipoff.retention.models import RetentionMark


def stored_files(app) -> list[Path]:
    return [p for p in (Path(app.config["TIPOFF_DATA_DIR"]) / "attachments").iterdir() if p.is_file()]


def state(app, reference):
    """(data key destroyed?, sealed identities left, blind indexes left) of a tip."""
    with app.app_context():
        tip = tip_of(reference)
        original = crypto.data_key_of(tip.description_sealed)  # the key the tip was filed under
        identities = db.session.scalars(select(ReporterIdentity).where(ReporterIdentity.tip_id == tip.id)).all()
        keys = db.session.scalars(select(DataKey).where(DataKey.purpose == "tip")).all()
        return (original.wrapped is None, sum(i.sealed is not None for i in identities),
                sum(bool(i.phone_index or i.id_number_index) for i in identities), len(keys))


def test_dry_run_lists_then_the_run_destroys_once(app, client, runner, people):
    reference, _ = closed_case(app, client, people, years=11)
    recent, _ = closed_case(app, client, people, years=1)
    files_before = stored_files(app)
    assert len(files_before) == 2

    dry = runner.invoke(args=["tipoff", "retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    lines = [line for line in dry.output.splitlines() if line.startswith(reference)]
    assert {line.split("\t")[1].split(" ")[0] for line in lines} == {"evidence", "identity"}
    assert recent not in dry.output
    assert "欧阳" not in dry.output and "139" not in dry.output and DESCRIPTION not in dry.output
    assert "nothing changed" in dry.output
    assert stored_files(app) == files_before and state(app, reference)[:3] == (False, 1, 1)

    done = runner.invoke(args=["tipoff", "retention"])
    assert done.exit_code == 0, done.output
    assert "evidence destroyed for 1 tip(s) (1 file(s)); identity destroyed for 1 tip(s) (1 record(s))" in done.output
    destroyed, sealed, indexes, _ = state(app, reference)
    assert (destroyed, sealed, indexes) == (True, 0, 0)
    assert len(stored_files(app)) == 1 and state(app, recent)[:3] == (False, 1, 1)

    again = runner.invoke(args=["tipoff", "retention"])
    assert "evidence destroyed for 0 tip(s)" in again.output and "identity destroyed for 0 tip(s)" in again.output
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("retention.%"))).all()
        assert sorted(e.action for e in entries) == ["retention.evidence_destroyed", "retention.identity_destroyed"]
        evidence_entry = next(e for e in entries if e.action == "retention.evidence_destroyed")
        assert evidence_entry.object_id == reference and evidence_entry.details["files"] == 1
        assert evidence_entry.details["messages"] == 1  # the conclusion told the reporter
        assert all(DESCRIPTION not in str(e.details) for e in entries)
    verify = runner.invoke(args=["tipoff", "audit", "verify"])
    assert verify.exit_code == 0 and "audit chain OK" in verify.output


def test_after_destruction_every_view_answers_and_says_so(app, client, runner, people, login_as):
    reference, code = closed_case(app, client, people)
    assert runner.invoke(args=["tipoff", "retention"]).exit_code == 0

    with app.app_context():
        tip = tip_of(reference)
        attachment = db.session.scalar(select(Attachment).where(Attachment.tip_id == tip.id))
        with pytest.raises(attachments.EvidenceDestroyed) as refused:
            attachments.read_attachment(tip, attachment)
        assert refused.value.status == 410 and "已按保存期限销毁" in refused.value.message
        with pytest.raises(crypto.DataKeyDestroyed):  # the ciphertext is there, but its key is gone for good
            crypto.decrypt(tip.description_sealed)
        # The custodian's path: nothing to open, said plainly.
        with pytest.raises(Conflict) as gone:
            disclosure.request_disclosure(user(people, "handler"), reference, "contact", "需要联系举报人核实")
        assert gone.value.code == "identity_destroyed" and "已按保存期限销毁" in gone.value.message

    login_as("handler", "zjj")
    page = client.get(f"/staff/cases/{reference}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert DESCRIPTION not in body and "现场核查情况说明" not in body and "受理备注" not in body
    assert "已按保存期限销毁" in body and "保存期限与法律保全" in body
    asked = client.post(f"/staff/disclosures/request/{reference}", data={"purpose": "contact", "reason": "需要联系核实"},
                        follow_redirects=True)
    assert "举报人身份信息已按保存期限销毁" in asked.get_data(as_text=True)
    api = client.get(f"/staff/cases/{reference}", headers={"Accept": "application/json"})
    assert api.status_code == 200

    # Writing to the case still works (a fresh key), and that too goes on the next run.
    note = client.post(f"/staff/cases/{reference}/actions/note", data={"body": "归档备注", "version": ""})
    assert note.status_code == 302
    assert "归档备注" in client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    rerun = runner.invoke(args=["tipoff", "retention"])
    assert "evidence destroyed for 1 tip(s) (0 file(s))" in rerun.output
    assert "归档备注" not in client.get(f"/staff/cases/{reference}").get_data(as_text=True)

    reporter = app.test_client()
    status = reporter.post("/status", data={"reference": reference, "access_code": code}, follow_redirects=True)
    assert status.status_code == 200 and "已按保存期限销毁" in status.get_data(as_text=True)


def test_dashboard_public_report_and_exports_work_on_destroyed_cases(app, client, runner, people, login_as):
    reference, _ = closed_case(app, client, people, data=MAJOR_NAMED, outcome="substantiated", fine="100000.00")
    with app.app_context():  # the reward of the matter is finished: the reporter declined it
        from tipoff.rewards import services as rewards

        reward = rewards.reward_of_tip(tip_of(reference))
        rewards.perform(user(people, "handler"), reward.id, "not_eligible", {"reason": "举报前已掌握"})
    assert "evidence destroyed for 1 tip(s)" in runner.invoke(args=["tipoff", "retention"]).output
    assert runner.invoke(args=["tipoff", "stats", "refresh", "--full"]).exit_code == 0
    login_as("overseer")
    assert client.get("/staff/oversight/").status_code == 200
    assert client.get("/staff/oversight/cases").status_code == 200
    for form in ("csv", "xlsx"):
        exported = client.get(f"/staff/exports/?format={form}&status=closed")
        assert exported.status_code == 200 and exported.get_data()  # read it all: the export streams
    assert reference in client.get("/staff/exports/?format=csv&status=closed").get_data(as_text=True)
    assert client.get("/staff/rewards/ledger").status_code == 200
    assert client.get("/public").status_code == 200
    assert client.get("/staff/retention/").status_code == 200


def test_a_hold_an_open_reward_or_a_pending_disclosure_stops_it(app, client, runner, people):
    held, _ = closed_case(app, client, people)
    rewarded, _ = closed_case(app, client, people, data=MAJOR_NAMED, outcome="substantiated", fine="100000.00")
    asked, _ = closed_case(app, client, people)
    with app.app_context():
        services.set_hold(user(people, "overseer"), held, "行政诉讼（2026）豫1003行初12号")
        disclosure.request_disclosure(user(people, "handler"), asked, "contact", "需要联系举报人核实")
    dry = runner.invoke(args=["tipoff", "retention", "--dry-run"])
    assert "0 item(s) due" in dry.output and "1 held back" in dry.output
    runner.invoke(args=["tipoff", "retention"])
    for reference in (held, rewarded, asked):
        assert state(app, reference)[:3] == (False, 1, 1), reference

    with app.app_context():
        services.lift_hold(user(people, "overseer"), held, "诉讼已终结，判决生效")
    runner.invoke(args=["tipoff", "retention"])
    assert state(app, held)[:3] == (True, 0, 0)
    assert state(app, rewarded)[:3] == (False, 1, 1)


def test_a_matter_goes_together_and_only_when_all_of_it_is_closed(app, client, runner, people):
    first, _ = closed_case(app, client, people)
    second, _ = file_tip(client, {**VALID, "description": "同一加气站漏气，另一位举报人"})
    with app.app_context():
        cases.perform(user(people, "handler"), second, "link", {"to_reference": first})
    runner.invoke(args=["tipoff", "retention"])
    assert state(app, first)[:3] == (False, 1, 1)  # the matter still has an open tip

    with app.app_context():
        cases.perform(user(people, "handler"), second, "reject", {"reason_code": "already_handled", "reason": "已处理"})
        cases.perform(user(people, "handler"), second, "close", {})
    # Closed now: the matter counts from this latest closing, so nothing goes yet.
    assert "0 item(s) due" in runner.invoke(args=["tipoff", "retention", "--dry-run"]).output
    from tests.retention.helpers import closed_years_ago

    closed_years_ago(app, second, 11)
    out = runner.invoke(args=["tipoff", "retention"]).output
    assert "evidence destroyed for 2 tip(s)" in out and "identity destroyed for 1 tip(s)" in out
    assert state(app, first)[0] and state(app, second)[0]


def test_identity_goes_before_evidence_with_the_default_periods(app, client, runner, people):
    reference, _ = closed_case(app, client, people, years=6)
    out = runner.invoke(args=["tipoff", "retention"]).output
    assert "evidence destroyed for 0 tip(s)" in out and "identity destroyed for 1 tip(s)" in out
    assert state(app, reference)[:3] == (False, 0, 0)
    with app.app_context():
        mark = db.session.get(RetentionMark, tip_of(reference).id)
        assert mark.identity_destroyed_at is not None and mark.evidence_destroyed_at is None
        # The evidence is still readable; the identity is not.
        tip = tip_of(reference)
        attachment = db.session.scalar(select(Attachment).where(Attachment.tip_id == tip.id))
        assert attachments.read_attachment(tip, attachment) == EVIDENCE


def test_batches_are_small_transactions_and_a_rerun_finishes_the_job(app, client, runner, people):
    references = [closed_case(app, client, people)[0] for _ in range(3)]
    out = runner.invoke(args=["tipoff", "retention", "--batch-size", "1"]).output
    assert "matters checked 3" in out and "evidence destroyed for 3 tip(s) (3 file(s))" in out
    assert all(state(app, r)[:3] == (True, 0, 0) for r in references)
    assert stored_files(app) == []


def test_a_case_between_its_two_periods_is_not_rescanned(app, client, runner, people):
    """Identity goes at five years, evidence at ten: in between, later runs do not look at the case again."""
    reference, _ = closed_case(app, client, people, years=6)
    first = runner.invoke(args=["tipoff", "retention"])
    assert "identity destroyed for 1 tip(s)" in first.output and "evidence destroyed for 0 tip(s)" in first.output
    again = runner.invoke(args=["tipoff", "retention", "--dry-run"])
    assert "in 0 matter(s) checked" in again.output, again.output
    with app.app_context():
        assert services.run(dry_run=True, max_matters=0).truncated
