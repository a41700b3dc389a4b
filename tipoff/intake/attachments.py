"""Storing evidence files: cleaned, encrypted, written atomically, never in plaintext on disk.

Uploads are read in memory (tipoff.web keeps Werkzeug from spooling them to temporary files), checked
by their bytes, photos stripped of metadata, then encrypted under the tip's data key.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from tipoff import crypto
from tipoff.audit.services import record
from tipoff.errors import DomainError, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.evidence import MAX_FILES, EvidenceRejected, FileKind, PhotoEvidence, prepare
from tipoff.intake.models import Attachment, Tip
from tipoff.messages import Message


@dataclass(frozen=True)
class Upload:
    """One file as received: its name on the sender's device and its bytes."""

    filename: str
    data: bytes


class EvidenceDestroyed(DomainError):
    """The file was destroyed at the end of its retention period (crypto-shredded): gone, by design."""

    status = 410
    code = "destroyed"


class StorageFull(ValidationFailed):
    """The attachment store cannot take the file (disk full)."""

    status = 507
    code = "storage_full"


def storage_dir() -> Path:
    path = Path(current_app.config["TIPOFF_DATA_DIR"]) / "attachments"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _aad(tip: Tip, attachment_id: int, part: str) -> bytes:
    return f"tip:{tip.id}:attachment:{attachment_id}:{part}".encode()


def _write_atomically(path: Path, blob: bytes) -> None:
    temporary = path.with_suffix(".partial")
    try:
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise StorageFull(Message("附件暂时无法保存（存储空间不足）。您填写的文字已保留，请稍后再上传附件。"),
                          fields={"evidence": [Message("附件暂时无法保存")]}) from exc


def check_uploads(uploads: list[Upload], *, already: int = 0) -> None:
    """Refuse too many files before any work is done."""
    if len(uploads) + already > MAX_FILES:
        problem = Message("每件举报最多 %(most)s 个附件。", most=MAX_FILES) if not already else Message(
            "每件举报最多 %(most)s 个附件。已有 %(already)s 个，这次最多还能添加 %(more)s 个。", most=MAX_FILES,
            already=already, more=max(MAX_FILES - already, 0))
        raise ValidationFailed(fields={"evidence": [problem]})


@dataclass(frozen=True)
class PreparedFile:
    upload: Upload
    kind: FileKind
    content: bytes
    evidence: PhotoEvidence | None


def prepare_uploads(uploads: list[Upload], *, keep_time_and_place: bool, already: int = 0) -> list[PreparedFile]:
    """Check and clean files (CPU only, no database): run it before a transaction opens."""
    check_uploads(uploads, already=already)
    prepared, problems = [], []
    for index, upload in enumerate(uploads):
        try:
            prepared.append(PreparedFile(upload, *prepare(upload.data, keep_time_and_place)))
        except EvidenceRejected as exc:
            problems.append(Message("%(file)s：%(problem)s", problem=exc.args[0], file=upload.filename[:60] or Message(
                "第 %(number)s 个文件", number=index + 1)))
    if problems:
        raise ValidationFailed(Message("有附件无法接收。"), fields={"evidence": problems})
    return prepared


def store_evidence(tip: Tip, prepared: list[PreparedFile], *, uploaded_by: str, actor=None) -> list[Attachment]:
    """Encrypt and store prepared files for a tip (the caller commits; `discard` undoes the files)."""
    attachments = []
    try:
        for item in prepared:
            attachment = Attachment(tip_id=tip.id, kind=item.kind.kind, media_type=item.kind.media_type,
                                    size=len(item.content), sha256=hashlib.sha256(item.content).hexdigest(),
                                    stored_name=secrets.token_hex(16), uploaded_by=uploaded_by)
            db.session.add(attachment)
            db.session.flush()
            attachment.filename_sealed = crypto.encrypt(item.upload.filename[:200].encode("utf-8"), tip.data_key,
                                                        aad=_aad(tip, attachment.id, "filename"))
            if item.evidence is not None and item.evidence.as_dict():
                attachment.evidence_sealed = crypto.encrypt(json.dumps(item.evidence.as_dict()).encode(),
                                                            tip.data_key, aad=_aad(tip, attachment.id, "evidence"))
            _write_atomically(storage_dir() / attachment.stored_name,
                              crypto.encrypt(item.content, tip.data_key, aad=_aad(tip, attachment.id, "content")))
            attachments.append(attachment)
        if attachments:
            record("tip.evidence_added", actor=actor or ("public" if uploaded_by == "reporter" else None),
                   object_type="tip", object_id=tip.reference, department_id=tip.department_id,
                   details={"files": len(attachments), "kinds": sorted({a.kind for a in attachments})})
    except Exception:
        discard(attachments)
        raise
    return attachments


def discard(attachments: list[Attachment]) -> None:
    """Remove stored files of attachments whose transaction did not commit (no orphans on disk)."""
    for attachment in attachments:
        (storage_dir() / attachment.stored_name).unlink(missing_ok=True)


def tip_attachments(tip: Tip) -> list[Attachment]:
    """A tip's attachments, oldest first."""
    return list(db.session.scalars(db.select(Attachment).where(Attachment.tip_id == tip.id)
                                   .order_by(Attachment.id)))


def read_attachment(tip: Tip, attachment: Attachment) -> bytes:
    """The decrypted content of a stored attachment (callers audit the read); EvidenceDestroyed after retention."""
    from tipoff.retention.policy import DESTROYED_NOTICE

    try:
        blob = (storage_dir() / attachment.stored_name).read_bytes()
        return crypto.decrypt(blob, aad=_aad(tip, attachment.id, "content"))
    except (FileNotFoundError, crypto.DataKeyDestroyed) as exc:
        if isinstance(exc, FileNotFoundError) and not _destroyed_by_retention(tip):
            raise  # a file missing without retention having run is a fault, not a policy
        raise EvidenceDestroyed(f"该证据材料{DESTROYED_NOTICE}。") from None


def evidence_fields(tip: Tip, attachment: Attachment) -> dict:
    """The photo's kept time and place, decrypted ({} when not kept)."""
    if not attachment.evidence_sealed:
        return {}
    try:
        return json.loads(crypto.decrypt(attachment.evidence_sealed, aad=_aad(tip, attachment.id, "evidence")))
    except crypto.DataKeyDestroyed:
        return {}  # retention destroyed the tip's key


def _destroyed_by_retention(tip: Tip) -> bool:
    from tipoff.retention.models import RetentionMark

    mark = db.session.get(RetentionMark, tip.id)
    return mark is not None and mark.evidence_destroyed_at is not None
