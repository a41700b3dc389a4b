"""The reporter's rating of the handling (满意度): offered after the case ends, once, comment encrypted."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select, text

from tests.followup.helpers import conclude, file_tip, open_status, tip_by_reference
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.followup.models import SatisfactionRating
from tipoff.followup.services import rating_for_staff

QUESTION = "您对办理情况满意吗？"
COMMENT = "处理很及时，办理人员态度很好，谢谢。"


def rate(client, reference: str, rating: str = "satisfied", comment: str = COMMENT):
    return client.post("/status/rating", data={"reference": reference, "rating": rating, "comment": comment})


def test_not_offered_before_the_case_is_concluded(app, client, make_staff):
    reference, code = file_tip(client)
    assert QUESTION not in open_status(client, reference, code)
    response = rate(client, reference)
    assert response.status_code == 409
    assert "办理完毕后才能评价" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(SatisfactionRating)) is None


def test_rated_once_with_the_comment_encrypted_at_rest(app, client, make_staff):
    reference, code = file_tip(client)
    conclude(app, make_staff, reference)
    page = open_status(client, reference, code)
    assert QUESTION in page and "基本满意" in page

    response = rate(client, reference)
    assert response.status_code == 302 and response.headers["Location"].endswith("/status#rating")
    page = client.get("/status").get_data(as_text=True)
    assert "您的评价：满意" in page and COMMENT in page and QUESTION not in page

    with app.app_context():
        row = db.session.execute(text("SELECT * FROM satisfaction_ratings")).one()
        assert row.rating == "satisfied"
        stored = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
        assert COMMENT.encode() not in stored and "办理人员".encode() not in stored
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "tip.rating"))
        assert entry.object_id == reference and entry.details == {"rating": "satisfied"}
        assert entry.actor_label == "public"
        # The department sees the rating and the comment on the case page.
        view = rating_for_staff(tip_by_reference(reference))
        assert (view.code, view.label, view.comment) == ("satisfied", "满意", COMMENT)


def test_a_second_rating_is_refused_with_409(app, client, make_staff):
    reference, code = file_tip(client)
    conclude(app, make_staff, reference)
    open_status(client, reference, code)
    assert rate(client, reference, "unsatisfied", "").status_code == 302
    response = rate(client, reference, "satisfied", "改主意了")
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "每件举报只能评价一次" in body and "您的评价：不满意" in body
    with app.app_context():
        assert [r.rating for r in db.session.scalars(select(SatisfactionRating))] == ["unsatisfied"]
        assert db.session.scalar(select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "tip.rating")) == 1


def test_rejected_cases_can_be_rated(app, client, make_staff):
    reference, code = file_tip(client)
    conclude(app, make_staff, reference, action="reject")
    assert QUESTION in open_status(client, reference, code)
    assert rate(client, reference, "unsatisfied", "").status_code == 302
    assert "您的评价：不满意" in client.get("/status").get_data(as_text=True)


def test_a_bad_rating_or_long_comment_keeps_what_was_typed(app, client, make_staff):
    reference, code = file_tip(client)
    conclude(app, make_staff, reference)
    open_status(client, reference, code)
    response = rate(client, reference, "thrilled", "很好")
    assert response.status_code == 422 and "请选择满意、基本满意或不满意" in response.get_data(as_text=True)
    response = rate(client, reference, "satisfied", "长" * 501)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "最多 500 个字" in body and "长" * 501 in body
    with app.app_context():
        assert db.session.scalar(select(SatisfactionRating)) is None


def test_the_case_page_snippet_shows_rating_and_comment(app, client, make_staff):
    reference, code = file_tip(client)
    conclude(app, make_staff, reference)
    open_status(client, reference, code)
    rate(client, reference, "basically_satisfied")
    with app.test_request_context():
        html = render_template("followup/_case_rating.html", rating=rating_for_staff(tip_by_reference(reference)))
        assert "举报人满意度评价" in html and "基本满意" in html and COMMENT in html
        assert render_template("followup/_case_rating.html", rating=None).strip() == ""
