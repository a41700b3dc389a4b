"""Staff case pages: the queue (soonest deadline first) and one case with its action forms."""
from __future__ import annotations

import mimetypes

from flask import Blueprint, flash, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from flask_babel import gettext as _
from flask_login import current_user

from tipoff.accounts.access import permission_required
from tipoff.cases import duplicates, services
from tipoff.cases.labels import ACTION_LABELS, EVIDENCE_KINDS, describe_details
from tipoff.cases.queue import OPEN_STATES, QueueFilter, counts
from tipoff.cases.queue import queue as queue_of
from tipoff.cases.states import CaseState, internal_label
from tipoff.policy import Role
from tipoff.cases.workflow import ENFORCEMENT, OUTCOMES, REJECTION_REASONS, TRANSITIONS
from tipoff.clockview import deadline_badge
from tipoff.db import utcnow
from tipoff.errors import Conflict, DomainError, ValidationFailed
from tipoff.extensions import db
from tipoff.intake import services as intake
from tipoff.intake.attachments import evidence_fields, tip_attachments
from tipoff.intake.submission import CHANNEL_LABELS
from tipoff.reference.services import handling_departments, name_of, names
from tipoff.followup.services import rating_for_staff
from tipoff.rewards.services import matter_reward
from tipoff.routing.rules import adoptable
from tipoff.web import english, form_version, writes

bp = Blueprint("cases", __name__, url_prefix="/staff/cases")
bp.add_app_template_global(deadline_badge, "deadline_badge")


@bp.app_template_global("ref_name")
def ref_name(kind: str, code: str | None) -> str:
    """A stored category/sector/township/department code as its name in the page's language."""
    return name_of(kind, code, english=english())


def _event_details(details) -> list[tuple[str, str]]:
    return describe_details(details, department_name=lambda code: ref_name("department", code), translate=_)


@bp.get("/")
@permission_required("cases.view")
def queue():
    """Open cases of the user's department (all of them for the 安委办), soonest deadline first."""
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), 100_000)
    wanted, errors = QueueFilter.parse(request.args)
    user = current_user._get_current_object()
    district = user.scope("cases.view") == "district"
    now = utcnow()
    return render_template("cases/queue.html", cases=queue_of(user, page=page, wanted=wanted), page=page,
                           wanted=wanted, counts=counts(user, wanted, now), errors=errors, badge=_queue_badges(now),
                           case_base=url_for("cases.queue"),
                           status_labels={s.value: escape(_(internal_label(s.value))) for s in CaseState},
                           category_names={code: name_of("category", code, english=english())
                                           for code in names()["category"]},
                           status_options=[(s.value, _(internal_label(s.value))) for s in OPEN_STATES],
                           department_options=[(d.code, d.name) for d in handling_departments()] if district else []), \
        422 if errors else 200


def _queue_badges(now):
    """The deadline badge of a queue row as (css class, text), its words translated once per page.

    Renders what the `cases/_badge.html` macro renders, without ~50 gettext calls per page. The words are
    escaped once here (a translation is text, never trusted as markup) and the date by `Markup.__mod__`.
    """
    overdue, due_today, before = escape(_("已逾期")), escape(_("今日到期")), escape(_("%(day)s 前"))

    def badge(deadline):
        state, day = deadline_badge(deadline, now)
        if state == "overdue":
            return "badge-bad", overdue + Markup("（%s）") % day
        if state == "due_today":
            return "badge-warn", due_today
        if state == "ok":
            return "badge-ok", before % {"day": day}
        return None, None

    return badge


def render_case(tip, errors: dict | None = None, values: dict | None = None, status: int = 200):
    """The case page; `values` are what a refused form had typed (`_open` names that form), `errors` its
    problems. Callers record the view (`services.record_view`): the page shows the description."""
    user = current_user._get_current_object()
    allowed = services.offered(tip, [t for t in TRANSITIONS.values()
                                     if CaseState(tip.status) in t.from_states and Role(user.role) in t.roles])
    return render_template(
        "cases/case.html", tip=tip, description=intake.description_of(tip), messages=intake.messages_of(tip),
        history=services.history(tip), attachments=[(a, evidence_fields(tip, a)) for a in tip_attachments(tip)],
        transitions=allowed, label=internal_label, errors=errors or {}, values=values or {},
        departments=[d for d in handling_departments() if d.id != tip.department_id],
        candidates=[t for t in duplicates.candidates(tip) if services.visible_to(user, t)],
        matter=duplicates.matter_of(tip), adoptable=user.can("routing.adopt") and adoptable(tip),
        reward=matter_reward(tip), rating=rating_for_staff(tip), action_labels=ACTION_LABELS,
        event_details=_event_details, channel_labels=CHANNEL_LABELS, evidence_kinds=EVIDENCE_KINDS,
        rejection_reasons=REJECTION_REASONS, outcomes=OUTCOMES, enforcement=ENFORCEMENT), status


def refused_on_case_page(reference: str, form: str, exc: ValidationFailed | Conflict, typed: dict,
                         field: str = "_action"):
    """The case page again after one of its forms was refused: the problems beside the form (`field` takes a
    refusal that names no field), what was typed, that form open (`form`). Nothing typed is lost; the page
    shows the case again, so it is recorded as a view."""
    db.session.rollback()  # nothing of the refused action is kept by the view's commit below
    user = current_user._get_current_object()
    tip = services.case_for(user, reference)
    services.record_view(user, tip)
    return render_case(tip, exc.fields or {field: [exc.message]}, {**typed, "_open": form}, exc.status)


@bp.get("/<reference>")
@permission_required("cases.view")
@writes
def case(reference: str):
    """One case: facts, evidence, messages, history, deadline, and the actions the state allows."""
    tip = services.case_for(current_user, reference)
    services.record_view(current_user._get_current_object(), tip)
    return render_case(tip)


# Shown in the browser only where it cannot run script; everything else is downloaded.
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}


@bp.get("/<reference>/evidence/<int:attachment_id>")
@permission_required("cases.view")
def evidence(reference: str, attachment_id: int):
    """One evidence file, decrypted for a member of staff who may see the case (an audited read).

    The download is named after the case, never after the reporter's own file name."""
    from flask import Response

    tip, attachment, content = services.evidence_file(current_user._get_current_object(), reference,
                                                      attachment_id)
    extension = mimetypes.guess_extension(attachment.media_type) or ".bin"
    disposition = "inline" if attachment.media_type in INLINE_TYPES else "attachment"
    response = Response(content, mimetype=attachment.media_type)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{tip.reference}-{attachment.id}{extension}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/<reference>/actions/<action>")
@permission_required("cases.view")
def act(reference: str, action: str):
    """Perform one action from the case page; refusals keep what was typed."""
    payload = {k: v for k, v in request.form.items() if k not in ("csrf_token", "version")}
    payload["enforcement"] = request.form.getlist("enforcement")
    version = form_version()
    try:
        outcome = services.perform(current_user._get_current_object(), reference, action, payload,
                                   expected_version=version)
    except (ValidationFailed, Conflict) as exc:
        return refused_on_case_page(reference, action, exc, payload)
    except DomainError:
        raise
    flash(outcome.message, "success")
    if not services.visible_to(current_user, outcome.tip):
        return redirect(url_for("cases.queue"))  # transferred away: no longer ours to see
    return redirect(url_for("cases.case", reference=outcome.tip.reference))
