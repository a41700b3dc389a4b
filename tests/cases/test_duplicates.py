"""Possible duplicates: same unit (credit code or name) and sector within the window; linking makes
one matter whose earliest tip is first."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.cases.test_workflow import do, staff, state  # noqa: F401 - the staff fixture
from tests.intake.helpers import NAMED, VALID, receipt_of
from tipoff.cases import duplicates
from tipoff.errors import NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import Tip


@pytest.mark.parametrize("name, key", [
    ("许昌市灵井燃气有限公司", "许昌市灵井燃气"),
    ("许昌市 灵井燃气 有限公司", "许昌市灵井燃气"),
    ("许昌市灵井燃气股份有限公司", "许昌市灵井燃气"),
    ("ＡＢＣ化工厂", "abc化工厂"),
    ("公司", "公司"),            # a bare suffix is kept, not emptied
    ("", None),
])
def test_subject_key(name, key):
    assert duplicates.subject_key(name) == key


def test_same_unit_in_same_sector_is_a_candidate_and_linking_makes_one_matter(app, client, staff):
    first = receipt_of(client.post("/report", data={**NAMED, "subject_name": "灵井燃气有限公司"}))[0]
    second = receipt_of(client.post("/report", data={**VALID, "subject_name": "灵井 燃气 公司"}))[0]
    other_sector = receipt_of(client.post("/report", data={**VALID, "subject_name": "灵井燃气有限公司",
                                                            "sector": "fire"}))[0]
    handler = staff("handler", "zjj")
    assert [t.reference for t in duplicates.candidates(state(second))] == [first]
    assert other_sector not in [t.reference for t in duplicates.candidates(state(first))]
    with pytest.raises(ValidationFailed):
        do(handler, second, "link", to_reference=second)
    do(handler, second, "link", to_reference=first)
    matter = duplicates.matter_of(state(second))
    assert [t.reference for t in matter] == [first, second]  # the earlier one first
    assert state(first).matter_id is None and state(second).matter_id == state(first).id


def test_credit_code_matches_across_different_names(app, client, staff):
    code = "91350100M000100Y43"
    a = receipt_of(client.post("/report", data={**VALID, "subject_name": "甲公司", "subject_credit_code": code}))[0]
    b = receipt_of(client.post("/report", data={**VALID, "subject_name": "乙厂", "subject_credit_code": code}))[0]
    assert [t.reference for t in duplicates.candidates(state(b))] == [a]


def test_linking_needs_both_cases_in_scope(app, client, staff):
    mine = receipt_of(client.post("/report", data=VALID))[0]
    theirs = receipt_of(client.post("/report", data={**VALID, "sector": "hazchem"}))[0]  # to yjj
    with pytest.raises(NotFound):
        do(staff("handler", "zjj"), mine, "link", to_reference=theirs)
    do(staff("overseer"), mine, "link", to_reference=theirs)  # the 安委办 sees both
    assert {t.reference for t in duplicates.matter_of(state(theirs))} == {mine, theirs}


def test_merging_closes_the_later_tip_into_the_open_one_and_tells_both_reporters(app, client, staff):
    from tipoff.errors import Conflict
    from tipoff.intake import services as intake

    first = receipt_of(client.post("/report", data={**NAMED, "subject_name": "灵井燃气有限公司"}))[0]
    second = receipt_of(client.post("/report", data={**VALID, "subject_name": "灵井燃气公司"}))[0]
    handler = staff("handler", "zjj")
    do(handler, first, "accept")
    with pytest.raises(ValidationFailed):
        do(handler, second, "merge", to_reference="")
    do(handler, second, "merge", to_reference=first, reason="同一加气站的同一处漏气")
    merged = state(second)
    assert merged.status == "closed" and merged.outcome == "merged" and merged.deadline_at is None
    assert merged.conclusion == {"merged_into": first}
    assert [t.reference for t in duplicates.matter_of(merged)] == [first, second]
    assert "已合并办理" in intake.messages_of(merged)[-1].body
    do(handler, first, "conclude", outcome="substantiated", summary="查实漏气，已责令整改。")
    told = intake.messages_of(state(second))[-1].body
    assert first in told and "属实" in told and "已责令整改" in told
    third = receipt_of(client.post("/report", data={**VALID, "subject_name": "灵井燃气"}))[0]
    with pytest.raises(Conflict):  # the first is concluded: nothing left to merge into
        do(handler, third, "merge", to_reference=first)
    assert state(third).status == "received" and state(third).matter_id is None
