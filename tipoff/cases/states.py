"""Case states and the public projection a reporter sees, declared side by side.

The transitions between states arrive with the case workflow; intake only creates `received` cases.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CaseState(str, Enum):
    RECEIVED = "received"          # 待受理
    VERIFYING = "verifying"        # 核查中 (accepted)
    CONCLUDED = "concluded"        # 已办结
    UNDER_REVIEW = "under_review"  # 复查中
    CLOSED = "closed"              # 已结案
    REJECTED = "rejected"          # 不予受理


@dataclass(frozen=True)
class PublicStatus:
    """What the reporter sees: a stable code and plain Chinese."""

    code: str
    label: str
    explanation: str


STATES: dict[CaseState, tuple[str, PublicStatus]] = {
    CaseState.RECEIVED: ("待受理", PublicStatus(
        "submitted", "已提交，等待受理", "承办部门将在 5 个工作日内决定是否受理，并在这里告诉您。")),
    CaseState.VERIFYING: ("核查中", PublicStatus(
        "in_progress", "已受理，正在核查", "承办部门正在核查您反映的情况，一般在受理后 60 日内办结。")),
    CaseState.CONCLUDED: ("已办结", PublicStatus(
        "concluded", "已办结", "核查已经结束，结果见下方消息。")),  # /status says whether one may object
    CaseState.UNDER_REVIEW: ("复查中", PublicStatus(
        "under_review", "复查中", "您的复查申请已收到，将在 30 日内答复。")),
    CaseState.CLOSED: ("已结案", PublicStatus("closed", "已结案", "本件举报已经结案。感谢您的监督。")),
    CaseState.REJECTED: ("不予受理", PublicStatus(
        "not_accepted", "不予受理", "您的举报未被受理，原因见下方消息。")),
}


def internal_label(state: str) -> str:
    """The staff-facing Chinese name of a state."""
    return STATES[CaseState(state)][0]


def public_status(state: str) -> PublicStatus:
    """The projection of an internal state that a reporter may see."""
    return STATES[CaseState(state)][1]
