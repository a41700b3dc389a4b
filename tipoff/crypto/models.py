"""Data keys of the envelope scheme: each one wrapped by a content key (KEK) named by `kek_id`.

Rotating the content key re-wraps these rows only; ciphertexts are never rewritten. Destroying a
data key (crypto-shredding) makes everything encrypted under it unreadable for good.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db


class DataKey(db.Model):
    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32))  # e.g. "totp", "tip", "attachment"
    profile: Mapped[str] = mapped_column(String(16))  # "default" or "gm"
    kek_id: Mapped[str] = mapped_column(String(32), index=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)  # None once destroyed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
