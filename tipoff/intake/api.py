"""Intake over JSON: submit a tip, look it up with the access code, answer the department.

Same rules as the form (`tipoff.intake.submission`); staff channels (hotline, letter, visit …) need an
operator's bearer token.
"""
from __future__ import annotations

from flask import jsonify, request
from marshmallow import Schema, fields, validate

from tipoff.api import api_route, authenticate, json_body
from tipoff.cases.states import public_status
from tipoff.errors import ValidationFailed
from tipoff.extensions import limiter
from tipoff.intake import services, throttle
from tipoff.intake.submission import CHANNELS, CONTACT_PREFERENCES, WEB

_short = validate.Length(max=300)


class ReporterSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(max=50))
    phone = fields.String(required=True, validate=validate.Length(max=20))
    id_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=22))
    contact_preference = fields.String(load_default="phone", validate=validate.OneOf(CONTACT_PREFERENCES))


class TipCreateSchema(Schema):
    category = fields.String(required=True, validate=_short)
    sector = fields.String(required=True, validate=_short)
    township = fields.String(load_default=None, allow_none=True, validate=_short)
    subject_name = fields.String(required=True, validate=validate.Length(max=300))
    subject_credit_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=400))
    occurred_on = fields.Date(load_default=None, allow_none=True)
    description = fields.String(required=True, validate=validate.Length(max=6000))
    insider = fields.Boolean(load_default=False)
    keep_photo_metadata = fields.Boolean(load_default=False)
    reporter = fields.Nested(ReporterSchema, load_default=None, allow_none=True)
    channel = fields.String(load_default=WEB, validate=validate.OneOf(CHANNELS))


class DepartmentRefSchema(Schema):
    code = fields.String()
    name = fields.String()


class ReceiptSchema(Schema):
    reference = fields.String()
    access_code = fields.String()
    status = fields.String()
    department = fields.Nested(DepartmentRefSchema)
    proof = fields.String()


class LookupSchema(Schema):
    reference = fields.String(required=True, validate=validate.Length(max=40))
    access_code = fields.String(required=True, validate=validate.Length(max=40))


class MessageSchema(Schema):
    sender = fields.String()
    body = fields.String()
    created_at = fields.DateTime()


class TipStatusSchema(Schema):
    reference = fields.String()
    status = fields.String()
    status_label = fields.String()
    department = fields.Nested(DepartmentRefSchema)
    deadline = fields.DateTime(allow_none=True)
    messages = fields.List(fields.Nested(MessageSchema))


class ReplySchema(LookupSchema):
    body = fields.String(required=True, validate=validate.Length(max=4000))


# API field names for the form's flat names, so a 422 names the field the client sent.
_API_FIELD = {"reporter_name": "reporter.name", "reporter_phone": "reporter.phone",
              "reporter_id_number": "reporter.id_number", "contact_preference": "reporter.contact_preference"}


def _flat(data: dict) -> dict:
    raw = {k: v for k, v in data.items() if k not in ("reporter", "occurred_on")}
    raw["occurred_on"] = data["occurred_on"].isoformat() if data.get("occurred_on") else ""
    reporter = data.get("reporter")
    raw["identity"] = "named" if reporter else "anonymous"
    if reporter:
        raw.update(reporter_name=reporter["name"], reporter_phone=reporter["phone"],
                   reporter_id_number=reporter.get("id_number") or "",
                   contact_preference=reporter.get("contact_preference") or "phone")
    return raw


# Built once: marshmallow schemas hold no per-call state, and building one (with its nested reporter
# schema) cost more than loading a tip with it.
_TIP_CREATE, _RECEIPT = TipCreateSchema(), ReceiptSchema()


@api_route("/tips", method="POST", summary="Submit a tip (public for channel web; operators for the others)",
           tags=["intake"], auth=False, request_schema=TipCreateSchema, response_schema=ReceiptSchema,
           status=201, responses={401: "Staff channel without a token", 403: "Not an operator",
                                  429: "Too many submissions from this client"})
@limiter.limit("5 per minute;30 per hour")
def create_tip():
    """Submit a tip; the answer carries the access code, shown this once."""
    data = json_body(_TIP_CREATE)
    entered_by = None
    if data["channel"] != WEB or request.headers.get("Authorization"):
        entered_by = authenticate("tips.enter")
    try:
        receipt = services.submit_tip(_flat(data), channel=data["channel"], entered_by=entered_by,
                                      idempotency_key=request.headers.get("Idempotency-Key"))
    except ValidationFailed as exc:
        raise ValidationFailed(exc.message, fields={_API_FIELD.get(k, k): v for k, v in exc.fields.items()}) \
            from None
    body = {"reference": receipt.reference, "access_code": receipt.access_code, "status": receipt.status,
            "department": {"code": receipt.department_code, "name": receipt.department_name},
            "proof": receipt.proof}
    return jsonify(_RECEIPT.dump(body)), 201


def _status_body(tip) -> dict:
    public = public_status(tip.status)
    return {"reference": tip.reference, "status": public.code, "status_label": public.label,
            "department": {"code": tip.department.code, "name": tip.department.name}, "deadline": None,
            "messages": [vars(m) for m in services.messages_of(tip)]}


@api_route("/tips/lookup", method="POST", summary="A reporter's view of their tip (reference + access code)",
           tags=["intake"], auth=False, request_schema=LookupSchema, response_schema=TipStatusSchema,
           responses={404: "Unknown reference or wrong code (one answer for both)",
                      429: "Too many wrong codes for this reference or client",
                      503: "Every access-code check slot is busy; retry after Retry-After seconds"})
@limiter.shared_limit("10 per minute;60 per hour", scope="tip-lookup")
@throttle.per_reference_and_client
@throttle.per_reference
def lookup_tip():
    """Status, handling department and messages for the holder of the access code."""
    data = json_body(LookupSchema())
    tip = services.open_for_reporter(data["reference"], data["access_code"])
    return jsonify(TipStatusSchema().dump(_status_body(tip)))


@api_route("/tips/messages", method="POST", summary="The reporter answers the department",
           tags=["intake"], auth=False, request_schema=ReplySchema, response_schema=MessageSchema, status=201,
           responses={404: "Unknown reference or wrong code", 429: "Too many attempts",
                      503: "Every access-code check slot is busy; retry after Retry-After seconds"})
@limiter.limit("20 per hour")
@throttle.per_reference_and_client
@throttle.per_reference
def reply_to_department():
    """Add the reporter's message to the conversation."""
    data = json_body(ReplySchema())
    tip = services.open_for_reporter(data["reference"], data["access_code"])
    message = services.post_message(tip, data["body"], sender="reporter")
    return jsonify(MessageSchema().dump({"sender": "reporter", "body": data["body"],
                                         "created_at": message.created_at})), 201


class EvidenceReceiptSchema(Schema):
    reference = fields.String()
    files = fields.Integer()


@api_route("/tips/evidence", method="POST",
           summary="Add evidence files (multipart/form-data: reference, access_code, evidence[], "
                   "keep_photo_metadata)", tags=["intake"], auth=False, response_schema=EvidenceReceiptSchema,
           status=201, responses={404: "Unknown reference or wrong code", 413: "Upload too large",
                                  422: "A file was refused (type, size, count)", 429: "Too many attempts",
                                  503: "Every access-code check slot is busy; retry after Retry-After seconds"})
@limiter.limit("10 per hour")
@throttle.per_reference_and_client
@throttle.per_reference
def add_evidence():
    """Add photos, documents, audio or video to a tip; photos are stripped of metadata."""
    from tipoff.intake.attachments import Upload

    if not request.mimetype == "multipart/form-data":
        raise ValidationFailed("请以 multipart/form-data 上传文件。", fields={"evidence": ["须为 multipart/form-data"]})
    tip = services.open_for_reporter(request.form.get("reference", ""), request.form.get("access_code", ""))
    uploads = [Upload(f.filename or "", f.read()) for f in request.files.getlist("evidence") if f and f.filename]
    if not uploads:
        raise ValidationFailed(fields={"evidence": ["请选择要上传的文件。"]})
    count = services.add_evidence_later(tip, uploads, request.form.get("keep_photo_metadata") in ("1", "true"))
    return jsonify(EvidenceReceiptSchema().dump({"reference": request.form.get("reference", "").strip().upper(),
                                                 "files": count})), 201
