"""`make test` audits the dependencies for known vulnerabilities, and an audit that cannot ask fails loudly."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _target(name: str) -> tuple[str, list[str]]:
    """A Makefile target's prerequisites line and its recipe lines."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name}:(.*)\n((?:\t.*\n)*)", makefile, re.MULTILINE)
    assert match, f"no `{name}` target"
    return match.group(1), [line.strip() for line in match.group(2).splitlines()]


def test_make_test_runs_the_audit() -> None:
    prerequisites, _ = _target("test")
    assert "audit" in prerequisites.split()
    _, recipe = _target("audit")
    assert any(line.startswith("$(BIN)/pip-audit") and "--strict" in line for line in recipe)
    assert "npm audit --audit-level=high" in recipe


def test_pip_audit_is_pinned_in_the_test_extras() -> None:
    assert re.search(r'"pip-audit==[0-9.]+"', (ROOT / "pyproject.toml").read_text())


def test_an_audit_that_cannot_reach_its_advisories_fails(tmp_path: Path) -> None:
    """Offline (every request through a proxy that refuses): a non-zero exit, never "no known vulnerabilities"."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("flask==3.1.3\n")
    nowhere = "http://127.0.0.1:7599"  # this suite's port range; nothing listens there
    env = {**os.environ, "HTTPS_PROXY": nowhere, "https_proxy": nowhere, "HTTP_PROXY": nowhere,
           "http_proxy": nowhere, "NO_PROXY": "", "no_proxy": ""}
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "pip-audit"), "--strict", "--progress-spinner", "off", "--no-deps",
         "--disable-pip", "-r", str(requirements)], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "No known vulnerabilities found" not in result.stdout
