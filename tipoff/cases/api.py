"""Cases over JSON: the queue, one case, and its actions — scoped exactly like the staff pages."""
from __future__ import annotations

from flask import g, jsonify, request
from marshmallow import Schema, fields

from tipoff.api import action_request, api_route
from tipoff.cases import services
from tipoff.cases.queue import QueueFilter, counts, queue
from tipoff.cases.states import internal_label, public_status
from tipoff.errors import ValidationFailed
from tipoff.web import writes


class CaseSummarySchema(Schema):
    reference = fields.String()
    status = fields.String()
    status_label = fields.String()
    public_status = fields.String()
    department = fields.Dict()
    category = fields.String()
    sector = fields.String()
    township = fields.String(allow_none=True)
    received_at = fields.DateTime()
    deadline = fields.DateTime(allow_none=True)
    deadline_rule = fields.String(allow_none=True)
    supervised = fields.Boolean()
    version = fields.Integer()


class CaseEventSchema(Schema):
    action = fields.String()
    actor = fields.String()
    from_state = fields.String()
    to_state = fields.String()
    text = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    created_at = fields.DateTime()


class CaseSchema(CaseSummarySchema):
    subject_name = fields.String()
    routing_explanation = fields.String()
    transfers = fields.Integer()
    designated = fields.Boolean()
    outcome = fields.String(allow_none=True)
    conclusion = fields.Dict(allow_none=True)
    history = fields.List(fields.Nested(CaseEventSchema))


class ActionSchema(Schema):
    """An action and its fields (see tipoff.cases.workflow); unknown fields are ignored per action."""

    action = fields.String(required=True)
    version = fields.Integer(load_default=None)


def summary(tip) -> dict:
    return {"reference": tip.reference, "status": tip.status, "status_label": internal_label(tip.status),
            "public_status": public_status(tip.status).code,
            "department": {"code": tip.department.code, "name": tip.department.name},
            "category": tip.category_code, "sector": tip.sector_code, "township": tip.township_code,
            "received_at": tip.received_at, "deadline": tip.deadline_at, "deadline_rule": tip.deadline_rule,
            "supervised": tip.supervised, "version": tip.version}


def detail(tip) -> dict:
    return {**summary(tip), "subject_name": tip.subject_name, "routing_explanation": tip.routing_explanation,
            "transfers": tip.transfers, "designated": tip.designated, "outcome": tip.outcome,
            "conclusion": tip.conclusion,
            "history": [{"action": e.action, "actor": e.actor_label, "from_state": e.from_state,
                         "to_state": e.to_state, "text": text, "details": e.details, "created_at": e.created_at}
                        for e, text in services.history(tip)]}


def _text(value) -> str | None:
    return None if value is None else str(value)


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def summary_json(row) -> dict:
    """What `CaseSummarySchema().dump(summary(tip))` gives for a queue row of that tip, written out field by field.

    marshmallow's per-field machinery cost a quarter of the queue's CPU for 50 rows of plain values;
    tests/cases/test_queue.py checks this equals the schema's dump, so the documented shape holds.
    """
    return {"reference": _text(row.reference), "status": _text(row.status),
            "status_label": internal_label(row.status), "public_status": public_status(row.status).code,
            "department": {"code": row.department_code, "name": row.department_name},
            "category": _text(row.category_code), "sector": _text(row.sector_code),
            "township": _text(row.township_code), "received_at": _iso(row.received_at),
            "deadline": _iso(row.deadline_at), "deadline_rule": _text(row.deadline_rule),
            "supervised": None if row.supervised is None else bool(row.supervised),
            "version": None if row.version is None else int(row.version)}


class CaseCountsSchema(Schema):
    """Counted up to 99 each; `more` says which went beyond (the page shows "99+")."""

    all = fields.Integer()
    overdue = fields.Integer()
    today = fields.Integer()
    more = fields.Dict(keys=fields.String(), values=fields.Boolean(),
                       metadata={"description": "true where there are more cases than the number given"})


class CasePageSchema(Schema):
    """One page of the queue: what the endpoint answers (the OpenAPI document describes this, not one case)."""

    cases = fields.List(fields.Nested(CaseSummarySchema))
    page = fields.Integer()
    filter = fields.Dict(keys=fields.String(), values=fields.String())
    counts = fields.Nested(CaseCountsSchema)


@api_route("/cases", summary="Open cases the token's user may see, soonest deadline first", tags=["cases"],
           permission="cases.view", response_schema=CasePageSchema, responses={422: "Unknown filter value"},
           query={"due": {"type": "string", "enum": ["overdue", "today"]}, "status": {"type": "string"},
                  "department": {"type": "string"}, "page": {"type": "integer"}})
def list_cases():
    """The queue as JSON: 50 per page (?page=N), narrowed by ?due=overdue|today, ?status=, ?department=."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    wanted, errors = QueueFilter.parse(request.args)
    if errors:
        raise ValidationFailed(fields=errors)
    cases = [summary_json(row) for row in queue(g.api_user, page=page, wanted=wanted)]
    return jsonify({"cases": cases, "page": page, "filter": wanted.args(), "counts": counts(g.api_user, wanted)})


@writes
@api_route("/cases/<reference>", summary="One case with its history", tags=["cases"], permission="cases.view",
           response_schema=CaseSchema, responses={404: "No such case in the user's scope"})
def get_case(reference: str):
    """A case's facts, state, deadline and history (a sensitive read: audited)."""
    tip = services.case_for(g.api_user, reference)
    services.record_view(g.api_user, tip)
    return jsonify(CaseSchema().dump(detail(tip)))


@api_route("/cases/<reference>/actions", method="POST", summary="Perform a workflow action", tags=["cases"],
           permission="cases.view", request_schema=ActionSchema, response_schema=CaseSchema,
           responses={404: "No such case in the user's scope", 409: "Not allowed in this state, or changed meanwhile"})
def case_action(reference: str):
    """Accept, reject, transfer, designate, extend, conclude, message, note, forward upward, close."""
    payload, action, version = action_request()
    outcome = services.perform(g.api_user, reference, action, payload, expected_version=version)
    return jsonify({**CaseSchema().dump(detail(outcome.tip)), "message": outcome.message})
