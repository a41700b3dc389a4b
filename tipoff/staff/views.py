"""Staff home and the key status page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from tipoff.accounts.access import permission_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@permission_required("staff.home")
def home():
    """The staff home page: who you are, what waits for you, and what you can do."""
    user = current_user._get_current_object()
    waiting = {}
    if user.can("cases.view"):
        from tipoff.cases.queue import counts

        waiting["cases"] = counts(user)  # capped like the queue's tabs ("99+")
    if user.can("disclosures.decide"):
        from tipoff.disclosure.services import pending_requests

        waiting["disclosures"] = len(pending_requests())
    return render_template("staff/home.html", user=user, waiting=waiting)


@bp.get("/keys")
@permission_required("keys.view")
def keys():
    """Which keys exist (never their values)."""
    from tipoff.crypto import keys_status

    return render_template("staff/keys.html", keys=keys_status())
