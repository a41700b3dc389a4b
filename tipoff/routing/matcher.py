"""The routing matcher: a pure function from a tip's facts and the routing table to a decision.

No Flask, no database: the rules, the sectors' lead departments and the townships' governments are
passed in, so the table can be tested case by case against the seed's assignments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

TOWNSHIP = "township"
SECTOR_LEAD = "sector_lead"


@dataclass(frozen=True)
class Rule:
    """One row of the routing table."""

    code: str
    priority: int
    accept_by: str  # "department", "township" or "sector_lead"
    explanation: str
    department_code: str | None = None
    category_codes: tuple[str, ...] = ()
    sector_codes: tuple[str, ...] = ()
    township_codes: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    copy_to: tuple[str, ...] = ()
    supervised: bool = False

    @property
    def specificity(self) -> int:
        """How many kinds of condition the rule sets (more specific rules win ties)."""
        return sum(bool(x) for x in (self.category_codes, self.sector_codes, self.township_codes, self.keywords))


@dataclass(frozen=True)
class TipFacts:
    """What routing looks at."""

    category: str
    sector: str
    township: str | None
    text: str = ""


@dataclass(frozen=True)
class Jurisdiction:
    """Who leads each sector and which department governs each township."""

    sector_leads: Mapping[str, str | None]
    township_departments: Mapping[str, str | None]
    names: Mapping[str, str] = field(default_factory=dict)  # department code -> name, for explanations


@dataclass(frozen=True)
class Decision:
    """Where a tip goes, why, and who is copied."""

    department_code: str
    copy_to: tuple[str, ...]
    supervised: bool
    rule_code: str
    explanation: str


class NoRouteError(LookupError):
    """No rule could place the tip (the table lacks a fallback)."""


_SPACE = re.compile(r"\s+")


def _normalise(text: str) -> str:
    return _SPACE.sub("", text or "").lower()


def _matches(rule: Rule, facts: TipFacts, text: str) -> bool:
    if rule.category_codes and facts.category not in rule.category_codes:
        return False
    if rule.sector_codes and facts.sector not in rule.sector_codes:
        return False
    if rule.township_codes and facts.township not in rule.township_codes:
        return False
    if rule.keywords and not any(_normalise(k) in text for k in rule.keywords):
        return False
    return True


def _resolve(target: str | None, facts: TipFacts, where: Jurisdiction) -> str | None:
    if target == TOWNSHIP:
        code = where.township_departments.get(facts.township or "")
    elif target == SECTOR_LEAD:
        code = where.sector_leads.get(facts.sector)
    else:
        code = target
    # A department that is not (or no longer) active cannot accept or be copied.
    return code if code in where.names else None


def ordered(rules: Iterable[Rule]) -> list[Rule]:
    """Rules in the order they are tried: priority, then the more specific first, then code."""
    return sorted(rules, key=lambda r: (r.priority, -r.specificity, r.code))


@dataclass(frozen=True)
class Step:
    """One rule as the matcher met it: whether it matched and, if so, whom it resolved to."""

    rule: Rule
    matched: bool
    accepting: str | None = None  # None when it did not match or its target could not be resolved
    decision: Decision | None = None  # set on the rule that decided


def walk(facts: TipFacts, rules: Sequence[Rule], where: Jurisdiction) -> Iterator[Step]:
    """Every rule in the order tried, up to and including the one that decides (for the dry run)."""
    text = _normalise(facts.text)
    for rule in ordered(rules):
        if not _matches(rule, facts, text):
            yield Step(rule, False)
            continue
        accepting = _resolve(rule.department_code if rule.accept_by == "department" else rule.accept_by,
                             facts, where)
        if not accepting:
            yield Step(rule, True)  # e.g. "sector lead" for a sector without one: a later rule decides
            continue
        copies: list[str] = []
        for target in rule.copy_to:
            code = _resolve(target, facts, where)
            if code and code != accepting and code not in copies:
                copies.append(code)
        yield Step(rule, True, accepting, Decision(accepting, tuple(copies), rule.supervised, rule.code,
                                                   explain(rule, accepting, copies, where)))
        return


def route(facts: TipFacts, rules: Sequence[Rule], where: Jurisdiction) -> Decision:
    """Return the first matching rule's decision; a rule whose target cannot be resolved is skipped."""
    for step in walk(facts, rules, where):
        if step.decision:
            return step.decision
    raise NoRouteError("no routing rule matched and the table has no fallback rule")


def explain(rule: Rule, accepting: str, copies: Sequence[str], where: Jurisdiction) -> str:
    """One line staff read: the accepting department, the copies, and the rule's own reason."""
    name = where.names.get(accepting, accepting)
    line = f"{name}受理"
    if rule.supervised:
        line += "（挂牌督办）"
    if copies:
        line += "；抄送：" + "、".join(where.names.get(c, c) for c in copies)
    return f"{line}。{rule.explanation}"
