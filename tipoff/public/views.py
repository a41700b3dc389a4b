"""Public pages: the home page and the language switch."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from tipoff.web import remember_language

bp = Blueprint("public", __name__)


def _url_if_exists(endpoint: str) -> str | None:
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.get("/")
def home():
    """The home page: what can be reported, how identity is protected, the channels."""
    from tipoff.reference.services import active_categories

    return render_template("public/home.html", categories=active_categories(),
                           report_url=_url_if_exists("intake.report"),
                           status_url=_url_if_exists("intake.status"))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target or len(target) > 2000:
        return default
    # Browsers and Werkzeug drop tabs and newlines ("/\t/evil" becomes "//evil"): refuse them all.
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the chosen language (zh_CN or en) and go back."""
    response = redirect(safe_next(request.args.get("next")))
    if code in current_app.config["TIPOFF_LANGUAGES"]:
        remember_language(response, code)
    return response


@bp.get("/healthz")
def health():
    """Liveness and database check for load balancers."""
    from sqlalchemy import text

    from tipoff.extensions import db

    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        current_app.logger.warning("health check: database unavailable")
        return {"status": "unavailable"}, 503
    return {"status": "ok"}
