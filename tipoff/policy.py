"""Who may do what: roles, the permissions each holds, and which roles belong to a department.

Policy is data: the tables below are the single place to read or change it.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    ADMIN = "admin"          # 系统管理员: users, reference data, keys
    OVERSEER = "overseer"    # 区安委会办公室: sees every department's cases, arbitrates
    HANDLER = "handler"      # 承办人 of one department
    LEADER = "leader"        # 负责人 of one department: approvals
    FINANCE = "finance"      # 财务: records payments
    CUSTODIAN = "custodian"  # 保密员: decides identity disclosure
    OPERATOR = "operator"    # 录入员: enters tips received by hotline, phone, letter, visit, e-mail


ROLE_LABELS = {
    Role.ADMIN: "系统管理员",
    Role.OVERSEER: "区安委会办公室（督办）",
    Role.HANDLER: "承办人",
    Role.LEADER: "部门负责人",
    Role.FINANCE: "财务人员",
    Role.CUSTODIAN: "保密员",
    Role.OPERATOR: "录入员",
}


class DepartmentRule(str, Enum):
    REQUIRED = "required"
    OPTIONAL = "optional"
    NONE = "none"


# Department membership per role: handlers, leaders and finance officers act for one department
# (谁受理、谁处罚、谁奖励); the others are district-wide.
DEPARTMENT_RULES = {
    Role.ADMIN: DepartmentRule.NONE,
    Role.OVERSEER: DepartmentRule.OPTIONAL,
    Role.HANDLER: DepartmentRule.REQUIRED,
    Role.LEADER: DepartmentRule.REQUIRED,
    Role.FINANCE: DepartmentRule.REQUIRED,
    Role.CUSTODIAN: DepartmentRule.OPTIONAL,
    Role.OPERATOR: DepartmentRule.OPTIONAL,
}


@dataclass(frozen=True)
class Permission:
    code: str
    scope: str  # "district": everything; "department": only the user's own department


P = Permission
PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset({
        P("users.manage", "district"), P("users.view", "district"), P("reference.manage", "district"), P("keys.view", "district"),
        P("audit.view", "district"), P("staff.home", "district"), P("routing.test", "district"),
        P("rewards.configure", "district"), P("enterprises.manage", "district"),
    }),
    Role.OVERSEER: frozenset({
        P("audit.view", "district"), P("cases.view", "district"), P("users.view", "district"),
        P("disclosures.request", "district"), P("routing.test", "district"), P("routing.adopt", "district"),
        P("rewards.view", "district"), P("oversight.view", "district"), P("typical_cases.manage", "district"),
        P("exports.run", "district"), P("cases.legal_hold", "district"),
        P("staff.home", "district"),
    }),
    Role.LEADER: frozenset({
        P("audit.view", "department"), P("cases.view", "department"), P("users.view", "department"),
        P("disclosures.request", "department"), P("rewards.view", "department"),
        P("oversight.view", "department"), P("enterprises.manage", "department"), P("exports.run", "department"),
        P("staff.home", "department"),
    }),
    Role.HANDLER: frozenset({P("cases.view", "department"), P("disclosures.request", "department"),
                             P("rewards.view", "department"), P("enterprises.manage", "department"),
                             P("exports.run", "department"), P("staff.home", "department")}),
    Role.FINANCE: frozenset({P("staff.home", "department"), P("rewards.view", "department"),
                             P("disclosures.request", "department")}),
    Role.CUSTODIAN: frozenset({P("disclosures.decide", "district"), P("staff.home", "district")}),
    Role.OPERATOR: frozenset({P("tips.enter", "district"), P("staff.home", "district")}),
}


def scope_of(role: str | Role, permission: str) -> str | None:
    """Return "district", "department" or None (not allowed) for a role and a permission code."""
    try:
        granted = PERMISSIONS[Role(role)]
    except ValueError:
        return None
    scopes = {p.scope for p in granted if p.code == permission}
    if "district" in scopes:
        return "district"
    return "department" if scopes else None


def department_rule(role: str | Role) -> DepartmentRule:
    """How a role relates to departments (required, optional or none)."""
    return DEPARTMENT_RULES[Role(role)]
