"""Hostile uploads: path traversal and markup in file names, wrong magic bytes, truncated images,
decompression bombs, zip bombs, too many files, oversized requests. Each is a clear 4xx (or a safely
stored file), never a 5xx, and nothing lands outside the attachment store."""
from __future__ import annotations

import io
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.security.conftest import MAJOR_NAMED, browser, csrf_from, secure_app
from tipoff.extensions import db

TIP = {**MAJOR_NAMED, "identity": "anonymous"}


def png(width: int = 32, height: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture (a decompression bomb's calling card)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + chunk(b"IEND", b""))


def zip_bomb() -> bytes:
    """A .docx-looking zip whose one member inflates to 200 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w") as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(200):
                member.write(block)
    return out.getvalue()


def submit(client, files: list[tuple[bytes, str]]):
    token = csrf_from(client, "/report")
    data = {**TIP, "csrf_token": token, "evidence": [(io.BytesIO(content), name) for content, name in files]}
    return client.post("/report", data=data, content_type="multipart/form-data")


def tip_count(app) -> int:
    from tipoff.intake.models import Tip

    with app.app_context():
        return db.session.scalar(select(func.count(Tip.id)))


@pytest.fixture(scope="module")
def upload_app(tmp_path_factory, pg_schema):
    app = secure_app(tmp_path_factory.mktemp("uploads"), pg_schema)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("name", ["../../../../../tmp/tipoff-evil.png", "..\\..\\..\\tipoff-evil.png",
                                  "/etc/cron.d/tipoff-evil.png", "tipoff-evil.png\x00.exe",
                                  '"><img src=x onerror=alert(1)>.png', "C:\\Windows\\tipoff-evil.png"])
def test_file_names_never_choose_where_a_file_is_stored(upload_app, name):
    data_dir = Path(upload_app.config["TIPOFF_DATA_DIR"])
    before = {p for p in data_dir.rglob("*")}
    response = submit(browser(upload_app), [(png(), name)])
    assert response.status_code in (201, 422), response.status_code
    created = {p for p in data_dir.rglob("*")} - before
    for path in created:
        assert "evil" not in path.name and ".." not in path.parts
        assert path.resolve().is_relative_to(data_dir.resolve())
    assert not Path("/tmp/tipoff-evil.png").exists() and not Path("/etc/cron.d/tipoff-evil.png").exists()
    assert "<img src=x onerror" not in response.get_data(as_text=True)


def test_a_refused_file_name_is_shown_escaped(upload_app):
    response = submit(browser(upload_app), [(b"MZ\x90\x00 not a picture", '<script>alert(1)</script>.jpg')])
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)" in body


@pytest.mark.parametrize("content, name", [
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 100, "photo.jpg"),                 # a Windows program named .jpg
    (b"<html><script>alert(1)</script></html>", "photo.png"),                     # HTML named .png
    (b"#!/bin/sh\nrm -rf /\n", "evidence.pdf"),
    (png()[:40], "truncated.png"),                                               # cut off after the header
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 30, "broken.jpg"),          # a JPEG with no picture
    (png_claiming(100_000, 100_000), "bomb.png"),                                # 10 gigapixels claimed
    (b"PK\x03\x04" + b"\x00" * 60, "damaged.docx"),
])
def test_malformed_files_are_refused_with_a_reason(upload_app, content, name):
    tips = tip_count(upload_app)
    response = submit(browser(upload_app), [(content, name)])
    assert response.status_code == 422, response.status_code
    assert "附件" in response.get_data(as_text=True) or "文件" in response.get_data(as_text=True)
    assert tip_count(upload_app) == tips  # the tip text is kept on the form, not half-filed


def test_a_zip_bomb_is_never_inflated(upload_app):
    """Office files are recognised by their member names; nothing is decompressed, so a bomb is inert."""
    bomb = zip_bomb()
    assert len(bomb) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        response = submit(browser(upload_app), [(bomb, "report.docx")])
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code in (201, 422)
    assert peak < 64 * 1024 * 1024, f"{peak / 2**20:.0f} MiB held while checking a 200 MiB zip bomb"


def test_too_many_files_are_refused(upload_app):
    tips = tip_count(upload_app)
    response = submit(browser(upload_app), [(png(), f"p{i}.png") for i in range(5)])
    assert response.status_code == 422
    assert tip_count(upload_app) == tips


def test_a_file_over_the_size_limit_is_refused(upload_app):
    from tipoff.intake.evidence import MAX_FILE_BYTES

    big = b"%PDF-1.7\n" + b"0" * (MAX_FILE_BYTES + 1)
    response = submit(browser(upload_app), [(big, "big.pdf")])
    assert response.status_code in (413, 422)


def test_an_oversized_request_is_refused_before_it_is_read(tmp_path, pg_schema):
    app = secure_app(tmp_path, pg_schema, MAX_CONTENT_LENGTH=256 * 1024)
    response = submit(browser(app), [(b"%PDF-1.7\n" + b"0" * (512 * 1024), "big.pdf")])
    assert response.status_code == 413
    api = browser(app).post("/api/v1/tips", data=b"{" + b" " * (512 * 1024) + b"}",
                            content_type="application/json")
    assert api.status_code == 413 and api.mimetype == "application/json"
