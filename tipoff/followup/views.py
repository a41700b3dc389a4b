"""The reporter's rating and the insider's retaliation check-ins: form posts from the /status page.

The forms themselves are partials of /status (templates/followup/_status_*.html); a refusal re-renders
that page with what was typed (`reporter_action`), a success returns to it.
"""
from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _

import tipoff.followup.models  # noqa: F401 - the tables
from tipoff.errors import ValidationFailed
from tipoff.extensions import limiter
from tipoff.followup import services
from tipoff.intake.views import REPORTER_SESSION, reporter_action

bp = Blueprint("followup", __name__)


def _keep_session(tip) -> None:
    """The reporter is still here: the session's idle clock restarts, as after a reply."""
    session[REPORTER_SESSION] = {"id": tip.id, "at": time.time()}


@bp.post("/status/rating")
@limiter.limit("10 per hour")
@reporter_action("rating")
def status_rating(tip):
    """The reporter rates the handling of a concluded case: 满意 / 基本满意 / 不满意, once."""
    services.rate_handling(tip, request.form.get("rating", ""), request.form.get("comment", ""))
    _keep_session(tip)
    flash(_("感谢您的评价。"), "success")
    return redirect(url_for("intake.status", _anchor="rating"))


@bp.post("/status/insider-check")
@limiter.limit("10 per hour")
@reporter_action("retaliation")
def status_insider_check(tip):
    """The insider answers a retaliation check-in; "yes" with consent hands the matter to 区人社局."""
    try:
        day = int(request.form.get("day", ""))
    except ValueError:
        raise ValidationFailed(fields={"retaliation": [_("页面已过期，请刷新后重新回答。")]}) from None
    answer = services.parse_answer(request.form, request.form.getlist("kinds"))
    check = services.answer_check(tip, day, answer)
    _keep_session(tip)
    if check.matter_tip_id:
        matter = services.matters_of(tip)[-1]
        flash(_("已转交%(department)s处理，编号 %(ref)s。用同一个查询码可以查询办理进度。",
                department=matter.department, ref=matter.reference), "success")
    elif check.retaliation:
        flash(_("已记录，感谢您告诉我们。您没有同意转交，所以不会转给其他部门处理；"
                "如改变主意，可以在下次回访时同意转交，或直接向区人力资源和社会保障局反映。"), "success")
    else:
        flash(_("已记录，感谢您的反馈。"), "success")
    return redirect(url_for("intake.status", _anchor="insider-check"))
