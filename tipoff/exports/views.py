"""台账 exports: the case ledger and the overdue list (pages with the row count, CSV and XLSX downloads), and
the export API for cases, the overdue list and rewards (`GET /api/v1/exports/…?format=csv|xlsx`).

Every download is audited before it streams and carries the exporter's name in its first line
(tipoff.exports.writers.deliver); no file holds a reporter's identity.
"""
from __future__ import annotations

from flask import Blueprint, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.api import api_route
from tipoff.cases.states import internal_label
from tipoff.db import utcnow
from tipoff.errors import ValidationFailed
from tipoff.exports import cases
from tipoff.exports.cases import CaseFilter
from tipoff.exports.writers import FORMATS
from tipoff.web import writes

bp = Blueprint("exports", __name__, url_prefix="/staff/exports")

# Above this many rows an XLSX takes minutes to build before its first byte (openpyxl, about 4,000 rows a
# second); the pages suggest CSV, which starts at once.
XLSX_ADVISED_ROWS = 100_000
FIELD_LABELS = {"due": _l("期限"), "status": _l("状态"), "department": _l("承办部门"), "from": _l("收到月份（起）"),
                "to": _l("收到月份（止）"), "category": _l("举报类别"), "sector": _l("行业领域"), "township": _l("属地"),
                "order": _l("排序"), "format": _l("导出格式")}


def _format(errors: dict) -> str:
    """A page's format: html (the page), csv or xlsx (the download); anything else is a filter error."""
    form = (request.args.get("format") or "html").strip().lower()
    if form not in (*FORMATS, "html"):
        errors["format"] = [_("导出格式只能是 csv 或 xlsx。")]
    return form


def _page_context(choices: cases.Choices, errors: dict, *, overdue_list: bool) -> dict:
    """What both pages' filter forms need: the values typed, the options, the error labels."""
    values = {key: request.args.get(key, "") for key, _attr in CaseFilter.KEYS}
    statuses = cases.status_choices(overdue_list)
    return {
        "values": values, "errors": errors, "xlsx_advised_rows": XLSX_ADVISED_ROWS,
        "labels": {key: str(label) for key, label in FIELD_LABELS.items()},
        "due_options": [("overdue", _("已逾期")), ("today", _("今日到期"))],
        "status_options": [(code, _(label)) for code, label in statuses.items()],
        "department_options": list((choices.departments or {}).items()),
        "category_options": list(choices.categories.items()),
        "sector_options": list(choices.sectors.items()),
        "township_options": list(choices.townships.items()),
    }


@bp.get("/")
@permission_required("exports.run")
@writes
def index():
    """The case ledger (案件台账): the filter form and how many cases match; `?format=csv|xlsx` downloads them
    (audited, with the exporter's name in the file)."""
    user = current_user._get_current_object()
    choices = cases.choices_for(user)
    wanted, errors = CaseFilter.parse(request.args, choices)
    form = _format(errors)
    if not errors and form != "html":
        return cases.export_cases(user, wanted, form, choices)
    count = None if errors else cases.count_cases(user, wanted)
    return render_template("exports/index.html", wanted=wanted, count=count,
                           **_page_context(choices, errors, overdue_list=False)), 422 if errors else 200


@bp.get("/overdue")
@permission_required("exports.run")
@writes
def overdue():
    """The overdue list (超期案件清单): open cases past their deadline, with days overdue and the deadline
    rule, sortable by days overdue; `?format=csv|xlsx` downloads the whole list (audited)."""
    user = current_user._get_current_object()
    choices = cases.choices_for(user)
    wanted, errors = CaseFilter.parse(request.args, choices, overdue_list=True)
    order, order_errors = cases.parse_order(request.args.get("order"))
    errors.update(order_errors)
    form = _format(errors)
    if not errors and form != "html":
        return cases.export_overdue(user, wanted, form, choices, order)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    now = utcnow()
    rows = [] if errors else cases.overdue_page(user, wanted, order, page, now=now)
    count = None if errors else cases.count_overdue(user, wanted, now)
    return render_template("exports/overdue.html", wanted=wanted, count=count, rows=rows, order=order, page=page,
                           per_page=cases.PER_PAGE, label=internal_label,
                           **_page_context(choices, errors, overdue_list=True)), 422 if errors else 200


# ------------------------------------------------------------------------------------------- the API


def _api_format(errors: dict) -> str:
    """`?format=csv|xlsx` (csv when not given); anything else is a 422."""
    form = (request.args.get("format") or "csv").strip().lower()
    if form not in FORMATS:
        errors["format"] = ["导出格式只能是 csv 或 xlsx。"]
    return form


# Query parameters as the OpenAPI document describes them (values are checked by the filters: 422).
_TEXT = {"type": "string"}
_FORMAT = {"type": "string", "enum": ["csv", "xlsx"]}


@writes
@api_route("/exports/cases", summary="The case ledger as a file (?format=csv|xlsx, filters as /staff/exports/)",
           tags=["exports"], permission="exports.run", responses={422: "Unknown filter value or format"},
           query={"format": _FORMAT, **{key: _TEXT for key, _attr in CaseFilter.KEYS}})
def export_cases_api():
    """The case ledger in the token user's scope: ?due=, ?status=, ?department=, ?from=/?to= (YYYY-MM),
    ?category=, ?sector=, ?township=; audited like the page's download."""
    choices = cases.choices_for(g.api_user)
    wanted, errors = CaseFilter.parse(request.args, choices)
    form = _api_format(errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return cases.export_cases(g.api_user, wanted, form, choices, via="api")


@writes
@api_route("/exports/overdue", summary="The overdue list as a file (?format=csv|xlsx, ?order=most|least)",
           tags=["exports"], permission="exports.run", responses={422: "Unknown filter value or format"},
           query={"format": _FORMAT, "order": _TEXT, **{key: _TEXT for key, _attr in CaseFilter.KEYS if key != "due"}})
def export_overdue_api():
    """Open cases past their deadline in the token user's scope, with the overdue page's filters."""
    choices = cases.choices_for(g.api_user)
    wanted, errors = CaseFilter.parse(request.args, choices, overdue_list=True)
    order, order_errors = cases.parse_order(request.args.get("order"))
    errors.update(order_errors)
    form = _api_format(errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return cases.export_overdue(g.api_user, wanted, form, choices, order, via="api")


@writes
@api_route("/exports/rewards", summary="The reward ledger as a file (?format=csv|xlsx, filters as the ledger page)",
           tags=["exports"], permission="rewards.view", responses={422: "Unknown filter value or format"},
           query={"format": _FORMAT, "status": _TEXT, "from": _TEXT, "to": _TEXT, "department": _TEXT})
def export_rewards_api():
    """The reward ledger in the token user's scope: ?status=, ?from=/?to= (YYYY-MM), ?department=."""
    from tipoff.rewards import ledger

    wanted, errors, departments = ledger.filter_from_request(g.api_user)
    form = _api_format(errors)
    if errors:
        raise ValidationFailed(fields=errors)
    return ledger.export_response(g.api_user, wanted, form, departments, via="api")
