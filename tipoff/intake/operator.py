"""Staff entry of tips received by hotline, phone, letter, visit or e-mail (录入员).

The same form and the same rules as the public page; the channel is recorded, and the operator is
the audited actor. The receipt's reference and access code are read to the caller or sent by letter.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.errors import ValidationFailed
from tipoff.intake import services
from tipoff.intake.submission import CHANNEL_LABELS, STAFF_CHANNELS, parse_submission
from tipoff.intake.views import _render_form, _typed, _uploads

bp = Blueprint("operator", __name__, url_prefix="/staff/tips")



def _form(values: dict, errors: dict | None = None, notice: str | None = None, status: int = 200):
    return _render_form(values, errors, notice, status, layout="staff/base.html",
                        action_url=url_for("operator.new_tip"),
                        staff_channels=[(c, _(CHANNEL_LABELS[c])) for c in STAFF_CHANNELS])


@bp.get("/new")
@permission_required("tips.enter")
def new_tip():
    """The entry form for a tip received outside the web."""
    return _form({})


@bp.post("/new")
@permission_required("tips.enter")
def new_tip_submit():
    """Store the tip as received on the chosen channel; show the receipt to pass on."""
    values = {**_typed(), "channel": request.form.get("channel", "")}
    if values["channel"] not in STAFF_CHANNELS:
        # Every problem at once: the rest of the form is checked as for any staff channel.
        errors = {"channel": ["请选择举报渠道。"]}
        try:
            parse_submission(values, services.catalogue(), channel=STAFF_CHANNELS[0])
        except ValidationFailed as exc:
            errors.update(exc.fields)
        return _form(values, errors, status=422)
    try:
        receipt = services.submit_tip(values, channel=values["channel"], entered_by=current_user._get_current_object(),
                                      idempotency_key=values["idempotency_key"] or None, uploads=_uploads())
    except ValidationFailed as exc:
        return _form(values, exc.fields, exc.message, exc.status)
    return render_template("intake/receipt.html", receipt=receipt, layout="staff/base.html"), 201
