"""Deadline badges for staff pages: overdue, due today, or the local date (Asia/Shanghai)."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tipoff.db import as_utc, utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def deadline_badge(deadline: datetime | None, now: datetime | None = None) -> tuple[str, str]:
    """("none" | "overdue" | "due_today" | "ok", the deadline's local date) for a queue badge."""
    if deadline is None:
        return "none", ""
    local_deadline = as_utc(deadline).astimezone(SHANGHAI)
    local_now = (now or utcnow()).astimezone(SHANGHAI)
    if local_deadline < local_now:
        return "overdue", f"{local_deadline:%Y-%m-%d}"
    if local_deadline.date() == local_now.date():
        return "due_today", f"{local_deadline:%Y-%m-%d}"
    return "ok", f"{local_deadline:%Y-%m-%d}"
