"""No sensitive data in logs: the guard itself, and a whole life of a named tip under it — filing, the
reporter's lookups (right and wrong codes), a claim with bank details, disclosure with the custodian's
passphrase, payment, failed staff logins — with every log line and all stderr searched for what was typed."""
from __future__ import annotations

import logging

import pytest

from tests.conftest import CUSTODIAN_PASSPHRASE
from tests.intake.helpers import NAMED
from tests.rewards.helpers import MAJOR_NAMED, user, verified, walk_to_notified
from tests.security.logguard import CLIENT_ENVIRON, CLIENT_IP, LogGuard, _CollectingHandler
from tipoff.errors import ValidationFailed

BANK_ACCOUNT = "6217 0000 1234 5678"


def _isolated_logger(handler) -> logging.Logger:
    """A logger that does not propagate: this test's deliberate leaks must not trip its own guard."""
    logger = logging.getLogger("guard.selftest")
    logger.propagate = False
    logger.addHandler(handler)
    return logger


def test_the_guard_finds_a_secret_in_any_form():
    guard = LogGuard()
    guard.watch("6217000012345678")
    handler = _CollectingHandler()
    logger = _isolated_logger(handler)
    try:
        logger.warning("paid to %s", "6217 0000 1234 5678".replace(" ", ""))
        logger.warning("lookup from %s", CLIENT_IP)
        logger.warning("reporter 139-1234-5678")
        logger.warning("nothing to see")
    finally:
        logger.removeHandler(handler)
    leaked_lines = [line for _secret, line in guard.leaks(handler.lines)]
    assert len(leaked_lines) == 3 and not any("nothing to see" in line for line in leaked_lines)
    assert not guard.leaks(["nothing to see", "JA-2026-000001 accepted"])


def test_the_guard_catches_exceptions_with_secrets_in_their_traceback():
    handler = _CollectingHandler()
    logger = _isolated_logger(handler)
    try:
        try:
            raise ValueError(f"bad id {NAMED['reporter_id_number']}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert LogGuard().leaks(handler.lines)


@pytest.fixture
def people(app, make_staff):
    return {key: make_staff(role, department) for key, role, department in (
        ("handler", "handler", "zjj"), ("leader", "leader", "zjj"), ("finance", "finance", "zjj"),
        ("custodian", "custodian", None))}


def test_a_named_tip_from_filing_to_payment_logs_no_identity(app, people, log_guard, make_staff):
    from tipoff.disclosure import services as disclosure
    from tipoff.rewards import services

    client = app.test_client()
    client.environ_base.update(CLIENT_ENVIRON)
    app.logger.setLevel(logging.DEBUG)
    log_guard.watch(BANK_ACCOUNT, CUSTODIAN_PASSPHRASE, "中国银行许昌分行")
    reference, code, reward_id = verified(app, client, people, data=MAJOR_NAMED)
    log_guard.watch(code)
    # Wrong codes first (a lookup failure is the classic place to log "who tried what").
    for wrong in ("0000000000000000", code[:-1] + ("1" if code[-1] != "1" else "2")):
        log_guard.watch(wrong)
        assert client.post("/status", data={"reference": reference, "access_code": wrong}).status_code == 404
        response = client.post("/api/v1/tips/lookup", json={"reference": reference, "access_code": wrong})
        assert response.status_code == 404
    walk_to_notified(app, people, reward_id)
    assert client.post("/status", data={"reference": reference, "access_code": code}).status_code == 302
    assert client.post("/status/reward/claim", data={
        "reference": reference, "method": "bank", "holder": NAMED["reporter_name"], "bank": "中国银行许昌分行",
        "account": BANK_ACCOUNT, "phone": NAMED["reporter_phone"], "id_number": NAMED["reporter_id_number"],
    }).status_code == 302
    with app.app_context():
        finance = user(people, "finance")
        request = disclosure.request_payment_disclosure(finance, reward_id, "按银行转账发放奖励")
        with pytest.raises(ValidationFailed):
            disclosure.decide(user(people, "custodian"), request.id, approve=True,
                              passphrase="wrong " + CUSTODIAN_PASSPHRASE)
        disclosure.decide(user(people, "custodian"), request.id, approve=True, passphrase=CUSTODIAN_PASSPHRASE)
        opened = disclosure.view_identity(finance, request.id)
        assert opened.account == BANK_ACCOUNT.replace(" ", "")
        services.perform(finance, reward_id, "pay", {"paid_at": services.today_beijing().isoformat(),
                                                     "amount": "15000.00", "method": "bank_transfer",
                                                     "voucher_no": "ZZ-88"})
    # Failed staff logins with a password typed into the user name field.
    staff = make_staff("handler", "zjj")
    log_guard.watch("hunter2-password-typed-as-name")
    for _ in range(3):
        client.post("/staff/login", data={"username": "hunter2-password-typed-as-name", "password": "x"})
        client.post("/staff/login", data={"username": staff.username, "password": "wrong password"})
    # The JSON API with a named identity, and its error paths.
    response = client.post("/api/v1/tips", json={
        "category": "hazard", "sector": "gas", "township": "lingjing", "subject_name": "灵井燃气加气站",
        "address": "灵井镇许南路 18 号", "description": "加气站东侧的燃气管道有明显漏气味道，已经持续一周，没有人处理。",
        "identity": "named", "reporter_name": NAMED["reporter_name"], "reporter_phone": NAMED["reporter_phone"],
        "reporter_id_number": "not an id " + NAMED["reporter_phone"]})
    assert response.status_code == 422
    # The guard really listens at the root: a harmless line of our own is among what it captured.
    logging.getLogger("tipoff.probe").debug("probe for case %s", reference)
    assert any(f"probe for case {reference}" in line for line in log_guard.lines)
