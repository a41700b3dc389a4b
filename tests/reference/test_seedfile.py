"""The seed file: broken files are refused naming the entry; the shipped file says what JURISDICTION.md says."""
from __future__ import annotations

from pathlib import Path

import pytest

from config import Config
from tipoff.reference.seedfile import ReferenceDataError, check_reference_data, parse_reference_text, \
    read_reference_file

SEED = Path(Config.TIPOFF_REFERENCE_FILE)

# A minimal valid file, section by section; each broken case replaces one section.
BASE = {
    "district": "district: {name: 测试区, province: 河南省, city: 许昌市}\n",
    "departments": "departments:\n  - {code: yjj, name: 区应急管理局, kind: bureau}\n"
                   "  - {code: tw_a, name: 甲镇人民政府, kind: township}\n",
    "townships": "townships:\n  - {code: a, name: 甲镇, kind: 镇, department: tw_a}\n",
    "categories": "categories:\n  - {code: hazard, name: 一般事故隐患}\n",
    "sectors": "sectors:\n  - {code: gas, name: 燃气, lead_department: yjj}\n",
    "routing_rules": "routing_rules:\n  - {code: r1, accept_by: department, department_code: yjj, "
                     "copy_to: [township], explanation: 兜底, effective_from: 2022-08-04}\n",
}


def compose(**replaced: str) -> str:
    return "".join(replaced.get(section, text) for section, text in BASE.items())


def problems_of(text: str) -> list[str]:
    with pytest.raises(ReferenceDataError) as caught:
        check_reference_data(parse_reference_text(text, "broken.yaml"), "broken.yaml")
    return caught.value.problems


def test_minimal_file_is_valid():
    entries = check_reference_data(parse_reference_text(compose()))
    assert [e["code"] for e in entries["sectors"]] == ["gas"]
    assert str(entries["routing_rules"][0]["effective_from"]) == "2022-08-04"


@pytest.mark.parametrize("section, snippet, expected", [
    ("sectors", "sectors:\n  - {code: gas, name: 燃气, lead_department: zzz}\n",
     "sector 'gas': lead_department 'zzz' is not a department code"),
    ("townships", "townships:\n  - {code: a, name: 甲镇, kind: 镇, department: tw_nope}\n",
     "township 'a': department 'tw_nope' is not a department code"),
    ("townships", "townships:\n  - {code: a, name: 甲镇, kind: 镇, department: yjj}\n",
     "township 'a': department 'yjj' is a bureau, not a township government"),
    ("sectors", "sectors:\n  - {code: gas, name: 燃气, lead_department: tw_a}\n",
     "sector 'gas': lead_department 'tw_a' is a township government, not a district department"),
    ("townships", "townships:\n  - {code: a, name: 甲镇, kind: 村, department: tw_a}\n",
     "township 'a': kind '村' is not one of"),
    ("departments", BASE["departments"] + "  - {code: yjj, name: 又一个, kind: bureau}\n",
     "department 'yjj': duplicate code in section 'departments'"),
    ("departments", BASE["departments"] + "  - {code: mof, name: 财政局, kind: ministry}\n",
     "department 'mof': kind 'ministry' is not one of bureau, committee_office, township"),
    ("departments", BASE["departments"] + "  - {code: Y-J, name: 错误代码, kind: bureau}\n",
     "department 'Y-J': code must be"),
    ("sectors", "sectors:\n  - {code: gas, name: 燃气, lead_departmnet: yjj}\n",
     "sector 'gas': unknown field 'lead_departmnet'"),
    ("sectors", "sectors:\n  - {name: 燃气}\n", "sectors[1]: code is required"),
    ("categories", "categories:\n  - {code: hazard}\n", "category 'hazard': name is required"),
    ("categories", "categories:\n  - {code: hazard, name: 一般, active: maybe}\n",
     "category 'hazard': active must be true or false"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: boss, explanation: x}\n",
     "routing rule 'r1': accept_by 'boss' is not one of department, township, sector_lead"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: department, explanation: x}\n",
     "routing rule 'r1': accept_by 'department' needs a department_code"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: department, department_code: zzz, explanation: x}\n",
     "routing rule 'r1': department_code 'zzz' is not a department code"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: township, copy_to: [nobody], explanation: x}\n",
     "routing rule 'r1': copy_to 'nobody' is not a department code"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: township, category_codes: [nope], explanation: x}\n",
     "routing rule 'r1': category_codes 'nope' is not a category code"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: sector_lead, sector_codes: [gas, nope], explanation: x}\n",
     "routing rule 'r1': sector_codes 'nope' is not a sector code"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: township, keywords: 无证, explanation: x}\n",
     "routing rule 'r1': keywords must be a list"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: township, explanation: x, effective_from: 2022-13-40}\n",
     "routing rule 'r1': effective_from must be a date"),
    ("routing_rules", "routing_rules:\n  - {code: r1, accept_by: township}\n",
     "routing rule 'r1': explanation is required"),
    ("sectors", "sectors:\n  gas: 燃气\n", "section 'sectors' must be a list of entries"),
    ("sectors", BASE["sectors"] + "sectorz: []\n", "unknown section(s): sectorz"),
])
def test_broken_entry_is_named(section, snippet, expected):
    problems = problems_of(compose(**{section: snippet}))
    assert any(expected in problem for problem in problems), problems


def test_one_typo_gives_one_message_not_a_cascade():
    # The department with the typo still declares its code, so the township using it is not blamed too.
    departments = ("departments:\n  - {code: yjj, name: 区应急管理局, kind: bureau}\n"
                   "  - {code: tw_a, name: 甲镇人民政府, kind: township, dutys: x}\n")
    assert problems_of(compose(departments=departments)) == [
        "department 'tw_a': unknown field 'dutys' (known fields: code, name, name_en, kind, duties, "
        "email, phone, handles_tips, sort_order, active)"]


def test_broken_yaml_names_the_line():
    # A tab used for indentation is the classic hand-editing mistake.
    with pytest.raises(ReferenceDataError, match=r"broken.yaml: .*\n.*not valid YAML at line 3, column 1"):
        parse_reference_text("departments:\n  - {code: yjj, name: 区应急管理局, kind: bureau}\n\t- {code: x}\n",
                             "broken.yaml")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ReferenceDataError, match="cannot read the file"):
        read_reference_file(tmp_path / "nope.yaml")


def test_database_codes_count_as_known():
    data = parse_reference_text("sectors:\n  - {code: mines, name: 矿山, lead_department: yjj}\n")
    with pytest.raises(ReferenceDataError):
        check_reference_data(data)
    assert check_reference_data(data, known={"departments": {"yjj"}})["sectors"][0]["lead_department"] == "yjj"


# ------------------------------------------------------------------ the shipped 建安区 file

@pytest.fixture(scope="module")
def seed() -> dict:
    data = read_reference_file(SEED)
    return {"district": data["district"], **check_reference_data(data, str(SEED))}


def by_code(entries: list[dict]) -> dict[str, dict]:
    return {entry["code"]: entry for entry in entries}


def test_seed_sizes(seed):
    assert seed["district"] == {"name": "许昌市建安区", "province": "河南省", "city": "许昌市"}
    assert {s: len(seed[s]) for s in ("departments", "townships", "sectors", "categories", "routing_rules")} == {
        "departments": 37, "townships": 19, "sectors": 22, "categories": 5, "routing_rules": 8}


def test_every_jurisdiction_department_is_in_the_seed(seed):
    departments = by_code(seed["departments"])
    expected = {"yjj": "区应急管理局", "ajw": "区安委会办公室", "zjj": "区住房和城乡建设局", "jtj": "区交通运输局",
                "gaj": "区公安局", "xfj": "区消防救援大队", "scj": "区市场监管局", "kgj": "区科技和工业信息化局",
                "fgw": "区发展和改革委员会", "jyj": "区教育体育局", "slj": "区水利局", "mzj": "区民政局",
                "swj": "区商务局", "nyj": "区农业农村局", "zrzy": "自然资源和规划分局", "sthj": "生态环境分局",
                "rsj": "区人力资源和社会保障局", "wlj": "区文化广电和旅游局"}
    assert {code: departments[code]["name"] for code in expected} == expected
    assert departments["ajw"]["kind"] == "committee_office"
    assert all(d["name_en"] and d["duties"] for code, d in departments.items() if code in expected)


# JURISDICTION.md §1 and §4: which department leads each sector (None: routed by its own rule).
SECTOR_LEADS = [
    ("gas", "zjj"), ("hazchem", "yjj"), ("mining", "yjj"), ("industry", "yjj"), ("construction", "zjj"),
    ("road_traffic", "gaj"), ("transport", "jtj"), ("hazchem_transport", "jtj"), ("fire", "xfj"),
    ("special_equipment", "scj"), ("tourism", "wlj"), ("education", "jyj"), ("power", "fgw"),
    ("water", "slj"), ("elderly_care", "mzj"), ("commerce", "swj"), ("agriculture", "nyj"),
    ("crowded_venue", "zjj"), ("confined_space", None), ("new_energy", "kgj"), ("new_formats", None),
    ("other", None),
]


def test_sector_table_is_complete(seed):
    assert [s["code"] for s in seed["sectors"]] == [code for code, _ in SECTOR_LEADS]


@pytest.mark.parametrize("sector, lead", SECTOR_LEADS)
def test_sector_lead_matches_jurisdiction(seed, sector, lead):
    assert by_code(seed["sectors"])[sector].get("lead_department") == lead


# JURISDICTION.md §2: the 18 units and the development zone, with their kind and government.
TOWNSHIPS = [
    ("xuyou", "许由街道", "街道", "许由街道办事处"), ("xinyuan", "新元街道", "街道", "新元街道办事处"),
    ("dengzhuang", "邓庄街道", "街道", "邓庄街道办事处"), ("changcunzhang", "长村张街道", "街道", "长村张街道办事处"),
    ("jiangguanchi", "将官池镇", "镇", "将官池镇人民政府"), ("wunvdian", "五女店镇", "镇", "五女店镇人民政府"),
    ("shangji", "尚集镇", "镇", "尚集镇人民政府"), ("suqiao", "苏桥镇", "镇", "苏桥镇人民政府"),
    ("jianglij", "蒋李集镇", "镇", "蒋李集镇人民政府"), ("zhangpan", "张潘镇", "镇", "张潘镇人民政府"),
    ("lingjing", "灵井镇", "镇", "灵井镇人民政府"), ("chencao", "陈曹乡", "乡", "陈曹乡人民政府"),
    ("xiaozhao", "小召乡", "乡", "小召乡人民政府"), ("hejie", "河街乡", "乡", "河街乡人民政府"),
    ("guicun", "桂村乡", "乡", "桂村乡人民政府"), ("shenjian", "椹涧乡", "乡", "椹涧乡人民政府"),
    ("yulin", "榆林乡", "乡", "榆林乡人民政府"), ("aizhuang", "艾庄回族乡", "民族乡", "艾庄回族乡人民政府"),
    ("kaifaqu", "先进制造业开发区", "开发区", "先进制造业开发区管委会"),
]


@pytest.mark.parametrize("code, name, kind, government", TOWNSHIPS)
def test_township_matches_jurisdiction(seed, code, name, kind, government):
    township = by_code(seed["townships"])[code]
    department = by_code(seed["departments"])[township["department"]]
    assert (township["name"], township["kind"]) == (name, kind)
    assert (department["name"], department["kind"]) == (government, "township")


def test_categories_are_the_five_of_rules(seed):
    assert [(c["code"], c["name"]) for c in seed["categories"]] == [
        ("major_hazard", "重大事故隐患"), ("hazard", "一般事故隐患"), ("violation", "安全生产违法行为"),
        ("concealed_accident", "瞒报、谎报、迟报、漏报生产安全事故"), ("other", "其他")]


# JURISDICTION.md §3, in the order the rules are tried:
# (code, categories, sectors, accept_by, department, copy_to, supervised)
RULES = [
    ("r1_concealed_accident", ["concealed_accident"], None, "department", "ajw", ["sector_lead"], True),
    ("r1_death", None, None, "department", "ajw", ["sector_lead"], True),
    ("r2_illegal_operation", ["violation"], None, "township", None, ["sector_lead"], False),
    ("r4_hazchem_transport", None, ["hazchem_transport"], "department", "jtj", ["gaj", "yjj"], False),
    ("r5_confined_space", None, ["confined_space"], "department", "yjj", ["township"], False),
    ("r6_new_formats", None, ["new_formats"], "department", "ajw", [], False),
    ("r3_sector_lead", None, None, "sector_lead", None, ["township"], False),
    ("r7_fallback", None, None, "department", "ajw", [], False),
]


def test_rules_are_tried_in_the_documented_order(seed):
    ordered = sorted(seed["routing_rules"], key=lambda r: r["priority"])
    assert [r["code"] for r in ordered] == [rule[0] for rule in RULES]


@pytest.mark.parametrize("code, categories, sectors, accept_by, department, copy_to, supervised", RULES)
def test_rule_matches_jurisdiction(seed, code, categories, sectors, accept_by, department, copy_to, supervised):
    rule = by_code(seed["routing_rules"])[code]
    assert (rule.get("category_codes"), rule.get("sector_codes")) == (categories, sectors)
    assert (rule["accept_by"], rule.get("department_code"), rule.get("copy_to")) == (accept_by, department, copy_to)
    assert bool(rule.get("supervised")) is supervised
    assert str(rule["effective_from"]) == "2022-08-04"
    assert rule["explanation"] and rule["source"]


@pytest.mark.parametrize("code, words", [
    ("r1_death", {"死亡", "身亡", "遇难", "丧生", "致死", "去世", "出了人命"}),
    ("r2_illegal_operation", {"无证", "无照", "非法", "黑作坊", "小作坊", "私自", "未取得许可"}),
])
def test_rule_keywords(seed, code, words):
    assert words <= set(by_code(seed["routing_rules"])[code]["keywords"])
