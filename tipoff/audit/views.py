"""The audit log for staff: browse entries in one's scope, and verify the chain (admin, overseer)."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from tipoff.accounts.access import permission_required
from tipoff.audit import services
from tipoff.errors import Forbidden
from tipoff.extensions import db
from tipoff.policy import ROLE_LABELS, Role
from tipoff.reference.models import Department
from tipoff.web import writes

bp = Blueprint("audit", __name__, url_prefix="/staff/audit")

PER_PAGE = 50


def _department_names() -> dict[int, str]:
    return {row.id: row.name for row in db.session.execute(select(Department.id, Department.name))}


def _role_label(role: str | None) -> str | None:
    try:
        return ROLE_LABELS[Role(role)] if role else None
    except ValueError:
        return role


def _details_text(details: Any) -> str:
    """Details as readable JSON (Chinese kept as is; the template escapes it)."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True)


def _viewer_department() -> int | None:
    """The department an audit.view entry belongs to: the viewer's own when their scope is one department."""
    return current_user.department_id if current_user.scope("audit.view") == "department" else None


@bp.get("/")
@writes
@permission_required("audit.view")
def index():
    """The audit log in the viewer's scope, newest first; the viewing itself is audited."""
    filters = services.AuditFilters.from_args(request.args)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), services.MAX_PAGE)
    user = current_user._get_current_object()
    # Recorded before the query so the page shows it, and committed only if the page renders.
    services.record("audit.view", actor=user, department_id=_viewer_department(),
                    details={"filters": filters.as_details(), "page": page})
    result = services.entries_for(user, filters, page=page, per_page=PER_PAGE)
    html = render_template("audit/index.html", result=result, filters=filters, departments=_department_names(),
                           role_label=_role_label, details_text=_details_text,
                           can_verify=user.scope("audit.view") == "district")
    db.session.commit()
    return html


@bp.get("/verify")
@permission_required("audit.view")
def verify_page():
    """The result page is only ever a POST answer; a GET (e.g. after switching language) goes to the log."""
    return redirect(url_for("audit.index"))


@bp.post("/verify")
@permission_required("audit.view")
def verify():
    """Verify the whole chain (district scope only) and show the result; the check is audited."""
    if current_user.scope("audit.view") != "district":
        raise Forbidden()
    # End this request's transaction before sealing: on SQLite it holds the write lock.
    db.session.commit()
    result = services.verify_chain()
    services.record("audit.verify", actor=current_user._get_current_object(), details={
        "ok": result.ok, "checked": result.checked, "head_hash": result.head_hash,
        "first_broken_seq": result.first_broken_seq, "first_broken_entry_id": result.first_broken_entry_id,
        "kind": result.kind, "unsealed": result.unsealed,
    })
    db.session.commit()
    return render_template("audit/verify.html", result=result)
