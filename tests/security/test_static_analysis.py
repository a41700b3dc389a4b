"""bandit over tipoff/ is part of the suite, not only of CI: a finding fails `make test` on a laptop too.

Every `# nosec` in tipoff/ names its check and is justified in SECURITY-FINDINGS.md; this test also
refuses a bare `# nosec` that would silence every check on its line.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOSEC = re.compile(r"#\s*nosec", re.IGNORECASE)


def test_bandit_finds_nothing_in_tipoff():
    bandit = Path(sys.executable).with_name("bandit")
    result = subprocess.run([str(bandit), "-r", "tipoff", "-q", "-f", "txt"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]


def test_every_nosec_names_its_check_and_is_justified():
    findings = (ROOT / "SECURITY-FINDINGS.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "tipoff").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not NOSEC.search(line):  # bandit's own pattern: "#nosec" silences as well as "# nosec"
                continue
            where = f"{path.relative_to(ROOT)}:{number}"
            checks = re.findall(r"#\s*nosec ((?:B\d{3}[ ,]*)+)", line)
            assert checks, f"{where}: a bare `# nosec` silences every check; name the one it answers"
            for check in re.findall(r"B\d{3}", checks[0]):
                assert check in findings, f"{where}: {check} is not justified in SECURITY-FINDINGS.md"
