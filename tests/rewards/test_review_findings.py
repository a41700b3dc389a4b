"""What a review of the reward workflow found, pinned down: one reward per matter even when tips are linked
later, overrides that cover only what failed when they were given, re-reviews that stop a reward, bank
details opened only for the payment, R7 at the counter, and bad input that must not become a 500."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import CUSTODIAN_PASSPHRASE
from tests.intake.helpers import receipt_of
from tests.rewards.helpers import MAJOR, MAJOR_NAMED, user, verified, walk_to_notified
from tipoff import crypto
from tipoff.cases import services as cases
from tipoff.disclosure import services as disclosure
from tipoff.errors import Conflict
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.rewards import services
from tipoff.rewards.models import ExcludedPerson, Reward

ID_NUMBER = "11010519491231002X"


def reward(reward_id) -> Reward:
    return db.session.get(Reward, reward_id)


def test_linking_an_older_tip_later_moves_the_one_reward_to_the_matter(app, client, people):
    older, _ = receipt_of(client.post("/report", data={**MAJOR_NAMED, "subject_name": "灵井燃气有限公司"}))
    newer, _, reward_id = verified(app, client, people, data={**MAJOR, "subject_name": "灵井燃气公司"})
    with app.app_context():
        handler = user(people, "handler")
        cases.perform(handler, older, "accept", {})
        cases.perform(handler, older, "link", {"to_reference": newer})
        cases.perform(handler, older, "conclude", {"outcome": "substantiated", "summary": "查实", "fine": "100000"})
        rewards = db.session.scalars(select(Reward)).all()
        assert [r.id for r in rewards] == [reward_id]  # still one reward for the matter
        first = db.session.scalar(select(Tip).where(Tip.reference == older))
        assert rewards[0].matter_tip_id == first.id and rewards[0].tip.reference == older


def test_an_override_covers_only_the_checks_failing_when_it_was_given(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    with app.app_context():
        with pytest.raises(Conflict):  # nothing fails yet: nothing to override
            services.perform(user(people, "leader"), reward_id, "override", {"reason": "预先认定"})
        services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no"})
        services.perform(user(people, "leader"), reward_id, "approve", {})
        services.perform(user(people, "handler"), reward_id, "notify", {})
        db.session.add(ExcludedPerson(phone_index=crypto.blind_index("phone", "13800000000"), relation="staff"))
        db.session.commit()
    client.post("/status", data={"reference": reference, "access_code": code})
    client.post("/status/reward/claim", data={"reference": reference, "method": "bank", "holder": "张三丰",
                                              "bank": "中国银行许昌分行", "account": "6217000012345678",
                                              "phone": "13800000000", "id_number": ID_NUMBER})
    with app.app_context():
        blocked = reward(reward_id)
        assert blocked.status == "assessing" and blocked.eligibility["not_excluded"]["ok"] is False
        assert blocked.claim_deadline is None and blocked.public_notice_at is None and blocked.claim_identity_id is None
        with pytest.raises(Conflict) as caught:
            services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "no"})
        assert "不属于不予奖励的人员" in caught.value.message


def test_an_earlier_override_does_not_cover_a_later_exclusion(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    with app.app_context():
        with pytest.raises(Conflict):
            services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "yes"})
        services.perform(user(people, "leader"), reward_id, "override", {"reason": "虽已掌握但未依法处理"})
        services.perform(user(people, "handler"), reward_id, "propose", {"known_before": "yes"})
        assert reward(reward_id).eligibility["overridden"] == ["not_known"]


def test_a_re_review_pauses_the_reward_and_an_untrue_result_ends_it(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        tip.deadline_at = None  # keep the objection window open whatever the clock says
        db.session.commit()
        cases.reporter_objects(tip, "整改没有落实，还在漏气。")
        assert services.under_review(reward(reward_id))
        cases.perform(user(people, "handler"), reference, "conclude",
                      {"outcome": "unsubstantiated", "summary": "复查：原结论有误，未发现隐患。"})
        lapsed = reward(reward_id)
        assert lapsed.status == "not_eligible" and "核查结论改为“不属实”" in lapsed.not_eligible_reason  # words, not a code
    client.post("/status", data={"reference": reference, "access_code": code})
    refused = client.post("/status/reward/claim", data={"reference": reference, "method": "in_person"})
    assert refused.status_code == 409


def test_bank_details_are_opened_only_for_the_payment(app, client, people):
    reference, code, reward_id = verified(app, client, people, data=MAJOR_NAMED)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    client.post("/status/reward/claim", data={"reference": reference, "method": "bank", "holder": "欧阳明哲",
                                              "bank": "中国银行许昌分行", "account": "6217000012345678",
                                              "phone": "13912345678", "id_number": ID_NUMBER})
    with app.app_context():
        request = disclosure.request_disclosure(user(people, "handler"), reference, "contact", "联系举报人核实整改情况")
        disclosure.decide(user(people, "custodian"), request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        opened = disclosure.view_identity(user(people, "handler"), request.id)
        assert opened.bank is None and opened.account is None  # the reporter's own identity, not the bank claim


def test_r7_is_checked_at_the_counter_for_an_anonymous_collector(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    client.post("/status/reward/claim", data={"reference": reference, "method": "in_person"})
    with app.app_context():
        db.session.add(ExcludedPerson(id_number_index=crypto.blind_index("id_number", ID_NUMBER), relation="relative"))
        db.session.commit()
        pay = {"paid_at": services.today_beijing().isoformat(), "amount": "15000.00", "method": "cash",
               "voucher_no": "JZ-9", "access_code": code, "collector_id_number": ID_NUMBER}
        with pytest.raises(Conflict) as caught:
            services.perform(user(people, "finance"), reward_id, "pay", pay)
        assert caught.value.code == "excluded" and reward(reward_id).status == "claimed"


def test_a_claim_can_be_sent_back_and_a_reward_withdrawn(app, client, people):
    reference, code, reward_id = verified(app, client, people)
    walk_to_notified(app, people, reward_id)
    client.post("/status", data={"reference": reference, "access_code": code})
    client.post("/status/reward/claim", data={"reference": reference, "method": "in_person"})
    with app.app_context():
        services.perform(user(people, "finance"), reward_id, "reopen_claim", {"reason": "领取人未能到场，请重新选择"})
        assert reward(reward_id).status == "notified" and reward(reward_id).claim_method is None
        services.perform(user(people, "leader"), reward_id, "withdraw", {"reason": "发现举报前已被掌握"})
        assert reward(reward_id).status == "not_eligible"


def test_bad_input_is_a_clear_refusal_not_a_500(app, client, people, login_as):
    from tipoff.accounts.tokens import create_api_token

    _, _, reward_id = verified(app, client, people)
    with app.app_context():
        token = create_api_token(user(people, "handler"), "t")
    api, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    huge = api.post(f"/api/v1/rewards/{reward_id}/actions", json={"action": "propose", "version": 2**70},
                    headers=headers)
    assert huge.status_code == 422
    assert api.get(f"/api/v1/rewards/{10**25}", headers=headers).status_code == 404
    listy = api.post(f"/api/v1/rewards/{reward_id}/actions",
                     json={"action": "propose", "known_before": ["no"], "amount": {"x": 1}}, headers=headers)
    assert listy.status_code in (409, 422)
    login_as("handler", "zjj")
    assert client.get(f"/staff/rewards/{10**25}").status_code == 404
    posted = client.post(f"/staff/rewards/{reward_id}/actions/propose",
                         data={"known_before": "no", "version": "9" * 30})
    assert posted.status_code in (302, 409, 422)


def test_the_matter_note_gives_beijing_time_like_every_other_staff_page():
    """R4/R6's note on the reward page said "… 00:47:24 UTC" where the case page says 08:47."""
    from datetime import datetime, timezone
    from types import SimpleNamespace

    from tipoff.rewards.eligibility import matter_note

    first = SimpleNamespace(id=1, reference="JA-2026-000001",
                            received_at=datetime(2026, 12, 6, 16, 30, tzinfo=timezone.utc))
    later = SimpleNamespace(id=2, reference="JA-2026-000002", received_at=datetime(2026, 12, 7, 1, 2, 3))  # naive: UTC
    assert matter_note([first], first) == "JA-2026-000001（提交于北京时间 2026-12-07 00:30:00）；无关联举报。"
    assert matter_note([first, later], first) == (
        "JA-2026-000001 提交于北京时间 2026-12-07 00:30:00，为同一事项最先提交；"
        "关联举报 JA-2026-000002（2026-12-07 09:02:03） 不另行奖励。")
