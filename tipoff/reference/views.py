"""Reference data administration (基础数据管理): tables, and edits of departments, sectors, townships."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.errors import NotFound, ValidationFailed
from tipoff.reference import services
from tipoff.reference.forms import DepartmentForm, SectorLeadForm, TownshipForm, department_choices
from tipoff.reference.models import Department, Sector, Township

bp = Blueprint("reference", __name__, url_prefix="/staff/admin/reference")


def _find(items: list, code: str):
    for item in items:
        if item.code == code:
            return item
    raise NotFound()


@bp.get("/")
@permission_required("reference.manage")
def index():
    """All reference data on one page: departments, townships, sectors, categories, routing rules."""
    departments, townships = services.all_departments(), services.all_townships()
    sectors, categories = services.all_sectors(), services.all_categories()
    # Rules refer to codes; staff read names.
    names = {kind: {row.code: row.name for row in rows} for kind, rows in (
        ("department", departments), ("township", townships), ("sector", sectors), ("category", categories))}
    return render_template("reference/index.html", departments=departments, townships=townships,
                           sectors=sectors, categories=categories, rules=services.routing_rules(), names=names)


@bp.route("/departments/<code>", methods=["GET", "POST"])
@permission_required("reference.manage")
def edit_department(code: str):
    """Rename a department, set its contact details or (de)activate it."""
    department: Department = _find(services.all_departments(), code)
    form = DepartmentForm(obj=department)
    field_errors: dict = {}
    if form.validate_on_submit():
        try:
            services.update_department(code, name=form.name.data, email=form.email.data,
                                       phone=form.phone.data, active=form.active.data,
                                       actor=current_user._get_current_object())
        except ValidationFailed as exc:
            field_errors = exc.fields
        else:
            flash(_("已保存部门“%(name)s”。", name=form.name.data.strip()), "success")
            return redirect(url_for("reference.index", _anchor="departments"))
    status = 422 if (field_errors or form.errors) else 200
    return render_template("reference/department_edit.html", department=department, form=form,
                           field_errors=field_errors), status


@bp.route("/sectors/<code>", methods=["GET", "POST"])
@permission_required("reference.manage")
def edit_sector(code: str):
    """Assign the department that leads a sector (行业牵头部门)."""
    sector: Sector = _find(services.all_sectors(), code)
    form = SectorLeadForm()
    leads = [d for d in services.handling_departments() if d.kind != "township"]
    form.lead_department.choices = department_choices(leads, _("（无固定牵头部门）"))
    if not form.is_submitted():
        form.lead_department.data = sector.lead_department.code if sector.lead_department else ""
    field_errors: dict = {}
    if form.validate_on_submit():
        try:
            services.update_sector_lead(code, form.lead_department.data or None,
                                        actor=current_user._get_current_object())
        except ValidationFailed as exc:
            field_errors = exc.fields
        else:
            flash(_("已保存行业“%(name)s”的牵头部门。", name=sector.name), "success")
            return redirect(url_for("reference.index", _anchor="sectors"))
    status = 422 if (field_errors or form.errors) else 200
    return render_template("reference/sector_edit.html", sector=sector, form=form,
                           field_errors=field_errors), status


@bp.route("/townships/<code>", methods=["GET", "POST"])
@permission_required("reference.manage")
def edit_township(code: str):
    """Rename a township, change its government department or (de)activate it."""
    township: Township = _find(services.all_townships(), code)
    form = TownshipForm(obj=township)
    governments = [d for d in services.handling_departments() if d.kind == "township"]
    form.department.choices = department_choices(governments, _("（未指定）"))
    if not form.is_submitted():
        form.department.data = township.department.code if township.department else ""
    field_errors: dict = {}
    if form.validate_on_submit():
        try:
            services.update_township(code, name=form.name.data, department_code=form.department.data or None,
                                     active=form.active.data, actor=current_user._get_current_object())
        except ValidationFailed as exc:
            field_errors = exc.fields
        else:
            flash(_("已保存属地“%(name)s”。", name=form.name.data.strip()), "success")
            return redirect(url_for("reference.index", _anchor="townships"))
    status = 422 if (field_errors or form.errors) else 200
    return render_template("reference/township_edit.html", township=township, form=form,
                           field_errors=field_errors), status
