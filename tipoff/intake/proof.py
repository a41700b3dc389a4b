"""Proof of filing (提交凭证): a small signed statement of reference, time of receipt and content digest.

Format: `TIPOFF-PROOF-1.<base64url JSON>.<Ed25519 signature>`. The reporter keeps it; `/verify` checks
the signature and whether it matches the stored tip, which settles who reported first (R4).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from tipoff import crypto

PREFIX = "TIPOFF-PROOF-1"


@dataclass(frozen=True)
class ProofClaims:
    reference: str
    received_at: datetime
    digest: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_proof(reference: str, received_at: datetime, digest: str) -> str:
    """Sign the three facts and return the proof text the reporter keeps."""
    claims = {"ref": reference, "at": received_at.isoformat(timespec="seconds"), "sha256": digest}
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return f"{PREFIX}.{body}.{crypto.sign(f'{PREFIX}.{body}'.encode('ascii'))}"


def read_proof(text: str) -> ProofClaims | None:
    """The claims of an authentic proof, or None when it is malformed or its signature fails."""
    parts = "".join((text or "").split()).split(".")
    if len(parts) != 3 or parts[0] != PREFIX or len(text) > 2000 or not all(p.isascii() for p in parts):
        return None
    if not crypto.verify_signature(f"{parts[0]}.{parts[1]}".encode("ascii"), parts[2]):
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
        return ProofClaims(claims["ref"], datetime.fromisoformat(claims["at"]), claims["sha256"])
    except (ValueError, KeyError, TypeError):
        return None
