"""The case workflow as data: which action may run in which state, by whom, and what it starts.

`tipoff.cases.services.perform` is the one function that carries out any of these; nothing else
changes a case's state, department or deadline.
"""
from __future__ import annotations

from dataclasses import dataclass

from tipoff.cases.states import CaseState as S
from tipoff.policy import Role as R

OPEN = frozenset({S.RECEIVED, S.VERIFYING, S.CONCLUDED, S.UNDER_REVIEW})
HANDLING = frozenset({R.HANDLER, R.LEADER})
EVERY_STAFF_ROLE_ON_CASES = frozenset({R.HANDLER, R.LEADER, R.OVERSEER})


@dataclass(frozen=True)
class Transition:
    """One action: from which states, to which state (None: stays), who may, what it needs."""

    action: str
    label: str
    from_states: frozenset[S]
    to_state: S | None
    roles: frozenset[R]
    required: tuple[str, ...] = ()
    starts_clock: str | None = None   # the deadline rule it starts (RULES.md §5)
    public: bool = False              # shown to the reporter in the case history
    district_wide: bool = False       # the role acts on every department's cases (区安委会办公室)


TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("accept", "受理", frozenset({S.RECEIVED}), S.VERIFYING, HANDLING | {R.OVERSEER},
               starts_clock="T3", public=True),
    Transition("reject", "不予受理", frozenset({S.RECEIVED}), S.REJECTED, HANDLING | {R.OVERSEER},
               required=("reason_code", "reason"), public=True),
    Transition("transfer", "移交", frozenset({S.RECEIVED}), None, HANDLING | {R.OVERSEER},
               required=("to_department", "reason"), starts_clock="T2", public=True),
    Transition("designate", "指定承办部门", frozenset({S.RECEIVED}), None, frozenset({R.OVERSEER}),
               required=("to_department", "reason"), starts_clock="T2", public=True, district_wide=True),
    Transition("request_extension", "申请延期", frozenset({S.VERIFYING}), None, HANDLING,
               required=("days", "reason")),
    Transition("approve_extension", "批准延期", frozenset({S.VERIFYING}), None, frozenset({R.LEADER}),
               public=True),
    Transition("conclude", "办结", frozenset({S.VERIFYING, S.UNDER_REVIEW}), S.CONCLUDED, HANDLING | {R.OVERSEER},
               required=("outcome", "summary"), starts_clock="T6", public=True),
    Transition("message", "给举报人留言", OPEN | {S.REJECTED}, None, EVERY_STAFF_ROLE_ON_CASES,
               required=("body",)),
    Transition("note", "内部备注", OPEN | {S.REJECTED, S.CLOSED}, None, EVERY_STAFF_ROLE_ON_CASES,
               required=("body",)),
    Transition("forward_upward", "报送上级", frozenset({S.RECEIVED, S.VERIFYING}), None, HANDLING | {R.OVERSEER},
               required=("reason",), public=True),
    Transition("confirm_upward", "上级已确认接收", OPEN | {S.REJECTED}, None,
               HANDLING | {R.OVERSEER}),
    # 吹哨人保护: the check is carried out as part of a routine inspection, so the unit cannot tell a tip
    # triggered it (internal; the reporter's page says nothing that could leak it either).
    Transition("routine_cover", "结合日常检查开展核查", frozenset({S.RECEIVED, S.VERIFYING}), None,
               HANDLING | {R.OVERSEER}),
    Transition("link", "关联为同一事项", OPEN | {S.REJECTED, S.CLOSED}, None, HANDLING | {R.OVERSEER},
               required=("to_reference",)),
    Transition("merge", "并入同一事项合并办理", frozenset({S.RECEIVED, S.VERIFYING}), S.CLOSED,
               HANDLING | {R.OVERSEER}, required=("to_reference",), public=True),
    Transition("close", "结案", frozenset({S.CONCLUDED, S.REJECTED}), S.CLOSED, HANDLING | {R.OVERSEER},
               public=True),
)}

# The reporter's own actions on /status (no staff role).
REPORTER_TRANSITIONS: dict[str, Transition] = {t.action: t for t in (
    Transition("object", "申请复查", frozenset({S.CONCLUDED}), S.UNDER_REVIEW, frozenset(), required=("reason",),
               starts_clock="T6R", public=True),
)}

# RULES.md T6: the district re-reviews once; objections to its re-review conclusion go to the city level.
MAX_DISTRICT_REVIEWS = 1
CITY_LEVEL_NOTICE = "本案已经区级复查。对复查结论仍有异议的，可以向许昌市应急管理局（市安委会办公室）提出。"

REJECTION_REASONS = {
    "not_safety": "不属于安全生产举报范围",
    "no_facts": "举报内容不具体，无法核查",
    "already_handled": "已经依法处理完毕，没有新的事实",
    "other_procedure": "应通过诉讼、仲裁、行政复议等途径解决",
    "other": "其他",
}
OUTCOMES = {
    "substantiated": "属实",
    "partially_substantiated": "部分属实",
    "unsubstantiated": "不属实",
    "unverifiable": "无法查实",
}
ENFORCEMENT = {
    "rectification_order": "责令限期整改",
    "penalty": "行政处罚",
    "suspension": "责令停产停业",
    "police_referral": "移送公安机关",
    "discipline_referral": "移送纪委监委",
}
MAX_EXTENSION_DAYS = 30
