"""Helpers for export tests: staff made once per role, tips filed through the public form, files read back."""
from __future__ import annotations

import csv
import io
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import login
from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.accounts.tokens import create_api_token
from tipoff.extensions import db
from tipoff.intake.models import Tip

# A gas hazard in 灵井镇 goes to 区住房和城乡建设局 (zjj); confined-space work to 区应急管理局 (yjj).
ZJJ_TIP = dict(VALID)
YJJ_TIP = {**VALID, "category": "major_hazard", "sector": "confined_space"}


def user_of(staff) -> User:
    return db.session.get(User, staff.id)


def file_tip(client, data: dict | None = None, **changes) -> Tip:
    """File a tip through the public form; return it (the caller is inside an app context)."""
    db.session.commit()  # release this context's SQLite lock for the request's own context
    reference, _ = receipt_of(client.post("/report", data={**(data or ZJJ_TIP)}))
    tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
    for key, value in changes.items():
        setattr(tip, key, value)
    db.session.commit()
    return tip


def received(tip: Tip, moment: datetime) -> None:
    """Move a tip's receipt time (set directly: intake always stamps "now")."""
    tip.received_at = moment
    db.session.commit()


def as_client(client, people, role: str, department: str | None = None):
    """Log the client in as the (cached) staff member of that role and department."""
    db.session.commit()
    client.post("/staff/logout")
    login(client, people(role, department))
    return client


def token_for(people, role: str, department: str | None = None) -> dict[str, str]:
    """An Authorization header with a fresh API token of that staff member."""
    token = create_api_token(user_of(people(role, department)), "exports")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def csv_of(response) -> tuple[bytes, list[list[str]]]:
    """The raw bytes and the parsed lines of a CSV download."""
    raw = response.get_data()
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def xlsx_of(response) -> list[tuple]:
    """The rows of an XLSX download's sheet, as values."""
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return list(sheet.iter_rows(values_only=True))


def xlsx_text(response) -> str:
    """Every cell of an XLSX download as one text (to look for what must not be there)."""
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in xlsx_of(response))
