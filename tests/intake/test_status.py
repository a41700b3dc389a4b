"""The reporter channel: reference + access code, throttling, messages, identity later, proof of filing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import make_app
from tests.intake.helpers import receipt_of, submit
from tipoff.extensions import db
from tipoff.intake import services
from tipoff.intake.models import ReporterIdentity, Tip


@pytest.fixture
def filed(client):
    """An anonymous tip: (reference, access code)."""
    return receipt_of(submit(client))


def department_says(app, reference: str, text: str) -> None:
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        services.post_message(tip, text, sender="department")


def test_reference_and_code_open_the_case(app, client, filed):
    reference, code = filed
    grouped = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    response = client.post("/status", data={"reference": reference.lower(), "access_code": grouped})
    assert response.status_code == 302
    page = client.get("/status").get_data(as_text=True)
    assert reference in page and "已提交，等待受理" in page and "区住房和城乡建设局" in page


def test_wrong_code_and_unknown_reference_get_the_same_answer(app, filed):
    reference, code = filed
    wrong = "0" * 16 if code != "0" * 16 else "1" * 16
    answers = []
    for ref, c in ((reference, wrong), ("JA-2026-999999", code), ("", "")):
        response = app.test_client().post("/status", data={"reference": ref, "access_code": c})
        body = response.get_data(as_text=True)
        answers.append((response.status_code, body.split('role="alert">')[1].split("</div>")[0]))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 404


def test_wrong_codes_are_throttled_alike_for_real_and_unknown_references(tmp_path, pg_schema):
    import time

    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True, TIPOFF_LOOKUP_LIMIT_PER_CLIENT="3 per 2 seconds",
                   TIPOFF_LOOKUP_LIMIT_PER_REFERENCE="100 per hour")
    client = app.test_client()
    reference, code = receipt_of(submit(client))
    for ref in (reference, "JA-2026-424242"):
        answers = [client.post("/status", data={"reference": ref, "access_code": "1" * 16}).status_code
                   for _ in range(4)]
        assert answers == [404, 404, 404, 429], ref
    # Even the right code waits out the window ...
    assert client.post("/status", data={"reference": reference, "access_code": code}).status_code == 429
    # ... which ends: a pause, not a lock.
    time.sleep(2.2)
    assert client.post("/status", data={"reference": reference, "access_code": code}).status_code == 302


def test_a_failed_lookup_names_only_real_references_in_the_log(app, filed):
    from tipoff.audit.models import AuditEntry

    reference, code = filed
    client = app.test_client()
    client.post("/status", data={"reference": code, "access_code": reference})  # fields swapped
    client.post("/status", data={"reference": "13912345678", "access_code": "1" * 16})
    client.post("/status", data={"reference": reference, "access_code": "1" * 16})
    with app.app_context():
        logged = [e.object_id for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "tip.lookup_failed").order_by(AuditEntry.id))]
    assert logged == [None, None, reference]


def test_lookups_are_rate_limited_per_client(tmp_path, pg_schema):
    app = make_app(tmp_path, pg_schema, RATELIMIT_ENABLED=True)
    client = app.test_client()
    codes = [client.post("/status", data={"reference": f"JA-2026-00000{i}", "access_code": "1" * 16}).status_code
             for i in range(11)]
    assert codes[:10] == [404] * 10 and codes[10] == 429


def test_reporter_reads_department_message_and_answers(app, client, filed):
    reference, code = filed
    department_says(app, reference, "请问漏气的位置靠近哪个阀门？")
    client.post("/status", data={"reference": reference, "access_code": code})
    page = client.get("/status").get_data(as_text=True)
    assert "请问漏气的位置靠近哪个阀门？" in page
    response = client.post("/status/reply", data={"reference": reference, "body": "靠近东侧 <b>第二个</b> 阀门"})
    assert response.status_code == 302
    page = client.get("/status").get_data(as_text=True)
    assert "靠近东侧 &lt;b&gt;第二个&lt;/b&gt; 阀门" in page
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        assert [m.sender for m in tip.messages] == ["department", "reporter"]
        assert b"\xe9\x98\x80\xe9\x97\xa8" not in tip.messages[1].body_sealed  # "阀门" is not there in clear


def test_empty_reply_is_refused_and_case_still_shown(client, filed):
    reference, code = filed
    client.post("/status", data={"reference": reference, "access_code": code})
    response = client.post("/status/reply", data={"reference": reference, "body": "   "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "请填写消息" in body
    # On a phone the form is screens below: the problem is also said at the top, linked to the field.
    summary = body[body.index('id="error-summary"'):body.index('id="state-title"')]
    assert 'href="#body"' in summary and "请填写消息" in summary and 'id="body"' in body


def test_the_status_page_in_english_says_its_refusals_in_english(client, filed):
    reference, code = filed
    client.get("/status?lang=en")
    wrong = client.post("/status", data={"reference": reference, "access_code": "0" * 16})
    assert "The reference or the access code is not right." in wrong.get_data(as_text=True)
    client.post("/status", data={"reference": reference, "access_code": code})
    response = client.post("/status/reply", data={"reference": reference, "body": "   "})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and body.count("Message: please fill this in.") == 2  # summary, field
    assert "请填写消息" not in body


@pytest.mark.parametrize("path", ["/status/reply", "/status/object", "/status/evidence", "/status/reward/claim",
                                  "/status/rating"])
def test_opening_a_form_address_takes_the_reporter_to_the_status_page(client, path):
    """Reloading after a refusal, or reopening /status/reply from the address bar, asks for it with GET."""
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/status")


def test_only_a_forms_own_words_are_shown_back_never_bank_details(app, client):
    from tipoff.intake.views import WRITTEN_FIELDS

    assert set(WRITTEN_FIELDS) <= set(app.view_functions)  # each names a real form
    claim = client.post("/status/reward/claim", data={"method": "bank", "account": "6222020200112233445"})
    assert claim.status_code == 302 and "6222020200112233445" not in claim.get_data(as_text=True)
    check = client.post("/status/insider-check", data={"retaliation": "yes", "account": "调岗降薪"})
    assert check.status_code == 409 and ">调岗降薪</textarea>" in check.get_data(as_text=True)


def test_reply_needs_an_open_case(client):
    """No case open (it timed out): the lookup page, with what was written shown back to copy."""
    response = client.post("/status/reply", data={"body": "hello"})
    assert response.status_code == 409 and ">hello</textarea>" in response.get_data(as_text=True)
    response = client.post("/status/reply", data={"body": ""})
    assert response.status_code == 302 and response.headers["Location"].endswith("/status")


def test_leaving_forgets_the_case(client, filed):
    reference, code = filed
    client.post("/status", data={"reference": reference, "access_code": code})
    client.post("/status/leave")
    assert "查询码" in client.get("/status").get_data(as_text=True)
    assert reference not in client.get("/status").get_data(as_text=True)


def test_anonymous_reporter_adds_identity_later(app, client, filed):
    reference, code = filed
    client.post("/status", data={"reference": reference, "access_code": code})
    bad = client.post("/status/identity", data={"reference": reference, "reporter_name": "王五", "reporter_phone": "123"})
    assert bad.status_code == 422 and 'value="王五"' in bad.get_data(as_text=True)
    good = client.post("/status/identity", data={"reference": reference, "reporter_name": "王五", "reporter_phone": "13700001111"})
    assert good.status_code == 302
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        identity = db.session.scalar(select(ReporterIdentity).where(ReporterIdentity.tip_id == tip.id))
        assert not tip.anonymous and identity.source == "reporter_channel"


def test_proof_of_filing_verifies_and_tampering_does_not(app, client):
    body = submit(client).get_data(as_text=True)
    proof = body.split('id="receipt-proof"')[1].split(">", 1)[1].split("</textarea>")[0].strip()
    ok = client.post("/verify", data={"proof": proof}).get_data(as_text=True)
    assert "凭证有效" in ok
    head, claims, signature = proof.split(".")
    # Change real bits (the first character), never the last one: it partly encodes padding bits.
    forged_claims = ("A" if claims[0] != "A" else "B") + claims[1:]
    forged_signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    for tampered in (f"{head}.{forged_claims}.{signature}", f"{head}.{claims}.{forged_signature}", "nonsense"):
        page = client.post("/verify", data={"proof": tampered}).get_data(as_text=True)
        assert "凭证无效" in page, tampered
    assert 'href="/verify"' in body  # the receipt links to where the proof is checked
    empty = client.post("/verify", data={"proof": "  "})
    assert empty.status_code == 422 and "请粘贴提交举报时得到的凭证" in empty.get_data(as_text=True)
    assert "凭证无效" not in empty.get_data(as_text=True)  # nothing was given, so nothing is "invalid"


def test_authentic_proof_that_does_not_match_the_record(app, client):
    from datetime import datetime, timezone

    from tipoff.intake.proof import make_proof

    reference, _ = receipt_of(submit(client))
    with app.app_context():
        forged = make_proof(reference, datetime(2020, 1, 1, tzinfo=timezone.utc), "0" * 64)
    page = client.post("/verify", data={"proof": forged}).get_data(as_text=True)
    assert "不一致" in page


def test_a_page_for_one_case_cannot_act_on_another(app, client):
    first = receipt_of(submit(client))
    second = receipt_of(submit(client, subject_name="另一家单位"))
    client.post("/status", data={"reference": first[0], "access_code": first[1]})
    client.post("/status", data={"reference": second[0], "access_code": second[1]})  # another tab
    response = client.post("/status/reply", data={"reference": first[0], "body": "这条是给第一件的"})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "此页面对应的举报已不是当前查询的举报" in page
    assert ">这条是给第一件的</textarea>" in page  # what was written is shown back, not lost
    assert f'name="reference" value="{first[0]}"' in page  # and the lookup is for the page's own case
    again = client.post("/status/reply", data={"reference": first[0], "body": " "})
    assert again.status_code == 302, again.get_data(as_text=True)[:2000]  # nothing written: nothing to keep
    with app.app_context():
        for reference, _ in (first, second):
            tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
            assert intake_messages(tip) == []


def intake_messages(tip):
    return services.messages_of(tip)
