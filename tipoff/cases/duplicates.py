"""Possible duplicates (疑似重复举报): tips about the same unit in the same sector within a window.

A pure key function for names, a query for candidates, and the link that puts tips into one matter
whose earliest tip is its root — so the first accepted named reporter stays first in line (R4-R6).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from sqlalchemy import or_, select, update

from tipoff.db import as_utc
from tipoff.errors import Conflict
from tipoff.extensions import db
from tipoff.intake.models import Tip

WINDOW = timedelta(days=180)
_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "分公司", "公司", "集团")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def subject_key(name: str | None) -> str | None:
    """A unit's name reduced for matching: NFKC, no spaces or punctuation, no company-form suffix."""
    if not name:
        return None
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name)).lower()
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix) + 1:
            text = text[: -len(suffix)]
            break
    return text or None


def candidates(tip: Tip, limit: int = 20) -> list[Tip]:
    """Other tips in the same sector within the window about the same unit (credit code or name)."""
    same_unit = []
    if tip.subject_credit_code:
        same_unit.append(Tip.subject_credit_code == tip.subject_credit_code)
    if tip.subject_key:
        same_unit.append(Tip.subject_key == tip.subject_key)
    if not same_unit:
        return []
    received = as_utc(tip.received_at)
    stmt = (select(Tip).where(Tip.id != tip.id, Tip.sector_code == tip.sector_code, or_(*same_unit),
                              Tip.received_at >= received - WINDOW, Tip.received_at <= received + WINDOW)
            .order_by(Tip.received_at).limit(limit))
    return list(db.session.scalars(stmt))


def matter_of(tip: Tip) -> list[Tip]:
    """Every tip of this tip's matter, earliest first (just the tip when it is not linked)."""
    root = tip.matter_id or tip.id
    return list(db.session.scalars(select(Tip).where(or_(Tip.id == root, Tip.matter_id == root))
                                   .order_by(Tip.received_at, Tip.id)))


def lock_matters(*tips: Tip) -> None:
    """Hold the matters of these tips until commit: a row lock on each matter's root tip.

    Whatever changes a matter (linking tips, opening its one reward) takes these locks first, before it
    writes any row, and in id order, so two such changes queue instead of both deciding on what they
    read (two rewards, a lost link) and never wait on each other in a circle. On PostgreSQL this is
    SELECT … FOR UPDATE; on SQLite every writer already holds the database's write lock.
    """
    with db.session.no_autoflush:  # no pending write may take a member's row lock before the roots'
        roots = sorted({t.matter_id or t.id for t in tips})
        db.session.execute(select(Tip.id).where(Tip.id.in_(roots)).order_by(Tip.id).with_for_update())
        current = set(db.session.scalars(select(Tip.matter_id).where(Tip.id.in_([t.id for t in tips]))))
    if {root for root in current if root is not None} - set(roots):
        # Meanwhile another link gave a matter an earlier root, whose lock this request does not hold.
        raise Conflict("该事项的关联刚被他人调整，请刷新页面后重试。", code="matter_changed")


def link(tip: Tip, other: Tip) -> int:
    """Put two tips (and their matters) into one matter rooted at the earliest tip; return the root id."""
    from tipoff.rewards.services import rekey_matter

    lock_matters(tip, other)
    for member in (tip, other):
        db.session.refresh(member, ["matter_id"])  # as committed by whoever held the lock before us
    members = {t.id: t for t in matter_of(tip) + matter_of(other)}
    root = min(members.values(), key=lambda t: (as_utc(t.received_at), t.id))
    db.session.execute(update(Tip).where(Tip.id.in_(list(members))).values(matter_id=root.id))
    db.session.execute(update(Tip).where(Tip.id == root.id).values(matter_id=None))
    for member in members.values():
        db.session.expire(member, ["matter_id"])
    rekey_matter(list(members), root.id)  # the matter's one reward follows its new root
    return root.id
