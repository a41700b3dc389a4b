"""Simulated members of the public: each its own connection, address (as nginx forwards it) and tip."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import requests

SUBMIT_TIMEOUT = 120  # seconds; a queue of 200 submissions on 2 cores takes a while, but never this long


@dataclass
class Reporter:
    """One simulated reporter; named ones carry a name and phone that must never reach a log."""

    number: int
    named: bool
    address: str = field(init=False)
    name: str = field(init=False)
    phone: str = field(init=False)

    def __post_init__(self) -> None:
        # Half IPv4, half IPv6 (each in its own /64, the unit the limiter counts IPv6 clients in).
        self.address = f"203.0.113.{self.number % 250 + 1}" if self.number % 2 else f"2001:db8:{self.number:x}::7"
        self.name = f"压测{_chinese_number(self.number)}号"
        self.phone = f"1390000{self.number:04d}"

    @property
    def subject(self) -> str:
        return f"建安区第{_chinese_number(self.number)}号加工厂"

    def fields(self) -> dict:
        """The form's fields for this reporter's tip."""
        data = {"category": "hazard", "sector": "gas", "township": "lingjing", "subject_name": self.subject,
                "address": "灵井镇许南路 18 号", "occurred_on": "2026-11-20",
                "description": f"第{self.number}号压测举报：车间燃气管道漏气，已经持续一周，没有人处理。",
                "identity": "anonymous"}
        if self.named:
            data.update(identity="named", reporter_name=self.name, reporter_phone=self.phone,
                        contact_preference="phone")
        return data

    def api_body(self) -> dict:
        data = self.fields()
        body = {k: data[k] for k in ("category", "sector", "township", "subject_name", "address", "occurred_on",
                                     "description")}
        if self.named:
            body["reporter"] = {"name": self.name, "phone": self.phone}
        return body

    def headers(self) -> dict:
        return {"X-Forwarded-For": self.address}


@dataclass
class Outcome:
    reporter: Reporter
    status: int | None           # None: no HTTP answer at all (connection dropped)
    reference: str | None = None
    access_code: str | None = None
    body: str = ""


RECEIPT_REFERENCE = re.compile(r'id="receipt-reference">([^<]+)<')
RECEIPT_CODE = re.compile(r'id="receipt-access-code">([^<]+)<')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(session: requests.Session, base: str, headers: dict) -> str:
    """GET the form for its session cookie and token. The connection is not kept: the POST may come
    later than gunicorn's 2-second keep-alive, and a POST on a connection the server closed is lost."""
    page = session.get(f"{base}/report", headers={**headers, "Connection": "close"}, timeout=SUBMIT_TIMEOUT)
    assert page.status_code == 200, page.status_code
    return CSRF.search(page.text).group(1)


def submit_api(base: str, reporter: Reporter, session: requests.Session | None = None) -> Outcome:
    session = session or requests.Session()
    try:
        response = session.post(f"{base}/api/v1/tips", json=reporter.api_body(), headers=reporter.headers(),
                                timeout=SUBMIT_TIMEOUT)
    except requests.ConnectionError as exc:
        return Outcome(reporter, None, body=str(exc))
    outcome = Outcome(reporter, response.status_code, body=response.text)
    if response.status_code == 201:
        outcome.reference, outcome.access_code = response.json()["reference"], response.json()["access_code"]
    return outcome


def submit_form(base: str, reporter: Reporter, session: requests.Session | None = None,
                token: str | None = None) -> Outcome:
    """The HTML form as a browser sends it: GET the form (session cookie, CSRF token), then POST."""
    session = session or requests.Session()
    headers = reporter.headers()
    try:
        token = token or csrf_token(session, base, headers)
        response = session.post(f"{base}/report", data={**reporter.fields(), "csrf_token": token},
                                headers={**headers, "Sec-Fetch-Site": "same-origin"}, timeout=SUBMIT_TIMEOUT)
    except requests.ConnectionError as exc:
        return Outcome(reporter, None, body=str(exc))
    outcome = Outcome(reporter, response.status_code, body=response.text)
    if response.status_code == 201:
        outcome.reference = RECEIPT_REFERENCE.search(response.text).group(1)
        outcome.access_code = RECEIPT_CODE.search(response.text).group(1).replace(" ", "")
    return outcome


def no_stack_trace(text: str) -> bool:
    return "Traceback" not in text and 'File "' not in text and "sqlalchemy" not in text.lower()


_DIGITS = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """Digits as Chinese numerals (名字 such as 压测一二三号 never collide with the numbers in a log)."""
    return "".join(_DIGITS[int(d)] for d in str(n))
