"""Staff pages of identity disclosure: ask, decide, read within the window."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.disclosure import services
from tipoff.errors import Conflict, Forbidden, ValidationFailed
from tipoff.web import writes

bp = Blueprint("disclosure", __name__, url_prefix="/staff/disclosures")


@bp.get("/")
@permission_required("staff.home")
def index():
    """Custodians: requests waiting for a decision; everyone else: their own requests."""
    user = current_user._get_current_object()
    if user.can("disclosures.decide"):
        pending = [(r, services.reason_of(r)) for r in services.pending_requests()]
        return render_template("disclosure/pending.html", pending=pending, purposes=services.PURPOSES,
                               two=services.custodians_required() == 2)
    if not user.can("disclosures.request"):
        raise Forbidden()
    return render_template("disclosure/mine.html", requests=services.requests_of(user), purposes=services.PURPOSES)


@bp.post("/request/<reference>")
@permission_required("disclosures.request")
def ask(reference: str):
    """File a request from the case page."""
    try:
        services.request_disclosure(current_user._get_current_object(), reference, request.form.get("purpose", ""),
                                    request.form.get("reason", ""))
    except (ValidationFailed, Conflict) as exc:
        from tipoff.cases.views import refused_on_case_page

        typed = {name: request.form.get(name, "") for name in ("purpose", "reason")}
        return refused_on_case_page(reference, "disclosure", exc, typed, field="reason")
    flash(_("调阅申请已提交，等待保密员审批。"), "success")
    return redirect(url_for("disclosure.index"))


@bp.post("/<int:request_id>/decide")
@permission_required("disclosures.decide")
def decide(request_id: int):
    """A custodian approves with the passphrase, or refuses."""
    approve = request.form.get("decision") == "approve"
    try:
        services.decide(current_user._get_current_object(), request_id, approve=approve,
                        passphrase=request.form.get("passphrase", ""))
    except (ValidationFailed, Conflict) as exc:
        flash(exc.message, "error")
        return redirect(url_for("disclosure.index"))
    flash(_("已批准。") if approve else _("已拒绝。"), "success")
    return redirect(url_for("disclosure.index"))


@bp.get("/<int:request_id>")
@permission_required("disclosures.request")
@writes
def show(request_id: int):
    """The requester reads the identity (audited), only within the release window."""
    try:
        identity = services.view_identity(current_user._get_current_object(), request_id)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("disclosure.index"))
    return render_template("disclosure/identity.html", identity=identity, request_id=request_id)
