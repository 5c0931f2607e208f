"""`make test` audits the dependencies: a known vulnerability fails it, and what could not be checked is said aloud."""
from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _target(name: str) -> tuple[str, list[str]]:
    """A Makefile target's prerequisites line and its recipe lines."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}:(.*)\n((?:\t.*\n)*)", makefile, re.MULTILINE)
    assert match, f"no `{name}` target"
    return match.group(1), [line.strip() for line in match.group(2).splitlines()]


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("audit_script", ROOT / "scripts" / "audit.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_make_test_runs_the_audit() -> None:
    prerequisites, _ = _target("test")
    assert "audit" in prerequisites.split()
    _, recipe = _target("audit")
    assert recipe == ["$(BIN)/python scripts/audit.py"]


def test_pip_audit_is_pinned_in_the_test_extras() -> None:
    assert re.search(r'"pip-audit==[0-9.]+"', (ROOT / "pyproject.toml").read_text())


CLEAN_NPM = {"auditReportVersion": 2, "vulnerabilities": {}, "metadata": {}}
REFUSED_NPM = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk"}


def test_a_known_python_vulnerability_fails(audit: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [
        {"name": "flask", "version": "0.12", "vulns": [{"id": "PYSEC-2018-66", "fix_versions": ["0.12.3"]}]},
        {"name": "click", "version": "8.3.1", "vulns": []},
    ]}
    assert audit.decide(report, CLEAN_NPM) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE flask 0.12: PYSEC-2018-66 (fixed in 0.12.3)" in out
    assert "no known vulnerability" not in out


def test_a_high_npm_advisory_fails_and_a_low_one_does_not(audit: ModuleType) -> None:
    high = {"vulnerabilities": {"htmx.org": {"severity": "high"}}}
    low = {"vulnerabilities": {"htmx.org": {"severity": "low"}}}
    assert audit.decide({"dependencies": []}, high) == 1
    assert audit.decide({"dependencies": []}, low) == 0


def test_unanswerable_advisories_are_named_never_passed_off_as_clean(
        audit: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    """A mirror without advisory data: exit 0 (nothing is known to be wrong) with a banner naming what was unchecked."""
    report = {"dependencies": [{"name": "alembic", "skip_reason": "Dependency not found on PyPI"}]}
    assert audit.decide(report, REFUSED_NPM) == 0
    out = capsys.readouterr().out
    assert "NOT CHECKED: PyPI gave no advisory data for 1 packages: alembic" in out
    assert "NOT CHECKED: the npm registry refused" in out


def test_an_audit_tool_that_produces_no_report_stops_the_build(tmp_path: Path) -> None:
    """Offline (every request through a proxy that refuses): pip-audit cannot report, so the audit exits non-zero."""
    nowhere = "http://127.0.0.1:7599"  # nothing listens there
    env = {**os.environ, "HTTPS_PROXY": nowhere, "https_proxy": nowhere, "HTTP_PROXY": nowhere,
           "http_proxy": nowhere, "NO_PROXY": "", "no_proxy": "", "npm_config_proxy": nowhere,
           "npm_config_https_proxy": nowhere}
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "audit.py")], env=env, capture_output=True,
                            text=True, timeout=300, cwd=ROOT)
    assert result.returncode != 0
    assert "no known vulnerability" not in result.stdout
