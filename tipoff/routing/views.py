"""Routing pages: edit the routing table (admin), try it on a tip's facts (dry run), adopt a designation."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.cases import services as cases
from tipoff.errors import Conflict, ValidationFailed
from tipoff.reference import services as reference
from tipoff.routing import rules
from tipoff.routing.matcher import TipFacts, walk
from tipoff.routing.services import current_jurisdiction, current_rules

bp = Blueprint("routing", __name__, url_prefix="/staff/routing")

MULTI = ("category_codes", "sector_codes", "township_codes", "copy_to")


def _choices() -> dict[str, list[tuple[str, str]]]:
    """Options of the rule form and the dry run, as (code, name) pairs."""
    departments = reference.handling_departments()
    return {
        "category_codes": [(c.code, c.name) for c in reference.active_categories()],
        "sector_codes": [(s.code, s.name) for s in reference.active_sectors()],
        "township_codes": [(t.code, t.name) for t in reference.active_townships()],
        "department_code": [(d.code, d.name) for d in departments],
        "copy_to": [("township", _("所在属地政府")), ("sector_lead", _("行业牵头部门"))]
                   + [(d.code, d.name) for d in departments],
        "accept_by": [("department", _("指定部门")), ("township", _("举报所在属地政府")),
                      ("sector_lead", _("行业牵头部门"))],
    }


def _form_values(row=None) -> dict:
    """What the form shows: the posted values after a refusal, the row's values, or a new rule's defaults."""
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k not in MULTI}
        values.update({k: request.form.getlist(k) for k in MULTI})
        return values
    if row is None:
        return {"priority": "60", "accept_by": "department", "active": "1"}
    values = {name: getattr(row, name) for name in rules.EDITABLE}
    values["keywords"] = "\n".join(row.keywords or [])
    values["effective_from"] = row.effective_from.isoformat() if row.effective_from else ""
    values["priority"] = str(row.priority)
    values["source"] = row.source or ""
    values["department_code"] = row.department_code or ""
    values["supervised"], values["active"] = ("1" if row.supervised else ""), ("1" if row.active else "")
    return values


def _edit(row=None):
    errors: dict = {}
    values = _form_values(row)
    if request.method == "POST":
        try:
            saved = rules.save_rule(row.code if row else None, values, current_user._get_current_object(),
                                    new_code=values.get("code"))
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            flash(_("已保存分办规则 %(code)s。新举报按修改后的规则分办，已分办的案件不受影响。", code=saved.code),
                  "success")
            return redirect(url_for("reference.index", _anchor="rules"))
    return render_template("routing/rule_edit.html", rule=row, values=values, errors=errors,
                           choices=_choices()), 422 if errors else 200


@bp.route("/rules/new", methods=["GET", "POST"])
@permission_required("reference.manage")
def new_rule():
    """Add a rule to the routing table."""
    return _edit()


@bp.route("/rules/<code>", methods=["GET", "POST"])
@permission_required("reference.manage")
def edit_rule(code: str):
    """Change a rule's conditions, who accepts, copies, priority, or switch it off."""
    return _edit(rules.get_rule(code))


@bp.get("/dry-run")
@permission_required("routing.test")
def dry_run():
    """Type a tip's facts, see which department would accept it and why, rule by rule. Changes nothing."""
    choices = _choices()
    values = {k: request.args.get(k, "") for k in ("category", "sector", "township", "text")}
    errors: dict = {}
    steps, decision, names = None, None, {}
    if request.args:
        valid = {"category": dict(choices["category_codes"]), "sector": dict(choices["sector_codes"])}
        for name, label in (("category", _("请选择举报类别。")), ("sector", _("请选择行业领域。"))):
            if values[name] not in valid[name]:
                errors[name] = [label]
        if values["township"] and values["township"] not in dict(choices["township_codes"]):
            errors["township"] = [_("请选择属地，或留空。")]
        if len(values["text"]) > 5000:
            errors["text"] = [_("描述不超过 5000 字。")]
        if not errors:
            facts = TipFacts(values["category"], values["sector"], values["township"] or None, values["text"])
            jurisdiction = current_jurisdiction()
            steps = list(walk(facts, current_rules(), jurisdiction))
            decision = steps[-1].decision if steps else None
            names = jurisdiction.names
    return render_template("routing/dry_run.html", values=values, errors=errors, steps=steps, decision=decision,
                           choices=choices, names=names), 422 if errors else 200


@bp.post("/adopt/<reference>")
@permission_required("routing.adopt")
def adopt(reference: str):
    """The 安委办 turns its final designation on this case into a routing rule, in one click."""
    tip = cases.case_for(current_user, reference)
    try:
        row = rules.adopt_designation(tip, request.form.get("keywords", ""), current_user._get_current_object())
    except (Conflict, ValidationFailed) as exc:
        from tipoff.cases.views import refused_on_case_page

        return refused_on_case_page(reference, "adopt", exc, {"keywords": request.form.get("keywords", "")},
                                    field="keywords")
    flash(_("已新增分办规则 %(code)s：今后同类举报直接分办到 %(department)s。", code=row.code,
            department=tip.department.name), "success")
    return redirect(url_for("cases.case", reference=reference))

