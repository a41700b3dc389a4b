"""Evidence files: types by their bytes, photos stripped of identifying metadata, stored encrypted."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tests.intake.helpers import VALID, receipt_of
from tipoff.extensions import db
from tipoff.intake import attachments
from tipoff.intake.evidence import EvidenceRejected, clean_photo, sniff
from tipoff.intake.models import Attachment, Tip

DEVICE_STRINGS = [b"Xiaomi", b"Mi 11 Ultra", b"Zhang Wei", b"MIUI Camera", b"SN-4711-0815"]


def photo_with_exif() -> bytes:
    """A JPEG as a phone writes it: device make and model, owner, software, serial, time, GPS."""
    image = Image.new("RGB", (64, 48), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x013B], exif[0x0131] = "Xiaomi", "Mi 11 Ultra", "Zhang Wei", "MIUI Camera"
    exif[0x0112] = 6  # orientation: rotate 90° when shown
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2026:11:20 08:15:00"
    sub[0xA431] = "SN-4711-0815"  # body serial number
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (34.0, 5.0, 30.0), "E", (113.0, 49.0, 12.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert all(s in data for s in DEVICE_STRINGS)  # the fixture really carries them
    return data


def office_zip(folder: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(f"{folder}document.xml", "<x/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    return out.getvalue()


@pytest.mark.parametrize("data, kind, media_type", [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image", "image/png"),
    (b"GIF89a" + b"\x00" * 20, "image", "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image", "image/webp"),
    (b"%PDF-1.7\n", "pdf", "application/pdf"),
    (office_zip("word/"), "office", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (office_zip("xl/"), "office", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 20, "office", "application/x-ole-storage"),
    (b"ID3\x04\x00" + b"\x00" * 20, "audio", "audio/mpeg"),
    (b"#!AMR\n" + b"\x00" * 20, "audio", "audio/amr"),
    (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio", "audio/wav"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00", "audio", "audio/mp4"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "video", "video/mp4"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "video", "video/quicktime"),
])
def test_files_are_known_by_their_bytes(data, kind, media_type):
    found = sniff(data)
    assert (found.kind, found.media_type) == (kind, media_type)


@pytest.mark.parametrize("data, message", [
    (b"MZ\x90\x00" + b"\x00" * 60, "不支持这种文件"),                 # a Windows program named photo.jpg
    (b"<html><script>alert(1)</script>", "不支持这种文件"),
    (office_zip("other/"), "不支持压缩包"),
    (b"PK\x03\x04broken", "文件已损坏"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIC"),
])
def test_other_files_are_refused_with_a_reason(data, message):
    with pytest.raises(EvidenceRejected, match=message):
        sniff(data)


def test_photo_metadata_is_removed_and_kept_only_on_request():
    original = photo_with_exif()
    cleaned, evidence = clean_photo(original, sniff(original), keep_time_and_place=False)
    assert evidence is None
    assert b"Exif" not in cleaned and not any(s in cleaned for s in DEVICE_STRINGS)
    with Image.open(io.BytesIO(cleaned)) as image:
        assert dict(image.getexif()) == {}
        assert image.size == (48, 64)  # turned upright, as the phone showed it
    _, kept = clean_photo(original, sniff(original), keep_time_and_place=True)
    assert kept.taken_at == "2026-11-20T08:15:00"
    assert (kept.latitude, kept.longitude) == (34.091667, 113.82)


def test_photo_is_stored_encrypted_without_metadata(app, client):
    response = client.post("/report", data={**VALID, "keep_photo_metadata": "1",
                                            "evidence": [(io.BytesIO(photo_with_exif()), "张伟的照片.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 201
    reference, _ = receipt_of(response)
    data_dir = Path(app.config["TIPOFF_DATA_DIR"])
    on_disk = b"".join(p.read_bytes() for p in data_dir.rglob("*") if p.is_file())
    assert not any(s in on_disk for s in DEVICE_STRINGS)
    assert "张伟的照片".encode() not in on_disk
    with app.app_context():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
        attachment = db.session.scalar(select(Attachment))
        stored = attachments.read_attachment(tip, attachment)
        assert stored.startswith(b"\xff\xd8\xff") and b"Exif" not in stored
        assert attachments.evidence_fields(tip, attachment) == {
            "taken_at": "2026-11-20T08:15:00", "latitude": 34.091667, "longitude": 113.82}
        assert attachment.kind == "image" and attachment.size == len(stored)


def test_refused_file_keeps_the_text_and_stores_nothing(app, client):
    response = client.post("/report", data={**VALID, "evidence": [(io.BytesIO(b"MZ" + b"\x00" * 100), "a.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "不支持这种文件" in body and VALID["description"] in body and "重新选择" in body
    with app.app_context():
        assert db.session.scalar(select(Tip)) is None
    assert not list((Path(app.config["TIPOFF_DATA_DIR"]) / "attachments").glob("*"))


def test_a_refused_file_is_explained_in_english_on_the_english_form(app, client):
    client.get("/report?lang=en")
    archive = office_zip("other/")
    response = client.post("/report", data={**VALID, "evidence": [(io.BytesIO(archive), "photos.zip")]},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "Some files could not be accepted." in body
    assert "photos.zip: Archives (such as zip files) are not accepted." in body and "不支持压缩包" not in body


def test_too_many_files_are_refused(client):
    files = [(io.BytesIO(b"%PDF-1.4\n" + bytes([i]) * 10), f"{i}.pdf") for i in range(5)]
    response = client.post("/report", data={**VALID, "evidence": files}, content_type="multipart/form-data")
    assert response.status_code == 422 and "最多 4 个附件" in response.get_data(as_text=True)


def test_full_disk_keeps_the_text_and_leaves_no_tip(app, client, monkeypatch):
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(attachments.os, "open", no_space)
    response = client.post("/report", data={**VALID, "evidence": [(io.BytesIO(b"%PDF-1.4\n"), "x.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 507
    body = response.get_data(as_text=True)
    assert "存储空间不足" in body and VALID["description"] in body
    with app.app_context():
        assert db.session.scalar(select(Tip)) is None


def test_reporter_adds_evidence_later_and_through_the_api(app, client):
    reference, code = receipt_of(client.post("/report", data=VALID))
    client.post("/status", data={"reference": reference, "access_code": code})
    response = client.post("/status/evidence", data={"reference": reference,
                                                     "evidence": [(io.BytesIO(b"%PDF-1.4\nreport"), "r.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    api = client.post("/api/v1/tips/evidence", content_type="multipart/form-data",
                      data={"reference": reference, "access_code": code,
                            "evidence": [(io.BytesIO(photo_with_exif()), "p.jpg")]})
    assert api.status_code == 201 and api.get_json() == {"reference": reference, "files": 1}
    wrong = client.post("/api/v1/tips/evidence", content_type="multipart/form-data",
                        data={"reference": reference, "access_code": "1" * 16,
                              "evidence": [(io.BytesIO(b"%PDF-1.4\n"), "p.pdf")]})
    assert wrong.status_code == 404
    with app.app_context():
        assert [a.kind for a in db.session.scalars(select(Attachment).order_by(Attachment.id))] == ["pdf", "image"]
    three = [(io.BytesIO(b"%PDF-1.4\n" + bytes([i]) * 10), f"{i}.pdf") for i in range(3)]
    response = client.post("/status/evidence", data={"reference": reference, "evidence": three},
                           content_type="multipart/form-data")
    body = response.get_data(as_text=True)  # two are stored: it says how many more may come
    assert response.status_code == 422 and "已有 2 个，这次最多还能添加 2 个" in body
    assert 'accept="image/jpeg' in body  # the picker offers the kinds the form takes, as the report form does


def _png_text(key: str, value: str):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text(key, value)
    return info


def _image_bytes(fmt: str, **save) -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize("data, secret", [
    (_image_bytes("JPEG", comment=b"owner: Zhang Wei 13912345678"), b"Zhang Wei"),
    (_image_bytes("PNG", pnginfo=_png_text("Author", "Zhang Wei"), icc_profile=b"\x00" * 128), b"Zhang Wei"),
    (_image_bytes("GIF", comment=b"shot by Zhang Wei"), b"Zhang Wei"),
])
def test_comments_and_profiles_do_not_survive(data, secret):
    assert secret in data
    cleaned, _ = clean_photo(data, sniff(data), keep_time_and_place=False)
    assert secret not in cleaned
    with Image.open(io.BytesIO(cleaned)) as image:
        assert not {"comment", "icc_profile", "exif", "Author", "xmp"} & set(image.info), image.info


def test_header_size_is_checked_before_decoding():
    # A PNG header claiming 20000 x 20000 pixels, a few bytes long: refused without decoding.
    from tipoff.intake import evidence

    big = Image.new("1", (20000, 20000))
    out = io.BytesIO()
    big.save(out, "PNG")
    assert len(out.getvalue()) < 200_000
    with pytest.raises(EvidenceRejected, match="尺寸过大"):
        evidence.prepare(out.getvalue(), keep_time_and_place=False)


def test_animated_gif_keeps_only_its_first_frame():
    frames = [Image.new("RGB", (50, 50), (i, 0, 0)) for i in range(0, 250, 10)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    from tipoff.intake import evidence

    kind, cleaned, _ = evidence.prepare(out.getvalue(), keep_time_and_place=False)
    assert kind.media_type == "image/png"
    with Image.open(io.BytesIO(cleaned)) as image:
        assert getattr(image, "n_frames", 1) == 1


@pytest.mark.parametrize("seed", range(40))
def test_damaged_photos_are_refused_not_500(seed):
    import random

    rng = random.Random(seed)
    data = bytearray(photo_with_exif())
    for _ in range(8):
        position = rng.randrange(20, len(data))
        data[position] = rng.randrange(256)
    try:
        clean_photo(bytes(data), sniff(bytes(data)), keep_time_and_place=True)
    except EvidenceRejected:
        pass  # refused with a reason: fine; any other exception fails the test
