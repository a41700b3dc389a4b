"""Legal holds (法律保全) for the 区安委会办公室: the list of holds and what is due, set and lift on a case."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tipoff.accounts.access import permission_required
from tipoff.errors import Conflict, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.retention import services
from tipoff.retention.models import LegalHold
from tipoff.retention.policy import PART_LABELS

bp = Blueprint("retention", __name__, url_prefix="/staff/retention")
LISTED_MATTERS = 500  # the page lists what the next run would destroy among the first matters only
bp.add_app_template_global(services.case_retention, "case_retention")


@bp.get("/")
@permission_required(services.HOLD_PERMISSION)
def index():
    """Active legal holds and what the next run would destroy (the dry run, references only)."""
    holds = db.session.execute(select(LegalHold, Tip.reference).join(Tip, Tip.id == LegalHold.tip_id)
                               .where(LegalHold.lifted_at.is_(None)).order_by(LegalHold.set_at.desc())).all()
    report = services.run(dry_run=True, batch_size=200, max_matters=LISTED_MATTERS)
    return render_template("retention/index.html", holds=holds, report=report, periods=services.periods(),
                           labels=PART_LABELS)


def _back_to_case(reference: str):
    return redirect(url_for("cases.case", reference=reference.strip().upper(), _anchor="retention-title"))


def _refused(reference: str, form: str, field: str, exc: ValidationFailed | Conflict):
    from tipoff.cases.views import refused_on_case_page

    return refused_on_case_page(reference, form, exc, {field: request.form.get(field, "")}, field=field)


@bp.post("/cases/<reference>/hold")
@permission_required(services.HOLD_PERMISSION)
def hold(reference: str):
    """Set a legal hold on a case (and so on its matter), with a reason."""
    try:
        services.set_hold(current_user._get_current_object(), reference, request.form.get("reason"))
    except (ValidationFailed, Conflict) as exc:
        return _refused(reference, "hold", "reason", exc)
    flash(_("已设置法律保全：保全期间不销毁本案（及同一事项）的材料和身份信息。"), "success")
    return _back_to_case(reference)


@bp.post("/cases/<reference>/hold/lift")
@permission_required(services.HOLD_PERMISSION)
def lift(reference: str):
    """Lift a case's legal hold, with a reason."""
    try:
        services.lift_hold(current_user._get_current_object(), reference, request.form.get("lift_reason"))
    except (ValidationFailed, Conflict) as exc:
        return _refused(reference, "lift_hold", "lift_reason", exc)
    flash(_("已解除法律保全。保存期限已满的，将在下次运行时销毁。"), "success")
    return _back_to_case(reference)
