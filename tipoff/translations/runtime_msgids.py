"""UI strings that the code translates at run time, listed so `make translations-update` extracts them.

The tables below are passed to gettext as variables (`_(user.role_label)` in the templates,
`_(message)` in tipoff/errors.py), which babel's extractor cannot see. Keep this list in step
with tipoff/policy.py ROLE_LABELS and tipoff/errors.py HTTP_MESSAGES; drop an entry once its
source marks the string for extraction itself (e.g. with a no-op `N_()`).
This module is never imported: babel only reads it.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark a string for extraction without translating it (a no-op)."""
    return message


# tipoff.policy.ROLE_LABELS
ROLE_LABELS = (
    N_("系统管理员"),
    N_("区安委会办公室（督办）"),
    N_("承办人"),
    N_("部门负责人"),
    N_("财务人员"),
    N_("保密员"),
    N_("录入员"),
)

# tipoff.errors.HTTP_MESSAGES
HTTP_MESSAGES = (
    N_("请求格式不正确。"),
    N_("请先登录。"),
    N_("您没有权限访问此页面。"),
    N_("找不到您要的页面。"),
    N_("不支持此请求方法。"),
    N_("提交的内容太大。"),
    N_("不支持此内容类型。"),
    N_("操作过于频繁，请稍后再试。"),
    N_("服务器出错，请稍后再试。您填写的内容没有丢失。"),
    N_("服务暂时不可用，请稍后再试。"),
)
