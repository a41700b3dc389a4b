"""Administration of rewards (admin only): the rule sets in force, a local rule set, the exclusion register (R7)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.errors import Conflict, NotFound, ValidationFailed
from tipoff.money import percent
from tipoff.reference import services as reference
from tipoff.rewards import catalog, exclusions, forms
from tipoff.rewards.calculator import CATEGORY_NAMES
from tipoff.rewards.grades import GRADE_NAMES, GRADES
from tipoff.rewards.services import today_beijing

bp = Blueprint("reward_admin", __name__, url_prefix="/staff/admin/rewards")

EXCLUSION_FIELDS = ("id_number", "phone", "relation", "department", "note")


def _messages(exc: ValidationFailed | Conflict | NotFound) -> str:
    return "；".join(m for ms in exc.fields.values() for m in ms) if exc.fields else exc.message


# ---------------------------------------------------------------- rule sets


@bp.get("/rule-sets")
@permission_required("rewards.configure")
def rule_sets():
    """Every rule set with its rules in plain words and sources; which one applies to a tip accepted today."""
    sets = [(row, catalog.as_rules(row)) for row in catalog.all_rule_sets()]
    today_row, _rules = catalog.in_force_on(today_beijing())
    return render_template("rewards/admin_rule_sets.html", sets=sets, today_code=today_row.code,
                           default_code=catalog.DEFAULT_CODE, category_names=CATEGORY_NAMES,
                           grade_names=GRADE_NAMES, grades=GRADES, percent=percent)


@bp.post("/rule-sets/<code>/in-force")
@permission_required("rewards.configure")
def set_in_force(code: str):
    """Put a rule set in force from its effective date, or stop applying it (national-2018 stays)."""
    wanted = request.form.get("in_force")
    if wanted not in ("1", "0"):
        flash(_("请求无法处理：未说明采用还是停用。"), "error")
        return redirect(url_for(".rule_sets"))
    try:
        row = catalog.set_in_force(code, wanted == "1", current_user._get_current_object())
    except ValidationFailed as exc:
        flash(_messages(exc), "error")
    else:
        if row.in_force:
            flash(_("已采用 %(name)s：受理之日在 %(day)s 及以后的举报适用（同时有效的，以生效日期最晚者为准）。",
                    name=row.short_name, day=row.effective_from.isoformat()), "success")
        else:
            flash(_("已停用 %(name)s：此后计算的奖励不再适用该规则集，已计算的奖励不变。", name=row.short_name),
                  "success")
    return redirect(url_for(".rule_sets", _anchor=f"set-{code}"))


@bp.route("/rule-sets/new", methods=["GET", "POST"])
@permission_required("rewards.configure")
def new_rule_set():
    """Add a local rule set (another percentage, floor, cap or per-death amount) without a code change."""
    errors: dict[str, list[str]] = {}
    source, dropped = None, []
    if request.method == "POST":
        values = forms.form_values(request.form)
        entry, errors = forms.to_entry(values)
        if errors:
            existing = {row.code for row in catalog.all_rule_sets()}
            errors = forms.all_errors(entry, errors, existing)
        else:
            try:
                row = catalog.add_rule_set(entry, actor=current_user._get_current_object())
            except ValidationFailed as exc:
                errors = forms.form_errors(exc.fields)
            else:
                flash(_("已新增规则集 %(name)s（%(code)s）。", name=row.short_name, code=row.code)
                      + (" " + _("已采用：受理之日在 %(day)s 及以后的举报适用。", day=row.effective_from.isoformat())
                         if row.in_force else " " + _("尚未采用：可在下表中采用。")), "success")
                return redirect(url_for(".rule_sets", _anchor=f"set-{row.code}"))
    elif request.args.get("from"):
        source_row, rules = catalog.rule_set(request.args["from"])  # 404 for an unknown code
        values, source = forms.values_from(source_row, rules), source_row
        dropped = [CATEGORY_NAMES.get(c, c) for c in rules.fine_rules if c not in forms.CATEGORIES]
    else:
        values = forms.new_values()
    return render_template("rewards/admin_rule_set_new.html", values=values, errors=errors, source=source,
                           dropped=dropped, sets=catalog.all_rule_sets(), categories=forms.CATEGORIES,
                           category_names=CATEGORY_NAMES, grades=GRADES, grade_names=GRADE_NAMES), \
        422 if errors else 200


# ---------------------------------------------------------------- the exclusion register


def _render_exclusions(values: dict | None = None, errors: dict | None = None, check_values: dict | None = None,
                       check_errors: dict | None = None, result: exclusions.CheckResult | None = None,
                       status: int = 200):
    return render_template(
        "rewards/admin_exclusions.html", rows=exclusions.register_rows(), relations=exclusions.RELATIONS,
        relation_choices=[(code, _(label)) for code, label in exclusions.RELATIONS.items()],
        departments=[(d.code, d.name) for d in reference.handling_departments()], values=values or {},
        errors=errors or {}, check_values=check_values or {}, check_errors=check_errors or {}, result=result,
        note_max=exclusions.NOTE_MAX), status


@bp.get("/exclusions")
@permission_required("rewards.configure")
def exclusion_register():
    """The register of people who may not be rewarded (blind indexes only), with forms to add and to check."""
    return _render_exclusions()


@bp.post("/exclusions")
@permission_required("rewards.configure")
def add_exclusion():
    """Register a person by ID number and/or phone; only the irreversible indexes are stored."""
    values = {name: request.form.get(name, "") for name in EXCLUSION_FIELDS}
    try:
        row = exclusions.register(values, current_user._get_current_object())
    except ValidationFailed as exc:
        # The administrator's own typing on their own page: kept so it can be corrected.
        return _render_exclusions(values=values, errors=exc.fields, status=exc.status)
    flash(_("登记 %(id)s：已登记（仅保存不可逆的比对码）。", id=row.id), "success")
    return redirect(url_for(".exclusion_register", _anchor="register"))


@bp.post("/exclusions/<int:exclusion_id>/revoke")
@permission_required("rewards.configure")
def revoke_exclusion(exclusion_id: int):
    """Take a registration off the register; the row is kept with the time of revocation."""
    try:
        row = exclusions.revoke(exclusion_id, current_user._get_current_object())
    except Conflict as exc:
        flash(_messages(exc), "error")
    else:
        flash(_("已撤销登记 %(id)s。", id=row.id), "success")
    return redirect(url_for(".exclusion_register", _anchor="register"))


@bp.post("/exclusions/check")
@permission_required("rewards.configure")
def check_exclusion():
    """Check one ID number or phone against the register before paying: yes or no (the value is not kept)."""
    values = {"value": request.form.get("value", "")}
    try:
        result = exclusions.check(values, current_user._get_current_object())
    except ValidationFailed as exc:
        return _render_exclusions(check_values=values, check_errors=exc.fields, status=exc.status)
    return _render_exclusions(result=result)
