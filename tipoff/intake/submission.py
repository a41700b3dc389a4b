"""What a tip submission must contain, checked in one place for the form, the API and staff entry.

`parse_submission` turns raw fields into a `Submission` or raises `ValidationFailed` naming every
problem field at once; nothing here touches the database (the valid codes are passed in).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Mapping

from tipoff.errors import ValidationFailed
from tipoff.messages import Message
from tipoff.intake.validators import clean_text, normalise_credit_code, normalise_id_number, normalise_mobile

WEB = "web"
STAFF_CHANNELS = ("hotline_12345", "hotline_12350", "phone", "letter", "visit", "email")
CHANNELS = (WEB, *STAFF_CHANNELS)
# Filed by tipoff itself on a reporter's behalf (a retaliation matter after an insider's check-in).
INSIDER_FOLLOWUP = "insider_followup"
SYSTEM_CHANNELS = (INSIDER_FOLLOWUP,)
# How every page, export and chart names a channel (Chinese msgids; pages translate them at run time).
CHANNEL_LABELS = {
    WEB: "网站、二维码", "hotline_12345": "12345 政务服务热线", "hotline_12350": "12350 安全生产举报热线",
    "phone": "电话", "letter": "来信", "visit": "来访", "email": "电子邮件", INSIDER_FOLLOWUP: "吹哨人回访转办",
}
CONTACT_PREFERENCES = ("phone", "sms", "no_contact")
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000
EARLIEST_OCCURRENCE = date(2000, 1, 1)


@dataclass(frozen=True)
class ReporterDetails:
    """A named reporter's identity: sealed on arrival, never stored in plaintext."""

    name: str
    phone: str
    id_number: str | None = None
    contact_preference: str = "phone"

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True).encode("utf-8")


@dataclass(frozen=True)
class Submission:
    category: str
    sector: str
    township: str | None
    subject_name: str
    subject_credit_code: str | None
    address: str | None
    occurred_on: date | None
    description: str
    insider: bool
    reporter: ReporterDetails | None
    channel: str = WEB
    keep_photo_metadata: bool = False

    def content_bytes(self) -> bytes:
        """The canonical submitted content that a proof of filing digests (identity excluded)."""
        content = {
            "category": self.category, "sector": self.sector, "township": self.township,
            "subject_name": self.subject_name, "subject_credit_code": self.subject_credit_code,
            "address": self.address, "occurred_on": self.occurred_on.isoformat() if self.occurred_on else None,
            "description": self.description, "insider": self.insider, "named": self.reporter is not None,
            "channel": self.channel,
        }
        return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class Catalogue:
    """The codes a submission may use (active reference data)."""

    categories: frozenset[str]
    sectors: frozenset[str]
    townships: frozenset[str]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "on", "yes", "y"}


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(Message("须为文字。"))
    return value


def _occurred_on(value: str, today: date) -> date | None:
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(Message("请按 年-月-日 填写日期，例如 2026-11-20。")) from None
    if day > today:
        raise ValueError(Message("发生日期不能晚于今天。"))
    if day < EARLIEST_OCCURRENCE:
        raise ValueError(Message("发生日期太早，请核对。"))
    return day


def parse_reporter(raw: Mapping[str, Any], errors: dict[str, list[str]], today: date) -> ReporterDetails | None:
    mode = _text(raw, "identity") or "anonymous"
    if mode not in ("anonymous", "named"):
        errors["identity"] = [Message("请选择匿名或实名。")]
        return None
    if mode == "anonymous":
        return None
    found: dict[str, str | None] = {}
    checks = {
        "reporter_name": lambda v: clean_text(v, field=Message("姓名"), minimum=1, maximum=50),
        "reporter_phone": normalise_mobile,
        "reporter_id_number": lambda v: normalise_id_number(v, today) if v.strip() else None,
    }
    for key, check in checks.items():
        try:
            found[key] = check(_text(raw, key))
        except ValueError as exc:
            errors[key] = [str(exc)]
    preference = _text(raw, "contact_preference") or "phone"
    if preference not in CONTACT_PREFERENCES:
        errors["contact_preference"] = [Message("请选择联系方式。")]
    if any(key in errors for key in checks) or "contact_preference" in errors:
        return None
    return ReporterDetails(found["reporter_name"], found["reporter_phone"], found["reporter_id_number"], preference)


def parse_submission(raw: Mapping[str, Any], catalogue: Catalogue, *, channel: str = WEB,
                     today: date | None = None) -> Submission:
    """Validate raw fields into a Submission, or raise ValidationFailed naming each bad field."""
    today = today or date.today()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}

    def take(key: str, check) -> None:
        try:
            values[key] = check(_text(raw, key))
        except ValueError as exc:
            errors[key] = [str(exc)]

    def code_in(allowed: frozenset[str], unknown: Message, missing: Message | None = None):
        def check(value: str) -> str | None:
            value = value.strip()
            if not value:
                if missing:
                    raise ValueError(missing)
                return None
            if value not in allowed:
                raise ValueError(unknown)
            return value
        return check

    take("category", code_in(catalogue.categories, Message("未知的举报类别，请从列表中选择。"),
                             Message("请选择举报类别。")))
    take("sector", code_in(catalogue.sectors, Message("未知的行业领域，请从列表中选择。"), Message("请选择行业领域。")))
    take("township", code_in(catalogue.townships, Message("未知的乡镇（街道），请从列表中选择。")))
    take("subject_name", lambda v: clean_text(v, field=Message("被举报单位名称"), minimum=2, maximum=200))
    take("subject_credit_code", lambda v: normalise_credit_code(v) if v.strip() else None)
    take("address", lambda v: clean_text(v, field=Message("地址"), maximum=300) or None)
    take("occurred_on", lambda v: _occurred_on(v, today))
    take("description", lambda v: clean_text(v, field=Message("情况描述"), minimum=DESCRIPTION_MIN,
                                              maximum=DESCRIPTION_MAX, multiline=True))
    reporter = parse_reporter(raw, errors, today)
    if channel not in CHANNELS + SYSTEM_CHANNELS:
        errors["channel"] = [Message("未知的举报渠道。")]
    if errors:
        raise ValidationFailed(fields=errors)
    return Submission(reporter=reporter, insider=_flag(raw.get("insider")), channel=channel,
                      keep_photo_metadata=_flag(raw.get("keep_photo_metadata")), **values)
