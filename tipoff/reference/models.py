"""Reference data models. Loaded from a seed file (`flask tipoff init`), editable by an admin."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tipoff.db import UTCDateTime, utcnow
from tipoff.extensions import db


class Department(db.Model):
    """A unit that can accept, investigate and reward tips (负有安全生产监督管理职责的部门), or a township government."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    # bureau (区直部门), committee_office (区安委会办公室), township (乡镇/街道/开发区)
    kind: Mapped[str] = mapped_column(String(20), default="bureau")
    handles_tips: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(50))
    duties: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


class Township(db.Model):
    """A territorial unit (属地): 街道, 镇, 乡, 民族乡 or the development zone."""

    __tablename__ = "townships"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # 街道, 镇, 乡, 民族乡, 开发区
    # The township government / sub-district office that handles 打非治违 here (seed measure 42).
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    department: Mapped[Department | None] = relationship()


class Sector(db.Model):
    """A sector (行业领域) and the department that leads its safety supervision (三管三必须)."""

    __tablename__ = "sectors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    lead_department: Mapped[Department | None] = relationship()


class Category(db.Model):
    """What can be reported (RULES.md §2)."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(db.Model):
    """One row of the routing table (JURISDICTION.md §3): when it matches, who accepts, who is copied."""

    __tablename__ = "routing_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    # Lower numbers are tried first; ties go to the more specific rule.
    priority: Mapped[int] = mapped_column(Integer, default=100)
    category_codes: Mapped[list | None] = mapped_column(JSON)
    sector_codes: Mapped[list | None] = mapped_column(JSON)
    township_codes: Mapped[list | None] = mapped_column(JSON)
    keywords: Mapped[list | None] = mapped_column(JSON)
    # "department" (department_code below), "township" (the tip's township) or "sector_lead"
    accept_by: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(32))
    # codes, or the words "township" / "sector_lead"
    copy_to: Mapped[list | None] = mapped_column(JSON)
    supervised: Mapped[bool] = mapped_column(Boolean, default=False)  # 挂牌督办
    explanation: Mapped[str] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(Text)
    effective_from: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class HolidayOverride(db.Model):
    """An administrator's entry in the working-day calendar: next year's official notice before the
    calendar package knows it, or a local change. Rows are revoked, never deleted."""

    __tablename__ = "holiday_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)  # the source: e.g. 国办发明电〔2026〕… , or the district notice
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
