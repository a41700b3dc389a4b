"""Accident grades (生产安全事故报告和调查处理条例 art. 3, RULES.md §4): the highest grade any measure reaches.

"以上" includes the number, "以下" excludes it: 3 deaths is 较大, 2 is 一般. Pure: no Flask, no database.
"""
from __future__ import annotations

from decimal import Decimal

GRADES = ("general", "larger", "major", "especially_major")
GRADE_NAMES = {"general": "一般事故", "larger": "较大事故", "major": "重大事故", "especially_major": "特别重大事故"}
# The lower bound of 较大, 重大 and 特别重大 for each measure.
THRESHOLDS = {
    "deaths": (3, 10, 30),
    "serious_injuries": (10, 50, 100),
    "direct_loss": (Decimal("10000000"), Decimal("50000000"), Decimal("100000000")),
}
MEASURE_NAMES = {"deaths": "死亡人数", "serious_injuries": "重伤人数", "direct_loss": "直接经济损失"}


def grade_of(deaths: int = 0, serious_injuries: int = 0, direct_loss: Decimal = Decimal(0)) -> str:
    """The grade the casualty figures give: for each measure count the bounds reached; take the highest."""
    figures = {"deaths": deaths, "serious_injuries": serious_injuries, "direct_loss": direct_loss}
    level = max(sum(value >= bound for bound in THRESHOLDS[name]) for name, value in figures.items())
    return GRADES[level]


def deciding_measure(deaths: int = 0, serious_injuries: int = 0, direct_loss: Decimal = Decimal(0)) -> str:
    """Which measure set the grade (for explanations); deaths when several tie."""
    figures = {"deaths": deaths, "serious_injuries": serious_injuries, "direct_loss": direct_loss}
    levels = {name: sum(value >= bound for bound in THRESHOLDS[name]) for name, value in figures.items()}
    top = max(levels.values())
    return next(name for name in ("deaths", "serious_injuries", "direct_loss") if levels[name] == top)
