"""`flask tipoff reference load|show`."""
from __future__ import annotations


def test_show_counts_active_rows(runner):
    result = runner.invoke(args=["tipoff", "reference", "show"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "22 active /   22" in lines["sectors"]
    assert "19 active /   19" in lines["townships"]


def test_load_default_file_is_idempotent(runner):
    result = runner.invoke(args=["tipoff", "reference", "load"])
    assert result.exit_code == 0, result.output
    assert "departments +0, townships +0, sectors +0, categories +0, routing rules +0 (0 updated)" in result.output


def test_load_update_from_a_given_file(runner, tmp_path):
    changed = tmp_path / "changed.yaml"
    changed.write_text("sectors:\n  - {code: other, name: 其他, lead_department: ajw}\n", encoding="utf-8")
    result = runner.invoke(args=["tipoff", "reference", "load", str(changed), "--update"])
    assert result.exit_code == 0, result.output
    assert "sectors +0" in result.output and "(1 updated)" in result.output


def test_load_broken_file_fails_naming_the_entry(runner, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("sectors:\n  - {code: gas, name: 燃气, lead_department: zzz}\n", encoding="utf-8")
    result = runner.invoke(args=["tipoff", "reference", "load", str(broken)])
    assert result.exit_code != 0
    assert "sector 'gas': lead_department 'zzz' is not a department code" in result.output
