"""Staff login (password, then TOTP), enrolment, password change, user administration."""
from __future__ import annotations

import time

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import select

from tipoff.accounts import services, tokens
from tipoff.accounts.access import permission_required, scoped
from tipoff.accounts.forms import LoginForm, PasswordChangeForm, TotpForm, UserCreateForm
from tipoff.accounts.models import ApiToken, User
from tipoff.db import utcnow
from tipoff.errors import DomainError, NotFound, ValidationFailed
from tipoff.extensions import db, limiter
from tipoff.public.views import safe_next
from tipoff.web import writes
from tipoff.reference.services import handling_departments

bp = Blueprint("accounts", __name__, url_prefix="/staff")

PENDING_KEY = "pending_login"
PENDING_SECONDS = 300
LOGIN_LIMITS = "10 per minute;60 per hour"


def _start_pending(user: User, next_url: str) -> None:
    session.clear()  # a fresh session at every login: no fixation
    session[PENDING_KEY] = {"uid": user.id, "v": user.session_version, "at": time.time(), "next": next_url}


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    user = db.session.get(User, pending["uid"])
    if user is None or user.session_version != pending["v"] or not user.active:
        return None
    return user


def _finish_login(user: User):
    next_url = safe_next(session.get(PENDING_KEY, {}).get("next"), url_for("staff.home"))
    session.clear()
    login_user(user)
    session["last_seen"] = time.time()
    session.permanent = True
    if user.must_change_password:
        flash(_("首次登录或密码已被重置：请设置您自己的密码。"), "info")
        return redirect(url_for("accounts.password"))
    return redirect(next_url)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"])
def login():
    """Step 1: username and password."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.home"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    error = None
    if form.validate_on_submit():
        try:
            user = services.check_password(form.username.data, form.password.data)
        except services.LoginFailed as exc:
            error = exc.message
        else:
            _start_pending(user, form.next.data or "")
            target = "accounts.login_totp" if user.totp_enabled else "accounts.enrol"
            return redirect(url_for(target))
    status = 401 if error else (422 if form.errors else 200)
    return render_template("accounts/login.html", form=form, error=error), status


@bp.route("/login/totp", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"])
def login_totp():
    """Step 2: the 6-digit code from the authenticator app."""
    user = _pending_user()
    if user is None or not user.totp_enabled:
        return redirect(url_for("accounts.login"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            services.check_totp(user, form.code.data)
        except services.LoginFailed as exc:
            session.pop(PENDING_KEY, None)  # start again from the password
            flash(exc.message, "error")
            return redirect(url_for("accounts.login"))
        return _finish_login(user)
    return render_template("accounts/totp.html", form=form), (422 if form.errors else 200)


@bp.route("/login/enrol", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMITS, methods=["POST"])
@writes
def enrol():
    """First login or after a reset: bind an authenticator app by QR code, then confirm a code."""
    user = _pending_user()
    if user is None or user.totp_enabled:
        return redirect(url_for("accounts.login"))
    secret = services.pending_totp_secret(user) or services.begin_totp_enrolment(user)
    form = TotpForm()
    error = None
    if form.validate_on_submit():
        try:
            services.confirm_totp_enrolment(user, form.code.data)
        except ValidationFailed as exc:
            error = exc.message
        else:
            services.complete_login(user, "totp_enrolment")
            return _finish_login(user)
    uri = services.provisioning_uri(user, secret)
    # segno writes the SVG itself and escapes the title: no user input reaches the markup.
    qr_svg = Markup(segno.make(uri, error="m").svg_inline(scale=5, title=_("扫码绑定验证器")))  # nosec B704
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    status = 422 if (error or form.errors) else 200
    return render_template("accounts/enrol.html", form=form, error=error, qr_svg=qr_svg, secret=grouped,
                           otpauth_uri=uri), status


@bp.post("/logout")
def logout():
    """End the session."""
    if current_user.is_authenticated:
        services.logout(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("您已安全退出。"), "success")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password (forced after a one-time password)."""
    form = PasswordChangeForm()
    field_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        if form.new_password.data != form.confirm_password.data:
            field_errors["confirm_password"] = [_("两次输入的新密码不一致。")]
        else:
            user = current_user._get_current_object()
            try:
                services.change_password(user, form.current_password.data, form.new_password.data)
            except ValidationFailed as exc:
                field_errors = exc.fields
            else:
                login_user(user)  # the session version changed: keep this session, end the others
                session["last_seen"] = time.time()
                flash(_("密码已修改。"), "success")
                return redirect(url_for("staff.home"))
    status = 422 if (field_errors or form.errors) else 200
    return render_template("accounts/password.html", form=form, field_errors=field_errors,
                           min_length=services.MIN_PASSWORD_LENGTH), status


@bp.get("/account")
@login_required
def account():
    """One's own account: role, department, API tokens."""
    return render_template("accounts/account.html", tokens=tokens.tokens_of(current_user))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    """Revoke one of one's own API tokens (admins may revoke anyone's)."""
    api_token = db.session.get(ApiToken, token_id)
    if api_token is None or (api_token.user_id != current_user.id and not current_user.can("users.manage")):
        raise NotFound()
    tokens.revoke_api_token(api_token, actor=current_user._get_current_object())
    flash(_("令牌已撤销。"), "success")
    return redirect(url_for("accounts.account"))


# ------------------------------------------------------------------------ user administration


def _department_choices() -> list[tuple[str, str]]:
    return [("", _("（无，全区角色）"))] + [(d.code, d.name) for d in handling_departments()]


@bp.get("/users")
@permission_required("users.view")
def users():
    """Staff users: all of them for admins and overseers, one's own department for leaders."""
    query = scoped(select(User), current_user, "users.view", User.department_id)
    rows = db.session.scalars(query.order_by(User.role, User.username)).all()
    return render_template("accounts/users.html", users=rows, now=utcnow(),
                           can_manage=current_user.can("users.manage"))


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def user_new():
    """Create a user; the one-time password is shown on the next page, once."""
    form = UserCreateForm()
    form.department.choices = _department_choices()
    field_errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        try:
            user, one_time = services.create_user_with_one_time_password(
                actor=current_user._get_current_object(), username=form.username.data,
                display_name=form.display_name.data, role=form.role.data,
                department_code=form.department.data or None)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            field_errors = exc.fields or {"username": [exc.message]}
        else:
            return render_template("accounts/one_time_password.html", user=user, password=one_time,
                                   reason=_("新用户已创建。")), 201
    status = 422 if (field_errors or form.errors) else 200
    return render_template("accounts/user_new.html", form=form, field_errors=field_errors), status


USER_ACTIONS = {"reset-password", "reset-2fa", "deactivate", "activate", "unlock"}


@bp.post("/users/<int:user_id>/<action>")
@permission_required("users.manage")
def user_action(user_id: int, action: str):
    """Admin actions on one user."""
    if action not in USER_ACTIONS:
        raise NotFound()
    target = services.get_user(user_id)
    actor = current_user._get_current_object()
    if action == "reset-password":
        one_time = services.reset_password(target, actor)
        return render_template("accounts/one_time_password.html", user=target, password=one_time,
                               reason=_("密码已重置。"))
    if action == "reset-2fa":
        services.reset_totp(target, actor)
        flash(_("已清除 %(name)s 的验证器，其下次登录时需重新绑定。", name=target.username), "success")
    elif action in ("deactivate", "activate"):
        services.set_active(target, action == "activate", actor)
        flash(_("账户状态已更新。"), "success")
    elif action == "unlock":
        services.unlock(target, actor)
        flash(_("账户已解锁。"), "success")
    return redirect(url_for("accounts.users"))

