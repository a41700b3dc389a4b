"""A reward's life through the services and pages: opened by a verified conclusion, proposed, approved with
separation of duties, notified, claimed by the reporter on /status, paid by finance — and every refusal."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import CUSTODIAN_PASSPHRASE, login
from tests.intake.helpers import VALID, receipt_of
from tipoff.audit.models import AuditEntry
from tipoff.cases import services as cases
from tipoff.db import utcnow
from tipoff.disclosure import services as disclosure
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.rewards import services
from tipoff.rewards.models import Reward

from tests.rewards.helpers import MAJOR, MAJOR_NAMED, user, verified, walk_to_notified


def test_a_verified_conclusion_opens_one_reward_with_the_calculation(app, client, people):
    reference, _, reward_id = verified(app, client, people)
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert reward.status == "assessing" and reward.rule_set_code == "national-2018"
        assert reward.calculated_fen == 1_500_000, reward.explanation
        assert reward.explanation == "罚款 ¥100,000 × 15% = ¥15,000（国家2018办法，最低¥3,000，最高¥300,000）"
        assert reward.eligibility["verified"]["ok"] is True and reward.eligibility["not_known"]["ok"] is None
        assert reward.eligibility["not_excluded"]["ok"] is None  # anonymous: checked when claiming
    login(client, people["leader"])  # pages name the rule set, not only its code
    assert "国家2018办法 <code>national-2018</code>" in client.get(f"/staff/rewards/{reward_id}").get_data(as_text=True)
    assert "（国家2018办法）" in client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    history = client.get(f"/staff/rewards/{reward_id}").get_data(as_text=True).split('id="history-title"')[1]
    assert "开始评估奖励" in history and "· open" not in history


def test_unsubstantiated_opens_no_reward(app, client, people):
    assert verified(app, client, people, outcome="unsubstantiated")[2] is None


def test_a_general_hazard_is_assessed_but_earns_nothing_under_national_2018(app, client, people):
    _, _, reward_id = verified(app, client, people, data=VALID)
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert reward.calculated_fen == 0 and "不在国家2018办法的奖励范围内" in reward.explanation
        with pytest.raises(ValidationFailed):  # nothing to propose: the handler records "not eligible" instead
            services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no"})
        services.perform(user(people, "handler"), reward_id, "not_eligible", {"reason": "一般事故隐患不在奖励范围内"})
        assert db.session.get(Reward, reward_id).status == "not_eligible"


def test_anonymous_reporter_claims_in_person_and_finance_pays_against_the_code(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "¥15,000" in page and "罚款 ¥100,000 × 15%" in page and "领取期限" in page
    missing = client.post("/status/reward/claim", data={"reference": reference})
    assert missing.status_code == 422 and "请选择领取方式" in missing.get_data(as_text=True)
    assert client.post("/status/reward/claim", data={"reference": reference, "method": "in_person"}).status_code == 302
    with app.app_context():
        finance = user(people, "finance")
        with pytest.raises(ValidationFailed) as wrong_code:
            services.perform(finance, reward_id, "pay", {"paid_at": services.today_beijing().isoformat(), "amount": "15000.00",
                                                         "method": "cash", "voucher_no": "JZ-2026-001",
                                                         "access_code": "0000000000000000"})
        assert "access_code" in wrong_code.value.fields
        with pytest.raises(ValidationFailed) as wrong_amount:
            services.perform(finance, reward_id, "pay", {"paid_at": services.today_beijing().isoformat(), "amount": "15000.01",
                                                         "method": "cash", "voucher_no": "JZ-2026-001",
                                                         "access_code": code, "collector_id_number": "11010519491231002X"})
        assert "amount" in wrong_amount.value.fields
        services.perform(finance, reward_id, "pay", {"paid_at": services.today_beijing().isoformat(), "amount": "15000.00",
                                                     "method": "cash", "voucher_no": "JZ-2026-001", "access_code": code, "collector_id_number": "11010519491231002X"})
        reward = db.session.get(Reward, reward_id)
        assert reward.status == "paid" and reward.paid_fen == 1_500_000 and reward.voucher_no == "JZ-2026-001"
        with pytest.raises(Conflict):  # paying twice
            services.perform(finance, reward_id, "pay", {"paid_at": services.today_beijing().isoformat(), "amount": "15000.00",
                                                         "method": "cash", "voucher_no": "JZ-2026-002",
                                                         "access_code": code, "collector_id_number": "11010519491231002X"})
    assert "奖励已发放" in client.get("/status").get_data(as_text=True)


def test_separation_of_duties_and_scope(app, client, people):
    _, _, reward_id = verified(app, client, people)
    with app.app_context():
        with pytest.raises(Conflict) as not_answered_yet:
            services.perform(user(people, "leader"), reward_id, "approve", {})
        assert not_answered_yet.value.code == "wrong_state"
        with pytest.raises(ValidationFailed):  # the "known before" question must be answered
            services.perform(user(people, "handler"), reward_id, "propose", {})
        services.perform(user(people, "leader"), reward_id, "propose", {"known_before": "no"})
        with pytest.raises(Forbidden):  # approving your own proposal
            services.perform(user(people, "leader"), reward_id, "approve", {})
        with pytest.raises(Forbidden):  # handlers do not approve
            services.perform(user(people, "handler"), reward_id, "approve", {})
        with pytest.raises(NotFound):   # another department's leader does not even see it
            services.perform(user(people, "other_leader"), reward_id, "approve", {})
        with pytest.raises(Conflict) as unapproved:  # paying an unapproved reward
            services.perform(user(people, "finance"), reward_id, "pay", {})
        assert unapproved.value.code == "wrong_state"
        assert db.session.get(Reward, reward_id).status == "proposed"


def test_a_different_amount_needs_a_reason(app, client, people):
    _, _, reward_id = verified(app, client, people)
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no", "amount": "12000"})
        assert "amount_reason" in caught.value.fields
        for bad in ("-5", "12.345", "abc", "1e12"):
            with pytest.raises(ValidationFailed) as bad_amount:
                services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no", "amount": bad})
            assert "amount" in bad_amount.value.fields
        services.perform(user(people, "handler"), reward_id, "propose",
                         {"known_before": "no", "amount": "12000", "amount_reason": "部分事实未查实"})
        assert db.session.get(Reward, reward_id).amount_fen == 1_200_000


def test_known_before_blocks_until_a_leader_records_a_reason(app, client, people):
    _, _, reward_id = verified(app, client, people)
    with app.app_context():
        with pytest.raises(Conflict) as caught:
            services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "yes"})
        assert caught.value.code == "not_eligible" and "举报前未被掌握" in caught.value.message
        with pytest.raises(Forbidden):
            services.perform(user(people, "handler"), reward_id, "override", {"reason": "x"})
        services.perform(user(people, "leader"), reward_id, "override", {"reason": "虽已掌握但未依法处理"})
        services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "yes"})
        assert db.session.get(Reward, reward_id).status == "proposed"


def test_large_rewards_also_need_the_overseer(app, client, people):
    _, _, reward_id = verified(app, client, people, fine="1000000.00")  # ¥150,000 > ¥50,000
    with app.app_context():
        services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no"})
        with pytest.raises(Conflict):
            services.perform(user(people, "overseer"), reward_id, "approve", {})  # the leader comes first
        services.perform(user(people, "leader"), reward_id, "approve", {})
        assert db.session.get(Reward, reward_id).status == "proposed"
        services.perform(user(people, "overseer"), reward_id, "approve", {})
        assert db.session.get(Reward, reward_id).status == "approved"


def test_named_bank_claim_is_sealed_and_paid_only_after_a_disclosure(app, client, people):
    reference, code, reward_id = verified(app, client, people, data=MAJOR_NAMED)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    bad = client.post("/status/reward/claim", data={"reference": reference, "method": "bank", "holder": "欧阳明哲",
                                                   "bank": "中国银行许昌分行", "account": "12ab", "phone": "13912345678",
                                                   "id_number": "11010519491231002X"})
    assert bad.status_code == 422 and "8 至 30 位数字" in bad.get_data(as_text=True)
    assert 'value="中国银行许昌分行"' in bad.get_data(as_text=True)  # typed values kept
    good = client.post("/status/reward/claim", data={"reference": reference, "method": "bank", "holder": "欧阳明哲",
                                                    "bank": "中国银行许昌分行", "account": "6217 0000 1234 5678",
                                                    "phone": "13912345678", "id_number": "11010519491231002X"})
    assert good.status_code == 302
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert reward.status == "claimed" and reward.claim_method == "bank"
        finance = user(people, "finance")
        pay = {"paid_at": services.today_beijing().isoformat(), "amount": "15000.00", "method": "bank_transfer",
               "voucher_no": "ZZ-88"}
        with pytest.raises(Conflict) as caught:
            services.perform(finance, reward_id, "pay", pay)
        assert caught.value.code == "disclosure_needed"
        with pytest.raises(NotFound):
            disclosure.request_payment_disclosure(user(people, "other_finance"), reward_id, "按银行转账发放奖励")
        request = disclosure.request_payment_disclosure(finance, reward_id, "按银行转账发放奖励")
        disclosure.decide(user(people, "custodian"), request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        opened = disclosure.view_identity(finance, request.id)
        assert opened.name == "欧阳明哲" and opened.account == "6217000012345678" and opened.bank == "中国银行许昌分行"
        services.perform(finance, reward_id, "pay", pay)
        assert db.session.get(Reward, reward_id).status == "paid"
        # The bank details and name are nowhere in plaintext: not in the reward, its history, or the audit log.
        blob = " ".join(str(v) for e in db.session.scalars(select(AuditEntry)) for v in (e.details, e.reason))
        blob += " ".join(str(e.note) + str(e.details) for e in services.history(reward))
        for secret in ("欧阳明哲", "6217000012345678", "13912345678", "11010519491231002X"):
            assert secret not in blob


def test_two_reporters_of_one_matter_produce_one_reward_for_the_earlier(app, client, people):
    first, first_code = receipt_of(client.post("/report", data={**MAJOR_NAMED, "subject_name": "灵井燃气有限公司"}))
    second, _ = receipt_of(client.post("/report", data={**MAJOR, "subject_name": "灵井燃气公司"}))
    with app.app_context():
        handler = user(people, "handler")
        cases.perform(handler, first, "accept", {})
        cases.perform(handler, second, "accept", {})
        cases.perform(handler, second, "link", {"to_reference": first})
        cases.perform(handler, second, "conclude", {"outcome": "substantiated", "summary": "查实", "fine": "100000"})
        cases.perform(handler, first, "conclude", {"outcome": "substantiated", "summary": "查实", "fine": "100000"})
        rewards = db.session.scalars(select(Reward)).all()
        assert len(rewards) == 1
        reward = rewards[0]
        assert reward.tip.reference == first and "不另行奖励" in reward.eligibility["first"]["note"]
        assert second in reward.eligibility["first"]["note"]


def test_reporter_objects_to_the_amount_then_it_is_proposed_again(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    short = client.post("/status/reward/object", data={"reference": reference, "amount_objection": "少"})
    assert short.status_code == 422
    assert client.post("/status/reward/object", data={"reference": reference,
                                                     "amount_objection": "罚款不止十万元，请重新核算。"}).status_code == 302
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        assert reward.status == "assessing" and reward.claim_deadline is None
        services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no"})
        assert db.session.get(Reward, reward_id).status == "proposed"


def test_expiry_job_publishes_then_expires(app, client, people, runner):
    reference, _, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        reward.notified_at = utcnow() - timedelta(days=31)
        db.session.commit()
    result = runner.invoke(args=["tipoff", "rewards", "expire"])
    assert result.exit_code == 0 and "published 1, expired 0" in result.output
    notices = client.get("/rewards/notices").get_data(as_text=True)
    assert reference in notices and "¥15,000" in notices
    with app.app_context():
        reward = db.session.get(Reward, reward_id)
        reward.claim_deadline = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert "expired 1" in runner.invoke(args=["tipoff", "rewards", "expire"]).output
    assert reference not in client.get("/rewards/notices").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Reward, reward_id).status == "expired"


def test_reward_pages_by_role(app, client, people):
    _, _, reward_id = verified(app, client, people)
    for key, expected in (("handler", 200), ("leader", 200), ("finance", 200), ("overseer", 200),
                          ("other_leader", 404), ("other_finance", 404)):
        c = app.test_client()
        login(c, people[key])
        assert c.get(f"/staff/rewards/{reward_id}").status_code == expected, key


def test_api_lists_shows_and_acts_in_scope(app, client, people):
    from tipoff.accounts.tokens import create_api_token

    _, _, reward_id = verified(app, client, people)
    with app.app_context():
        token = create_api_token(user(people, "handler"), "rewards")
        other = create_api_token(user(people, "other_leader"), "rewards")
    api, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    listed = api.get("/api/v1/rewards", headers=headers).get_json()["rewards"]
    assert [r["id"] for r in listed] == [reward_id] and listed[0]["calculated"] == "15000.00"
    assert api.get("/api/v1/rewards?status=nope", headers=headers).status_code == 422
    assert api.get(f"/api/v1/rewards/{reward_id}", headers={"Authorization": f"Bearer {other}"}).status_code == 404
    bad = api.post(f"/api/v1/rewards/{reward_id}/actions", json={"action": "propose", "known_before": "no",
                                                               "amount": "12.345"}, headers=headers)
    assert bad.status_code == 422 and "amount" in bad.get_json()["error"]["fields"]
    done = api.post(f"/api/v1/rewards/{reward_id}/actions", json={"action": "propose", "known_before": "no"},
                    headers=headers)
    assert done.status_code == 200 and done.get_json()["status"] == "proposed" and done.get_json()["amount"] == "15000.00"
    stale = api.post(f"/api/v1/rewards/{reward_id}/actions", json={"action": "send_back", "reason": "x", "version": 1},
                     headers=headers)
    assert stale.status_code in (403, 409)
    assert api.post(f"/api/v1/rewards/{reward_id}/actions", data="[]", headers={**headers,
                    "Content-Type": "application/json"}).status_code == 400
