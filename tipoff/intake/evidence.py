"""Evidence files (证据材料): what a file really is (by its bytes, not its name) and cleaning photos.

Pure functions, no Flask. A photo is re-encoded without any metadata (device make and model, serial,
owner, software, embedded thumbnails, GPS, times); when the reporter asks to keep the photo's time
and place as evidence, those two facts are read out first and returned separately, to be stored
encrypted beside the file and shown to staff.
"""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageOps, UnidentifiedImageError

from tipoff.messages import Message

MAX_FILE_BYTES = 25 * 1024 * 1024
MAX_FILES = 4
MAX_IMAGE_PIXELS = 60_000_000  # ~ a 60-megapixel photo; anything larger is refused before decoding
MAX_FRAMES = 1                 # animated images keep their first frame: re-encoding many frames is a CPU bomb


class EvidenceRejected(ValueError):
    """The file cannot be accepted; the message says why in plain Chinese."""


@dataclass(frozen=True)
class FileKind:
    kind: str        # image, pdf, office, audio, video
    media_type: str
    extension: str


_ZIP_OFFICE = {"word/": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
               "xl/": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
               "ppt/": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")}
_FTYP_VIDEO = {b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"qt  ", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"M4V "}
_FTYP_AUDIO = {b"M4A ", b"M4B "}
_FTYP_HEIF = {b"heic", b"heix", b"hevc", b"mif1", b"msf1"}


def sniff(data: bytes) -> FileKind:
    """Identify an allowed file type from its first bytes, or raise EvidenceRejected."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind("image", "image/jpeg", "jpg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind("image", "image/png", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileKind("image", "image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind("image", "image/webp", "webp")
    if head.startswith(b"%PDF-"):
        return FileKind("pdf", "application/pdf", "pdf")
    if head.startswith(b"PK\x03\x04"):
        return _office_zip(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return FileKind("office", "application/x-ole-storage", "doc")
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return FileKind("audio", "audio/mpeg", "mp3")
    if head.startswith(b"#!AMR"):
        return FileKind("audio", "audio/amr", "amr")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return FileKind("audio", "audio/wav", "wav")
    if head.startswith(b"OggS"):
        return FileKind("audio", "audio/ogg", "ogg")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_AUDIO:
            return FileKind("audio", "audio/mp4", "m4a")
        if brand in _FTYP_VIDEO:
            return FileKind("video", "video/quicktime" if brand == b"qt  " else "video/mp4",
                            "mov" if brand == b"qt  " else "mp4")
        if brand in _FTYP_HEIF:
            raise EvidenceRejected(Message("暂不支持 HEIC 格式照片（无法清除其中的位置信息）。请在手机相机设置中选择"
                                           "“兼容性最佳”，或截图后上传 JPG。"))
    raise EvidenceRejected(Message("不支持这种文件。可以上传照片（JPG、PNG）、PDF、Word/Excel/PPT 文档、录音或短视频。"))


def _office_zip(data: bytes) -> FileKind:
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, ValueError):
        raise EvidenceRejected(Message("文件已损坏，无法打开。")) from None
    for prefix, (media_type, extension) in _ZIP_OFFICE.items():
        if any(name.startswith(prefix) for name in names):
            return FileKind("office", media_type, extension)
    raise EvidenceRejected(Message("不支持压缩包。请直接上传照片、文档、录音或视频。"))


@dataclass(frozen=True)
class PhotoEvidence:
    """What a photo itself says about when and where it was taken (kept only on request)."""

    taken_at: str | None = None   # as the camera recorded it (local time, no zone)
    latitude: float | None = None
    longitude: float | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v is not None}


def _degrees(value, ref: str) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    return round(-result if ref in ("S", "W") else result, 6)


def read_photo_evidence(image: Image.Image) -> PhotoEvidence:
    """Capture time and GPS position from a photo's EXIF, where present."""
    exif = image.getexif()
    taken = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    gps = exif.get_ifd(0x8825)
    latitude = _degrees(gps.get(2), gps.get(1, "N")) if gps.get(2) else None
    longitude = _degrees(gps.get(4), gps.get(3, "E")) if gps.get(4) else None
    taken_at = None
    if isinstance(taken, str):
        try:
            taken_at = datetime.strptime(taken.strip(), "%Y:%m:%d %H:%M:%S").isoformat()
        except ValueError:
            taken_at = None
    return PhotoEvidence(taken_at, latitude, longitude)


def _too_many_pixels() -> Message:
    return Message("照片尺寸过大（超过 %(megapixels)s 百万像素）。请缩小后再上传。",
                   megapixels=MAX_IMAGE_PIXELS // 1_000_000)


def clean_photo(data: bytes, kind: FileKind, keep_time_and_place: bool) -> tuple[bytes, PhotoEvidence | None]:
    """Re-encode a photo without metadata (upright as shown); optionally return its time and place.

    Nothing of the original container survives: no EXIF or XMP, no comments, no ICC profile, only the
    first frame of an animation. The size is checked from the header before any pixel is decoded.
    """
    formats = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
    try:
        with Image.open(io.BytesIO(data), formats=[formats[kind.media_type]]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise EvidenceRejected(_too_many_pixels())
            image.seek(0)
            image.load()
            evidence = read_photo_evidence(image) if keep_time_and_place else None
            upright = ImageOps.exif_transpose(image) if kind.media_type == "image/jpeg" else image
            pixels = Image.frombytes(upright.mode, upright.size, upright.tobytes()) \
                if upright.mode in ("RGB", "RGBA", "L", "LA") else upright.convert("RGBA")
            out = io.BytesIO()
            if kind.media_type == "image/jpeg":
                pixels.convert("RGB").save(out, "JPEG", quality=95, optimize=True)
            elif kind.media_type == "image/png":
                pixels.save(out, "PNG", optimize=True)
            elif kind.media_type == "image/webp":
                pixels.save(out, "WEBP", quality=95)
            else:
                pixels.save(out, "PNG")  # the first frame of a GIF, kept as a still image
    except EvidenceRejected:
        raise
    except Image.DecompressionBombError:
        raise EvidenceRejected(_too_many_pixels()) from None
    except Exception:  # noqa: BLE001 - any decoder failure on untrusted bytes is "cannot use this file"
        raise EvidenceRejected(Message("照片已损坏或格式异常，无法处理。")) from None
    return out.getvalue(), evidence


def prepare(data: bytes, keep_time_and_place: bool) -> tuple[FileKind, bytes, PhotoEvidence | None]:
    """Check one uploaded file and return what will be stored (photos cleaned)."""
    if not data:
        raise EvidenceRejected(Message("文件是空的。"))
    if len(data) > MAX_FILE_BYTES:
        raise EvidenceRejected(Message("文件太大（超过 %(megabytes)s MB）。视频请剪短后再上传。",
                                       megabytes=MAX_FILE_BYTES // (1024 * 1024)))
    kind = sniff(data)
    if kind.kind == "image":
        cleaned, evidence = clean_photo(data, kind, keep_time_and_place)
        if kind.media_type == "image/gif":
            kind = FileKind("image", "image/png", "png")  # stored as the still first frame
        return kind, cleaned, evidence
    return kind, data, None
