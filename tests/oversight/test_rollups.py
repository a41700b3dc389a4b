"""The dashboard reads narrow rollups (month × department × one dimension value), not stats_monthly's
eight-way cells, so its cost does not grow with the tips.

Tips are bulk-inserted across months, departments, categories, sectors, townships, channels and outcomes.
Every figure must equal both the tips themselves (counted here in Python) and what the figures were before
the rollups (the same functions reading MonthlyStat); and doubling the tips in the same months must leave
the rollup rows the dashboard reads exactly as many as before.
"""
from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, func, insert, select

from tests.intake.helpers import VALID, receipt_of
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.intake.submission import CHANNEL_LABELS, INSIDER_FOLLOWUP
from tipoff.oversight import dashboard, report, stats
from tipoff.oversight.models import MonthlyRollup, MonthlyStat
from tipoff.reference import services as reference

BATCH = 240  # tips per batch; the second batch repeats the first one's cells
CHANNELS = [c for c in CHANNEL_LABELS if c != INSIDER_FOLLOWUP]


def places() -> dict[str, list]:
    return {"department": [d.id for d in reference.handling_departments()][:3],
            "category": [c.code for c in reference.active_categories()],
            "sector": [s.code for s in reference.active_sectors()][:6],
            "township": [t.code for t in reference.active_townships()][:5] + [None]}


def seed(template: Tip, batch: int) -> None:
    """BATCH tips; tip k of every batch has the same month, dimensions and outcome (only the id differs)."""
    now, values, rows = utcnow(), places(), []
    for k in range(BATCH):
        state = k % 5
        received = now - timedelta(hours=1, days=35 * (k % 3), minutes=k)
        accepted = received + timedelta(days=k % 4) if state in (1, 3, 4) else None
        concluded = accepted + timedelta(days=k % 40) if state in (3, 4) else None
        rows.append({
            "reference": f"JA-ROLL-{batch}-{k:05d}", "received_at": received, "channel": CHANNELS[k % len(CHANNELS)],
            "category_code": values["category"][k % len(values["category"])],
            "sector_code": values["sector"][(k // 2) % len(values["sector"])],
            "township_code": values["township"][(k // 3) % len(values["township"])],
            "department_id": values["department"][(k // 5) % len(values["department"])],
            "anonymous": k % 2 == 0, "insider": k % 7 == 0, "subject_name": f"第{k}号企业",
            "description_sealed": b"\x00", "data_key_id": template.data_key_id, "access_code_hash": "-",
            "content_digest": "-", "proof": "-", "routing_rule": template.routing_rule, "routing_explanation": "-",
            "status": ("received", "verifying", "rejected", "closed", "closed")[state],
            "outcome": {3: "substantiated", 4: ("unsubstantiated", "partially_substantiated")[k % 2]}.get(state),
            "accepted_at": accepted, "concluded_at": concluded, "deadline_at": now - timedelta(days=1 - k % 3),
            "deadline_rule": "T3", "transfers": k % 3, "reviews": int(state == 4 and k % 3 == 0),
            "extension_days": 0,
        })
    db.session.execute(insert(Tip), rows)
    db.session.commit()


def figures(wanted: dashboard.Filter) -> dict:
    return {"totals": dashboard.totals(wanted), "trend": dashboard.trend(wanted), "heat": dashboard.heat(wanted),
            "ranking": dashboard.ranking(wanted),
            **{name: dashboard.by_dimension(wanted, name)
               for name in ("category", "sector", "township", "channel", "department")}}


def before_rollups(wanted: dashboard.Filter, monkeypatch) -> dict:
    """The figures as they were before the rollups: every query on MonthlyStat."""
    with monkeypatch.context() as patched:
        patched.setattr(dashboard, "_rollup", lambda *_: None)
        return figures(wanted)


def counted_from_tips(wanted: dashboard.Filter) -> dict:
    """A few figures straight from the tips (the stats' definitions)."""
    start, _ = stats.month_bounds(wanted.month_from)
    _, end = stats.month_bounds(wanted.month_to)
    tips = [t for t in db.session.scalars(select(Tip).where(Tip.reference.is_not(None)))
            if start <= t.received_at < end and t.channel != INSIDER_FOLLOWUP
            and all(getattr(wanted, name) in (None, value) for name, value in (
                ("department_id", t.department_id), ("category", t.category_code), ("sector", t.sector_code),
                ("township", t.township_code or ""), ("channel", t.channel)))]
    return {"received": len(tips), "accepted": sum(t.accepted_at is not None for t in tips),
            "verified": sum(t.outcome in stats.VERIFIED for t in tips),
            "anonymous": sum(t.anonymous for t in tips), "insider": sum(t.insider for t in tips),
            "category": Counter(t.category_code for t in tips),
            "township": Counter(t.township_code or "" for t in tips),
            "heat": Counter((t.sector_code, t.township_code or "") for t in tips),
            "department": Counter(t.department_id for t in tips)}


@pytest.fixture
def seeded(app, client):
    receipt_of(client.post("/report", data=VALID))  # a real tip: its data key and routing rule for the rest
    with app.app_context():
        template = db.session.scalar(select(Tip))
        seed(template, 1)
        stats.refresh(full=True)
        yield template


def filters() -> list[dict]:
    values = places()
    return [{}, {"category": values["category"][1]}, {"sector": values["sector"][2]},
            {"township": values["township"][1]}, {"channel": "hotline_12345"},
            {"department_id": values["department"][0]}, {"sector": values["sector"][0],
                                                          "township": values["township"][0]},
            {"category": values["category"][0], "sector": values["sector"][0]},  # crosses: MonthlyStat
            {"department_id": values["department"][1], "township": values["township"][2]}]


def test_every_figure_is_what_it_was_and_what_the_tips_say(seeded, monkeypatch):
    base = dashboard.Filter(stats.month_of(utcnow() - timedelta(days=100)), stats.month_of(utcnow()))
    for changes in filters():
        wanted = dashboard.Filter(base.month_from, base.month_to, **changes)
        now = figures(wanted)
        assert now == before_rollups(wanted, monkeypatch), changes
        truth = counted_from_tips(wanted)
        assert truth["received"] > 0, changes  # every filter picks some tips: the comparison means something
        assert {k: now["totals"][k] for k in ("received", "accepted", "verified", "anonymous", "insider")} == \
            {k: truth[k] for k in ("received", "accepted", "verified", "anonymous", "insider")}, changes
        for name in ("category", "township", "department"):
            assert {key: row["received"] for key, row in now[name]} == dict(truth[name]), (changes, name)
        assert now["heat"] == dict(truth["heat"]), changes


def test_the_public_report_counts_what_the_tips_say(seeded):
    months = sorted({stats.month_of(t.received_at) for t in db.session.scalars(select(Tip))})
    period = report.Period(months[0], months[-1])
    tips = list(db.session.scalars(select(Tip)))
    totals = report._monthly_totals(period)
    assert {m: v[0] for m, v in totals.items()} == dict(Counter(stats.month_of(t.received_at) for t in tips))
    for name, code in (("category", lambda t: t.category_code), ("sector", lambda t: t.sector_code),
                       ("township", lambda t: t.township_code or "")):
        assert report._received_by(name, period) == dict(Counter((stats.month_of(t.received_at), code(t))
                                                                 for t in tips)), name


def rollup_rows(wanted: dashboard.Filter) -> int:
    return db.session.scalar(select(func.count(MonthlyRollup.id)).where(
        MonthlyRollup.month >= wanted.month_from, MonthlyRollup.month <= wanted.month_to))


def test_the_rows_read_do_not_grow_with_the_tips(seeded, app, client, login_as):
    login_as("overseer")
    wanted = dashboard.Filter(stats.month_of(utcnow() - timedelta(days=100)), stats.month_of(utcnow()))
    values = places()
    months = len({stats.month_of(t.received_at) for t in db.session.scalars(select(Tip))})
    per_month_and_department = 1 + len(values["category"]) + len(values["sector"]) + len(values["township"]) \
        + len(CHANNELS) + len(values["sector"]) * len(values["township"])
    # (+1 department: the real tip filed to get a template)
    bound = months * (len(values["department"]) + 1) * per_month_and_department
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    def dashboard_reads() -> list[str]:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get("/staff/oversight/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return [s for s in statements if s.lstrip().upper().startswith("SELECT") and "stats_" in s]

    reads = dashboard_reads()
    assert any("stats_rollups" in s for s in reads) and not any("stats_monthly" in s for s in reads)
    first_rollups, first_cells = rollup_rows(wanted), db.session.scalar(select(func.count(MonthlyStat.id)))
    assert 0 < first_rollups <= bound
    seed(seeded, 2)  # twice the tips, in the same months and cells
    stats.refresh(full=True)
    assert db.session.scalar(select(func.count(Tip.id))) == 2 * BATCH + 1
    assert rollup_rows(wanted) == first_rollups
    assert db.session.scalar(select(func.count(MonthlyStat.id))) == first_cells
    assert dashboard.totals(wanted)["received"] == 2 * BATCH + 1
    assert not any("stats_monthly" in s for s in dashboard_reads())
