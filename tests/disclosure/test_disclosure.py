"""Identity disclosure: requested with a reason, approved with the custodian passphrase, seen only by
the requester within the window, destroyed after it, every step audited, and told to the reporter."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import CUSTODIAN_PASSPHRASE, make_app
from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.audit.models import AuditEntry
from tipoff.crypto.models import DataKey
from tipoff.db import utcnow
from tipoff.disclosure import services
from tipoff.disclosure.models import DisclosureRequest
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db


@pytest.fixture
def named_case(client):
    return receipt_of(client.post("/report", data=NAMED))


@pytest.fixture
def people(app, make_staff):
    ids = {name: make_staff(role, dept).id for name, (role, dept) in {
        "handler": ("handler", "zjj"), "other_handler": ("handler", "yjj"), "custodian": ("custodian", None),
        "custodian2": ("custodian", None), "finance": ("finance", "zjj")}.items()}
    with app.app_context():
        yield {name: db.session.get(User, user_id) for name, user_id in ids.items()}


def actions():
    return [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("disclosure.%"))
                                                 .order_by(AuditEntry.id))]


def test_full_disclosure_path(app, client, named_case, people):
    reference, code = named_case
    request = services.request_disclosure(people["handler"], reference, "contact", "需要电话核实漏气位置")
    assert request.status == "pending" and b"\xe6\xbc\x8f" not in request.reason_sealed  # "漏" not in clear
    with pytest.raises(ValidationFailed):
        services.decide(people["custodian"], request.id, approve=True, passphrase="wrong passphrase here")
    services.decide(people["custodian"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
    with pytest.raises(NotFound):  # only the requester sees it
        services.view_identity(people["custodian"], request.id)
    opened = services.view_identity(people["handler"], request.id)
    assert (opened.name, opened.phone) == ("欧阳明哲", "13912345678")
    assert actions() == ["disclosure.request", "disclosure.passphrase_refused", "disclosure.approve", "disclosure.view"]
    # The reporter is told who saw it and why.
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "您的身份信息被查看的记录" in page and "区住房和城乡建设局" in page and "联系举报人核实情况" in page
    assert "欧阳明哲" not in page


def test_release_window_ends_and_the_copy_is_destroyed(app, named_case, people):
    reference, _ = named_case
    request = services.request_disclosure(people["handler"], reference, "reward_payment", "支付奖励需要核对身份")
    services.decide(people["custodian"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
    request.release_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert services.expire_due() == 1
    with pytest.raises(Conflict):
        services.view_identity(people["handler"], request.id)
    row = db.session.get(DisclosureRequest, request.id)
    assert row.status == "expired" and row.released_sealed is None
    assert db.session.get(DataKey, row.release_key_id).wrapped is None  # crypto-shredded


@pytest.mark.parametrize("who, expected", [("other_handler", NotFound), ("finance", Forbidden),
                                           ("custodian", Forbidden)])
def test_who_may_not_request(named_case, people, who, expected):
    with pytest.raises(expected):
        services.request_disclosure(people[who], named_case[0], "contact", "随便看看身份信息")


def test_anonymous_tips_have_nothing_to_disclose(client, people):
    reference, _ = receipt_of(client.post("/report", data=VALID))
    with pytest.raises(Conflict):
        services.request_disclosure(people["handler"], reference, "contact", "想联系举报人")


def test_only_custodians_decide_and_refusal_opens_nothing(named_case, people):
    request = services.request_disclosure(people["handler"], named_case[0], "investigation", "调查需要核实身份")
    with pytest.raises(Forbidden):
        services.decide(people["handler"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
    services.decide(people["custodian"], request.id, approve=False)
    assert db.session.get(DisclosureRequest, request.id).released_sealed is None
    with pytest.raises(Conflict):
        services.view_identity(people["handler"], request.id)
    with pytest.raises(Conflict):  # decided once
        services.decide(people["custodian2"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)


def test_two_custodians_when_configured(tmp_path, pg_schema):
    app = make_app(tmp_path / "two", pg_schema, TIPOFF_DISCLOSURE_CUSTODIANS=2)
    reference, _ = receipt_of(app.test_client().post("/report", data=NAMED))
    with app.app_context():
        from tipoff.accounts import services as accounts

        made = {}
        for name, role, dept in (("h", "handler", "zjj"), ("c1", "custodian", None), ("c2", "custodian", None)):
            made[name] = accounts.create_user(username=f"two.{name}", display_name=name, role=role,
                                              department_code=dept, password="a long enough password", actor="t")
        db.session.commit()
        request = services.request_disclosure(made["h"], reference, "contact", "需要联系举报人核实")
        services.decide(made["c1"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        assert db.session.get(DisclosureRequest, request.id).status == "first_approval"
        with pytest.raises(Forbidden):
            services.decide(made["c1"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        services.decide(made["c2"], request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        assert services.view_identity(made["h"], request.id).name == "欧阳明哲"


def test_pages(app, client, login_as, named_case):
    reference, _ = named_case
    login_as("handler", "zjj")
    refused = client.post(f"/staff/disclosures/request/{reference}", data={"purpose": "", "reason": "核实 A"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请选择调阅目的" in body and "理由至少 5 个字" in body  # both at once
    assert ">核实 A</textarea>" in body and 'id="disclosure-purpose"' in body  # the reason as typed stays
    refused = client.post(f"/staff/disclosures/request/{reference}",
                          data={"purpose": "investigation", "reason": "x"})
    assert refused.status_code == 422 and '<option value="investigation" selected>' in refused.get_data(as_text=True)
    response = client.post(f"/staff/disclosures/request/{reference}",
                           data={"purpose": "contact", "reason": "需要电话核实情况"})
    assert response.status_code == 302
    assert "待审批" in client.get("/staff/disclosures/").get_data(as_text=True)
    client.post("/staff/logout")
    login_as("custodian")  # the custodian sees who asks, from where and when, before deciding
    pending = client.get("/staff/disclosures/").get_data(as_text=True)
    with app.app_context():
        asker = db.session.scalar(select(DisclosureRequest)).requested_by
        assert f"申请人：{asker.display_name}（{asker.username}，承办人，区住房和城乡建设局）" in pending
    assert "申请时间：" in pending and "需要电话核实情况" in pending
