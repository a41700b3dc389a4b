"""Enterprise pages (生产经营单位登记): list, register, edit, deactivate, bulk import, and the posters.

Handlers and leaders work on their department's enterprises, an administrator on all of them; someone
else's enterprise answers 404, as if it did not exist.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.enterprises import importer, posters, services
from tipoff.enterprises.models import Enterprise
from tipoff.enterprises.services import PERMISSION, Choices
from tipoff.errors import ValidationFailed
from tipoff.reference import services as reference
from tipoff.rewards.services import today_beijing

bp = Blueprint("enterprises", __name__, url_prefix="/staff/enterprises")

POSTERS_PER_PRINT = 300  # one print run; a larger township is printed in batches
STATUS_OPTIONS = (("active", "在用"), ("inactive", "已停用"), ("all", "全部"))


def _actor():
    return current_user._get_current_object()


def _district() -> bool:
    return current_user.scope(PERMISSION) == "district"


def _names() -> dict[str, dict[str, str]]:
    """Code → name for every township, sector and department (inactive ones too: old rows keep a name)."""
    return {"township": {t.code: t.name for t in reference.all_townships()},
            "sector": {s.code: s.name for s in reference.all_sectors()},
            "department": {d.id: d.name for d in reference.all_departments()}}


def _form_choices(choices: Choices) -> dict[str, list[tuple[str, str]]]:
    return {"township": list(choices.townships.items()), "sector": list(choices.sectors.items()),
            "department": list(choices.departments.items()) if _district() else []}


def _row_values(row: Enterprise) -> dict[str, str]:
    codes = {d.id: d.code for d in reference.all_departments()}
    return {"name": row.name, "credit_code": row.credit_code or "", "township": row.township_code,
            "sector": row.sector_code, "address": row.address or "",
            "department": codes.get(row.department_id, "")}


def _typed() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in (*services.FIELDS, "department")}


@bp.get("/")
@permission_required(PERMISSION)
def index():
    """The register: filter by township, sector, name or credit code and status; a township's posters in one click."""
    names = _names()
    values = {"township": request.args.get("township", ""), "sector": request.args.get("sector", ""),
              "q": request.args.get("q", "")[:100], "status": request.args.get("status", "active")}
    if values["township"] not in names["township"]:
        values["township"] = ""
    if values["sector"] not in names["sector"]:
        values["sector"] = ""
    if values["status"] not in dict(STATUS_OPTIONS):
        values["status"] = "active"
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    query = services.search(_actor(), township=values["township"], sector=values["sector"], text=values["q"],
                            status=values["status"])
    rows, total = services.page_of(query, page)
    printable = services.count_of(services.for_township(_actor(), values["township"])) if values["township"] else 0
    return render_template(
        "enterprises/index.html", rows=rows, total=total, page=page, pages=max(-(-total // services.PAGE_SIZE), 1),
        values=values, names=names, printable=printable, district=_district(),
        options={"township": list(names["township"].items()), "sector": list(names["sector"].items()),
                 "status": [(code, _(label)) for code, label in STATUS_OPTIONS]})


def _edit(row: Enterprise | None):
    choices = Choices.current()
    errors: dict = {}
    values = _typed() if request.method == "POST" else (_row_values(row) if row else {})
    if request.method == "POST":
        try:
            if row is None:
                saved = services.register_enterprise(values, _actor())
                flash(_("已登记 %(name)s。", name=saved.name), "success")
            else:
                saved = services.update_enterprise(row, values, _actor())
                flash(_("已保存 %(name)s。", name=saved.name), "success")
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            return redirect(url_for("enterprises.index", township=saved.township_code))
    return render_template("enterprises/edit.html", row=row, values=values, errors=errors,
                           choices=_form_choices(choices), district=_district()), 422 if errors else 200


@bp.route("/new", methods=["GET", "POST"])
@permission_required(PERMISSION)
def new():
    """Register an enterprise (name, credit code, township, sector, address)."""
    return _edit(None)


@bp.route("/<int:enterprise_id>", methods=["GET", "POST"])
@permission_required(PERMISSION)
def edit(enterprise_id: int):
    """Change an enterprise's details."""
    return _edit(services.get_enterprise(_actor(), enterprise_id))


@bp.post("/<int:enterprise_id>/deactivate")
@permission_required(PERMISSION)
def deactivate(enterprise_id: int):
    """Stop printing posters for an enterprise that closed or moved away (kept, and can be reactivated)."""
    row = services.set_active(services.get_enterprise(_actor(), enterprise_id), False, _actor())
    flash(_("已停用 %(name)s。", name=row.name), "success")
    return redirect(url_for("enterprises.edit", enterprise_id=row.id))


@bp.post("/<int:enterprise_id>/reactivate")
@permission_required(PERMISSION)
def reactivate(enterprise_id: int):
    """Put a deactivated enterprise back in use."""
    row = services.set_active(services.get_enterprise(_actor(), enterprise_id), True, _actor())
    flash(_("已重新启用 %(name)s。", name=row.name), "success")
    return redirect(url_for("enterprises.edit", enterprise_id=row.id))


# ---------------------------------------------------------------- posters

@bp.get("/<int:enterprise_id>/poster")
@permission_required(PERMISSION)
def poster(enterprise_id: int):
    """One enterprise's A4 poster, ready to print."""
    row = services.get_enterprise(_actor(), enterprise_id)
    return render_template("enterprises/poster.html", posters=posters.posters_for([row]),
                           sheet=posters.sheet(today_beijing()), row=row)


@bp.get("/posters")
@permission_required(PERMISSION)
def township_posters():
    """All posters of a township, one per A4 page (in batches of a few hundred), or the township to choose."""
    names = _names()["township"]
    township = request.args.get("township", "")
    if not township:
        return render_template("enterprises/posters_choose.html", options=list(names.items()), values={},
                               errors={})
    if township not in names:
        return render_template("enterprises/posters_choose.html", options=list(names.items()),
                               values={"township": township},
                               errors={"township": [_("请选择乡镇（街道）。")]}), 422
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    rows, total = services.page_of(services.for_township(_actor(), township), page, POSTERS_PER_PRINT)
    return render_template("enterprises/posters.html", posters=posters.posters_for(rows),
                           sheet=posters.sheet(today_beijing()), township=township, township_name=names[township],
                           total=total, page=page, first=(page - 1) * POSTERS_PER_PRINT + 1,
                           pages=max(-(-total // POSTERS_PER_PRINT), 1))


# ---------------------------------------------------------------- bulk import

def _import_form(errors: dict | None = None, values: dict | None = None, status: int = 200):
    choices = Choices.current()
    return render_template("enterprises/import.html", errors=errors or {}, values=values or {},
                           departments=_form_choices(choices)["department"], district=_district(),
                           max_mb=importer.MAX_BYTES // (1024 * 1024), max_rows=importer.MAX_ROWS,
                           headers=importer.TEMPLATE_HEADERS), status


def _department_or_errors(code: str) -> tuple[int | None, dict]:
    try:
        return services.department_for(_actor(), code, Choices.current()), {}
    except ValidationFailed as exc:
        return None, exc.fields


@bp.route("/import", methods=["GET", "POST"])
@permission_required(PERMISSION)
def import_file():
    """Upload a CSV or XLSX list; every row is checked and shown before anything is imported."""
    if request.method == "GET":
        return _import_form()
    values = {"department": request.form.get("department", "")}
    department_id, errors = _department_or_errors(values["department"])
    upload = request.files.get("file")
    content = upload.stream.read(importer.MAX_BYTES + 1) if upload and upload.filename else b""
    if errors:
        return _import_form(errors, values, 422)
    try:
        result = importer.preview(upload.filename if upload else "", content)
    except ValidationFailed as exc:
        return _import_form(exc.fields, values, 422)
    token = importer.stage(content, current_user.id) if result.good else ""
    return render_template("enterprises/import_preview.html", result=result, token=token, values=values,
                           confirmed=False, names=_names(), department_id=department_id)


@bp.post("/import/confirm")
@permission_required(PERMISSION)
def import_confirm():
    """Import the good rows of the previewed file, checking every row again first."""
    token = request.form.get("token", "")
    values = {"department": request.form.get("department", "")}
    department_id, errors = _department_or_errors(values["department"])
    if errors:
        return _import_form(errors, values, 422)
    try:
        content = importer.staged(token, current_user.id)
    except FileNotFoundError:
        flash(_("预览已过期（超过 1 小时）或已导入，请重新上传文件。"), "error")
        return redirect(url_for("enterprises.import_file"))
    try:
        result = importer.preview("", content)
    except ValidationFailed as exc:
        importer.discard(token, current_user.id)
        return _import_form(exc.fields, values, 422)
    imported = services.import_rows([r.values for r in result.good], department_id, _actor(),
                                    file_format=result.file_format, total=len(result.rows),
                                    rejected=len(result.bad))
    importer.discard(token, current_user.id)
    flash(_("已导入 %(n)s 家单位。", n=imported), "success")
    # token="": the import is done, nothing left to confirm (an import token, not a password)
    return render_template("enterprises/import_preview.html", result=result, token="", values=values,  # nosec B106
                           confirmed=True, imported=imported, names=_names(), department_id=department_id)


@bp.get("/import/template.csv")
@permission_required(PERMISSION)
def template_csv():
    """The sample import file as CSV (UTF-8 with BOM, opens in Excel)."""
    return Response(importer.template_csv(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="enterprises-template.csv"'})


@bp.get("/import/template.xlsx")
@permission_required(PERMISSION)
def template_xlsx():
    """The sample import file as XLSX, with a sheet of the townships and sectors that may be used."""
    return Response(importer.template_xlsx(Choices.current()), mimetype=importer.XLSX_MIME,
                    headers={"Content-Disposition": 'attachment; filename="enterprises-template.xlsx"'})
