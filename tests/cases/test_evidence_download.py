"""Staff open a case's evidence files: decrypted for those who may see the case, audited, never by file name."""
from __future__ import annotations

import io

from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tests.intake.test_evidence import photo_with_exif
from tipoff.audit.models import AuditEntry
from tipoff.extensions import db
from tipoff.intake.models import Attachment


def _tip_with_files(app):
    response = app.test_client().post(
        "/report", data={**VALID, "evidence": [(io.BytesIO(photo_with_exif()), "张伟的照片.jpg"),
                                               (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "举报材料.pdf")]},
        content_type="multipart/form-data")
    assert response.status_code == 201
    reference, _ = receipt_of(response)
    with app.app_context():
        photo, pdf = db.session.scalars(select(Attachment).order_by(Attachment.id.desc()).limit(2)).all()[::-1]
        return reference, photo.id, pdf.id


def test_handler_opens_evidence_from_the_case_page(app, client, login_as):
    reference, photo, pdf = _tip_with_files(app)
    login_as("handler", "zjj")
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    assert f"/staff/cases/{reference}/evidence/{photo}" in page and "张伟的照片" not in page

    shown = client.get(f"/staff/cases/{reference}/evidence/{photo}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.data.startswith(b"\xff\xd8\xff") and b"Exif" not in shown.data  # the cleaned photo
    assert shown.headers["Content-Disposition"] == f'inline; filename="{reference}-{photo}.jpg"'
    assert shown.headers["Cache-Control"] == "no-store" and "sandbox" in shown.headers["Content-Security-Policy"]

    downloaded = client.get(f"/staff/cases/{reference}/evidence/{pdf}")
    assert downloaded.status_code == 200 and downloaded.data.startswith(b"%PDF")
    assert downloaded.headers["Content-Disposition"].startswith("attachment;")  # a PDF never opens inline
    with app.app_context():
        reads = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "case.evidence_read")).all()
        assert sorted(e.details["attachment"] for e in reads) == [photo, pdf]
        assert all(e.object_id == reference for e in reads)


def test_evidence_is_not_served_outside_the_case_or_the_department(app, client, make_staff):
    from tests.conftest import login

    reference, photo, _ = _tip_with_files(app)
    other_reference, other_photo, _ = _tip_with_files(app)
    outsider = app.test_client()
    login(outsider, make_staff("handler", "yjj"))  # another department
    assert outsider.get(f"/staff/cases/{reference}/evidence/{photo}").status_code == 404
    login(client, make_staff("handler", "zjj"))
    assert client.get(f"/staff/cases/{reference}/evidence/{other_photo}").status_code == 404  # wrong case
    assert client.get(f"/staff/cases/{reference}/evidence/999999").status_code == 404
    assert client.get(f"/staff/cases/{reference}/evidence/{'9' * 30}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "case.evidence_read")) is None


def test_anonymous_visitors_are_sent_to_login(app, client):
    reference, photo, _ = _tip_with_files(app)
    response = client.get(f"/staff/cases/{reference}/evidence/{photo}")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_a_file_lost_by_the_storage_is_a_clear_404_not_a_500(app, client, login_as):
    from pathlib import Path

    reference, photo, _ = _tip_with_files(app)
    with app.app_context():
        stored = db.session.get(Attachment, photo).stored_name
    (Path(app.config["TIPOFF_DATA_DIR"]) / "attachments" / stored).unlink()
    login_as("handler", "zjj")
    response = client.get(f"/staff/cases/{reference}/evidence/{photo}")
    assert response.status_code == 404 and "找不到" in response.get_data(as_text=True)
