"""Typical cases (典型案例) chosen and written by the 安委办 for publication on /public.

A case is a draft until published (published_at), and published until withdrawn (withdrawn_at); it may be
published again after a withdrawal. The link to a tip (tip_id) is for staff only. Before a case goes public —
and whenever a published case is edited — the text is checked for what must never be published: a mobile
number, a resident ID number, a tip reference. Every step is audited.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from tipoff.accounts.access import permission_required
from tipoff.audit.services import record
from tipoff.db import utcnow
from tipoff.errors import Conflict, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.oversight.models import TypicalCase

bp = Blueprint("typical_cases", __name__, url_prefix="/staff/typical-cases")

TITLE_MAX, BODY_MAX = 200, 5000
FIELDS = ("title", "body", "category_code", "sector_code", "tip_reference")
_D = r"[\s\-.]?"  # people write numbers with a space, a dash or a dot here and there
MOBILE = re.compile(rf"(?<!\d)(?:\+?86{_D})?1[3-9]\d(?:{_D}\d){{8}}(?!\d)")
ID_NUMBER = re.compile(rf"(?<![0-9A-Za-z])\d{{6}}{_D}\d{{8}}{_D}\d{{3}}[0-9Xx](?![0-9A-Za-z])")
REFERENCE = re.compile(r"(?<![A-Za-z])JA\s?-?\s?\d{4}\s?-?\s?\d{6,9}(?!\d)", re.IGNORECASE)
# Landlines (0374-5123456), long digit runs (bank cards, access codes, however grouped), e-mail addresses.
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[\s\-]?\d{7,8}(?!\d)")
LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d(?:[\s\-.]?\d){11,}(?![0-9A-Za-z])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# ------------------------------------------------------------------------------------- services


def status_of(case: TypicalCase) -> str:
    """draft | published | withdrawn."""
    if case.withdrawn_at is not None:
        return "withdrawn"
    return "published" if case.published_at is not None else "draft"


def _masked(found: str) -> str:
    digits = re.sub(r"[\s\-]", "", found)
    return digits[:3] + "*" * max(len(digits) - 5, 0) + digits[-2:]


def publication_problems(title: str, body: str) -> dict[str, list[str]]:
    """What in the text must not be published, per field (empty when fit to publish)."""
    problems: dict[str, list[str]] = {}
    for name, text in (("title", title), ("body", body)):
        plain = unicodedata.normalize("NFKC", text or "")  # full-width digits count too
        found = []
        for match in ID_NUMBER.finditer(plain):
            found.append(f"含有 18 位身份证号码（{_masked(match.group())}），请删除。")
        for match in MOBILE.finditer(ID_NUMBER.sub(" ", plain)):
            found.append(f"含有 11 位手机号码（{_masked(match.group())}），请删除。")
        for match in REFERENCE.finditer(plain):
            found.append(f"含有举报编号（{match.group().upper()}），公开文本不得出现举报编号，请删除。")
        rest = REFERENCE.sub(" ", MOBILE.sub(" ", ID_NUMBER.sub(" ", plain)))
        for match in LANDLINE.finditer(rest):
            found.append(f"含有电话号码（{_masked(match.group())}），请删除。")
        for match in LONG_NUMBER.finditer(LANDLINE.sub(" ", rest)):
            found.append(f"含有一长串数字（{_masked(match.group())}，可能是银行卡号或查询码），请删除。")
        for match in EMAIL.finditer(plain):
            found.append("含有电子邮箱地址，请删除。")
        if found:
            problems[name] = found
    return problems


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values, checked: title, body, optional category and sector, optional tip reference."""
    from tipoff.intake.services import normalise_reference
    from tipoff.reference.services import all_categories, all_sectors

    errors: dict[str, list[str]] = {}
    title = " ".join(str(values.get("title") or "").split())
    body = str(values.get("body") or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not title:
        errors["title"] = ["请填写标题。"]
    elif len(title) > TITLE_MAX:
        errors["title"] = [f"标题不超过 {TITLE_MAX} 字（现在 {len(title)} 字）。"]
    if not body:
        errors["body"] = ["请填写正文。"]
    elif len(body) > BODY_MAX:
        errors["body"] = [f"正文不超过 {BODY_MAX} 字（现在 {len(body)} 字）。"]
    for name, text in (("title", title), ("body", body)):
        if _CONTROL.search(text):
            errors.setdefault(name, []).append("含有无法处理的控制字符，请删除。")
    category = str(values.get("category_code") or "").strip() or None
    if category and category not in {c.code for c in all_categories()}:
        errors["category_code"] = ["请从列表中选择举报类别，或留空。"]
    sector = str(values.get("sector_code") or "").strip() or None
    if sector and sector not in {s.code for s in all_sectors()}:
        errors["sector_code"] = ["请从列表中选择行业领域，或留空。"]
    tip_id = None
    typed = str(values.get("tip_reference") or "").strip()
    if typed:
        reference = normalise_reference(typed)
        tip_id = db.session.scalar(select(Tip.id).where(Tip.reference == reference)) if reference else None
        if tip_id is None:
            errors["tip_reference"] = ["找不到这个举报编号（格式如 JA-2026-000123），或留空。"]
    if errors:
        raise ValidationFailed(fields=errors)
    return {"title": title, "body": body, "category_code": category, "sector_code": sector, "tip_id": tip_id}


def get_case(case_id: int) -> TypicalCase:
    """A typical case by id, whatever its status (staff)."""
    case = db.session.get(TypicalCase, case_id)
    if case is None:
        raise NotFound("找不到这个典型案例。")
    return case


def create_case(values: dict[str, Any], actor) -> TypicalCase:
    """Save a new draft; audited."""
    data = _checked(values)
    case = TypicalCase(**data, created_by_id=actor.id, created_at=utcnow())
    db.session.add(case)
    db.session.flush()
    record("typical_case.create", actor=actor, object_type="typical_case", object_id=case.id,
           details={"linked_to_tip": data["tip_id"] is not None})
    db.session.commit()
    return case


def edit_case(case: TypicalCase, values: dict[str, Any], actor) -> TypicalCase:
    """Change a case; a published one stays fit to publish or the change is refused. Audited."""
    data = _checked(values)
    if status_of(case) == "published":
        problems = publication_problems(data["title"], data["body"])
        if problems:
            raise ValidationFailed("已发布的案例不能含有这些内容。", fields=problems)
    changed = sorted(name for name, value in data.items() if getattr(case, name) != value)
    for name, value in data.items():
        setattr(case, name, value)
    record("typical_case.edit", actor=actor, object_type="typical_case", object_id=case.id,
           details={"changed": changed, "status": status_of(case)})
    db.session.commit()
    return case


def publish_case(case: TypicalCase, actor) -> TypicalCase:
    """Put a draft (or a withdrawn case) on /public, if its text is fit to publish. Audited."""
    if status_of(case) == "published":
        raise Conflict("这个案例已经发布。")
    problems = publication_problems(case.title, case.body)
    if problems:
        raise ValidationFailed("不能发布：文本含有可能识别举报人或案件的信息。", fields=problems)
    case.published_at, case.withdrawn_at = utcnow(), None
    record("typical_case.publish", actor=actor, object_type="typical_case", object_id=case.id)
    db.session.commit()
    return case


def withdraw_case(case: TypicalCase, actor) -> TypicalCase:
    """Take a published case off /public. Audited."""
    if status_of(case) != "published":
        raise Conflict("只有已发布的案例可以撤回。")
    case.withdrawn_at = utcnow()
    record("typical_case.withdraw", actor=actor, object_type="typical_case", object_id=case.id)
    db.session.commit()
    return case


def all_cases() -> list[TypicalCase]:
    """Every case, newest first (staff)."""
    return list(db.session.scalars(select(TypicalCase).order_by(TypicalCase.created_at.desc(),
                                                                TypicalCase.id.desc())))


def published_cases() -> list[TypicalCase]:
    """Cases on /public, the most recently published first."""
    return list(db.session.scalars(
        select(TypicalCase).where(TypicalCase.published_at.is_not(None), TypicalCase.withdrawn_at.is_(None))
        .order_by(TypicalCase.published_at.desc(), TypicalCase.id.desc())))


def published_case(case_id: int) -> TypicalCase:
    """One case as the public may see it (404 for drafts and withdrawn cases)."""
    case = db.session.get(TypicalCase, case_id)
    if case is None or status_of(case) != "published":
        raise NotFound("找不到这个典型案例。")
    return case


# ----------------------------------------------------------------------------------------- views


def _choices() -> dict[str, list[tuple[str, str]]]:
    from tipoff.reference.services import active_categories, active_sectors

    return {"category_code": [(c.code, c.name) for c in active_categories()],
            "sector_code": [(s.code, s.name) for s in active_sectors()]}


def _stored_values(case: TypicalCase | None) -> dict[str, str]:
    if case is None:
        return {}
    tip = db.session.get(Tip, case.tip_id) if case.tip_id else None
    return {"title": case.title, "body": case.body, "category_code": case.category_code or "",
            "sector_code": case.sector_code or "", "tip_reference": tip.reference if tip else ""}


def _page(case: TypicalCase | None, values: dict[str, str], errors: dict[str, list[str]], notice: str | None):
    """The edit page (also a new case's); 422 when it shows errors."""
    warnings = publication_problems(case.title, case.body) if case is not None and not errors else {}
    tip = db.session.get(Tip, case.tip_id) if case is not None and case.tip_id else None
    return render_template("typical_cases/edit.html", case=case, values=values, errors=errors, notice=notice,
                           warnings=warnings, tip=tip, choices=_choices(),
                           status=status_of(case) if case else None,
                           limits={"title": TITLE_MAX, "body": BODY_MAX}), 422 if errors else 200


def _form(case: TypicalCase | None):
    if request.method != "POST":
        return _page(case, _stored_values(case), {}, None)
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        if case is None:
            case = create_case(values, current_user._get_current_object())
            flash(_("已保存草稿。发布前请再检查一遍，不要暴露举报人。"), "success")
        else:
            edit_case(case, values, current_user._get_current_object())
            flash(_("已保存修改。"), "success")
    except ValidationFailed as exc:
        db.session.rollback()
        return _page(case, values, exc.fields, exc.message)
    return redirect(url_for("typical_cases.edit", case_id=case.id))


@bp.get("/")
@permission_required("typical_cases.manage")
def index():
    """Every typical case with its status: drafts, published, withdrawn."""
    return render_template("typical_cases/index.html", cases=all_cases(), status_of=status_of)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("typical_cases.manage")
def new():
    """Write a new typical case (saved as a draft)."""
    return _form(None)


@bp.route("/<int:case_id>", methods=["GET", "POST"])
@permission_required("typical_cases.manage")
def edit(case_id: int):
    """Edit a case; publish or withdraw it from here."""
    return _form(get_case(case_id))


def _step(case_id: int, step, done: str):
    case = get_case(case_id)
    try:
        step(case, current_user._get_current_object())
    except ValidationFailed as exc:  # show which field holds what, beside the field
        db.session.rollback()
        return _page(case, _stored_values(case), exc.fields, exc.message)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("typical_cases.edit", case_id=case_id))


@bp.post("/<int:case_id>/publish")
@permission_required("typical_cases.manage")
def publish(case_id: int):
    """Publish the case on /public (refused while its text names a phone, an ID number or a reference)."""
    return _step(case_id, publish_case, _("已发布，公众可在“公开数据”页面看到。"))


@bp.post("/<int:case_id>/withdraw")
@permission_required("typical_cases.manage")
def withdraw(case_id: int):
    """Take the case off /public."""
    return _step(case_id, withdraw_case, _("已撤回，公开页面不再显示。"))
