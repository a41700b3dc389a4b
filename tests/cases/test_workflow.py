"""The case workflow: every action by state and role, scope, transfers without 推诿, clocks, locking."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.cases import clocks, services
from tipoff.cases.workflow import TRANSITIONS
from tipoff.db import utcnow
from tipoff.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake import services as intake
from tipoff.intake.models import CaseEvent, Tip


@pytest.fixture
def case(client):
    """A gas tip routed to 区住房和城乡建设局 (zjj): its reference."""
    reference, _ = receipt_of(client.post("/report", data=VALID))
    return reference


@pytest.fixture
def staff(app, make_staff):
    """Users by role, as ORM objects inside the app context the test runs in."""
    made = {}

    def user(role: str, department: str | None = None) -> User:
        key = (role, department)
        if key not in made:
            db.session.commit()  # release this context's SQLite write lock for make_staff's own context
            made[key] = make_staff(role, department).id
        return db.session.get(User, made[key])

    with app.app_context():
        yield user


def do(user, reference, action, **payload):
    return services.perform(user, reference, action, payload)


def state(reference):
    return db.session.scalar(select(Tip).where(Tip.reference == reference))


def test_new_tip_waits_for_a_decision_within_five_working_days(app, case, staff):
    tip = state(case)
    assert tip.status == "received" and tip.deadline_rule == "T2"
    assert tip.deadline_at == clocks.due("T2", tip.received_at)
    assert tip.deadline_at - tip.received_at >= timedelta(days=5)


def test_accept_starts_the_sixty_day_clock(case, staff):
    outcome = do(staff("handler", "zjj"), case, "accept")
    tip = outcome.tip
    assert tip.status == "verifying" and tip.deadline_rule == "T3"
    assert tip.deadline_at == clocks.due("T3", tip.accepted_at)
    assert tip.deadline_at - tip.accepted_at >= timedelta(days=60)


@pytest.mark.parametrize("role, department, expected", [
    ("handler", "yjj", NotFound),     # another department's case does not exist for them
    ("leader", "yjj", NotFound),
    ("finance", "zjj", NotFound),     # finance officers see cases only through rewards
    ("custodian", None, NotFound),
    ("operator", None, NotFound),
    ("admin", None, NotFound),
])
def test_who_may_not_accept(case, staff, role, department, expected):
    with pytest.raises(expected):
        do(staff(role, department), case, "accept")
    assert state(case).status == "received"


def test_overseer_may_act_on_every_department(case, staff):
    assert do(staff("overseer"), case, "accept").tip.status == "verifying"


@pytest.mark.parametrize("action, payload", [
    ("conclude", {"outcome": "substantiated", "summary": "x"}),
    ("close", {}),
    ("approve_extension", {}),
    ("request_extension", {"days": 5, "reason": "x"}),
])
def test_actions_the_received_state_does_not_allow(case, staff, action, payload):
    with pytest.raises((Conflict, Forbidden)):
        do(staff("leader", "zjj"), case, action, **payload)
    assert state(case).status == "received" and state(case).version == 1


def test_reject_needs_a_listed_reason_and_tells_the_reporter(case, staff):
    with pytest.raises(ValidationFailed) as caught:
        do(staff("handler", "zjj"), case, "reject", reason_code="bored", reason="x")
    assert "reason_code" in caught.value.fields
    do(staff("handler", "zjj"), case, "reject", reason_code="not_safety", reason="反映的是物业纠纷。")
    tip = state(case)
    assert tip.status == "rejected" and tip.deadline_at is None
    assert "不属于安全生产举报范围" in intake.messages_of(tip)[-1].body


def test_one_transfer_then_only_the_committee_office_designates(case, staff):
    do(staff("handler", "zjj"), case, "transfer", to_department="yjj", reason="属于工贸企业")
    tip = state(case)
    assert tip.department.code == "yjj" and tip.transfers == 1 and tip.deadline_rule == "T2"
    assert "区应急管理局" in intake.messages_of(tip)[-1].body
    # The zjj handler no longer sees it.
    with pytest.raises(NotFound):
        do(staff("handler", "zjj"), case, "accept")
    # A second transfer goes to the 区安委会办公室 instead of the requested department.
    outcome = do(staff("handler", "yjj"), case, "transfer", to_department="scj", reason="涉及特种设备")
    assert outcome.tip.department.code == "ajw" and outcome.tip.awaiting_designation
    with pytest.raises(Forbidden):
        do(staff("handler", "ajw"), case, "designate", to_department="scj", reason="x")
    do(staff("overseer"), case, "designate", to_department="scj", reason="特种设备由市场监管局负责")
    tip = state(case)
    assert tip.department.code == "scj" and tip.designated and not tip.awaiting_designation
    with pytest.raises(Conflict):  # the designation is final
        do(staff("handler", "scj"), case, "transfer", to_department="zjj", reason="不是我们的")
    moves = db.session.scalars(select(CaseEvent).where(CaseEvent.action.in_(("transfer", "designate")))).all()
    assert [m.details["to"] for m in moves] == ["yjj", "ajw", "scj"]
    assert all("hours_spent" in m.details for m in moves)


@pytest.mark.parametrize("payload, field", [
    ({"to_department": "zjj", "reason": "x"}, "to_department"),    # its own department
    ({"to_department": "nope", "reason": "x"}, "to_department"),
    ({"to_department": "yjj"}, "reason"),
])
def test_transfer_refusals(case, staff, payload, field):
    with pytest.raises(ValidationFailed) as caught:
        do(staff("handler", "zjj"), case, "transfer", **payload)
    assert field in caught.value.fields


def test_extension_needs_a_leader_who_is_not_the_requester(case, staff):
    handler, leader = staff("handler", "zjj"), staff("leader", "zjj")
    do(handler, case, "accept")
    before = state(case).deadline_at
    with pytest.raises(ValidationFailed):
        do(handler, case, "request_extension", days=31, reason="太多")
    do(leader, case, "request_extension", days=20, reason="需要检测报告")
    with pytest.raises(Forbidden):
        do(leader, case, "approve_extension")
    with pytest.raises(Forbidden):
        do(handler, case, "approve_extension")
    do(second_leader(), case, "approve_extension")
    tip = state(case)
    assert tip.deadline_at == clocks.extension(before, 20).due and tip.extension_days == 20
    assert tip.deadline_at - before >= timedelta(days=20)
    assert "延长 20 日" in intake.messages_of(tip)[-1].body and "需要检测报告" in intake.messages_of(tip)[-1].body
    with pytest.raises(Conflict):
        do(second_leader(), case, "approve_extension")  # nothing pending any more
    with pytest.raises(ValidationFailed):
        do(handler, case, "request_extension", days=11, reason="再延")  # 20 + 11 > 30


def second_leader() -> User:
    """Another 负责人 of zjj: approvals are one level up and never by the requester."""
    from tipoff.accounts import services as accounts

    user = db.session.scalar(select(User).where(User.username == "leader.b"))
    if user is None:
        user = accounts.create_user(username="leader.b", display_name="第二负责人", role="leader",
                                    department_code="zjj", password="a long password for b", actor="test")
        db.session.commit()
    return user


@pytest.mark.parametrize("fine, error", [
    ("-1", "负数"), ("12.345", "两位小数"), ("abc", "写成数字"), ("1e30", "过大"), (12.5, "写成数字"),
    ("NaN", "写成数字"), ("100.000", "两位小数"),
])
def test_conclude_refuses_bad_money(case, staff, fine, error):
    do(staff("handler", "zjj"), case, "accept")
    with pytest.raises(ValidationFailed) as caught:
        do(staff("handler", "zjj"), case, "conclude", outcome="substantiated", summary="查实", fine=fine)
    assert error in " ".join(caught.value.fields["fine"])
    assert state(case).status == "verifying"


@pytest.mark.parametrize("enforcement, fine, refused", [
    (["penalty"], None, True),                           # a penalty and no fine: the reward could not be counted
    (["penalty"], "", True),
    (["rectification_order", "penalty"], "0", False),    # a warning: a penalty without a fine is 0
    (["penalty"], "50000.00", False),
    (["rectification_order"], None, False),              # no penalty: no fine to give
    ([], "20000.00", False),
])
def test_a_penalty_comes_with_its_fine(case, staff, enforcement, fine, refused):
    do(staff("handler", "zjj"), case, "accept")
    payload = {"outcome": "substantiated", "summary": "查实", "enforcement": enforcement,
               **({} if fine is None else {"fine": fine})}
    if refused:
        with pytest.raises(ValidationFailed) as caught:
            do(staff("handler", "zjj"), case, "conclude", **payload)
        assert "请填写罚款金额" in " ".join(caught.value.fields["fine"]) and state(case).status == "verifying"
    else:
        do(staff("handler", "zjj"), case, "conclude", **payload)
        assert state(case).status == "concluded"


def test_conclude_objection_review_and_close(app, case, staff):
    handler = staff("handler", "zjj")
    do(handler, case, "accept")
    do(handler, case, "conclude", outcome="substantiated", summary="现场查实管道漏气，已责令整改并处罚。",
       enforcement=["rectification_order", "penalty"], fine="100000.00", penalty_decision_no="建应急罚〔2026〕12号")
    tip = state(case)
    assert tip.status == "concluded" and tip.conclusion["fine"] == "100000.00"
    told = intake.messages_of(tip)[-1].body
    assert "核查结论：属实" in told and "10 日内申请复查" in told
    with pytest.raises(Conflict):  # the objection window is still open
        do(handler, case, "close")
    services.reporter_objects(tip, "整改没有落实，还在漏气。")
    tip = state(case)
    assert tip.status == "under_review" and tip.deadline_rule == "T6R"
    do(handler, case, "conclude", outcome="substantiated", summary="复查确认已整改到位。")
    tip = state(case)
    told = intake.messages_of(tip)[-1].body  # the re-review's conclusion points to the city, not to 复查 again
    assert "复查确认已整改到位。" in told and "许昌市应急管理局" in told and "10 日内申请复查" not in told
    tip.deadline_at = utcnow() - timedelta(seconds=1)  # the window has passed
    db.session.commit()
    with pytest.raises(Conflict):
        services.reporter_objects(tip, "还是不满意")
    do(handler, case, "close")
    assert state(case).status == "closed"
    actions = [e.action for e, _ in services.history(state(case))]
    assert actions == ["accept", "conclude", "object", "conclude", "close"]
    public = [e.action for e, _ in services.history(state(case), public_only=True)]
    assert public == actions  # every step here is one the reporter may see


def test_concealed_accident_records_deaths_and_grade(client, staff):
    reference, _ = receipt_of(client.post("/report", data={**VALID, "category": "concealed_accident"}))
    overseer = staff("overseer")
    do(overseer, reference, "accept")
    with pytest.raises(ValidationFailed):
        do(overseer, reference, "conclude", outcome="substantiated", summary="x", concealed_deaths="many")
    do(overseer, reference, "conclude", outcome="substantiated", summary="瞒报属实", concealed_deaths="4",
       accident_grade="larger")
    assert state(reference).conclusion["concealed_deaths"] == 4


def test_internal_notes_are_encrypted_and_not_public(case, staff):
    do(staff("handler", "zjj"), case, "note", body="举报人可能是夜班班长")
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "note"))
    assert not event.public and "夜班".encode() not in (event.text_sealed or b"")
    assert services.event_text(state(case), event) == "举报人可能是夜班班长"


def test_forwarded_upward_stays_open_until_confirmed(case, staff):
    handler = staff("handler", "zjj")

    def offered() -> set[str]:
        return {t.action for t in services.offered(state(case), list(TRANSITIONS.values()))}

    assert "forward_upward" in offered() and "confirm_upward" not in offered()  # nothing to confirm yet
    with pytest.raises(Conflict):
        do(handler, case, "confirm_upward")
    do(handler, case, "forward_upward", reason="省属企业")
    assert "forward_upward" not in offered() and "confirm_upward" in offered()
    do(handler, case, "reject", reason_code="other_procedure", reason="由省级处理")
    with pytest.raises(Conflict):
        do(handler, case, "close")
    do(handler, case, "confirm_upward")
    assert "confirm_upward" not in offered()
    with pytest.raises(Conflict):
        do(handler, case, "confirm_upward")
    do(handler, case, "close")
    assert state(case).status == "closed"


def test_two_people_acting_at_once_one_wins(case, staff):
    handler = staff("handler", "zjj")
    version = state(case).version
    services.perform(handler, case, "accept", {}, expected_version=version)
    with pytest.raises(Conflict) as caught:
        services.perform(handler, case, "note", {"body": "迟到的备注"}, expected_version=version)
    assert caught.value.code == "case_changed"
    assert db.session.scalar(select(CaseEvent).where(CaseEvent.action == "note")) is None


def test_every_transition_has_a_label_and_roles():
    for action, transition in TRANSITIONS.items():
        assert transition.label and transition.roles and transition.from_states, action


def test_unknown_action_is_named(case, staff):
    with pytest.raises(ValidationFailed) as caught:
        do(staff("handler", "zjj"), case, "teleport")
    assert "action" in caught.value.fields


def test_holiday_override_moves_a_deadline(app, runner):
    from datetime import datetime, timezone

    start = datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc)  # a Monday in a year the package lacks
    with app.app_context():
        before = clocks.deadline("T2", start)
        assert before.provisional
    result = runner.invoke(args=["tipoff", "holidays", "set", "2027-03-03", "--rest", "--note", "区政府通知（测试）"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after = clocks.deadline("T2", start)
        assert after.due > before.due
        assert clocks.day_note(datetime(2027, 3, 3).date()) == "区政府通知（测试）"


def test_reporter_objects_on_the_status_page(app, client, staff):
    reference, code = receipt_of(client.post("/report", data=VALID))
    handler = staff("handler", "zjj")
    do(handler, reference, "accept")
    do(handler, reference, "conclude", outcome="unsubstantiated", summary="现场未发现漏气。")
    db.session.commit()
    client.post("/status", data={"reference": reference, "access_code": code})
    assert "申请复查" in client.get("/status").get_data(as_text=True)
    empty = client.post("/status/object", data={"reference": reference, "objection": ""})
    assert empty.status_code == 422 and "请填写复查理由" in empty.get_data(as_text=True)
    done = client.post("/status/object", data={"reference": reference, "objection": "我昨天还闻到了燃气味。"})
    assert done.status_code == 302
    db.session.expire_all()
    assert state(reference).status == "under_review"
    assert "复查中" in client.get("/status").get_data(as_text=True)


def test_an_insider_tip_can_be_checked_under_cover_of_a_routine_inspection(client, staff):
    reference, _ = receipt_of(client.post("/report", data={**VALID, "insider": "1"}))
    handler = staff("handler", "zjj")
    do(handler, reference, "routine_cover", note="与本月燃气专项检查一并开展")
    assert state(reference).routine_cover is True
    with pytest.raises(Conflict):
        do(handler, reference, "routine_cover")
    public = [e.action for e, _ in services.history(state(reference), public_only=True)]
    assert "routine_cover" not in public  # nothing of it on the reporter's page
