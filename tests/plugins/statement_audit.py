"""Audit every SQL statement the suite sends to a family database: a refused statement fails the test that sent it.

The gate (`app/db/scoping.py`) parses each statement with sqlglot and checks that every family-table reference is
pinned to the current family. Views may catch errors and answer 500, so the test could pass on a status check
alone; this audit fails it anyway. Tests that provoke a refusal on purpose say so with
`@pytest.mark.expect_scope_refusals`.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.db import scoping


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "expect_scope_refusals: the test provokes family-scope refusals on purpose")


@pytest.fixture(autouse=True)
def _statement_audit(request: pytest.FixtureRequest) -> Iterator[None]:
    before = scoping.stats.refused
    yield
    new = scoping.stats.refused - before
    refusals = list(scoping.stats.refusals)[-new:] if new else []
    if refusals and request.node.get_closest_marker("expect_scope_refusals") is None:
        pytest.fail("family-scope gate refused statements:\n" + "\n".join(refusals[:10]), pytrace=False)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    stats = scoping.stats
    terminalreporter.write_line(
        f"family-scope audit: {stats.checked} statements checked, {stats.family_statements} touched family tables "
        f"and were proved pinned or refused, {stats.refused} refused, {stats.exempt} through the named escape hatch"
    )
