"""The insider's retaliation check-ins at 30, 90 and 180 days, and the matter opened for 区人社局."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from tests.followup.helpers import conclude, concluded_days_ago, file_tip, open_status, tip_by_reference
from tests.intake.helpers import NAMED
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.followup import services
from tipoff.followup.models import InsiderCheck
from tipoff.intake.models import ReporterIdentity, Tip

QUESTION = "您是否因举报受到打击报复？"
ACCOUNT = "检查组走后第二天，车间主任就把我调到仓库看门，还扣发了当月绩效奖金。"


def insider_concluded(app, client, make_staff, days: int, **changes) -> tuple[str, str]:
    """An insider tip concluded `days` days ago: (reference, access code)."""
    reference, code = file_tip(client, insider="1", **changes)
    conclude(app, make_staff, reference)
    concluded_days_ago(app, reference, days)
    return reference, code


def answer(client, reference: str, day: int, retaliation: str, kinds=(), account: str = "", consent: bool = False):
    data = {"reference": reference, "day": str(day), "retaliation": retaliation, "kinds": list(kinds),
            "account": account}
    if consent:
        data["consent"] = "1"
    return client.post("/status/insider-check", data=data)


def checks(app, reference: str) -> list[InsiderCheck]:
    with app.app_context():
        tip = tip_by_reference(reference)
        return list(db.session.scalars(select(InsiderCheck).where(InsiderCheck.tip_id == tip.id)
                                       .order_by(InsiderCheck.id)))


def test_due_at_30_days_for_insiders_only(app, client, make_staff):
    reference, code = file_tip(client, insider="1")
    conclude(app, make_staff, reference)
    assert QUESTION not in open_status(client, reference, code)  # just concluded: not yet
    with app.app_context():
        assert services.unanswered_due() == 0

    concluded_days_ago(app, reference, 30)
    page = client.get("/status").get_data(as_text=True)
    assert QUESTION in page and 'name="day" value="30"' in page
    assert "同意将此情况转交区人力资源和社会保障局处理" in page
    with app.app_context():
        assert services.unanswered_due() == 1
        department_id = tip_by_reference(reference).department_id
        assert services.unanswered_due(department_id + 1000) == 0

    other = app.test_client()
    plain, plain_code = file_tip(other)  # not an insider
    conclude(app, make_staff, plain)
    concluded_days_ago(app, plain, 31)
    assert QUESTION not in open_status(other, plain, plain_code)
    with app.app_context():
        assert services.unanswered_due() == 1


def test_no_is_recorded_and_the_question_goes_away(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 31)
    open_status(client, reference, code)
    response = answer(client, reference, 30, "no")
    assert response.status_code == 302 and response.headers["Location"].endswith("/status#insider-check")
    assert QUESTION not in client.get("/status").get_data(as_text=True)
    [check] = checks(app, reference)
    assert (check.day, check.retaliation, check.consent, check.account_sealed, check.matter_tip_id) == \
        (30, False, None, None, None)
    assert check.answered_at is not None
    with app.app_context():
        assert services.unanswered_due() == 0
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tip.insider_check"))
        assert entry.details == {"day": 30, "answered": True} and entry.department_id is None
    assert answer(client, reference, 30, "no").status_code == 409  # answered once


def test_the_180_day_check_comes_after_the_90_day_one_is_answered(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 91)
    page = open_status(client, reference, code)
    assert 'name="day" value="90"' in page  # the 30-day check, never answered, is superseded
    assert answer(client, reference, 30, "no").status_code == 409
    assert answer(client, reference, 90, "no").status_code == 302
    assert QUESTION not in client.get("/status").get_data(as_text=True)

    concluded_days_ago(app, reference, 181)
    page = client.get("/status").get_data(as_text=True)
    assert QUESTION in page and 'name="day" value="180"' in page
    assert answer(client, reference, 180, "no").status_code == 302
    assert [c.day for c in checks(app, reference)] == [90, 180]

    concluded_days_ago(app, reference, 300)  # long past the last check: nothing more is asked
    assert QUESTION not in client.get("/status").get_data(as_text=True)


def test_a_yes_needs_what_happened_and_keeps_what_was_typed(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 31)
    open_status(client, reference, code)
    response = answer(client, reference, 30, "yes", account=ACCOUNT)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "请选择受到的打击报复方式" in body and ACCOUNT in body
    response = answer(client, reference, 30, "yes", kinds=["transfer", "pay_cut"], consent=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "至少 10 个字" in body
    assert 'value="transfer" checked' in body and 'value="pay_cut" checked' in body
    assert checks(app, reference) == []


def test_yes_without_consent_is_recorded_but_opens_no_matter(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 31)
    open_status(client, reference, code)
    with app.app_context():
        tips_before = db.session.scalar(select(func.count(Tip.id)))
    response = answer(client, reference, 30, "yes", kinds=["pressure"], account=ACCOUNT)
    assert response.status_code == 302
    [check] = checks(app, reference)
    assert (check.retaliation, check.kinds, check.consent, check.matter_tip_id) == (True, ["pressure"], False, None)
    assert ACCOUNT.encode() not in check.account_sealed
    with app.app_context():
        assert db.session.scalar(select(func.count(Tip.id))) == tips_before
        assert services.retaliation_counts() == {"reported": 1, "with_consent": 0, "open_matters": 0}
        assert services.account_of(tip_by_reference(reference), check) == ACCOUNT


def test_yes_with_consent_opens_an_rsj_matter_for_a_named_insider(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 31, **{k: v for k, v in NAMED.items()
                                                                        if k not in ("idempotency_key",)})
    open_status(client, reference, code)
    response = answer(client, reference, 30, "yes", kinds=["transfer", "pay_cut"], account=ACCOUNT, consent=True)
    assert response.status_code == 302
    page = client.get("/status").get_data(as_text=True)
    [check] = checks(app, reference)
    assert check.consent is True and check.kinds == ["pay_cut", "transfer"] and check.matter_tip_id
    assert ACCOUNT.encode() not in check.account_sealed

    with app.app_context():
        original = tip_by_reference(reference)
        matter = db.session.get(Tip, check.matter_tip_id)
        matter_reference = matter.reference
        assert matter_reference in page and "区人力资源和社会保障局" in page
        assert matter.department.code == "rsj" and matter.routing_rule == "insider_retaliation"
        assert (matter.category_code, matter.sector_code, matter.township_code, matter.subject_name) == \
            ("other", original.sector_code, original.township_code, original.subject_name)
        assert matter.insider is True and matter.anonymous is False and matter.channel == "insider_followup"
        assert matter.access_code_hash == original.access_code_hash
        from tipoff.intake.services import description_of

        description = description_of(matter)
        assert reference in description and ACCOUNT in description and "调岗" in description
        # The sealed identity is copied as bytes, never opened; the blind indexes with it.
        copied = {(r.sealed, r.phone_index, r.id_number_index) for r in matter.identities}
        assert copied == {(r.sealed, r.phone_index, r.id_number_index) for r in original.identities}
        assert len(copied) == 1
        # Filed straight to 区人社局: no other department ever had it; the referral is on the audit log.
        referral = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.retaliation_referral"))
        assert referral.object_id == matter.reference and referral.details["original"] == reference
        assert referral.department_id == matter.department_id != original.department_id
        assert matter.copy_to == [] and matter.supervised is False
        # Nothing the reporter wrote reaches the audit log.
        logged = json.dumps([e.details for e in db.session.scalars(select(AuditEntry))], ensure_ascii=False)
        assert "车间主任" not in logged and "绩效奖金" not in logged
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tip.insider_check"))
        # District scope, no yes/no, no kinds: the employer's regulator reads its department's audit log.
        assert entry.details == {"day": 30, "answered": True, "matter": matter_reference}
        assert entry.department_id is None
        assert services.retaliation_counts() == {"reported": 1, "with_consent": 1, "open_matters": 1}
        assert services.retaliation_counts(original.department_id)["reported"] == 1
        # The matter is not itself checked on: its original is.
        matter.concluded_at = original.concluded_at
        assert services.due_day(matter) is None

    # The reporter's one access code opens the matter too.
    other = app.test_client()
    response = other.post("/status", data={"reference": matter_reference, "access_code": code})
    assert response.status_code == 302
    page = other.get("/status").get_data(as_text=True)
    assert matter_reference in page and "区人力资源和社会保障局" in page


def test_an_anonymous_insider_stays_anonymous_in_the_matter(app, client, make_staff):
    reference, code = insider_concluded(app, client, make_staff, 31)
    open_status(client, reference, code)
    assert answer(client, reference, 30, "yes", kinds=["dismissal"], account=ACCOUNT, consent=True).status_code == 302
    [check] = checks(app, reference)
    with app.app_context():
        matter = db.session.get(Tip, check.matter_tip_id)
        assert matter.anonymous is True and matter.department.code == "rsj"
        assert db.session.scalar(select(func.count(ReporterIdentity.id))) == 0
        matter.status = "closed"
        db.session.commit()
        assert services.retaliation_counts() == {"reported": 1, "with_consent": 1, "open_matters": 0}
