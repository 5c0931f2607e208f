"""CSV exports: a header row, family-local dates, the range honoured, proper quoting, an attachment, 400s."""
from __future__ import annotations

import csv
import io

import pytest

from tests.reports.helpers import add_ledger
from tests.reports.seed import seed, utc


@pytest.fixture
def seeded(make_family, in_family, create_member):  # noqa: ANN001, ANN201
    family = make_family(timezone="America/Los_Angeles")
    return seed(in_family, family, lambda **fields: create_member(family_record=family, **fields))


@pytest.fixture
def parent_client(client_for, auth, seeded):  # noqa: ANN001, ANN201
    client = client_for(seeded.family)
    auth.sign_in(client, seeded.parent, seeded.family)
    return client


def _rows(response) -> list[dict[str, str]]:  # noqa: ANN001
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))


def test_the_ledger_export_uses_family_dates_and_the_range(parent_client, seeded) -> None:  # noqa: ANN001
    response = parent_client.get("/reports/export/ledger.csv?start=2026-03-07&end=2026-03-07")

    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="housepoints-{seeded.family.slug}-ledger-2026-03-07-to-2026-03-07.csv"')
    assert response.is_streamed
    text = response.get_data(as_text=True)
    assert text.startswith("date,time,member,username,kind,amount,description,assignment_id,reference_id,"
                           "entry_id\r\n")
    # Only the bonus stamped Sunday 07:30 UTC: Saturday 7 March, 23:30 in Los Angeles.
    assert [(r["date"], r["time"], r["username"], r["kind"], r["amount"], r["description"]) for r in _rows(response)
            ] == [("2026-03-07", "23:30:00", "leo", "bonus", "3", "Late, but this week")]


def test_text_is_quoted_and_formulas_are_defused(parent_client, seeded, in_family) -> None:  # noqa: ANN001
    with in_family(seeded.family) as ctx:
        add_ledger(ctx.session, seeded.maya, 5, "bonus", utc(2026, 4, 2, 18),
                   description='Said "please", twice,\nand smiled')
        add_ledger(ctx.session, seeded.maya, -5, "deduction", utc(2026, 4, 2, 19), description="=HYPERLINK(1)")
        ctx.session.commit()

    response = parent_client.get("/reports/export/ledger.csv?start=2026-04-02&end=2026-04-02")

    assert '"Said ""please"", twice,\nand smiled"' in response.get_data(as_text=True)
    rows = _rows(response)
    assert [(r["amount"], r["description"]) for r in rows] == [("5", 'Said "please", twice,\nand smiled'),
                                                               ("-5", "'=HYPERLINK(1)")]


def test_the_assignments_export(parent_client, seeded) -> None:  # noqa: ANN001
    response = parent_client.get("/reports/export/assignments.csv?start=2026-03-01&end=2026-03-02")

    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = _rows(response)
    assert list(rows[0]) == ["due_date", "due_time", "chore", "category", "member", "username", "status",
                             "points_offered", "points_awarded", "completed_at", "verified_at", "assignment_id"]
    got = sorted((r["due_date"], r["username"], r["status"], r["points_awarded"], r["due_time"]) for r in rows)
    assert got == [("2026-03-01", "", "open", "0", "18:00"), ("2026-03-01", "leo", "verified", "5", "18:00"),
                   ("2026-03-01", "maya", "verified", "12", "18:00"), ("2026-03-01", "mum", "verified", "10", "18:00"),
                   ("2026-03-02", "leo", "verified", "5", "18:00"), ("2026-03-02", "maya", "verified", "8", "18:00")]


def test_an_empty_range_is_just_the_header(parent_client) -> None:  # noqa: ANN001
    response = parent_client.get("/reports/export/assignments.csv?start=2020-01-01&end=2020-01-02")

    assert response.get_data(as_text=True).count("\r\n") == 1


@pytest.mark.parametrize("query", ["start=2026-02-30", "start=01-03-2026", "end=soon",
                                   "start=2026-03-08&end=2026-03-01",
                                   "start=2026-03-01T00:00"])
@pytest.mark.parametrize("export", ["ledger", "assignments"])
def test_bad_dates_are_400(parent_client, export: str, query: str) -> None:  # noqa: ANN001
    response = parent_client.get(f"/reports/export/{export}.csv?{query}")

    assert response.status_code == 400
    assert "text/html" in response.content_type
