"""Cross-cutting web behaviour: security headers, language choice, write intent, proxies."""
from __future__ import annotations

import io

from flask import Flask, Request, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from tipoff.db import set_write_intent
from tipoff.messages import Message

LANGUAGE_COOKIE = "tipoff_lang"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def select_locale() -> str:
    """Chinese first: English only when the person chose it (cookie or ?lang=)."""
    languages = current_app.config["TIPOFF_LANGUAGES"]
    wanted = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return wanted if wanted in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def english() -> bool:
    """Is this request's page in English (the person chose it)?"""
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and locale.language == "en"


def translate(message: str) -> str:
    """A message for the person reading the page, in their language: a tipoff.messages.Message by its msgid
    and parameters (Message parameters translated too), a plain string looked up as it is; what the
    catalogue lacks stays Chinese."""
    from flask_babel import gettext

    if isinstance(message, Message):
        params = {key: translate(value) if isinstance(value, Message) else value
                  for key, value in message.params.items()}
        return gettext(message.msgid, **params)
    return gettext(message) if isinstance(message, str) and message else message


def problems(messages) -> str:
    """A field's problems (one message or several) as one line in the page's language: each is a sentence,
    so English joins them with a space."""
    items = [messages] if isinstance(messages, str) else list(messages or ())
    return (" " if english() else "；").join(str(translate(item)) for item in items)


class InMemoryUploadsRequest(Request):
    """Uploaded files stay in memory (bounded by MAX_CONTENT_LENGTH): Werkzeug would otherwise spool
    large uploads, i.e. evidence still in plaintext, to temporary files on disk."""

    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return io.BytesIO()


def init_app(app: Flask) -> None:
    """Install headers, write intent and proxy handling on the app."""
    app.request_class = InMemoryUploadsRequest
    app.json.ensure_ascii = False  # API JSON keeps Chinese readable (UTF-8), not \uXXXX escapes
    app.add_template_filter(translate, "tr")
    app.add_template_filter(problems, "problems")
    app.add_template_global(english, "english")  # also inside imported macros, which see no context
    if app.config.get("TIPOFF_TRUSTED_PROXIES"):
        hops = int(app.config["TIPOFF_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _refuse_cross_site_forms():
        # Our no-referrer policy makes browsers send "Origin: null" even for our own forms, so the
        # Fetch Metadata header is what tells a cross-site form post apart (the CSRF token still
        # applies to everything). The token-authenticated JSON API is not a browser form target.
        if (request.method in UNSAFE_METHODS and not request.path.startswith("/api/")
                and request.headers.get("Sec-Fetch-Site") == "cross-site"):
            from werkzeug.exceptions import Forbidden

            raise Forbidden("cross-site form submission")

    @app.before_request
    def _refuse_nul_characters():
        # PostgreSQL text cannot hold NUL (0x00): one in the path or a query parameter would reach a query and
        # fail as a server error. No real URL contains it, so refuse the request plainly. (Form fields and JSON
        # bodies are checked field by field where they are read, so the refusal can name the field.)
        if any("\x00" in value for value in (request.path, *request.args.keys(), *request.args.values())):
            from flask_babel import gettext as _

            from tipoff.errors import DomainError

            raise DomainError(_("请求中含有无法处理的空字符（0x00），请删除后重试。"), code="nul_character")

    @app.before_request
    def _declare_write_intent():
        # Decided before any query so SQLite opens the right kind of transaction.
        view = app.view_functions.get(request.endpoint or "")
        set_write_intent(request.method in UNSAFE_METHODS or bool(getattr(view, "writes", False)))

    fixed_headers = security_headers(app)

    @app.after_request
    def _remember_language_asked_for(response):
        # A link with ?lang=en (a poster, a shared address) is a choice of language like the header's
        # switch: remember it, or the next page (the report form it leads to) is Chinese again.
        wanted = request.args.get("lang")
        if wanted in app.config["TIPOFF_LANGUAGES"] and request.cookies.get(LANGUAGE_COOKIE) != wanted:
            remember_language(response, wanted)
        return response

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        for name, value in fixed_headers:
            headers.setdefault(name, value)
        # Staff pages, the API and every page of the reporter's channel (receipts carry access codes)
        # must not linger in caches or the back/forward cache of a shared phone.
        if request.path.startswith(("/staff", "/api/", "/report", "/status", "/verify")) \
                or response.mimetype == "application/json":
            headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _template_globals():
        # Babel normalises zh_CN to zh_Hans_CN; templates only need to know which of our two it is.
        return {"current_locale": "en" if english() else "zh_CN", "languages": app.config["TIPOFF_LANGUAGES"]}


def remember_language(response, code: str) -> None:
    """Set the language cookie (a year; first-party, not readable by scripts)."""
    from flask import current_app

    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        secure=current_app.config.get("SESSION_COOKIE_SECURE", False), httponly=True)


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every response carries (the app's and tipoff.intake.busy_gate's refusals)."""
    headers = [("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
               ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
               ("Cross-Origin-Opener-Policy", "same-origin"),
               ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")]
    if app.config.get("TIPOFF_HSTS"):
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def writes(view):
    """Mark a GET view that writes (e.g. an audited read) so SQLite begins it as a writer."""
    view.writes = True
    return view


MAX_ID = 2**31 - 1  # ids and versions are 32-bit integers in the database


def form_version() -> int | None:
    """The optimistic-lock version a form posted back (None when absent or not a sane integer)."""
    from flask import request

    version = request.form.get("version", type=int)
    return version if version is not None and 0 <= version <= MAX_ID else None


def bounded_int_converter():
    """Werkzeug's `int` converter limited to 32 bits, so /x/<int:id> with a 30-digit id is a 404, not a
    database overflow."""
    from werkzeug.routing import IntegerConverter

    class BoundedInt(IntegerConverter):
        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(map, *args, **kwargs)

    return BoundedInt
