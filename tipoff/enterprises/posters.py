"""The reporting-channel poster (举报渠道公示海报) an enterprise puts up where its workers see it (measure 52).

A poster shows the channels (the web form, 12345 / 12350 and the phone of the department that would
accept a tip about this enterprise), a QR code opening the form pre-filled with the enterprise's own
facts, a short summary of the rewards in force and of the protection of insiders.

The QR link carries only what the form shows as typed facts (name, credit code, sector, township):
no enterprise id, no token, nothing that differs between two prints of the same poster, so the server
cannot tell which poster was scanned, let alone by whom.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import segno
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup, escape

from tipoff.enterprises.models import Enterprise
from tipoff.reference import services as reference
from tipoff.reference.models import Department
from tipoff.rewards.calculator import CATEGORY_NAMES, RuleSet
from tipoff.rewards.catalog import in_force_on
from tipoff.routing.matcher import NoRouteError, TipFacts
from tipoff.routing.services import route_tip

HOTLINES = (("12345", "政务服务便民热线"), ("12350", "安全生产举报投诉热线"))
ROUTING_CATEGORY = "hazard"  # the everyday tip a worker would make about their workplace


@dataclass(frozen=True)
class Poster:
    """Everything one poster prints."""

    enterprise: Enterprise
    township_name: str
    sector_name: str
    report_address: str  # the form's address, printed for those who type rather than scan
    prefill_link: str  # what the QR code holds
    qr_svg: Markup
    department: Department | None  # who would accept a tip about this enterprise


@dataclass(frozen=True)
class Sheet:
    """What every poster of a print run shares: the channels' wording and the rewards in force."""

    report_address: str
    calculator_address: str
    hotlines: tuple[tuple[str, str], ...]
    rewards: list[str]
    rule_set_name: str


def public_base() -> str:
    """The public site's address as configured (TIPOFF_PUBLIC_BASE_URL), without a trailing slash."""
    return current_app.config["TIPOFF_PUBLIC_BASE_URL"].rstrip("/")


def prefill_link(enterprise: Enterprise, base: str | None = None) -> str:
    """The report form's address pre-filled with the enterprise's facts, and nothing else."""
    facts = [("subject_name", enterprise.name), ("subject_credit_code", enterprise.credit_code or ""),
             ("sector", enterprise.sector_code), ("township", enterprise.township_code)]
    return f"{base or public_base()}/report?" + urlencode([(k, v) for k, v in facts if v])


def qr_svg(link: str, label: str) -> Markup:
    """An inline SVG QR code for a link (error correction M: survives a scuffed or partly covered print)."""
    svg = segno.make(link, error="m", micro=False).svg_inline(omitsize=True, svgclass="poster-qr",
                                                               lineclass="poster-qr-line")
    # segno's own SVG markup; the one piece of text added to it, the label, is escaped.
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # nosec B704


def amount_words(amount: Decimal) -> str:
    """¥300,000 → "30 万元", ¥3,000 → "3000 元" (as posters and notices write amounts)."""
    if amount >= 10000 and amount % 10000 == 0:
        return _("%(n)s 万元", n=f"{(amount / 10000).normalize():f}")
    return _("%(n)s 元", n=f"{amount.normalize():f}")


def reward_lines(rules: RuleSet, category_names: dict[str, str]) -> list[str]:
    """The rule set's rewards as two to four short lines for a poster (after "经核查属实的，按规定给予奖励："),
    from its data."""
    groups: dict[tuple, list[str]] = {}
    for category, rule in rules.fine_rules.items():
        groups.setdefault((rule.rate, rule.floor, rule.cap), []).append(category_names.get(category, category))
    lines = [_("举报%(categories)s：罚款的 %(rate)s，最低 %(floor)s，最高 %(cap)s；", categories="、".join(names),
               rate=f"{(rate * 100).normalize():f}%", floor=amount_words(floor), cap=amount_words(cap))
             for (rate, floor, cap), names in groups.items()]
    if rules.per_death:
        amounts = sorted(rules.per_death.values())
        lines.append(_("举报瞒报、谎报事故：按查实的瞒报死亡人数每人 %(low)s至 %(high)s，最高 %(cap)s；",
                       low=amount_words(amounts[0]), high=amount_words(amounts[-1]),
                       cap=amount_words(rules.concealed_cap)))
    if rules.insider:
        lines.append(_("本单位职工举报本单位的，另加奖 %(rate)s，不少于 %(floor)s；",
                       rate=f"{(rules.insider.rate * 100).normalize():f}%", floor=amount_words(rules.insider.floor)))
    if lines:
        lines[-1] = lines[-1][:-1] + "。"
    return lines


def sheet(on: date) -> Sheet:
    """The shared part of the posters printed on a day: addresses, hotlines and the rewards in force."""
    row, rules = in_force_on(on)
    names = {**CATEGORY_NAMES, **{c.code: c.name for c in reference.all_categories()}}
    base = public_base()
    return Sheet(f"{base}/report", f"{base}/rewards/calculator", HOTLINES, reward_lines(rules, names),
                 row.name)


def accepting_department(sector: str, township: str) -> Department | None:
    """The department that would accept an everyday hazard tip about this sector and township, if any."""
    try:
        _decision, department = route_tip(TipFacts(category=ROUTING_CATEGORY, sector=sector, township=township,
                                                   text=""))
    except NoRouteError:
        return None
    return department


def posters_for(enterprises: list[Enterprise]) -> list[Poster]:
    """The posters of these enterprises (routing asked once per sector and township)."""
    townships = {t.code: t.name for t in reference.all_townships()}
    sectors = {s.code: s.name for s in reference.all_sectors()}
    departments: dict[tuple[str, str], Department | None] = {}
    base = public_base()
    out = []
    for enterprise in enterprises:
        key = (enterprise.sector_code, enterprise.township_code)
        if key not in departments:
            departments[key] = accepting_department(*key)
        link = prefill_link(enterprise, base)
        out.append(Poster(enterprise, townships.get(enterprise.township_code, enterprise.township_code),
                          sectors.get(enterprise.sector_code, enterprise.sector_code), f"{base}/report", link,
                          qr_svg(link, _("举报二维码：扫码打开举报页面，已填好%(name)s", name=enterprise.name)),
                          departments[key]))
    return out
