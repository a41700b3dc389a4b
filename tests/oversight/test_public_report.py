"""The public report (/public and GET /api/v1/public/report): small cells never shown, shares and medians from
few cases withheld, and no hidden count recoverable from the published totals — not even by combining several
periods (checked as an auditor would: by solving the published equations)."""
from __future__ import annotations

import re
from datetime import date
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from tests.intake.helpers import VALID, receipt_of
from sqlalchemy import select

from tipoff.extensions import db
from tipoff.intake.models import Tip
from tipoff.oversight.models import DurationStat, MonthlyStat, RewardStat
from tipoff.oversight.public import this_month
from tipoff.oversight.report import add_months, protect_column
from tipoff.reference.services import department_by_code

CATEGORIES = ["major_hazard", "hazard", "violation", "concealed_accident", "other"]
# Tips received per category in three months; each category sits in one sector and one township.
RECEIVED = {"major_hazard": [7, 3, 9], "hazard": [12, 6, 5], "violation": [2, 0, 6],
            "concealed_accident": [0, 0, 1], "other": [5, 7, 4]}
PLACE = {"major_hazard": ("gas", "lingjing"), "hazard": ("construction", "xuyou"),
         "violation": ("construction", "lingjing"), "concealed_accident": ("hazchem", ""), "other": ("fire", "xuyou")}
CONCLUDED, VERIFIED = [20, 4, 15], [12, 3, 9]
PAID = [(6, 1_800_000), (3, 900_000), (0, 0)]
SYMBOLS = {"<5", "×", "—"}


def months_of_test() -> list[date]:
    now = this_month()
    return [add_months(now, k) for k in (-3, -2, -1)]


def period_args() -> str:
    months = months_of_test()
    return f"from={months[0]:%Y-%m}&to={months[-1]:%Y-%m}"


def stat(month: date, category: str, received: int, concluded: int = 0, substantiated: int = 0,
         partially: int = 0, department: str = "zjj") -> MonthlyStat:
    sector, township = PLACE.get(category, ("gas", "lingjing"))
    return MonthlyStat(month=month, department_id=department_by_code(department).id, category_code=category,
                       sector_code=sector, township_code=township, channel="web", anonymous=False, insider=False,
                       received=received, concluded=concluded, substantiated=substantiated,
                       partially_substantiated=partially)


def craft(app) -> list[date]:
    """Aggregate rows with counts 0–7 per cell (and a month outside the period that must not count)."""
    with app.app_context():
        months = months_of_test()
        zjj, yjj = department_by_code("zjj").id, department_by_code("yjj").id
        for k, month in enumerate(months):
            concluded, verified = CONCLUDED[k], VERIFIED[k]
            for category in CATEGORIES:
                received = RECEIVED[category][k]
                done = min(received, concluded)
                good = min(done, verified)
                concluded, verified = concluded - done, verified - good
                db.session.add(stat(month, category, received, done, good - good // 3, good // 3,
                                    department="zjj" if category != "other" else "yjj"))
            # durations: 1, 2, …, n days, split over two departments
            for day in range(1, CONCLUDED[k] + 1):
                db.session.add(DurationStat(month=month, department_id=zjj if day % 2 else yjj, metric="conclude",
                                            days=day, count=1))
            db.session.add(DurationStat(month=month, department_id=zjj, metric="accept", days=1, count=50))
            count, fen = PAID[k]
            if count:
                db.session.add(RewardStat(month=month, department_id=zjj, status="paid", count=count - 1,
                                          amount_fen=fen, paid_fen=fen - 100_000))
                db.session.add(RewardStat(month=month, department_id=yjj, status="paid", count=1,
                                          amount_fen=100_000, paid_fen=100_000))
            db.session.add(RewardStat(month=month, department_id=zjj, status="approved", count=2,
                                      amount_fen=500_000, paid_fen=0))
        db.session.add(stat(add_months(months[0], -6), "hazard", 100, 100, 100))
        roll_up()
        db.session.commit()
    return months


def roll_up() -> None:
    """The rollups the report reads, summed from the hand-made MonthlyStat rows (as `refresh` does)."""
    from collections import Counter, defaultdict

    from tipoff.oversight.stats import SUMMED, add_rollups

    db.session.flush()
    months: dict[date, dict[tuple, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for row in db.session.scalars(select(MonthlyStat)):
        key = (row.department_id, row.category_code, row.sector_code, row.township_code, row.channel,
               row.anonymous, row.insider)
        months[row.month][key].update({f: getattr(row, f) or 0 for f in SUMMED})
    for month, cells in months.items():
        add_rollups(month, cells)


@pytest.fixture
def crafted(app):
    return craft(app)


# ------------------------------------------------------------------------------- reading the page


class Tables(HTMLParser):
    """Every table on the page by caption id: rows of cell texts (header cells included, first)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.cells: list[tuple[str, str]] = []  # (tag and class, text) of every cell anywhere
        self._table = self._row = self._cell = None
        self._caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = []
        elif tag == "caption":
            self._caption = True
            self.tables[attrs.get("id", f"t{len(self.tables)}")] = self._table
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th"):
            self._cell = [f"{tag}.{attrs.get('class', '')}", ""]

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell[1].split())
            self.cells.append((self._cell[0], text))
            if self._row is not None:
                self._row.append(text)
            self._cell = None
        elif tag == "caption":
            self._caption = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


def read_tables(html: str) -> Tables:
    parser = Tables()
    parser.feed(re.sub(r'<span class="visually-hidden">.*?</span>', "", html))
    return parser


def as_count(text: str) -> int | str:
    return int(text.replace(",", "")) if re.fullmatch(r"\d[\d,]*", text) else text


# ------------------------------------------------------------------------------------ the tests


def expected_rows(months) -> dict[str, dict[str, list[int]]]:
    """The true counts (which the page must protect) of each breakdown, from the crafted rows."""
    sectors, townships = {}, {}
    for category, counts in RECEIVED.items():
        sector, township = PLACE[category]
        for key, table in ((sector, sectors), (township, townships)):
            table[key] = [a + b for a, b in zip(table.get(key, [0, 0, 0]), counts)]
    return {"category": RECEIVED, "sector": sectors, "township": townships}


def check_cell(shown, true: int) -> None:
    if true < 5:
        assert shown == "<5", (shown, true)
    else:
        assert shown in (true, "×"), (shown, true)


def test_every_small_count_shows_as_less_than_5_in_html_and_json(client, crafted):
    response = client.get(f"/public?{period_args()}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    body = client.get(f"/api/v1/public/report?{period_args()}").get_json()
    tables = read_tables(html).tables
    for key, truth in expected_rows(crafted).items():
        published = {row["code"]: row for row in body[f"by_{key}"]["rows"]}
        rendered = {row[0]: [as_count(t) for t in row[1:]] for row in tables[f"{key}-caption"][1:-1]}
        for code, row in published.items():
            counts = truth.get(code, [0, 0, 0])
            for shown, true in zip(row["months"] + [row["total"]], counts + [sum(counts)]):
                check_cell(shown, true)
            assert rendered[row["name"]] == row["months"] + [row["total"]]  # the page shows what the API does
    assert body["by_category"]["month_totals"] == [26, 16, 25] and body["by_category"]["total"] == 67
    assert tables["category-caption"][-1][1:] == ["26", "16", "25", "67"]
    # the crafted month outside the period (100 tips) does not count
    assert body["summary"]["received"] == 67


def test_no_count_cell_anywhere_is_between_1_and_4(client, crafted):
    html = client.get(f"/public?{period_args()}").get_data(as_text=True)
    parser = read_tables(html)
    numbers = [(kind, as_count(text)) for kind, text in parser.cells if isinstance(as_count(text), int)]
    assert numbers, "the page shows no numbers at all"
    assert [n for _, n in numbers if 1 <= n <= 4] == []
    assert html.count("&lt;5") >= 20
    body = client.get(f"/api/v1/public/report?{period_args()}").get_json()
    figures = []
    for month in body["months"] + [body["summary"]]:
        figures += [month["received"], month["concluded"], month["verified"], month["rewards_paid"]["count"]]
    for key in ("category", "sector", "township"):
        table = body[f"by_{key}"]
        figures += table["month_totals"] + [table["total"]]
        for row in table["rows"]:
            figures += row["months"] + [row["total"]]
    assert len(figures) > 200
    assert [n for n in figures if isinstance(n, int) and 1 <= n <= 4] == []
    assert all(isinstance(n, int) or n in ("<5", "×") for n in figures)


def test_shares_medians_and_amounts_from_few_cases_are_withheld(client, crafted):
    body = client.get(f"/api/v1/public/report?{period_args()}").get_json()
    m0, m1, m2 = body["months"]
    assert m0["concluded"] == 20 and m0["verified"] == 12 and m0["verified_share"] == 0.6
    assert m0["median_days_to_conclude"] == 10  # days 1…20: the 10th
    assert m0["rewards_paid"] == {"count": 6, "total": "18000.00"}
    # 4 concluded, 3 verified: no share, no median; 3 rewards: "<5" and no amount
    assert m1["concluded"] == "<5" and m1["verified"] == "<5"
    assert m1["verified_share"] == "—" and m1["median_days_to_conclude"] == "—"
    assert m1["rewards_paid"] == {"count": "<5", "total": "—"}
    assert m2["rewards_paid"] == {"count": "<5", "total": "—"}
    assert m2["verified_share"] == 0.6 and m2["median_days_to_conclude"] == 8
    # totals over months that include a hidden month are hidden too (another period's total could be
    # subtracted from them); the median of all 39 conclusions rests on enough cases
    summary = body["summary"]
    assert summary["received"] == 67 and summary["concluded"] == "×" and summary["verified"] == "×"
    assert summary["verified_share"] == "—" and summary["median_days_to_conclude"] == 8
    assert summary["rewards_paid"] == {"count": "×", "total": "—"}
    html = client.get(f"/public?{period_args()}").get_data(as_text=True)
    overview = read_tables(html).tables["months-caption"]
    assert overview[1][1:] == ["26", "20", "12", "60%", "10天", "6", "¥18,000"]
    assert overview[2][1:] == ["16", "<5", "<5", "—", "—", "<5", "—"]
    assert overview[4][1:] == ["67", "×", "×", "—", "8天", "×", "—"]


def test_a_row_total_never_reveals_a_hidden_cell(client, crafted):
    body = client.get(f"/api/v1/public/report?{period_args()}").get_json()
    major = next(r for r in body["by_category"]["rows"] if r["code"] == "major_hazard")
    # 7, 3, 9 = 19: with the total shown, 19 − 7 − 9 would give the 3 away
    assert major["months"] == [7, "<5", 9] and major["total"] == "×"
    for key in ("category", "sector", "township"):
        for row in body[f"by_{key}"]["rows"]:
            if any(v in SYMBOLS for v in row["months"]):
                assert row["total"] in SYMBOLS, (key, row)


def test_complementary_suppression_within_each_month(client, crafted):
    """In each month's column, the hidden counts above zero are never exactly one (the monthly total minus the
    shown counts would be that one), and a "×" stands where a second had to be hidden."""
    body = client.get(f"/api/v1/public/report?{period_args()}").get_json()
    truth = expected_rows(crafted)
    for key in ("category", "sector", "township"):
        rows = body[f"by_{key}"]["rows"]
        for j in range(3):
            hidden = [truth[key].get(r["code"], [0, 0, 0])[j] for r in rows if r["months"][j] in SYMBOLS]
            assert sum(1 for v in hidden if v > 0) != 1, (key, j, hidden)
    category = {r["code"]: r["months"] for r in body["by_category"]["rows"]}
    # 2026-…: violation 2 is the only small count above zero in the first month: hazard (12) is hidden with it
    assert category["violation"][0] == "<5" and category["hazard"][0] == "×"
    # the third month hides 1 and 4: two small counts, the month total cannot split them
    assert category["concealed_accident"][2] == "<5" and category["other"][2] == "<5"
    assert [category[c][2] for c in ("major_hazard", "hazard", "violation")] == [9, 5, 6]


def solvable(equations: list[dict], unknowns: set) -> set:
    """Unknowns the equations fix exactly (row-reduce over the rationals; e_u in the row space)."""
    basis: list[tuple[object, dict]] = []
    for equation in equations:
        row = {k: Fraction(v) for k, v in equation.items() if k in unknowns and v}
        for pivot, b in basis:
            if pivot in row:
                factor = row[pivot]
                for k, v in b.items():
                    row[k] = row.get(k, 0) - factor * v
                    if row[k] == 0:
                        del row[k]
        if not row:
            continue
        pivot = min(row, key=repr)
        row = {k: v / row[pivot] for k, v in row.items()}
        reduced = []
        for p, b in basis:
            if pivot in b:
                factor, b = b[pivot], dict(b)
                for k, v in row.items():
                    b[k] = b.get(k, 0) - factor * v
                    if b[k] == 0:
                        del b[k]
            reduced.append((p, b))
        basis = reduced + [(pivot, row)]
    return {p for p, b in basis if len(b) == 1}


def published_equations(client, periods) -> tuple[list[dict], set, set]:
    """The additive relations a reader can write down from the reports of several periods: every breakdown
    cell, row total, monthly total and period total, with the hidden ones as unknowns (and the true zeros)."""
    equations, unknowns, zeros = [], set(), set()
    truth = expected_rows(months_of_test())
    for first, last in periods:
        body = client.get(f"/api/v1/public/report?from={first:%Y-%m}&to={last:%Y-%m}").get_json()
        months = body["period"]["months"]
        offset = months_of_test().index(first)
        for m, value in zip(months, body["by_category"]["month_totals"]):
            if value in SYMBOLS:
                unknowns.add(("M", m))
        grand = ("G", tuple(months))
        if body["by_category"]["total"] in SYMBOLS:
            unknowns.add(grand)
        equations.append({**{("M", m): 1 for m in months}, grand: -1})
        for key in ("category", "sector", "township"):
            rows = body[f"by_{key}"]["rows"]
            for row in rows:
                row_total = ("T", key, row["code"], tuple(months))
                for k, (m, value) in enumerate(zip(months, row["months"])):
                    if value in SYMBOLS:
                        unknowns.add((key, row["code"], m))
                        if truth[key].get(row["code"], [0, 0, 0])[offset + k] == 0:
                            zeros.add((key, row["code"], m))
                if row["total"] in SYMBOLS:
                    unknowns.add(row_total)
                equations.append({**{(key, row["code"], m): 1 for m in months}, row_total: -1})
            for m in months:
                equations.append({**{(key, r["code"], m): 1 for r in rows}, ("M", m): -1})
    return equations, unknowns, zeros


def test_no_hidden_count_can_be_solved_even_by_combining_periods(client, crafted):
    first, second, third = crafted
    periods = [(first, third), (second, third), (first, second), (first, first), (second, second),
               (third, third)]
    equations, unknowns, zeros = published_equations(client, periods)
    assert len(unknowns) > 100 and zeros
    assert solvable(equations, unknowns) == set()
    # even a reader who guesses every hidden zero learns no hidden count above zero
    found = solvable(equations, unknowns - zeros)
    assert [u for u in found if u[0] in ("category", "sector", "township")] == []


@pytest.mark.parametrize("seed", range(40))
def test_protect_column_on_random_months(seed):
    import random

    rnd = random.Random(seed)
    values = [rnd.choice([0, 0, 1, 2, 3, 4, 5, 6, 8, 9, 12, 30]) for _ in range(rnd.randint(1, 8))]
    hidden = protect_column(values, sum(values))
    assert {k for k, v in enumerate(values) if v < 5} <= hidden
    if sum(values) < 5:
        return
    small = [values[k] for k in hidden if 0 < values[k] < 5]
    complements = [k for k in hidden if values[k] >= 5]
    assert len([k for k in hidden if values[k] > 0]) != 1
    if small and not complements:  # two or more small counts: their sum must not pin each to 3 or 4
        assert len(small) >= 2 and sum(small) < 4 * len(small) - 1
    assert len(complements) <= 1


@pytest.mark.parametrize("query, field", [
    ("from=2026-13", "from"), ("to=26-01", "to"), ("from=abc&to=2026-01", "from"),
    ("from=1999-12&to=2000-06", "from"), ("to=2999-01", "to"), ("from=2026-05&to=2026-02", "from"),
    ("from=2020-01&to=2026-01", "from"),
])
def test_a_bad_period_is_a_422_with_a_usable_page(client, query, field):
    response = client.get(f"/public?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html and f'href="#{field}"' in html
    assert "按月统计" in html and 'id="category-caption"' in html  # the default period is still shown
    answer = client.get(f"/api/v1/public/report?{query}")
    assert answer.status_code == 422
    assert field in answer.get_json()["error"]["fields"]


def test_default_period_is_the_last_13_closed_months(client):
    body = client.get("/api/v1/public/report").get_json()
    now = this_month()
    assert body["period"]["months"] == [f"{add_months(now, k):%Y-%m}" for k in range(-13, 0)]
    assert body["period"]["current_month_partial"] is False
    assert body["summary"]["received"] == "<5"  # nothing yet: "none" looks like "a few"


def test_the_month_still_filling_up_is_never_published(client):
    """Polling a month whose counts still move would show single tips (and rewards) as they arrive."""
    response = client.get(f"/api/v1/public/report?to={this_month():%Y-%m}")
    assert response.status_code == 422 and "to" in response.get_json()["error"]["fields"]
    assert client.get(f"/public?to={this_month():%Y-%m}").status_code == 422


@pytest.mark.parametrize("bad", ["0000-01", "2026-00", "9999-13", "26-01"])
def test_impossible_months_are_a_422_not_a_500(client, bad):
    assert client.get(f"/api/v1/public/report?from={bad}").status_code == 422
    assert client.get(f"/public?to={bad}").status_code == 422


def test_the_page_has_the_policy_the_channels_and_accessible_tables(client, crafted):
    html = client.get("/public").get_data(as_text=True)
    assert "/rewards/calculator" in html and "安全生产领域举报奖励办法（安监总财〔2018〕19号）" in html
    assert "按罚款金额的 15% 计奖" in html  # the rule set in force, in plain words
    assert "12345" in html and "12350" in html and 'href="/report"' in html and "来信、来访" in html
    assert html.count("<caption") == 4 and 'scope="row"' in html and 'scope="col"' in html
    assert "互补隐藏" in html  # the methodology note explains the choice
    assert "区住房和城乡建设局" not in html  # no department-level figures


def backdate_to_last_month(app) -> None:
    """Tips filed now, moved into the last closed month (the latest the report shows)."""
    from datetime import datetime, timezone

    last = add_months(this_month(), -1)
    with app.app_context():
        for tip in db.session.scalars(select(Tip)):
            tip.received_at = datetime(last.year, last.month, 15, 4, tzinfo=timezone.utc)
        db.session.commit()


def test_tips_filed_and_refreshed_show_up_suppressed(app, client):
    stats = pytest.importorskip("tipoff.oversight.stats")
    month = f"{add_months(this_month(), -1):%Y-%m}"

    def received_now() -> tuple:
        body = client.get(f"/api/v1/public/report?from={month}&to={month}").get_json()
        hazard = next(r for r in body["by_category"]["rows"] if r["code"] == "hazard")
        return body["summary"]["received"], hazard["months"][0]

    for _ in range(3):
        receipt_of(client.post("/report", data=VALID))
    backdate_to_last_month(app)
    with app.app_context():
        stats.refresh()
    assert received_now() == ("<5", "<5")
    html = client.get(f"/public?from={month}&to={month}").get_data(as_text=True)
    assert [n for _, t in read_tables(html).cells if isinstance(n := as_count(t), int) and 1 <= n <= 4] == []
    for _ in range(3):
        receipt_of(client.post("/report", data=VALID))
    backdate_to_last_month(app)
    assert received_now() == ("<5", "<5")  # the report reads the aggregates, not the tips
    with app.app_context():
        stats.refresh(full=True)
    assert received_now() == (6, 6)
