"""HTML forms of the accounts feature."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp

from tipoff.policy import ROLE_LABELS, Role


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class TotpForm(FlaskForm):
    code = StringField(_l("6 位动态验证码"),
                       validators=[DataRequired(_l("请输入验证码。")),
                                   Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("验证码是 6 位数字。"))],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 7})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。")), Length(max=128)],
                                 render_kw={"autocomplete": "new-password"})
    confirm_password = PasswordField(_l("再次输入新密码"), validators=[DataRequired(_l("请再次输入新密码。"))],
                                     render_kw={"autocomplete": "new-password"})


# Most new accounts are department staff, so the everyday roles come first and admin last.
ROLE_ORDER = (Role.HANDLER, Role.LEADER, Role.FINANCE, Role.OPERATOR, Role.CUSTODIAN, Role.OVERSEER, Role.ADMIN)


def role_choices() -> list[tuple[str, str]]:
    """A blank first option (so no role is picked by accident), then the roles with translatable labels.

    The labels are marked for extraction in tipoff/translations/runtime_msgids.py.
    """
    return [("", _l("请选择角色"))] + [(r.value, _l(ROLE_LABELS[r])) for r in ROLE_ORDER]


class UserCreateForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)],
                           render_kw={"autocapitalize": "none"})
    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请输入姓名。")), Length(max=100)])
    role = SelectField(_l("角色"), choices=role_choices(), validators=[DataRequired(_l("请选择角色。"))])
    department = SelectField(_l("所属部门"), choices=[])
