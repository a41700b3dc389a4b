"""Helpers for intake tests: a valid submission and reading the receipt off the page."""
from __future__ import annotations

import re

VALID = {
    "category": "hazard", "sector": "gas", "township": "lingjing", "subject_name": "灵井燃气加气站",
    "subject_credit_code": "", "address": "灵井镇许南路 18 号", "occurred_on": "2026-11-20",
    "description": "加气站东侧的燃气管道有明显漏气味道，已经持续一周，没有人处理。",
    "identity": "anonymous", "idempotency_key": "",
}

NAMED = {**VALID, "identity": "named", "reporter_name": "欧阳明哲", "reporter_phone": "139 1234 5678",
         "reporter_id_number": "11010519491231002X", "contact_preference": "sms"}


def receipt_of(response) -> tuple[str, str]:
    """The reference and access code shown on a receipt page."""
    body = response.get_data(as_text=True)
    reference = re.search(r'id="receipt-reference">([^<]+)<', body).group(1)
    code = re.search(r'id="receipt-access-code">([^<]+)<', body).group(1).replace(" ", "")
    return reference, code


def submit(client, **changes):
    """Submit the valid tip with some fields changed; return the response."""
    return client.post("/report", data={**VALID, **changes})
