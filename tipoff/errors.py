"""Named errors: services raise these; one handler turns them into an HTML page or a JSON body.

JSON shape everywhere: {"error": {"code": "...", "message": "...", "fields": {...}}}.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, has_request_context, jsonify, render_template, request
from flask_babel import gettext
from werkzeug.exceptions import HTTPException


def _(message: str) -> str:
    """Translate in a request (the person's language); elsewhere (CLI, jobs) keep the Chinese source."""
    return gettext(message) if has_request_context() else message


class ConfigError(RuntimeError):
    """The configuration or the keys are unfit to serve; the message names what is missing."""


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds, sent as Retry-After (e.g. a busy 503)

    def __init__(self, message: str | None = None, *, fields: dict[str, Any] | None = None,
                 code: str | None = None):
        super().__init__(message or self.default_message())
        self.message = message or self.default_message()
        self.fields = fields or {}
        if code:
            self.code = code

    def default_message(self) -> str:
        return _("请求无法处理。")


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"

    def default_message(self) -> str:
        return _("有字段未填写正确，请按提示修改。")


class NotFound(DomainError):
    status = 404
    code = "not_found"

    def default_message(self) -> str:
        return _("找不到您要的内容。")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"

    def default_message(self) -> str:
        return _("您没有权限进行此操作。")


class Conflict(DomainError):
    status = 409
    code = "conflict"

    def default_message(self) -> str:
        return _("该记录已被他人修改，请刷新后重试。")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"

    def default_message(self) -> str:
        return _("请先登录。")


# Friendly wording for the HTTP errors Flask raises itself.
HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确。"),
    401: ("unauthorized", "请先登录。"),
    403: ("forbidden", "您没有权限访问此页面。"),
    404: ("not_found", "找不到您要的页面。"),
    405: ("method_not_allowed", "不支持此请求方法。"),
    413: ("too_large", "提交的内容太大。"),
    415: ("unsupported_media_type", "不支持此内容类型。"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试。"),
    500: ("server_error", "服务器出错，请稍后再试。您填写的内容没有丢失。"),
    503: ("unavailable", "服务暂时不可用，请稍后再试。"),
}


def wants_json() -> bool:
    """True for the JSON API and for clients that prefer JSON to HTML."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """Render one error as JSON or HTML, whichever the client asked for."""
    if wants_json():
        body = {"error": {"code": code, "message": message, "fields": fields or {}}}
        return jsonify(body), status
    return render_template("errors/error.html", status=status, code=code, message=message,
                           fields=fields or {}), status


def domain_error_response(exc: DomainError):
    """The response for a named domain error (with Retry-After when the error names one)."""
    if exc.retry_after is None:
        return error_response(exc.status, exc.code, exc.message, exc.fields)
    from flask import make_response

    out = make_response(error_response(exc.status, exc.code, exc.message, exc.fields))
    out.headers["Retry-After"] = str(exc.retry_after)
    return out


def http_error_response(exc: HTTPException):
    """The response for an HTTP error Flask or an extension raised, keeping Retry-After and Allow."""
    from flask import make_response, redirect, url_for

    if exc.code == 405 and request.method == "GET" and request.path.startswith("/status/"):
        # A reporter's form posts to /status/reply etc.; reloading or reopening that address from the
        # address bar asks for it with GET: take them to their case's page, not a "method" error.
        return redirect(url_for("intake.status"))
    code, message = HTTP_MESSAGES.get(exc.code or 500, ("error", exc.description or ""))
    body, status = error_response(exc.code or 500, code, _(message))
    out = make_response(body, status)
    original = exc.get_response().headers
    for header in ("Retry-After", "Allow"):
        if original.get(header):
            out.headers[header] = original[header]
    return out


# How long a client is asked to wait when the database cannot be reached (Retry-After, seconds).
DATABASE_RETRY_AFTER_SECONDS = 30


def database_unavailable(exc: BaseException) -> bool:
    """Is this the database being unreachable (down, restarting, locked, disk full) rather than a bug?

    OperationalError is what drivers raise for a lost or refused connection, a terminated backend, a
    locked or full SQLite file; a pool that cannot hand out a connection times out. Integrity and
    programming errors stay server errors: retrying them would not help.
    """
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if transaction_conflict(exc):
        return False  # the database is there: two transactions collided, see below
    if isinstance(exc, (OperationalError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def transaction_conflict(exc: BaseException) -> bool:
    """Did the database cancel this transaction because it collided with another (deadlock, serialisation)?

    PostgreSQL reports these with SQLSTATE class 40; the driver raises them as OperationalError, but the
    database is reachable and a retry will do: a 409 asking to try again, not a 503."""
    from sqlalchemy.exc import DBAPIError

    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, DBAPIError) and isinstance(sqlstate, str) and sqlstate.startswith("40")


def forget_failed_transaction() -> None:
    """Roll back the session after a database failure, so rendering the answer starts clean."""
    from tipoff.db import set_write_intent
    from tipoff.extensions import db

    set_write_intent(False)  # whatever the page still reads must not queue behind SQLite's write lock
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded at teardown
        pass  # nosec B110


def database_unavailable_response(exc: BaseException):
    """503 with Retry-After: the database is unreachable; nothing was saved, the client may retry."""
    from flask import current_app, make_response

    # The exception's class only: its text holds SQL and connection details, never worth a log line here.
    current_app.logger.warning("database unavailable on %s %s: %s", request.method, request.path,
                               type(exc).__name__)
    forget_failed_transaction()
    body, status = error_response(503, "database_unavailable",
                                  _("数据库暂时无法访问，服务暂时不可用，刚才的操作没有保存。请稍后再试。"))
    response = make_response(body, status)
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to one response shape."""
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if database_unavailable(exc):
            return database_unavailable_response(exc)
        if transaction_conflict(exc):
            app.logger.warning("transaction conflict on %s %s: %s", request.method, request.path,
                               type(exc).__name__)
            forget_failed_transaction()
            return domain_error_response(Conflict(_("刚才有人同时修改了同一记录，操作没有保存，请刷新后重试。"),
                                                  code="transaction_conflict"))
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        return error_response(500, code, _(message))
