"""Rewards over JSON: the list in scope, one reward with its checks and history, and its staff steps —
scoped exactly like the staff pages (another department's reward is a 404)."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields

from tipoff import money
from tipoff.api import action_request, api_route
from tipoff.errors import ValidationFailed
from tipoff.rewards import services
from tipoff.rewards.workflow import STATES, RewardState


class RewardSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    department = fields.String()
    status = fields.String()
    status_label = fields.String()
    rule_set = fields.String()
    calculated = fields.String()
    amount = fields.String(allow_none=True)
    claim_deadline = fields.DateTime(allow_none=True)
    version = fields.Integer()


class RewardSchema(RewardSummarySchema):
    explanation = fields.String()
    grade = fields.String(allow_none=True)
    eligibility = fields.Dict()
    paid_amount = fields.String(allow_none=True)
    paid_at = fields.Date(allow_none=True)
    voucher_no = fields.String(allow_none=True)
    history = fields.List(fields.Dict())


class RewardListSchema(Schema):
    """What GET /rewards answers: the rewards in scope under one key."""

    rewards = fields.List(fields.Nested(RewardSummarySchema))


class RewardActionSchema(Schema):
    """A step and its fields (see tipoff.rewards.workflow.STEPS)."""

    action = fields.String(required=True)
    version = fields.Integer(load_default=None)


def _money(value) -> str | None:
    return None if value is None else money.to_string(value)


def summary(reward) -> dict:
    return {"id": reward.id, "reference": reward.tip.reference, "department": reward.department.code,
            "status": reward.status, "status_label": STATES[RewardState(reward.status)].label,
            "rule_set": reward.rule_set_code, "calculated": _money(reward.calculated), "amount": _money(reward.amount),
            "claim_deadline": reward.claim_deadline, "version": reward.version}


def detail(reward) -> dict:
    return {**summary(reward), "explanation": reward.explanation, "grade": reward.grade,
            "eligibility": reward.eligibility, "paid_amount": _money(reward.paid_amount), "paid_at": reward.paid_at,
            "voucher_no": reward.voucher_no,
            "history": [{"action": e.action, "actor": e.actor_label, "from": e.from_state, "to": e.to_state,
                         "note": e.note, "at": e.created_at.isoformat()} for e in services.history(reward)]}


@api_route("/rewards", summary="Rewards the token's user may see (?status=)", tags=["rewards"],
           permission="rewards.view", response_schema=RewardListSchema, responses={422: "Unknown status"},
           query={"status": {"type": "string"}})
def list_rewards():
    """Rewards in scope, newest first."""
    status = request.args.get("status") or None
    if status and status not in {s.value for s in RewardState}:
        raise ValidationFailed(fields={"status": ["未知的奖励状态。"]})
    rewards = services.rewards_of(g.api_user, status)
    return jsonify({"rewards": [RewardSummarySchema().dump(summary(r)) for r in rewards]})


@api_route("/rewards/<int:reward_id>", summary="One reward with its checks and history", tags=["rewards"],
           permission="rewards.view", response_schema=RewardSchema, responses={404: "No such reward in scope"})
def get_reward(reward_id: int):
    """A reward's amount, explanation, eligibility checks and history."""
    return jsonify(RewardSchema().dump(detail(services.reward_for(g.api_user, reward_id))))


@api_route("/rewards/<int:reward_id>/actions", method="POST", summary="Perform a reward step", tags=["rewards"],
           permission="rewards.view", request_schema=RewardActionSchema, response_schema=RewardSchema,
           responses={404: "No such reward in scope", 409: "Not allowed in this state, or changed meanwhile"})
def reward_action(reward_id: int):
    """propose, override, not_eligible, approve, send_back, notify, extend_claim, pay."""
    payload, action, version = action_request()
    outcome = services.perform(g.api_user, reward_id, action, payload, expected_version=version)
    return jsonify({**RewardSchema().dump(detail(outcome.reward)), "message": outcome.message})
