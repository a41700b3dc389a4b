"""The JSON API under /api/v1: bearer tokens for staff, one error shape, an OpenAPI document.

Feature packages declare their endpoints with `api_route`, which registers the view on the blueprint
and records the marshmallow schemas it uses, so the OpenAPI document is generated, never hand-written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Callable

from flask import Blueprint, g, jsonify, request
from marshmallow import Schema, ValidationError

from tipoff.errors import DomainError, Forbidden, Unauthorized, ValidationFailed
from tipoff.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer tokens carry no ambient credentials, so cross-site request forgery does not apply here.
csrf.exempt(bp)


class MalformedJSON(DomainError):
    status = 400
    code = "malformed_json"

    def default_message(self) -> str:
        return "请求体不是有效的 JSON。"


@dataclass
class Endpoint:
    rule: str
    method: str
    summary: str
    tags: list[str]
    auth: bool
    permission: str | None
    request_schema: type[Schema] | None
    response_schema: type[Schema] | None
    status: int
    extra_responses: dict[int, str] = field(default_factory=dict)
    query: dict[str, dict] = field(default_factory=dict)  # query parameter -> JSON schema (documented, fuzzed)


ENDPOINTS: list[Endpoint] = []


def api_route(rule: str, *, method: str = "GET", summary: str, tags: list[str],
              auth: bool = True, permission: str | None = None,
              request_schema: type[Schema] | None = None, response_schema: type[Schema] | None = None,
              status: int = 200, responses: dict[int, str] | None = None,
              query: dict[str, dict] | None = None) -> Callable:
    """Register a JSON endpoint and document it. `auth` demands a staff bearer token; `query` documents the
    optional query parameters (name -> JSON schema)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if auth:
                authenticate(permission)
            return view(*args, **kwargs)

        ENDPOINTS.append(Endpoint(rule, method, summary, tags, auth, permission, request_schema,
                                  response_schema, status, responses or {}, query or {}))
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapped, methods=[method])
        return wrapped

    return decorator


def authenticate(permission: str | None = None):
    """Resolve the bearer token to an active staff user (g.api_user) or raise 401/403."""
    from tipoff.accounts.tokens import user_for_token

    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要有效的访问令牌（Authorization: Bearer …）。", code="token_required")
    user = user_for_token(token.strip())
    if user is None:
        raise Unauthorized("访问令牌无效或已被撤销。", code="token_invalid")
    if permission and not user.can(permission):
        raise Forbidden()
    g.api_user = user
    return user


MAX_ID = 2**31 - 1  # ids and versions are 32-bit integers in the database


def action_request() -> tuple[dict, str, int | None]:
    """A workflow action's JSON body: (payload, action, expected version); 400 when not an object, 422 on bad
    `action` / `version` (shared by the case and reward action endpoints)."""
    payload = request.get_json(silent=True) if request.is_json else None
    if not isinstance(payload, dict):
        raise MalformedJSON("请求体须为 JSON 对象。")
    unreadable = sorted(_unreadable_text(payload))
    if unreadable:  # a NUL would otherwise reach PostgreSQL (e.g. as a reference to link to) and fail there
        raise ValidationFailed(fields={name: ["含有无法处理的字符（空字符或不成对的代理字符）。"] for name in unreadable})
    action, version = payload.get("action"), payload.get("version")
    if not isinstance(action, str):
        raise ValidationFailed(fields={"action": ["请给出操作名称。"]})
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)
                                or not 0 <= version <= MAX_ID):
        raise ValidationFailed(fields={"version": ["须为整数。"]})
    return payload, action, version


def json_body(schema: Schema) -> dict:
    """Parse the request body as JSON and validate it: 400 when malformed, 422 naming bad fields."""
    if not request.is_json:
        raise MalformedJSON("请求体须为 JSON（Content-Type: application/json）。")
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting is malformed, not a server error
        payload = None
    if payload is None:
        raise MalformedJSON()
    if not isinstance(payload, dict):
        raise ValidationFailed("请求体须为 JSON 对象。", fields={"_schema": ["须为 JSON 对象"]})
    unreadable = sorted(_unreadable_text(payload))
    if unreadable:
        raise ValidationFailed(fields={name: ["含有无法处理的字符（空字符或不成对的代理字符）。"] for name in unreadable})
    try:
        return schema.load(payload)
    except ValidationError as exc:
        raise ValidationFailed(fields=exc.normalized_messages()) from None


def _unreadable_text(value: Any, path: str = "") -> set[str]:
    """Fields holding a NUL or a lone surrogate: no database stores them and no encoder prints them."""
    if isinstance(value, str):
        bad = "\x00" in value or any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)
        return {path or "_schema"} if bad else set()
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            found |= _unreadable_text(item, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(value, list):
        return set().union(*(_unreadable_text(item, path) for item in value)) if value else set()
    return set()


def respond(schema: Schema, obj: Any, status: int = 200):
    """Serialise `obj` with `schema` as the JSON response."""
    return jsonify(schema.dump(obj)), status


# The OpenAPI document and the shared error schema.
from tipoff.api import openapi  # noqa: E402,F401
