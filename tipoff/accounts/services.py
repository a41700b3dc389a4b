"""Staff account services: the only code that changes users, second factors and API tokens.

Every change writes an audit entry in the same transaction. Login errors are deliberately generic
(one message for an unknown user, a wrong password, a wrong code and a locked account) so the form
cannot be used to find out who has an account.
"""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pyotp
from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from tipoff import crypto
from tipoff.accounts.models import User
from tipoff.audit.services import record
from tipoff.db import utcnow
from tipoff.errors import Conflict, DomainError, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.policy import DepartmentRule, Role, department_rule
from tipoff.reference.models import Department

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
TOTP_ISSUER = "建安区举报平台 tipoff"
# Letters and digits that are not easily confused when read aloud or copied from a screen.
OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
COMMON_PASSWORDS = {"password1234", "123456789012", "qwertyuiop12", "admin1234567", "tipoff123456"}

# A real argon2id hash to verify against when the username is unknown, so both cases cost the same.
_DUMMY_HASH: str | None = None


class LoginFailed(DomainError):
    """Wrong username, password or code, or a locked account: the same answer for all of them."""

    status = 401
    code = "login_failed"

    def default_message(self) -> str:
        from tipoff.errors import _

        return _("用户名、密码或验证码不正确，或账户暂时被锁定。请稍后再试。")


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive and trimmed."""
    return (username or "").strip().lower()


def password_problems(password: str, username: str = "") -> list[str]:
    """Name what is wrong with a new password (empty: acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少 {MIN_PASSWORD_LENGTH} 个字符。")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"密码最多 {MAX_PASSWORD_LENGTH} 个字符。")
    if username and username.lower() in password.lower():
        problems.append("密码不能包含用户名。")
    if password.lower() in COMMON_PASSWORDS or len(set(password)) < 5:
        problems.append("密码过于简单。")
    return problems


def one_time_password() -> str:
    """A random password for first login or a reset (about 95 bits, readable groups)."""
    groups = ["".join(secrets.choice(OTP_ALPHABET) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)


def _department(code: str | None) -> Department | None:
    if not code:
        return None
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise ValidationFailed(fields={"department": [f"未知部门代码：{code}"]})
    return department


def create_user(*, username: str, display_name: str, role: str, department_code: str | None,
                password: str | None = None, must_change_password: bool = True, actor=None) -> User:
    """Create a staff user; with no password given, the caller must set one-time credentials."""
    username = normalise_username(username)
    errors: dict[str, list[str]] = {}
    if not USERNAME_PATTERN.match(username):
        errors["username"] = ["用户名须为 3–64 位小写字母、数字、点、横线或下划线，以字母或数字开头。"]
    try:
        role_enum = Role(role)
    except ValueError:
        errors["role"] = [f"未知角色：{role}"]
        role_enum = None
    display_name = (display_name or "").strip()
    if not display_name or len(display_name) > 100:
        errors["display_name"] = ["请填写姓名（不超过 100 个字）。"]
    department = None
    if role_enum is not None:
        rule = department_rule(role_enum)
        if rule is DepartmentRule.REQUIRED and not department_code:
            errors["department"] = ["该角色必须属于一个部门。"]
        elif rule is DepartmentRule.NONE and department_code:
            errors["department"] = ["该角色不属于任何部门。"]
    if password is not None:
        problems = password_problems(password, username)
        if problems:
            errors["password"] = problems
    if not errors.get("department"):
        try:
            department = _department(department_code)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("该用户名已被使用。", fields={"username": ["该用户名已被使用。"]}, code="username_taken")
    user = User(username=username, display_name=display_name, role=role_enum.value,
                department_id=department.id if department else None,
                password_hash=crypto.hash_secret(password or secrets.token_urlsafe(32)),
                must_change_password=must_change_password, password_changed_at=utcnow())
    db.session.add(user)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict("该用户名已被使用。", fields={"username": ["该用户名已被使用。"]}, code="username_taken") from None
    record("user.create", actor=actor, object_type="user", object_id=user.id,
           department_id=user.department_id,
           details={"username": username, "role": user.role,
                    "department": department.code if department else None})
    return user


def create_user_with_one_time_password(*, actor, **fields) -> tuple[User, str]:
    """Create a user whose first login needs a one-time password, returned once to show once."""
    password = one_time_password()
    user = create_user(password=password, must_change_password=True, actor=actor, **fields)
    return user, password


def create_first_admin() -> tuple[str, str] | None:
    """Create the first administrator when there are no users; return (username, one-time password)."""
    if db.session.scalar(select(func.count()).select_from(User)):
        return None
    user, password = create_user_with_one_time_password(
        actor="cli", username="admin", display_name="系统管理员", role=Role.ADMIN.value, department_code=None)
    db.session.commit()
    return user.username, password


# ------------------------------------------------------------------------------------------ login


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = crypto.hash_secret(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def _is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _register_failure(user: User, stage: str) -> None:
    """Count a failure atomically (parallel attempts must not undercount) and lock at the limit."""
    failures = db.session.execute(
        update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
        .returning(User.failed_logins)).scalar_one()
    limit = current_app.config["TIPOFF_LOGIN_MAX_FAILURES"]
    locked = failures >= limit
    if locked:
        # Each further failure past the limit doubles the lock, up to a day.
        minutes = min(current_app.config["TIPOFF_LOGIN_LOCK_MINUTES"] * (2 ** (failures - limit)), 24 * 60)
        db.session.execute(update(User).where(User.id == user.id)
                           .values(locked_until=utcnow() + timedelta(minutes=minutes)))
    db.session.expire(user, ["failed_logins", "locked_until"])
    record("auth.login_failed", actor="anonymous", object_type="user", object_id=user.id,
           department_id=user.department_id, details={"stage": stage, "failures": failures, "locked": locked})


def check_password(username: str, password: str) -> User:
    """First login step: the password. Raises LoginFailed (generic) on any problem."""
    wanted = normalise_username(username)
    # No user name holds a NUL, and PostgreSQL cannot even compare one: an unknown user, not a server error.
    user = None if "\x00" in wanted else db.session.scalar(select(User).where(User.username == wanted))
    refused = user is None or not user.active or _is_locked(user)
    stored_hash = _dummy_hash() if refused else user.password_hash
    # End the transaction before the deliberately slow hash: on SQLite it holds the write lock.
    db.session.rollback()
    matches = crypto.verify_secret(stored_hash, password or "")
    if user is None:
        record("auth.login_failed", actor="anonymous", details={"stage": "password", "known_user": False})
        db.session.commit()
        raise LoginFailed()
    if refused:
        record("auth.login_refused", actor="anonymous", object_type="user", object_id=user.id,
               department_id=user.department_id,
               details={"reason": "inactive" if not user.active else "locked"})
        db.session.commit()
        raise LoginFailed()
    if not matches:
        _register_failure(user, "password")
        db.session.commit()
        raise LoginFailed()
    if crypto.needs_rehash(stored_hash):
        user.password_hash = crypto.hash_secret(password)
        db.session.commit()
    return user


def _totp_secret(user: User) -> str | None:
    if not user.totp_secret_sealed:
        return None
    return crypto.decrypt(user.totp_secret_sealed, aad=f"totp:{user.id}".encode()).decode()


def _accept_totp(user: User, code: str) -> bool:
    """Check a code against the user's secret; each time step is accepted once, even in parallel."""
    secret = _totp_secret(user)
    code = re.sub(r"\s+", "", code or "")
    if not secret or not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(secret)
    now_step = int(utcnow().timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if not crypto.constant_time_equal(totp.at(step * totp.interval), code):
            continue
        claimed = db.session.execute(
            update(User).where(User.id == user.id,
                               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step))
        db.session.expire(user, ["totp_last_step"])
        return claimed.rowcount == 1
    return False


def check_totp(user: User, code: str) -> User:
    """Second login step: the TOTP code. Completes the login or raises LoginFailed."""
    if not user.active or _is_locked(user) or not user.totp_enabled:
        raise LoginFailed()
    if not _accept_totp(user, code):
        _register_failure(user, "totp")
        db.session.commit()
        raise LoginFailed()
    complete_login(user, "totp")
    return user


def complete_login(user: User, method: str) -> None:
    """Record a successful login and clear the failure counter."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    record("auth.login", actor=user, object_type="user", object_id=user.id,
           department_id=user.department_id, details={"second_factor": method})
    db.session.commit()


def begin_totp_enrolment(user: User) -> str:
    """Give the user a new (not yet active) TOTP secret and return it for the QR code."""
    secret = pyotp.random_base32()
    _destroy_totp_secret(user)
    data_key = crypto.new_data_key("totp")
    user.totp_secret_sealed = crypto.encrypt(secret.encode(), data_key, aad=f"totp:{user.id}".encode())
    user.totp_enabled = False
    user.totp_last_step = None
    record("auth.totp_enrolment_started", actor=user, object_type="user", object_id=user.id,
           department_id=user.department_id)
    db.session.commit()
    return secret


def _destroy_totp_secret(user: User) -> None:
    """Crypto-shred a replaced TOTP secret: its data key goes with it."""
    if user.totp_secret_sealed:
        old_key = crypto.data_key_of(user.totp_secret_sealed)
        if old_key is not None:
            crypto.destroy_data_key(old_key)
    user.totp_secret_sealed = None


def pending_totp_secret(user: User) -> str | None:
    """The secret being enrolled (to redraw the QR code), None once enrolment is complete."""
    return None if user.totp_enabled else _totp_secret(user)


def provisioning_uri(user: User, secret: str) -> str:
    """otpauth:// URI for authenticator apps."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def confirm_totp_enrolment(user: User, code: str, actor=None) -> None:
    """Activate the pending TOTP secret once the user proves their app shows the right code."""
    if user.totp_enabled or not user.totp_secret_sealed:
        raise Conflict("没有待绑定的验证器。", code="no_pending_totp")
    if not _accept_totp(user, code):
        _register_failure(user, "totp_enrol")
        db.session.commit()
        raise ValidationFailed("验证码不正确，请核对手机上的 6 位数字后重试。",
                               fields={"code": ["验证码不正确"]})
    user.totp_enabled = True
    record("auth.totp_enrolled", actor=actor or user, object_type="user", object_id=user.id,
           department_id=user.department_id)
    db.session.commit()


# ------------------------------------------------------------------------- passwords and admin


def change_password(user: User, current: str, new: str) -> None:
    """Change one's own password; every other session of the user ends."""
    if not crypto.verify_secret(user.password_hash, current or ""):
        raise ValidationFailed(fields={"current_password": ["当前密码不正确。"]})
    problems = password_problems(new, user.username)
    if crypto.verify_secret(user.password_hash, new or ""):
        problems.append("新密码不能与当前密码相同。")
    if problems:
        raise ValidationFailed(fields={"new_password": problems})
    user.password_hash = crypto.hash_secret(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.session_version += 1
    record("user.password_changed", actor=user, object_type="user", object_id=user.id,
           department_id=user.department_id)
    db.session.commit()


def logout(user: User) -> None:
    """End the user's sessions everywhere: the signed cookie alone must not stay valid."""
    user.session_version += 1
    record("auth.logout", actor=user, object_type="user", object_id=user.id, department_id=user.department_id)
    db.session.commit()


def get_user(user_id: int) -> User:
    """A user by id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def reset_password(target: User, actor: User) -> str:
    """Admin: give a user a new one-time password (returned once) and end their sessions."""
    password = one_time_password()
    target.password_hash = crypto.hash_secret(password)
    target.must_change_password = True
    target.failed_logins = 0
    target.locked_until = None
    target.session_version += 1
    record("user.password_reset", actor=actor, object_type="user", object_id=target.id,
           department_id=target.department_id)
    db.session.commit()
    return password


def reset_totp(target: User, actor: User) -> None:
    """Admin: remove a user's second factor; they enrol a new one at their next login."""
    _destroy_totp_secret(target)
    target.totp_enabled = False
    target.totp_last_step = None
    target.session_version += 1
    record("user.totp_reset", actor=actor, object_type="user", object_id=target.id,
           department_id=target.department_id)
    db.session.commit()


def set_active(target: User, active: bool, actor: User) -> None:
    """Admin: deactivate (ending every session) or reactivate a user; users are never deleted."""
    if target.id == getattr(actor, "id", None) and not active:
        raise Conflict("不能停用自己的账户。", code="cannot_deactivate_self")
    target.active = active
    target.session_version += 1
    record("user.activated" if active else "user.deactivated", actor=actor, object_type="user",
           object_id=target.id, department_id=target.department_id)
    db.session.commit()


def unlock(target: User, actor: User) -> None:
    """Admin: lift a lock-out before it expires."""
    target.failed_logins = 0
    target.locked_until = None
    record("user.unlocked", actor=actor, object_type="user", object_id=target.id,
           department_id=target.department_id)
    db.session.commit()


def load_session_user(session_id: str) -> User | None:
    """Flask-Login loader: "<id>:<session_version>" — a bumped version ends old sessions."""
    user_id, _, version = (session_id or "").partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
