"""A case's history in words: each stored code of an event's details shown as staff say it."""
from __future__ import annotations

import pytest

from tipoff.cases.labels import ACTION_LABELS, describe_details
from tipoff.cases.workflow import REPORTER_TRANSITIONS, TRANSITIONS

DEPARTMENTS = {"zjj": "区住房和城乡建设局", "aqw": "区安委会办公室"}


@pytest.mark.parametrize("details, shown", [
    (None, []),
    ({}, []),
    ({"outcome": "substantiated", "enforcement": ["rectification_order", "penalty"], "fine": "100000.00",
      "penalty_decision_no": "建应急罚〔2026〕12号"},
     [("核查结论", "属实"), ("处理措施", "责令限期整改、行政处罚"), ("罚款（元）", "100000.00"),
      ("处罚决定书文号", "建应急罚〔2026〕12号")]),
    ({"outcome": "unsubstantiated", "enforcement": [], "fine": None, "penalty_decision_no": None},
     [("核查结论", "不属实")]),                                  # empty values are left out
    ({"reason_code": "no_facts"}, [("理由", "举报内容不具体，无法核查")]),
    ({"to": "zjj", "hours_spent": 3}, [("承办部门", "区住房和城乡建设局"), ("在本部门停留（小时）", "3")]),
    ({"requested": "zjj", "to": "aqw", "hours_spent": 0},
     [("申请移交至", "区住房和城乡建设局"), ("承办部门", "区安委会办公室"), ("在本部门停留（小时）", "0")]),
    ({"days": 10, "request": 41}, [("天数", "10")]),            # an internal id is not shown
    ({"concealed_deaths": 2, "accident_grade": "larger"}, [("瞒报死亡人数", "2"), ("事故等级", "较大事故")]),
    ({"with": "JA-2026-000002", "matter": "JA-2026-000001"},
     [("关联案件", "JA-2026-000002"), ("同一事项", "JA-2026-000001")]),
    ({"outcome": "a_future_code"}, [("核查结论", "a_future_code")]),  # an unknown code stays readable as itself
])
def test_details_in_words(details, shown):
    assert describe_details(details, department_name=lambda code: DEPARTMENTS.get(code, code)) == shown


def test_every_action_a_case_can_record_has_words():
    assert set(ACTION_LABELS) == set(TRANSITIONS) | set(REPORTER_TRANSITIONS)
    assert all(ACTION_LABELS.values())
