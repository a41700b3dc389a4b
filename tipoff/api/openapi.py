"""GET /api/v1/openapi.json — generated from the endpoints declared with `api_route`."""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import jsonify
from marshmallow import Schema, fields

from tipoff.api import ENDPOINTS, bp


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields = fields.Dict(keys=fields.String(), values=fields.Raw())


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


_PATH_PARAM = re.compile(r"<(?:[a-z_]+:)?([a-z_]+)>")


def build_spec() -> dict:
    """Build the OpenAPI 3 document from the declared endpoints."""
    spec = APISpec(title="tipoff API", version="1", openapi_version="3.0.3",
                   info={"description": "建安区安全生产举报与奖励服务 JSON API"},
                   plugins=[MarshmallowPlugin()])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", schema=ErrorSchema)
    paths: dict[str, dict] = {}
    for ep in ENDPOINTS:
        path = "/api/v1" + _PATH_PARAM.sub(r"{\1}", ep.rule)
        operation: dict = {"summary": ep.summary, "tags": ep.tags, "responses": {}}
        params = _PATH_PARAM.findall(ep.rule)
        parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
        parameters += [{"name": name, "in": "query", "required": False, "schema": schema}
                       for name, schema in ep.query.items()]
        if parameters:
            operation["parameters"] = parameters
        if ep.request_schema is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": ep.request_schema}}}
        ok: dict = {"description": "OK"}
        if ep.response_schema is not None:
            ok["content"] = {"application/json": {"schema": ep.response_schema}}
        operation["responses"][str(ep.status)] = ok
        error_codes = dict(ep.extra_responses)
        if ep.request_schema is not None:
            error_codes.setdefault(400, "Malformed JSON")
            error_codes.setdefault(422, "Invalid fields")
        error_codes.setdefault(400, "Unreadable request (a NUL character in the path or query)")  # tipoff.web
        if ep.auth:
            operation["security"] = [{"bearer": []}]
            error_codes.setdefault(401, "Missing or invalid token")
            error_codes.setdefault(403, "Not allowed for this role")
        for code, description in sorted(error_codes.items()):
            operation["responses"][str(code)] = {
                "description": description,
                "content": {"application/json": {"schema": "Error"}},
            }
        paths.setdefault(path, {})[ep.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 description of this API."""
    return jsonify(build_spec())
