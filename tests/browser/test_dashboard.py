"""The 安委办 dashboard in a real browser: every chart drawn from seeded data, each with its table; a
screenshot is kept in test-artifacts/ and axe-core finds no serious problem."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import ARTIFACTS, serious_accessibility_problems
from tests.intake.helpers import VALID
from tipoff.accounts import services as accounts
from tipoff.cases import services as cases
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake import services as intake
from tipoff.intake.models import Tip

pytestmark = pytest.mark.browser

SEED = [("gas", "lingjing"), ("gas", "xuyou"), ("fire", "xuyou"), ("fire", "jiangguanchi"), ("hazchem", "wunvdian"),
        ("construction", "lingjing"), ("special_equipment", "xuyou"), ("road_traffic", "shangji")]


def seed(live_app) -> None:
    """Tips over several months and departments, some accepted and concluded, one overdue."""
    with live_app.app_context():
        references = [intake.submit_tip({**VALID, "sector": sector, "township": township, "subject_name": f"单位{i}",
                                         "category": "major_hazard" if i % 3 == 0 else "hazard"}).reference
                      for i, (sector, township) in enumerate(SEED * 3)]
        overseer = accounts.create_user(username="seed.overseer", display_name="督办", role="overseer",
                                        department_code=None, password="a long password 123", actor="test")
        db.session.commit()
        for i, reference in enumerate(references):
            tip = db.session.scalar(select(Tip).where(Tip.reference == reference))
            tip.received_at = utcnow() - timedelta(days=30 * (i % 5))
            db.session.commit()
            if i % 2 == 0:
                cases.perform(overseer, reference, "accept", {})
            if i % 4 == 0:
                cases.perform(overseer, reference, "conclude", {"outcome": "substantiated", "summary": "查实"})
        late = db.session.scalar(select(Tip).where(Tip.reference == references[1]))
        late.deadline_at = utcnow() - timedelta(days=2)
        db.session.commit()


def test_dashboard_draws_every_chart_with_its_numbers(live_app, live_server, desks):
    ARTIFACTS.mkdir(exist_ok=True)
    seed(live_app)
    overseer = desks("dash.overseer", "overseer", None)
    overseer.login()
    page = overseer.page
    page.get_by_role("navigation").get_by_role("link", name="督办统计").click()
    page.wait_for_url(re.compile(r".*/staff/oversight/$"))
    for chart in ("chart-trend", "chart-departments", "chart-categories"):
        page.wait_for_function(f"() => Chart.getChart(document.getElementById('{chart}')) !== undefined")
        drawn = page.evaluate(f"() => Chart.getChart(document.getElementById('{chart}')).data.datasets[0].data")
        assert sum(drawn) > 0, chart
    ranking = page.locator("#ranking-title ~ .table-wrap").inner_text()
    assert "区住房和城乡建设局" in ranking and "区消防救援大队" in ranking
    assert page.locator("table.heat td.heat-5").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-01-overseer.png"), full_page=True)
    assert serious_accessibility_problems(page) == []
    # Down to the cases behind a figure.
    page.locator("#ranking-title ~ .table-wrap").get_by_role("row", name=re.compile("区住房和城乡建设局")) \
        .get_by_role("link").first.click()
    page.wait_for_url(re.compile(r".*/staff/oversight/cases\?.*"))
    assert page.locator("table tbody tr").count() >= 1
