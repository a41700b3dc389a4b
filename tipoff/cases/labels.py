"""Words for the codes a case's history stores: which action an event was and what it recorded.

The history keeps codes (`accept`, `{"enforcement": ["penalty"], "fine": "0"}`) so that records stay
stable when a label is reworded; staff read them in words, in the page's language.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from tipoff.cases.workflow import ENFORCEMENT, OUTCOMES, REJECTION_REASONS, REPORTER_TRANSITIONS, TRANSITIONS
from tipoff.rewards.grades import GRADE_NAMES

ACTION_LABELS = {action: t.label for action, t in {**TRANSITIONS, **REPORTER_TRANSITIONS}.items()}
EVIDENCE_KINDS = {"image": "照片", "pdf": "PDF 文件", "office": "文档", "audio": "录音", "video": "视频"}

# What an event's details hold, in the order shown: (key, label, the words for its value's codes).
# Keys not listed (internal ids such as the extension request's) are not shown.
DEPARTMENT = "department"
DETAILS: tuple[tuple[str, str, Mapping[str, str] | str | None], ...] = (
    ("outcome", "核查结论", OUTCOMES),
    ("enforcement", "处理措施", ENFORCEMENT),
    ("fine", "罚款（元）", None),
    ("penalty_decision_no", "处罚决定书文号", None),
    ("concealed_deaths", "瞒报死亡人数", None),
    ("accident_grade", "事故等级", GRADE_NAMES),
    ("reason_code", "理由", REJECTION_REASONS),
    ("requested", "申请移交至", DEPARTMENT),
    ("to", "承办部门", DEPARTMENT),
    ("hours_spent", "在本部门停留（小时）", None),
    ("days", "天数", None),
    ("with", "关联案件", None),
    ("into", "并入案件", None),
    ("matter", "同一事项", None),
)


def describe_details(details: Mapping[str, Any] | None, *, department_name: Callable[[str], str],
                     translate: Callable[[str], str] = lambda text: text) -> list[tuple[str, str]]:
    """(label, value) pairs for an event's details, codes put in words; empty values left out."""
    shown = []
    for key, label, words in DETAILS:
        value = (details or {}).get(key)
        if value is None or value == "" or value == []:
            continue
        values = value if isinstance(value, list) else [value]
        if words == DEPARTMENT:
            text = "、".join(department_name(str(v)) for v in values)
        elif words:
            text = "、".join(translate(words.get(str(v), str(v))) for v in values)
        else:
            text = "、".join(str(v) for v in values)
        shown.append((translate(label), text))
    return shown
