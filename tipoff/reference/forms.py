"""HTML forms of the reference feature: edit a department, a sector's lead, a township."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from tipoff.reference.models import Department


def department_choices(departments: list[Department], blank: str) -> list[tuple[str, str]]:
    """Select options for a department field, with a first "none" option."""
    return [("", blank)] + [(d.code, f"{d.name}（{d.code}）") for d in departments]


class DepartmentForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), Length(max=100)])
    email = StringField(_l("电子邮箱"), validators=[Optional(), Length(max=200)],
                        render_kw={"type": "email", "autocomplete": "off", "autocapitalize": "none"})
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=50)],
                        render_kw={"type": "tel", "autocomplete": "off"})
    active = BooleanField(_l("启用"))


class SectorLeadForm(FlaskForm):
    lead_department = SelectField(_l("牵头部门"), choices=[], validate_choice=True)


class TownshipForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), Length(max=100)])
    department = SelectField(_l("属地政府（办事处、管委会）"), choices=[], validate_choice=True)
    active = BooleanField(_l("启用"))
