"""Public intake pages: the report form, the receipt, the status page (reporter channel), /verify.

Nothing typed is lost: a validation error, an expired form token or a server error re-renders the
form with what the person wrote.
"""
from __future__ import annotations

import time
from collections import namedtuple
from functools import wraps

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from tipoff import crypto
from tipoff.cases.states import public_status
from tipoff.errors import (DATABASE_RETRY_AFTER_SECONDS, Conflict, DomainError, ValidationFailed,
                           database_unavailable, database_unavailable_response, domain_error_response,
                           forget_failed_transaction, http_error_response)
from tipoff.extensions import db, limiter
from tipoff.intake import services, throttle
from tipoff.intake.attachments import Upload
from tipoff.intake.evidence import MAX_FILE_BYTES, MAX_FILES
from tipoff.intake.submission import CONTACT_PREFERENCES
from tipoff.reference.services import active_categories, active_sectors, active_townships
from tipoff.web import translate

bp = Blueprint("intake", __name__)

HONEYPOT = "contact_website"
REPORTER_SESSION = "reporter_tip"
REPORTER_SESSION_SECONDS = 15 * 60
FORM_FIELDS = ("category", "sector", "township", "subject_name", "subject_credit_code", "address",
               "occurred_on", "description", "insider", "identity", "reporter_name", "reporter_phone",
               "reporter_id_number", "contact_preference", "keep_photo_metadata", "idempotency_key")
# Fields pre-filled from a poster's QR code link (measure 52): no tracking, only the form's own fields.
PREFILL_FIELDS = ("category", "sector", "township", "subject_name", "subject_credit_code", "address")
# The intake service's refusals of a key that already filed a report (tipoff.intake.services).
REUSED_KEY = ("idempotency_key_reused", "idempotency_key_expired")


def _typed() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FORM_FIELDS}


def _uploads() -> list[Upload]:
    """The evidence files of this request (read in memory; empty file inputs skipped)."""
    return [Upload(f.filename or "", f.read()) for f in request.files.getlist("evidence") if f and f.filename]


Choice = namedtuple("Choice", "code name name_en", defaults=(None,))
# The form's lists as this worker last read them: with the database unreachable, the form still comes
# back with what the person chose (see _choices).
_last_choices: dict[str, list[Choice]] = {}


def _choices(values: dict) -> dict[str, list[Choice]]:
    """Categories, sectors and townships for the form's lists, read from the database when it answers."""
    try:
        lists = {name: [Choice(row.code, row.name, row.name_en) for row in read()] for name, read in (
            ("categories", active_categories), ("sectors", active_sectors), ("townships", active_townships))}
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        forget_failed_transaction()
        if _last_choices:
            return dict(_last_choices)
        # Never read since this worker started: each chosen code stands for itself, so nothing is lost.
        typed = {"categories": "category", "sectors": "sector", "townships": "township"}
        return {name: [Choice(values[key], values[key])] if values.get(key) else [] for name, key in typed.items()}
    _last_choices.update(lists)
    return lists


def _render_form(values: dict, errors: dict | None = None, notice: str | None = None, status: int = 200,
                 **extra):
    values = dict(values)
    if not values.get("idempotency_key"):
        values["idempotency_key"] = crypto.random_token(24)
    return render_template("intake/report.html", values=values, errors=errors or {}, notice=notice,
                           **_choices(values), contact_preferences=CONTACT_PREFERENCES,
                           honeypot=HONEYPOT, max_files=MAX_FILES, max_mb=MAX_FILE_BYTES // (1024 * 1024),
                           **extra), status


@bp.get("/report")
def report():
    """The report form (works without JavaScript, on a phone)."""
    values = {name: request.args.get(name, "")[:200] for name in PREFILL_FIELDS}
    return _render_form(values)


@bp.post("/report")
@limiter.limit("5 per minute;30 per hour")
def report_submit():
    """Accept a tip and show its receipt once."""
    values = _typed()
    if request.form.get(HONEYPOT):
        return _render_form(values, notice=_("提交未通过自动检查，请刷新页面后重新提交。"), status=422)
    try:
        receipt = services.submit_tip(values, idempotency_key=values["idempotency_key"] or None,
                                      uploads=_uploads())
    except ValidationFailed as exc:
        notice = translate(exc.message)
        if "evidence" in exc.fields or request.files.getlist("evidence"):
            notice += _("（出于安全原因，浏览器不会保留已选择的文件，请重新选择。）")
        return _render_form(values, exc.fields, notice=notice, status=exc.status)
    except Conflict as exc:
        if exc.code not in REUSED_KEY:
            raise
        # The form's key already filed a report (different words, or a day ago): the page was used again
        # after filing (Back, or a page kept open). That report stands; this one gets a fresh key and is
        # sent only when the person submits again.
        values["idempotency_key"] = ""
        return _render_form(values, notice=_("这个页面已经提交过一份举报，那份举报已经收到。这次填写的内容还没有提交："
                                             "如果要作为一份新的举报，请核对后再次点击提交。"), status=409)
    return render_template("intake/receipt.html", receipt=receipt), 201


@bp.errorhandler(CSRFError)
def _expired_form(exc):
    """An expired or missing form token: keep the text, issue a fresh token, ask to submit again."""
    if request.endpoint == "intake.report_submit":
        return _render_form(_typed(), notice=_("页面停留时间较长，安全校验已过期。您填写的内容都还在，请再次点击提交。"),
                            status=400)
    return render_template("errors/error.html", status=400, code="csrf", fields={},
                           message=_("页面已过期，请返回刷新后重试。")), 400


@bp.errorhandler(429)
def _too_many(exc):
    """Too many submissions from this client for now: keep what was typed, say when to retry."""
    if request.endpoint == "intake.report_submit":
        return _render_form(_typed(), notice=_("提交过于频繁，请过几分钟再提交。您填写的内容都还在。"), status=429)
    return http_error_response(exc)


@bp.errorhandler(413)
def _too_large(exc):
    """The whole upload is over the limit: the form cannot be read, so say what to do."""
    if request.endpoint == "intake.report_submit":
        return _render_form({}, notice=_("上传的文件总共太大。请减少文件数量或剪短视频后重新提交；"
                                         "您写的文字如仍显示在页面上，可直接再次提交。"), status=413)
    return http_error_response(exc)


@bp.errorhandler(Exception)
def _server_error(exc):
    """A server error while submitting: say so plainly and give the form back, text included."""
    if isinstance(exc, HTTPException):
        return http_error_response(exc)
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if database_unavailable(exc):
        if request.endpoint != "intake.report_submit":
            return database_unavailable_response(exc)
        current_app.logger.warning("database unavailable on %s: %s", request.endpoint, type(exc).__name__)
        forget_failed_transaction()
        notice = _("数据库暂时无法访问，举报没有提交成功，也没有生成举报编号。您填写的内容都还在，请过一两分钟再次点击提交；万一刚才其实已经登记，再次提交也只会显示同一个举报编号，不会重复登记。")
        if request.files.getlist("evidence"):
            notice += _("（出于安全原因，浏览器不会保留已选择的文件，请重新选择。）")
        body, status = _render_form(_typed(), status=503, notice=notice)
        return body, status, {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
    current_app.logger.exception("intake failed on %s", request.endpoint)
    if request.endpoint == "intake.report_submit":
        return _render_form(_typed(), notice=_("服务器暂时出错，举报没有提交成功。您填写的内容都还在，请稍后再次提交。"),
                            status=500)
    return render_template("errors/error.html", status=500, code="server_error", fields={},
                           message=_("服务器出错，请稍后再试。")), 500


# ------------------------------------------------------------------ status: the reporter channel


def _reporter_tip(posted: bool = False):
    """The case this browser opened with its code; for a form post, only if the form is for that case."""
    held = session.get(REPORTER_SESSION)
    if not held or time.time() - held.get("at", 0) > REPORTER_SESSION_SECONDS:
        session.pop(REPORTER_SESSION, None)
        return None
    try:
        tip = services.tip_by_id(held["id"])
    except DomainError:
        return None
    if posted and request.form.get("reference") != tip.reference:
        # Another tab opened another case meanwhile: never act on a case the page was not showing.
        flash(_("此页面对应的举报已不是当前查询的举报，请重新输入编号和查询码。"), "error")
        session.pop(REPORTER_SESSION, None)
        return None
    return tip


def _render_status(tip, errors: dict | None = None, values: dict | None = None, status: int = 200):
    from tipoff.cases.labels import EVIDENCE_KINDS
    from tipoff.cases.services import objection_state, reporter_objections
    from tipoff.disclosure.services import disclosures_for_reporter
    from tipoff.followup.services import status_followup
    from tipoff.intake.attachments import tip_attachments
    from tipoff.rewards.services import amount_text, objection_open, reward_of_tip
    from tipoff.rewards.workflow import CLAIM_METHODS, STATES

    return render_template("intake/status.html", tip=tip, public=public_status(tip.status),
                           messages=services.messages_of(tip), errors=errors or {}, values=values or {},
                           contact_preferences=CONTACT_PREFERENCES, attachments=tip_attachments(tip),
                           disclosures=disclosures_for_reporter(tip), objection=objection_state(tip),
                           my_objections=reporter_objections(tip), evidence_kinds=EVIDENCE_KINDS,
                           reward=reward_of_tip(tip), reward_states={s.value: i for s, i in STATES.items()},
                           claim_methods=CLAIM_METHODS, reward_amount=amount_text,
                           reward_objection_open=objection_open, followup=status_followup(tip),
                           max_files=MAX_FILES, max_mb=MAX_FILE_BYTES // (1024 * 1024)), status


@bp.get("/status")
def status():
    """Enter reference and access code; while the session holds the case, show it."""
    tip = _reporter_tip()
    if tip is None:
        return render_template("intake/lookup.html", values={}, error=None)
    session[REPORTER_SESSION] = {"id": tip.id, "at": time.time()}
    return _render_status(tip)


@bp.post("/status")
@limiter.shared_limit("10 per minute;60 per hour", scope="tip-lookup")
@throttle.per_reference_and_client
@throttle.per_reference
def status_lookup():
    """Check the reference and the access code."""
    reference = request.form.get("reference", "")
    try:
        tip = services.open_for_reporter(reference, request.form.get("access_code", ""))
    except services.LookupFailed as exc:
        return render_template("intake/lookup.html", values={"reference": reference[:32]},
                               error=exc.message), exc.status
    session[REPORTER_SESSION] = {"id": tip.id, "at": time.time()}
    return redirect(url_for("intake.status"))


# The free-text field of each status-page form: if a post cannot be taken (the case timed out, or another
# tab opened another case), what was written in it is shown back rather than lost. (Bank details never are.)
WRITTEN_FIELDS = {"intake.status_reply": "body", "intake.status_object": "objection",
                  "intake.status_reward_object": "amount_objection", "followup.status_rating": "comment",
                  "followup.status_insider_check": "account"}


def _lookup_keeping_what_was_written():
    """The lookup page instead of a form's case: the case's reference filled in, the words written kept."""
    field = WRITTEN_FIELDS.get(request.endpoint or "")
    written = request.form.get(field, "").strip() if field else ""
    if not written:
        return redirect(url_for("intake.status"))
    reference = request.form.get("reference", "")[:32]
    return render_template("intake/lookup.html", values={"reference": reference}, error=None, written=written), 409


def reporter_action(field: str):
    """A reporter-channel form post: only for the case this page shows; a refusal re-renders the status
    page with what was typed, the message beside `field` when the refusal names no field itself."""

    def decorator(view):
        @wraps(view)
        def wrapped():
            tip = _reporter_tip(posted=True)
            if tip is None:
                return _lookup_keeping_what_was_written()
            tip_id = tip.id
            try:
                return view(tip)
            except (ValidationFailed, Conflict) as exc:
                db.session.rollback()
                kept = {k: v for k, v in request.form.items() if k not in ("csrf_token", "reference")}
                return _render_status(services.tip_by_id(tip_id), exc.fields or {field: [exc.message]}, kept,
                                      exc.status)

        return wrapped

    return decorator


@bp.post("/status/reply")
@limiter.limit("20 per hour")
@reporter_action("body")
def status_reply(tip):
    """The reporter answers the department."""
    services.post_message(tip, request.form.get("body", ""), sender="reporter")
    session[REPORTER_SESSION] = {"id": tip.id, "at": time.time()}
    return redirect(url_for("intake.status", _anchor="messages"))


@bp.post("/status/identity")
@limiter.limit("10 per hour")
@reporter_action("reporter_name")
def status_identity(tip):
    """An anonymous reporter adds their name and phone (sealed at once)."""
    services.add_identity_later(tip, {k: request.form.get(k, "") for k in (
        "reporter_name", "reporter_phone", "reporter_id_number", "contact_preference")})
    return redirect(url_for("intake.status"))


@bp.post("/status/evidence")
@limiter.limit("10 per hour")
@reporter_action("evidence")
def status_evidence(tip):
    """The reporter adds evidence files to their tip."""
    count = services.add_evidence_later(tip, _uploads(), request.form.get("keep_photo_metadata") == "1")
    if count:
        flash(_("已收到 %(n)s 个附件。", n=count), "success")
    return redirect(url_for("intake.status"))


@bp.post("/status/object")
@limiter.limit("10 per hour")
@reporter_action("objection")
def status_object(tip):
    """The reporter asks for a re-review (复查) of a concluded case within the objection window."""
    from tipoff.cases.services import reporter_objects

    reporter_objects(tip, request.form.get("objection", ""))
    flash(_("复查申请已收到，将在 30 日内答复。"), "success")
    return redirect(url_for("intake.status"))


@bp.post("/status/reward/claim")
@limiter.limit("10 per hour")
@reporter_action("method")
def status_reward_claim(tip):
    """The reporter chooses how to receive an approved reward: bank transfer (details sealed) or in person."""
    from tipoff.rewards.reporter import reporter_claim

    reporter_claim(tip, request.form.get("method", ""), request.form)
    flash(_("领取申请已收到。"), "success")
    return redirect(url_for("intake.status", _anchor="reward"))


@bp.post("/status/reward/decline")
@limiter.limit("10 per hour")
@reporter_action("method")
def status_reward_decline(tip):
    """The reporter declines the reward."""
    from tipoff.rewards.reporter import reporter_decline

    if request.form.get("confirm") != "1":
        raise ValidationFailed(fields={"confirm": [_("请勾选确认放弃领取奖励。")]})
    reporter_decline(tip)
    flash(_("已放弃领取奖励。"), "success")
    return redirect(url_for("intake.status", _anchor="reward"))


@bp.post("/status/reward/object")
@limiter.limit("10 per hour")
@reporter_action("amount_objection")
def status_reward_object(tip):
    """The reporter disputes the amount within the objection window (the proposal is reopened)."""
    from tipoff.rewards.reporter import reporter_object

    reporter_object(tip, request.form.get("amount_objection", ""))
    flash(_("异议已收到，奖励将重新评定。"), "success")
    return redirect(url_for("intake.status", _anchor="reward"))


@bp.post("/status/leave")
def status_leave():
    """Forget the case in this browser (on a shared phone or computer)."""
    session.pop(REPORTER_SESSION, None)
    return redirect(url_for("intake.status"))


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
def verify():
    """Check a proof of filing."""
    proof = request.form.get("proof", "")
    if request.method == "POST" and not proof.strip():
        return render_template("intake/verify.html", result=None, proof=proof,
                               missing=_("请粘贴提交举报时得到的凭证（回执页上“提交凭证”一栏的全部文字）。")), 422
    result = services.check_proof(proof) if request.method == "POST" else None
    return render_template("intake/verify.html", result=result, proof=proof, missing=None)
