"""The calculator against RULES.md §3-§4: every worked value, every boundary, and refusals that name the field."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from tipoff.rewards.calculator import CalculationError, Facts, quote
from tipoff.rewards.grades import grade_of
from tipoff.money import MoneyError, parse_money, to_string, yuan
from tipoff.rewards.rulesets import parse, seed_rule_sets

NATIONAL, HENAN = (parse(entry) for entry in seed_rule_sets())


@pytest.mark.parametrize("fine, amount, explanation", [
    # RULES.md §3 worked values
    ("10000", "3000.00", "罚款 ¥10,000 × 15% = ¥1,500，按下限 ¥3,000（国家2018办法，最低¥3,000，最高¥300,000）"),
    ("100000", "15000.00", "罚款 ¥100,000 × 15% = ¥15,000（国家2018办法，最低¥3,000，最高¥300,000）"),
    ("3000000", "300000.00", "罚款 ¥3,000,000 × 15% = ¥450,000，按上限 ¥300,000（国家2018办法，最低¥3,000，最高¥300,000）"),
    # boundaries: the floor is reached exactly at ¥20,000 and the cap exactly at ¥2,000,000
    ("19999.99", "3000.00", "= ¥3,000（"),          # 2999.9985 rounds up to the floor itself
    ("19999.96", "3000.00", "= ¥2,999.99，按下限 ¥3,000"),
    ("20000", "3000.00", "罚款 ¥20,000 × 15% = ¥3,000（"),
    ("20000.01", "3000.00", "= ¥3,000（"),          # 3000.0015 rounds to the 分
    ("20000.04", "3000.01", "= ¥3,000.01（"),       # 3000.006 rounds half up
    ("1999999.99", "300000.00", "= ¥300,000（"),
    ("2000000", "300000.00", "罚款 ¥2,000,000 × 15% = ¥300,000（"),
    ("2000000.01", "300000.00", "= ¥300,000（"),     # 300000.0015 rounds to the cap itself
    ("2000000.04", "300000.00", "= ¥300,000.01，按上限 ¥300,000"),
    ("0", "3000.00", "按下限 ¥3,000"),              # verified, no fine imposed: the floor
])
def test_fine_based_rewards(fine, amount, explanation):
    result = quote(Facts("violation", fine=D(fine)), NATIONAL)
    assert to_string(result.amount) == amount and explanation in result.explanation
    assert result.rule_set == "national-2018"


@pytest.mark.parametrize("grade, deaths, amount, capped", [
    ("larger", 4, "160000.00", False),      # RULES.md: 较大, 4 concealed deaths → ¥160,000
    ("major", 12, "300000.00", True),       # RULES.md: 重大, 12 → ¥300,000 (cap)
    ("general", 1, "30000.00", False),
    ("general", 2, "60000.00", False),
    ("major", 6, "300000.00", False),       # exactly at the cap
    ("especially_major", 5, "300000.00", False),
    ("especially_major", 6, "300000.00", True),
])
def test_concealed_accident_rewards(grade, deaths, amount, capped):
    result = quote(Facts("concealed_accident", accident_grade=grade, concealed_deaths=deaths), NATIONAL)
    assert to_string(result.amount) == amount and result.grade == grade
    assert ("按上限" in result.explanation) == capped


def test_worked_concealed_explanation():
    result = quote(Facts("concealed_accident", accident_grade="larger", concealed_deaths=4), NATIONAL)
    assert result.explanation == "较大事故瞒报死亡 4 人 × ¥40,000 = ¥160,000（国家2018办法，最高¥300,000）"


@pytest.mark.parametrize("deaths, injuries, loss, grade", [
    (0, 0, "0", "general"), (2, 9, "9999999.99", "general"),
    (3, 0, "0", "larger"), (9, 0, "0", "larger"), (10, 0, "0", "major"), (29, 0, "0", "major"),
    (30, 0, "0", "especially_major"),
    (0, 10, "0", "larger"), (0, 49, "0", "larger"), (0, 50, "0", "major"), (0, 99, "0", "major"),
    (0, 100, "0", "especially_major"),
    (0, 0, "10000000", "larger"), (0, 0, "49999999.99", "larger"), (0, 0, "50000000", "major"),
    (0, 0, "99999999.99", "major"), (0, 0, "100000000", "especially_major"),
    (2, 55, "0", "major"),                 # the highest grade any one measure reaches
    (31, 0, "20000000", "especially_major"),
])
def test_accident_grade_boundaries(deaths, injuries, loss, grade):
    assert grade_of(deaths, injuries, D(loss)) == grade


def test_grade_from_casualty_figures_drives_the_amount():
    result = quote(Facts("concealed_accident", deaths=4, concealed_deaths=4), NATIONAL)
    assert result.grade == "larger" and result.amount == D("160000.00")


def test_a_grade_contradicting_the_figures_names_both():
    with pytest.raises(CalculationError) as caught:
        quote(Facts("concealed_accident", accident_grade="general", deaths=3, concealed_deaths=3), NATIONAL)
    assert set(caught.value.fields) == {"accident_grade", "deaths"}
    assert "较大事故" in caught.value.fields["accident_grade"][0] and "一般事故" in caught.value.fields["deaths"][0]
    with pytest.raises(CalculationError) as by_loss:
        quote(Facts("concealed_accident", accident_grade="larger", direct_loss=D("60000000"), concealed_deaths=1),
              NATIONAL)
    assert set(by_loss.value.fields) == {"accident_grade", "direct_loss"}


@pytest.mark.parametrize("facts, field", [
    (Facts("violation"), "fine"),
    (Facts("concealed_accident", concealed_deaths=2), "accident_grade"),
    (Facts("concealed_accident", accident_grade="larger", deaths=3, concealed_deaths=4), "concealed_deaths"),
    (Facts("concealed_accident", accident_grade="huge", concealed_deaths=1), "accident_grade"),
    (Facts("violation", fine=D(1), concealed_deaths=-1), "concealed_deaths"),
])
def test_missing_or_impossible_inputs_name_their_field(facts, field):
    with pytest.raises(CalculationError) as caught:
        quote(facts, NATIONAL)
    assert field in caught.value.fields


@pytest.mark.parametrize("fine, insider, amount, uplift", [
    ("100000", True, "17250.00", "2250.00"),     # 15,000 + 15 %
    ("10000", True, "4000.00", "1000.00"),       # floor 3,000; uplift 450 → at least ¥1,000
    ("1900000", True, "300000.00", "42750.00"),  # 285,000 + 42,750 → total cap
    ("100000", False, "15000.00", "0"),
])
def test_henan_insider_uplift(fine, insider, amount, uplift):
    result = quote(Facts("major_hazard", fine=D(fine), insider=insider), HENAN)
    assert to_string(result.amount) == amount and result.uplift == D(uplift)
    if insider:
        assert "吹哨人加奖 15%（不少于¥1,000）" in result.explanation


def test_national_has_no_insider_uplift_and_no_general_hazard_reward():
    assert quote(Facts("major_hazard", fine=D(100000), insider=True), NATIONAL).amount == D("15000.00")
    general = quote(Facts("hazard", fine=D(5000)), NATIONAL)
    assert general.amount == 0 and "不在国家2018办法的奖励范围内" in general.explanation
    assert quote(Facts("hazard", fine=D(5000)), HENAN).amount == D("1000.00")


def test_a_local_rule_set_needs_no_code_change():
    local = parse({"code": "jianan-2027", "short_name": "建安2027办法", "effective_from": "2027-01-01",
                   "fine_rules": {"major_hazard": {"rate": "0.2", "floor": "5000", "cap": "500000"}},
                   "per_death": {"general": "50000", "larger": "60000", "major": "80000", "especially_major": "100000"},
                   "concealed_cap": "500000"})
    assert local.effective_from == date(2027, 1, 1)
    assert quote(Facts("major_hazard", fine=D(1000000)), local).amount == D("200000.00")
    assert quote(Facts("concealed_accident", accident_grade="major", concealed_deaths=7), local).amount == D("500000.00")


@pytest.mark.parametrize("data, field", [
    ({"code": "X"}, "code"),
    ({"fine_rules": {"violation": {"rate": "15", "floor": "3000", "cap": "300000"}}}, "fine_rules.violation.rate"),
    ({"fine_rules": {"violation": {"rate": "0.15", "floor": "3000", "cap": "100"}}}, "fine_rules.violation.cap"),
    ({"per_death": {"general": "-1"}}, "per_death.general"),
    ({"effective_from": "next year"}, "effective_from"),
    ({"fine_rules": ["violation"]}, "fine_rules"),
    ({"fine_rules": {"violation": "15%"}}, "fine_rules.violation"),
    ({"per_death": "30000"}, "per_death"),
    ({"insider": "15%"}, "insider"),
    ({"name": "名" * 201}, "name"),
])
def test_bad_rule_set_data_names_the_field(data, field):
    base = {"code": "ok-set", "short_name": "测试", "effective_from": "2027-01-01", "fine_rules": {},
            "per_death": {g: "1" for g in ("general", "larger", "major", "especially_major")}, "concealed_cap": "1"}
    with pytest.raises(CalculationError) as caught:
        parse({**base, **data})
    assert field in caught.value.fields


@pytest.mark.parametrize("text, expected", [
    ("100000", "100000.00"), ("100000.5", "100000.50"), ("1,000.25", "1000.25"), ("¥300", "300.00"), (15000, "15000.00"),
])
def test_money_parses_exactly(text, expected):
    assert to_string(parse_money(text)) == expected


@pytest.mark.parametrize("value, reason", [
    ("-1", "负数"), ("abc", "数字"), ("12.345", "两位小数"), ("1e12", "过大"), (0.1, "数字"), (True, "数字"),
    ("NaN", "数字"), ("", "请填写"), ("Infinity", "数字"),
])
def test_money_refuses_what_is_not_money(value, reason):
    with pytest.raises(MoneyError) as caught:
        parse_money(value)
    assert reason in str(caught.value)


def test_yuan_formats_for_people():
    assert yuan(D("15000")) == "¥15,000" and yuan(D("1234.5")) == "¥1,234.50"
