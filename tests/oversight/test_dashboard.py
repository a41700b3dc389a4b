"""The 安委办 dashboard: aggregates rebuilt incrementally per Beijing month, figures that match the cases
behind them, scope by role, and the department ranking."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from tests.intake.helpers import VALID, receipt_of
from tipoff.accounts.models import User
from tipoff.cases import services as cases
from tipoff.db import utcnow
from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.oversight import stats
from tipoff.oversight.models import DurationStat, MonthlyStat, StatsState

UTC = timezone.utc


@pytest.mark.parametrize("moment, month", [
    (datetime(2026, 11, 30, 15, 59, tzinfo=UTC), date(2026, 11, 1)),   # 23:59 Beijing, still November
    (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), date(2026, 12, 1)),    # midnight Beijing: December
    (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), date(2027, 1, 1)),
])
def test_months_are_beijing_months(moment, month):
    assert stats.month_of(moment) == month
    start, end = stats.month_bounds(month)
    assert start <= moment < end


@pytest.mark.parametrize("histogram, median, p90", [
    ([], None, None),
    ([(3, 1)], 3, 3),
    ([(1, 1), (2, 1), (3, 1), (4, 1)], 2, 4),
    ([(0, 9), (30, 1)], 0, 0),
    ([(0, 8), (30, 2)], 0, 30),
    ([(5, 50), (10, 50)], 5, 10),
])
def test_percentiles_from_a_histogram(histogram, median, p90):
    assert stats.percentile(histogram, 0.5) == median and stats.percentile(histogram, 0.9) == p90


@pytest.fixture
def desk(app, make_staff):
    """Staff as ORM users (inside the test's app context)."""
    made = {}

    def user(role, department=None):
        key = (role, department)
        if key not in made:
            db.session.commit()
            made[key] = make_staff(role, department)
        return db.session.get(User, made[key].id)

    with app.app_context():
        yield user


def file(client, **changes) -> str:
    return receipt_of(client.post("/report", data={**VALID, **changes}))[0]


def test_refresh_counts_what_happened_and_only_rebuilds_touched_months(app, client, desk):
    gas = [file(client) for _ in range(3)]                     # 区住房和城乡建设局 (zjj)
    fire = file(client, sector="fire", subject_name="某网吧")  # 区消防救援大队
    handler = desk("handler", "zjj")
    cases.perform(handler, gas[0], "accept", {})
    cases.perform(handler, gas[0], "conclude", {"outcome": "substantiated", "summary": "查实", "fine": "1000"})
    cases.perform(handler, gas[1], "reject", {"reason_code": "no_facts", "reason": "无法核查"})
    report = stats.refresh()
    assert report.tips == 4
    totals = db.session.execute(select(func.sum(MonthlyStat.received), func.sum(MonthlyStat.accepted),
                                       func.sum(MonthlyStat.rejected), func.sum(MonthlyStat.substantiated))).one()
    assert tuple(totals) == (4, 1, 1, 1)
    assert db.session.scalar(select(func.sum(DurationStat.count)).where(DurationStat.metric == "accept")) == 1
    assert fire  # (routed elsewhere; counted above)
    # Nothing new: only the current month is looked at again.
    assert stats.refresh().months == (stats.month_of(utcnow()),)
    # A case event on a tip received two months ago brings that month back.
    old = db.session.scalar(select(Tip).where(Tip.reference == gas[2]))
    old.received_at = utcnow() - timedelta(days=62)
    db.session.commit()
    stats.refresh(full=True)
    cases.perform(handler, gas[2], "accept", {})
    assert stats.month_of(old.received_at) in stats.refresh().months
    state = db.session.get(StatsState, 1)
    assert state.last_tip_id == db.session.scalar(select(func.max(Tip.id)))


def test_dashboard_figures_match_the_cases_behind_them(app, client, login_as, desk):
    references = [file(client) for _ in range(4)]
    file(client, sector="fire", subject_name="某网吧")
    handler = desk("handler", "zjj")
    for reference in references[:2]:
        cases.perform(handler, reference, "accept", {})
    cases.perform(handler, references[0], "conclude", {"outcome": "substantiated", "summary": "查实"})
    db.session.commit()
    login_as("overseer")
    page = client.get("/staff/oversight/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "区住房和城乡建设局" in body and "区消防救援大队" in body
    assert "chart-trend" in body and "vendor/chartjs/chart.umd.min.js" in body  # self-hosted, no CDN
    accepted = client.get("/staff/oversight/cases?metric=accepted&department=zjj").get_data(as_text=True)
    assert sum(r in accepted for r in references) == 2
    verified = client.get("/staff/oversight/cases?metric=verified").get_data(as_text=True)
    assert references[0] in verified and references[1] not in verified
    assert client.get("/staff/oversight/?from=2026-13").status_code == 422
    assert client.get("/staff/oversight/cases?metric=bogus").status_code == 422


def test_a_leader_sees_only_their_department(app, client, login_as, desk):
    file(client)
    file(client, sector="fire", subject_name="某网吧")
    login_as("leader", "zjj")
    body = client.get("/staff/oversight/?department=xfj").get_data(as_text=True)
    assert "区住房和城乡建设局" in body and "区消防救援大队" not in body
    listed = client.get("/staff/oversight/cases?department=xfj").get_data(as_text=True)
    assert "某网吧" not in listed


def test_ranking_puts_on_time_departments_first_and_counts_overdue_live(app, client, desk):
    from tipoff.oversight import dashboard

    late = file(client)
    quick = file(client, sector="fire", subject_name="某网吧")
    cases.perform(desk("handler", "xfj"), quick, "accept", {})
    cases.perform(desk("handler", "xfj"), quick, "conclude", {"outcome": "substantiated", "summary": "查实"})
    tip = db.session.scalar(select(Tip).where(Tip.reference == late))
    tip.deadline_at = utcnow() - timedelta(days=1)
    db.session.commit()
    stats.refresh()
    wanted, errors = dashboard.parse_filter(desk("overseer"), {})
    assert not errors
    ranking = dashboard.ranking(wanted)
    assert [r["code"] for r in ranking][:2] == ["xfj", "zjj"]
    assert ranking[0]["on_time_rate"] == 1.0 and ranking[1]["overdue_now"] == 1


def test_dashboard_is_for_overseers_and_leaders_only(app, client, login_as):
    assert app.test_client().get("/staff/oversight/").status_code == 302  # anonymous: to the login page
    login_as("handler", "zjj")
    assert client.get("/staff/oversight/").status_code == 403
    assert client.get("/staff/oversight/cases").status_code == 403


def test_a_re_review_that_changes_the_outcome_is_counted(app, client, desk):
    from tipoff.oversight import dashboard

    reference = file(client)
    handler = desk("handler", "zjj")
    cases.perform(handler, reference, "accept", {})
    cases.perform(handler, reference, "conclude", {"outcome": "unsubstantiated", "summary": "未发现"})
    cases.reporter_objects(db.session.scalar(select(Tip).where(Tip.reference == reference)), "我再次闻到了燃气味。")
    cases.perform(handler, reference, "conclude", {"outcome": "substantiated", "summary": "复查查实"})
    stats.refresh()
    wanted, _ = dashboard.parse_filter(desk("overseer"), {})
    totals = dashboard.totals(wanted)
    assert totals["objections"] == 1 and totals["review_changed"] == 1 and totals["substantiated"] == 1
