"""bandit (static security analysis) finds nothing of medium or high severity in the project's code.

A finding that is a false positive is silenced in the code with `# nosec <test id>` and a reason on
the same line, e.g. bench.seed's raw SQL, whose table and column names come from our models
(quoted with connection.ops.quote_name) and whose values are integer primary keys.
"""

import json
import subprocess
import sys
from pathlib import Path

from .conftest import PRODUCT_PACKAGES

BASE_DIR = Path(__file__).resolve().parents[2]
# The product, plus the bench seeder's raw SQL.
PACKAGES = [*PRODUCT_PACKAGES, "bench"]


def test_bandit_finds_no_medium_or_high_issue():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", *PACKAGES, "-ll", "-f", "json", "-q"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(result.stdout)
    findings = [
        f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_severity']}: {r['issue_text']}"
        for r in report["results"]
    ]
    assert not findings, "bandit findings (fix, or add `# nosec <id>` with the reason):\n" + "\n".join(findings)
    assert not report["errors"], report["errors"]
    assert result.returncode == 0, result.stderr


def test_every_nosec_names_its_test_and_gives_a_reason():
    unexplained = []
    for package in PACKAGES:
        for path in (BASE_DIR / package).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if "# nosec" in line:
                    after = line.split("# nosec", 1)[1].strip()
                    test_id, _, reason = after.partition(" ")
                    if not test_id.startswith("B") or len(reason.strip(" -:")) < 10:
                        unexplained.append(f"{path.relative_to(BASE_DIR)}:{number}")
    assert not unexplained, f"`# nosec` without a test id and a reason: {unexplained}"
