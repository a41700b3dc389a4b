"""Staff sessions: the Flask-Login loader, the idle timeout and the forced password change."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import lazy_gettext
from flask_login import current_user, logout_user

from tipoff.extensions import login_manager

# Endpoints a user who must change their password may still reach.
PASSWORD_CHANGE_ALLOWED = {"accounts.password", "accounts.logout", "static", "public.set_language"}
LAST_SEEN_GRANULARITY_S = 60


def init_app(app: Flask) -> None:
    """Wire Flask-Login and the per-request session checks."""
    from tipoff.accounts.services import load_session_user

    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("请先登录。")
    # Flask-Login's protection hashes the client address into the cookie; our sessions are instead
    # bound to a server-side version (bumped on password change, 2FA reset, deactivation).
    login_manager.session_protection = None
    login_manager.user_loader(load_session_user)
    idle = timedelta(minutes=app.config["TIPOFF_SESSION_IDLE_MINUTES"])
    app.config["PERMANENT_SESSION_LIFETIME"] = idle

    @app.before_request
    def _staff_session_checks():
        if request.endpoint == "static" or request.blueprint == "api":
            return None
        if not current_user.is_authenticated:
            return None
        now = time.time()
        last_seen = session.get("last_seen", now)
        if now - last_seen > idle.total_seconds():
            logout_user()
            session.clear()
            flash(lazy_gettext("长时间未操作，已自动退出。请重新登录。"), "error")
            return redirect(url_for("accounts.login", next=request.full_path))
        # Refreshed at most once a minute (the idle limit is counted in minutes): an unchanged session
        # is not signed and sent again with every page (SESSION_REFRESH_EACH_REQUEST is off), and the
        # cookie's own expiry moves with each refresh.
        if "last_seen" not in session or now - last_seen >= LAST_SEEN_GRANULARITY_S:
            session["last_seen"] = now
        if not session.permanent:
            session.permanent = True
        if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
            return redirect(url_for("accounts.password"))
        return None
