"""`make audit`: fail on any known vulnerability in the pinned Python and npm packages; say loudly what was not checked.

pip-audit asks PyPI's per-version JSON for advisories and npm audit posts to the registry's bulk advisory endpoint.
A mirror that serves neither (this workplace's registries answer 404 and 405) makes an audit impossible rather than
failed: the script then prints a banner naming every package it could not check and exits 0, so a missing advisory
source never passes for "no vulnerabilities". A vulnerability that is reported always fails the build.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = ROOT / ".venv" / "bin" / "pip-audit"


def _report(command: list[str]) -> dict:
    """A tool's JSON report; a tool that could not produce one (offline, crashed) stops the audit with its error."""
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    try:
        return json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(run.stderr)
        raise SystemExit(f"{command[0]} failed (exit {run.returncode}) without a report") from None


def python_findings(report: dict) -> tuple[list[str], list[str]]:
    """Vulnerabilities in a pip-audit report, and the packages whose advisories could not be read."""
    found, unchecked = [], []
    for dependency in report.get("dependencies", []):
        label = f"{dependency['name']} {dependency.get('version', '')}".strip()
        for vulnerability in dependency.get("vulns", []):
            found.append(f"{label}: {vulnerability['id']} (fixed in {', '.join(vulnerability.get('fix_versions', []))})")
        if dependency.get("skip_reason"):
            unchecked.append(label)
    return found, unchecked


def npm_findings(report: dict) -> tuple[list[str], bool]:
    """High or critical advisories in an npm audit report, and whether the advisory endpoint answered at all."""
    if "vulnerabilities" not in report:
        return [], False  # the endpoint refused (an error document instead of a report)
    found = [f"{name}: {advisory.get('severity')}" for name, advisory in report["vulnerabilities"].items()
             if advisory.get("severity") in {"high", "critical"}]
    return found, True


def decide(pip_report: dict, npm_report: dict) -> int:
    """Print what was found and what could not be checked; non-zero only for a known vulnerability."""
    python_found, unchecked = python_findings(pip_report)
    npm_found, npm_answered = npm_findings(npm_report)
    for line in python_found + npm_found:
        print(f"[audit] VULNERABLE {line}")
    if unchecked or not npm_answered:
        print("[audit] " + "!" * 72)
        if unchecked:
            print(f"[audit] NOT CHECKED: PyPI gave no advisory data for {len(unchecked)} packages: {', '.join(unchecked)}")
        if not npm_answered:
            print("[audit] NOT CHECKED: the npm registry refused the advisory request (npm packages unaudited)")
        print("[audit] the audit is incomplete on this machine's registries; run `make audit` where they answer")
        print("[audit] " + "!" * 72)
    if python_found or npm_found:
        print(f"[audit] FAILED: {len(python_found) + len(npm_found)} known vulnerabilities")
        return 1
    print("[audit] no known vulnerability in the packages that could be checked")
    return 0


def main() -> int:
    """Run both tools and decide."""
    pip_report = _report([str(PIP_AUDIT), "--skip-editable", "--progress-spinner", "off", "--format", "json"])
    npm_report = _report(["npm", "audit", "--audit-level=high", "--json"])
    return decide(pip_report, npm_report)


if __name__ == "__main__":
    raise SystemExit(main())
