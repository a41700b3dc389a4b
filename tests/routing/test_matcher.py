"""The routing table, case by case, against the seed's assignments (JURISDICTION.md §3)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tipoff.reference.seedfile import read_reference_file
from tipoff.routing.matcher import Jurisdiction, NoRouteError, Rule, TipFacts, route

SEED = Path(__file__).resolve().parents[2] / "tipoff" / "reference" / "data" / "jianan.yaml"


@pytest.fixture(scope="module")
def table():
    """The shipped seed file as the matcher sees it."""
    data = read_reference_file(SEED)
    rules = [Rule(code=r["code"], priority=r["priority"], accept_by=r["accept_by"],
                  explanation=r["explanation"], department_code=r.get("department_code"),
                  category_codes=tuple(r.get("category_codes") or ()), sector_codes=tuple(r.get("sector_codes") or ()),
                  township_codes=tuple(r.get("township_codes") or ()), keywords=tuple(r.get("keywords") or ()),
                  copy_to=tuple(r.get("copy_to") or ()), supervised=bool(r.get("supervised")))
             for r in data["routing_rules"]]
    where = Jurisdiction({s["code"]: s.get("lead_department") for s in data["sectors"]},
                         {t["code"]: t.get("department") for t in data["townships"]},
                         {d["code"]: d["name"] for d in data["departments"]})
    return rules, where


# category, sector, township, text -> accepting department, copies, supervised, rule
CASES = [
    # Rule 1: concealed accidents and deaths go to the 区安委会办公室 under 挂牌督办 (P5, P6; measure 56).
    ("concealed_accident", "construction", "lingjing", "工地出事故没有上报", "ajw", ("zjj",), True, "r1_concealed_accident"),
    ("hazard", "industry", "xuyou", "车间上周有工人死亡，老板压着不报", "ajw", ("yjj",), True, "r1_death"),
    ("hazard", "new_formats", None, "有人 身亡", "ajw", (), True, "r1_death"),
    # Rule 2: 打非治违 on unlicensed operations goes to the township, the sector lead copied (measure 42).
    ("violation", "hazchem", "lingjing", "村里有个无证加油点", "tw_lingjing", ("yjj",), False, "r2_illegal_operation"),
    ("violation", "gas", "xuyou", "小区门口黑作坊私自灌装液化气", "tw_xuyou", ("zjj",), False, "r2_illegal_operation"),
    # A violation without the keywords is an ordinary sector matter.
    ("violation", "gas", "xuyou", "燃气公司未按规定巡检管道", "zjj", ("tw_xuyou",), False, "r3_sector_lead"),
    # Rule 3: the sector's lead department accepts, the township is copied (三管三必须).
    ("hazard", "gas", "lingjing", "燃气管道漏气", "zjj", ("tw_lingjing",), False, "r3_sector_lead"),
    ("major_hazard", "hazchem", "kaifaqu", "储罐区报警器长期关闭", "yjj", ("tw_kaifaqu",), False, "r3_sector_lead"),
    ("hazard", "fire", "xinyuan", "商场安全出口被锁", "xfj", ("tw_xinyuan",), False, "r3_sector_lead"),
    ("hazard", "special_equipment", "xuyou", "电梯经常困人", "scj", ("tw_xuyou",), False, "r3_sector_lead"),
    ("hazard", "road_traffic", "zhangpan", "农用车载人上路", "gaj", ("tw_zhangpan",), False, "r3_sector_lead"),
    ("hazard", "transport", "xuyou", "客车超员", "jtj", ("tw_xuyou",), False, "r3_sector_lead"),
    ("hazard", "education", "dengzhuang", "校外托管机构消防通道堵塞", "jyj", ("tw_dengzhuang",), False, "r3_sector_lead"),
    ("hazard", "elderly_care", "aizhuang", "养老院电线老化", "mzj", ("tw_aizhuang",), False, "r3_sector_lead"),
    ("hazard", "new_energy", "kaifaqu", "储能电站电池鼓包", "kgj", ("tw_kaifaqu",), False, "r3_sector_lead"),
    ("hazard", "power", None, "变电站围栏破损", "fgw", (), False, "r3_sector_lead"),
    # Rule 4: hazardous-goods transport: 交通 accepts, 公安 and 应急 copied.
    ("hazard", "hazchem_transport", "xuyou", "危化品槽车违规停放", "jtj", ("gaj", "yjj"), False, "r4_hazchem_transport"),
    # Rule 5: confined spaces: 应急 accepts (finds the host sector), township copied.
    ("hazard", "confined_space", "suqiao", "污水井作业无人监护", "yjj", ("tw_suqiao",), False, "r5_confined_space"),
    # Rule 6: new formats with no owner: the 区安委会办公室 designates one.
    ("hazard", "new_formats", "xuyou", "剧本杀店没有安全出口", "ajw", (), False, "r6_new_formats"),
    # Rule 7: nothing else matched (a sector without a lead): triage.
    ("other", "other", None, "不知道归谁管", "ajw", (), False, "r7_fallback"),
]


@pytest.mark.parametrize("category, sector, township, text, department, copies, supervised, rule", CASES)
def test_seed_routing_table(table, category, sector, township, text, department, copies, supervised, rule):
    rules, where = table
    decision = route(TipFacts(category, sector, township, text), rules, where)
    assert (decision.department_code, decision.copy_to, decision.supervised, decision.rule_code) == \
        (department, copies, supervised, rule)
    assert decision.explanation.startswith(where.names[department] + "受理")


def test_explanation_names_copies_and_supervision(table):
    rules, where = table
    decision = route(TipFacts("concealed_accident", "gas", "lingjing", ""), rules, where)
    assert decision.explanation.startswith("区安委会办公室受理（挂牌督办）；抄送：区住房和城乡建设局。")


def test_rule_with_unresolvable_target_falls_through():
    rules = [Rule("lead", 10, "sector_lead", "按行业"), Rule("fallback", 99, "department", "分拣", "ajw")]
    where = Jurisdiction({"x": None}, {}, {"ajw": "安委办"})
    assert route(TipFacts("hazard", "x", None), rules, where).rule_code == "fallback"


def test_more_specific_rule_wins_a_priority_tie():
    rules = [Rule("broad", 10, "department", "a", "aaa"),
             Rule("narrow", 10, "department", "b", "bbb", sector_codes=("gas",), keywords=("漏",))]
    where = Jurisdiction({}, {}, {"aaa": "A", "bbb": "B"})
    assert route(TipFacts("hazard", "gas", None, "漏气"), rules, where).rule_code == "narrow"
    assert route(TipFacts("hazard", "fire", None, "漏气"), rules, where).rule_code == "broad"


def test_keywords_ignore_spaces_and_case():
    rules = [Rule("k", 1, "department", "x", "d1", keywords=("PM2.5", "无证"))]
    where = Jurisdiction({}, {}, {"d1": "D1"})
    assert route(TipFacts("a", "b", None, "无 证经营"), rules, where).rule_code == "k"
    assert route(TipFacts("a", "b", None, "pm2.5超标"), rules, where).rule_code == "k"


def test_no_fallback_is_an_error():
    with pytest.raises(NoRouteError):
        route(TipFacts("hazard", "gas", None), [Rule("k", 1, "department", "x", "d", keywords=("火",))],
              Jurisdiction({}, {}, {}))


@pytest.mark.parametrize("text, rule", [
    ("夏天车间热死了，没有降温设施", "r3_sector_lead"),
    ("这样下去迟早要出人命", "r3_sector_lead"),
    ("脚手架不牢，会死人的", "r3_sector_lead"),
    ("上个月工地摔死一个工人，一直没报", "r1_death"),
    ("昨天出了人命，老板让大家别说", "r1_death"),
    ("有一名工人身亡", "r1_death"),
])
def test_death_keywords_mean_a_death_not_a_figure_of_speech(table, text, rule):
    rules, where = table
    assert route(TipFacts("hazard", "construction", "xuyou", text), rules, where).rule_code == rule


def test_inactive_department_is_never_a_target(table):
    rules, where = table
    names = {code: name for code, name in where.names.items() if code != "jtj"}  # 交通运输局 deactivated
    decision = route(TipFacts("hazard", "hazchem_transport", "xuyou", "槽车"), rules,
                     Jurisdiction(where.sector_leads, where.township_departments, names))
    assert decision.department_code != "jtj" and "jtj" not in decision.copy_to
