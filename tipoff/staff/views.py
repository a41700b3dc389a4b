"""Staff home and the key status page."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from tipoff.accounts.access import permission_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@permission_required("staff.home")
def home():
    """The staff home page: who you are and what you can do."""
    return render_template("staff/home.html", user=current_user)


@bp.get("/keys")
@permission_required("keys.view")
def keys():
    """Which keys exist (never their values)."""
    from tipoff.crypto import keys_status

    return render_template("staff/keys.html", keys=keys_status())
