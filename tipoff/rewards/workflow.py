"""A reward's life as data: states with what the reporter sees, and who may take each step from where.

`tipoff.rewards.services.perform` (staff) and the reporter functions there are the only code that
changes a reward; they read these tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from tipoff.policy import Role as R


class RewardState(str, Enum):
    ASSESSING = "assessing"
    PROPOSED = "proposed"
    APPROVED = "approved"
    NOTIFIED = "notified"
    CLAIMED = "claimed"
    PAID = "paid"
    DECLINED = "declined"
    NOT_ELIGIBLE = "not_eligible"
    EXPIRED = "expired"


S = RewardState


@dataclass(frozen=True)
class StateInfo:
    label: str          # staff
    public: str | None  # what the reporter reads on /status (None: nothing shown yet)


STATES: dict[RewardState, StateInfo] = {
    S.ASSESSING: StateInfo("待评定", "举报经核查属实，奖励正在评定中。"),
    S.PROPOSED: StateInfo("待审批", "奖励正在评定中。"),
    S.APPROVED: StateInfo("已批准，待通知", "奖励正在评定中。"),
    S.NOTIFIED: StateInfo("已通知，待领取", "奖励已批准，请在领取期限内选择领取方式。"),
    S.CLAIMED: StateInfo("已申领，待发放", "已收到您的领取申请，财务正在办理发放。"),
    S.PAID: StateInfo("已发放", "奖励已发放。"),
    S.DECLINED: StateInfo("举报人放弃", "您已放弃领取奖励。"),
    S.NOT_ELIGIBLE: StateInfo("不符合奖励条件", "经审核，本举报不符合奖励条件。"),
    S.EXPIRED: StateInfo("逾期未领", "领取期限已过，视为放弃。"),
}
OPEN = frozenset({S.ASSESSING, S.PROPOSED, S.APPROVED, S.NOTIFIED, S.CLAIMED})


@dataclass(frozen=True)
class Step:
    action: str
    label: str
    from_states: frozenset[RewardState]
    to_state: RewardState | None   # None: stays (e.g. the first of two approvals)
    roles: frozenset[R]
    public: bool = False            # on the reporter's history


HANDLING = frozenset({R.HANDLER, R.LEADER})
STEPS: dict[str, Step] = {s.action: s for s in (
    Step("propose", "提出奖励建议", frozenset({S.ASSESSING}), S.PROPOSED, HANDLING),
    Step("override", "认定符合奖励条件（说明理由）", frozenset({S.ASSESSING}), None, frozenset({R.LEADER})),
    Step("not_eligible", "认定不符合奖励条件", frozenset({S.ASSESSING}), S.NOT_ELIGIBLE, HANDLING, public=True),
    Step("approve", "批准", frozenset({S.PROPOSED}), S.APPROVED, frozenset({R.LEADER, R.OVERSEER})),
    Step("send_back", "退回重新评定", frozenset({S.PROPOSED, S.APPROVED}), S.ASSESSING,
         frozenset({R.LEADER, R.OVERSEER})),
    Step("notify", "通知举报人领奖", frozenset({S.APPROVED}), S.NOTIFIED, HANDLING, public=True),
    Step("pay", "登记发放", frozenset({S.CLAIMED}), S.PAID, frozenset({R.FINANCE}), public=True),
    Step("extend_claim", "延长领取期限", frozenset({S.NOTIFIED}), None, frozenset({R.LEADER}), public=True),
    # The bank details were wrong or the account is closed: the reporter chooses again.
    Step("reopen_claim", "退回重新申领", frozenset({S.CLAIMED}), S.NOTIFIED, frozenset({R.LEADER, R.FINANCE}),
         public=True),
    # Facts changed after approval (e.g. a re-review found the tip untrue): a leader withdraws the reward.
    Step("withdraw", "撤销奖励", frozenset({S.PROPOSED, S.APPROVED, S.NOTIFIED, S.CLAIMED}), S.NOT_ELIGIBLE,
         frozenset({R.LEADER}), public=True),
)}

# The reporter's own steps on /status.
REPORTER_STEPS: dict[str, Step] = {s.action: s for s in (
    Step("claim", "申领奖励", frozenset({S.NOTIFIED}), S.CLAIMED, frozenset(), public=True),
    Step("decline", "放弃奖励", frozenset({S.NOTIFIED}), S.DECLINED, frozenset(), public=True),
    Step("object", "对奖励金额提出异议", frozenset({S.NOTIFIED}), S.ASSESSING, frozenset(), public=True),
)}

CLAIM_METHODS = {"bank": "银行转账", "in_person": "凭编号和查询码现场领取"}
PAYMENT_METHODS = {"bank_transfer": "银行转账", "cash": "现金", "other": "其他"}
VERIFIED_OUTCOMES = ("substantiated", "partially_substantiated")


# The reward history's actions in words: the steps', and those the system takes itself.
EVENT_LABELS: dict[str, str] = {
    **{action: step.label for action, step in {**STEPS, **REPORTER_STEPS}.items()},
    "open": "开始评估奖励", "recalculate": "重新计算奖励", "lapse": "不再符合奖励条件",
    "expire": "逾期未领取", "public_notice": "发布领奖公告",
}
