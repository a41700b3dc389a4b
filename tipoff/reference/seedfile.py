"""Reading and checking a reference-data seed file (参考数据种子文件); pure, no Flask, no database.

The file's shape is documented in `tipoff/reference/data/jianan.yaml`. `check_reference_data` names
every problem at once, each by its entry ("sector 'gas': lead_department 'zzz' is not a department
code"), so an administrator editing a copy for another district can fix them in one pass.
"""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Mapping

import yaml

# Loading order matters: townships and sectors refer to departments, rules to everything.
SECTIONS = ("departments", "townships", "categories", "sectors", "routing_rules")
ENTRY_LABELS = {
    "departments": "department", "townships": "township", "categories": "category",
    "sectors": "sector", "routing_rules": "routing rule",
}

TEXT, FLAG, NUMBER, CODES, DAY = "text", "flag", "number", "codes", "day"
# field -> kind; the ones in REQUIRED must be present and non-empty.
FIELDS: dict[str, dict[str, str]] = {
    "departments": {"code": TEXT, "name": TEXT, "name_en": TEXT, "kind": TEXT, "duties": TEXT,
                    "email": TEXT, "phone": TEXT, "handles_tips": FLAG, "sort_order": NUMBER,
                    "active": FLAG},
    "townships": {"code": TEXT, "name": TEXT, "name_en": TEXT, "kind": TEXT, "department": TEXT,
                  "sort_order": NUMBER, "active": FLAG},
    "categories": {"code": TEXT, "name": TEXT, "name_en": TEXT, "description": TEXT,
                   "sort_order": NUMBER, "active": FLAG},
    "sectors": {"code": TEXT, "name": TEXT, "name_en": TEXT, "description": TEXT,
                "lead_department": TEXT, "sort_order": NUMBER, "active": FLAG},
    "routing_rules": {"code": TEXT, "priority": NUMBER, "category_codes": CODES, "sector_codes": CODES,
                      "township_codes": CODES, "keywords": CODES, "accept_by": TEXT,
                      "department_code": TEXT, "copy_to": CODES, "supervised": FLAG,
                      "explanation": TEXT, "source": TEXT, "effective_from": DAY, "active": FLAG},
}
REQUIRED = {
    "departments": ("code", "name", "kind"),
    "townships": ("code", "name", "kind"),
    "categories": ("code", "name"),
    "sectors": ("code", "name"),
    "routing_rules": ("code", "accept_by", "explanation"),
}
DEPARTMENT_KINDS = ("bureau", "committee_office", "township")
TOWNSHIP_KINDS = ("街道", "镇", "乡", "民族乡", "开发区")
ACCEPT_BY = ("department", "township", "sector_lead")
COPY_WORDS = ("township", "sector_lead")
CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Which section a rule's code list refers to.
RULE_REFERENCES = {"category_codes": "categories", "sector_codes": "sectors", "township_codes": "townships"}


class _SeedLoader(yaml.SafeLoader):
    """Safe YAML without implicit dates: a bad date is then reported by its entry, not as a crash."""


_SeedLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class ReferenceDataError(ValueError):
    """A seed file that cannot be loaded; `problems` names each offending entry."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        listing = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"reference data {source}: {len(problems)} problem(s), nothing loaded:\n{listing}")


def read_reference_file(path: Path) -> dict[str, Any]:
    """Read a seed file as YAML; a missing file or broken YAML raises ReferenceDataError."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ReferenceDataError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    return parse_reference_text(text, str(path))


def parse_reference_text(text: str, source: str = "<text>") -> dict[str, Any]:
    """Parse seed YAML into a mapping; broken YAML raises ReferenceDataError with its line."""
    try:
        # _SeedLoader is a SafeLoader subclass: no arbitrary objects (bandit B506 sees only yaml.load).
        data = yaml.load(text, Loader=_SeedLoader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ReferenceDataError(source, [f"not valid YAML{where}: {problem}"]) from None
    if not isinstance(data, dict):
        raise ReferenceDataError(source, ["the file must be a mapping with the sections "
                                          + ", ".join(("district",) + SECTIONS)])
    return data


def _label(section: str, position: int, entry: Any) -> str:
    code = entry.get("code") if isinstance(entry, dict) else None
    if isinstance(code, str) and code:
        return f"{ENTRY_LABELS[section]} '{code}'"
    return f"{section}[{position + 1}]"


def _check_value(kind: str, value: Any) -> str | None:
    """Return what is wrong with one field value (None: fine). None values are always allowed."""
    if value is None:
        return None
    if kind == TEXT and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
        return "must be text"
    if kind == FLAG and not isinstance(value, bool):
        return "must be true or false"
    if kind == NUMBER and (not isinstance(value, int) or isinstance(value, bool)):
        return "must be a whole number"
    if kind == CODES and (not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value)):
        return "must be a list of words, e.g. [a, b]"
    if kind == DAY and not isinstance(value, date):
        try:
            date.fromisoformat(str(value))
        except ValueError:
            return "must be a date written YYYY-MM-DD"
    return None


def normalise_entry(section: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    """Trim text, turn numbers written as text into text and dates into `date`; only fields given."""
    out: dict[str, Any] = {}
    for name, value in entry.items():
        kind = FIELDS[section].get(name)
        if value is None or kind is None:
            out[name] = value
        elif kind == TEXT:
            text = str(value).strip()
            out[name] = text or None
        elif kind == CODES:
            out[name] = [str(v).strip() for v in value]
        elif kind == DAY and not isinstance(value, date):
            out[name] = date.fromisoformat(str(value))
        else:
            out[name] = value
    return out


def _check_entries(data: Mapping[str, Any], problems: list[str],
                   declared: dict[str, set[str]]) -> dict[str, list[dict]]:
    """Check each section's list and each entry's fields; return the well-formed entries by section."""
    good: dict[str, list[dict]] = {}
    for section in SECTIONS:
        entries = data.get(section)
        good[section] = []
        declared[section] = set()
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.append(f"section '{section}' must be a list of entries")
            continue
        seen = declared[section]
        for position, entry in enumerate(entries):
            label = _label(section, position, entry)
            if not isinstance(entry, dict):
                problems.append(f"{label}: must be a mapping of fields (name: value)")
                continue
            before = len(problems)
            for name in entry:
                if name not in FIELDS[section]:
                    known = ", ".join(FIELDS[section])
                    problems.append(f"{label}: unknown field '{name}' (known fields: {known})")
                elif (wrong := _check_value(FIELDS[section][name], entry[name])) is not None:
                    problems.append(f"{label}: {name} {wrong}")
            for name in REQUIRED[section]:
                if entry.get(name) is None or str(entry.get(name)).strip() == "":
                    problems.append(f"{label}: {name} is required")
            code = entry.get("code")
            if isinstance(code, str) and code:
                if not CODE_PATTERN.match(code):
                    problems.append(f"{label}: code must be 1–32 lowercase letters, digits or '_', "
                                    "starting with a letter")
                if code in seen:
                    problems.append(f"{label}: duplicate code in section '{section}'")
                seen.add(code)
            if len(problems) == before:
                good[section].append(normalise_entry(section, entry))
    return good


def _check_references(good: dict[str, list[dict]], codes: Mapping[str, set[str]],
                      problems: list[str]) -> None:
    """Check kinds and that every code an entry refers to exists in `codes`."""
    departments = codes["departments"]
    for entry in good["departments"]:
        if entry["kind"] not in DEPARTMENT_KINDS:
            problems.append(f"department '{entry['code']}': kind '{entry['kind']}' is not one of "
                            + ", ".join(DEPARTMENT_KINDS))
    # Kinds are known for the file's own departments; a township is governed by a township department
    # and a sector is led by a district one.
    kinds = {entry["code"]: entry["kind"] for entry in good["departments"]}
    for entry in good["townships"]:
        label, government = f"township '{entry['code']}'", entry.get("department")
        if entry["kind"] not in TOWNSHIP_KINDS:
            problems.append(f"{label}: kind '{entry['kind']}' is not one of " + ", ".join(TOWNSHIP_KINDS))
        if government and government not in departments:
            problems.append(f"{label}: department '{government}' is not a department code")
        elif government and kinds.get(government, "township") != "township":
            problems.append(f"{label}: department '{government}' is a {kinds[government]}, "
                            "not a township government (kind: township)")
    for entry in good["sectors"]:
        label, lead = f"sector '{entry['code']}'", entry.get("lead_department")
        if lead and lead not in departments:
            problems.append(f"{label}: lead_department '{lead}' is not a department code")
        elif lead and kinds.get(lead) == "township":
            problems.append(f"{label}: lead_department '{lead}' is a township government, "
                            "not a district department")
    for entry in good["routing_rules"]:
        _check_rule(entry, codes, problems)


def _check_rule(rule: dict, codes: Mapping[str, set[str]], problems: list[str]) -> None:
    """Check one routing rule's accepting party, copies and the codes it matches on."""
    label = f"routing rule '{rule['code']}'"
    accept_by, department = rule["accept_by"], rule.get("department_code")
    if accept_by not in ACCEPT_BY:
        problems.append(f"{label}: accept_by '{accept_by}' is not one of " + ", ".join(ACCEPT_BY))
    elif accept_by == "department" and not department:
        problems.append(f"{label}: accept_by 'department' needs a department_code")
    elif accept_by != "department" and department:
        problems.append(f"{label}: department_code is only used with accept_by 'department'")
    if department and department not in codes["departments"]:
        problems.append(f"{label}: department_code '{department}' is not a department code")
    for target in rule.get("copy_to") or []:
        if target not in COPY_WORDS and target not in codes["departments"]:
            problems.append(f"{label}: copy_to '{target}' is not a department code, "
                            "'township' or 'sector_lead'")
    for field_name, section in RULE_REFERENCES.items():
        for code in rule.get(field_name) or []:
            if code not in codes[section]:
                problems.append(f"{label}: {field_name} '{code}' is not a {ENTRY_LABELS[section]} code")


def check_reference_data(data: Mapping[str, Any], source: str = "<data>",
                         known: Mapping[str, set[str]] | None = None) -> dict[str, list[dict]]:
    """Validate parsed seed data; return normalised entries by section or raise ReferenceDataError.

    `known` adds codes that already exist in the database, so a supplementary file may refer to them.
    """
    problems: list[str] = []
    unknown_sections = sorted(set(data) - set(SECTIONS) - {"district"})
    if unknown_sections:
        problems.append("unknown section(s): " + ", ".join(map(str, unknown_sections))
                        + " (known: district, " + ", ".join(SECTIONS) + ")")
    district = data.get("district")
    if district is not None and not (isinstance(district, dict) and district.get("name")):
        problems.append("district: must be a mapping with at least a name")
    # Codes declared by entries with other faults still count, so one typo gives one message.
    declared: dict[str, set[str]] = {}
    good = _check_entries(data, problems, declared)
    known = known or {}
    _check_references(good, {s: declared[s] | set(known.get(s, ())) for s in SECTIONS}, problems)
    if problems:
        raise ReferenceDataError(source, problems)
    return good
