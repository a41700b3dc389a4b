"""Reward test fixtures."""
from __future__ import annotations

import pytest


@pytest.fixture
def people(app, make_staff):
    """Staff of 区住房和城乡建设局 (zjj) and around it (ORM users are loaded inside each app context)."""
    return {key: make_staff(role, department) for key, role, department in (
        ("handler", "handler", "zjj"), ("handler2", "handler", "zjj"), ("leader", "leader", "zjj"),
        ("finance", "finance", "zjj"), ("overseer", "overseer", None), ("custodian", "custodian", None),
        ("other_leader", "leader", "yjj"), ("other_finance", "finance", "yjj"))}
