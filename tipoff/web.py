"""Cross-cutting web behaviour: security headers, language choice, write intent, proxies."""
from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from tipoff.db import set_write_intent

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


def init_app(app: Flask) -> None:
    """Install headers, write intent and proxy handling on the app."""
    if app.config.get("TIPOFF_TRUSTED_PROXIES"):
        hops = int(app.config["TIPOFF_TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    @app.before_request
    def _declare_write_intent():
        # Decided before any query so SQLite opens the right kind of transaction.
        view = app.view_functions.get(request.endpoint or "")
        set_write_intent(request.method in UNSAFE_METHODS or bool(getattr(view, "writes", False)))

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        if app.config.get("TIPOFF_HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith(("/staff", "/api/")) or response.mimetype == "application/json":
            headers.setdefault("Cache-Control", "no-store")
        return response

    @app.context_processor
    def _template_globals():
        from flask_babel import get_locale

        # Babel normalises zh_CN to zh_Hans_CN; templates only need to know which of our two it is.
        locale = get_locale()
        current = "zh_CN" if locale is None or locale.language == "zh" else "en"
        return {"current_locale": current, "languages": app.config["TIPOFF_LANGUAGES"]}


def writes(view):
    """Mark a GET view that writes (e.g. an audited read) so SQLite begins it as a writer."""
    view.writes = True
    return view
