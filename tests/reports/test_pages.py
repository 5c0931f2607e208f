"""The reports page: accessible SVG charts with the expected bars, a table twin, and a range picker."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.reports.seed import seed

SVG = re.compile(r"<svg\b.*?</svg>", re.S)
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def seeded(make_family, in_family, create_member):  # noqa: ANN001, ANN201
    family = make_family(timezone="America/Los_Angeles")
    return seed(in_family, family, lambda **fields: create_member(family_record=family, **fields))


@pytest.fixture
def parent_page(client_for, auth, seeded):  # noqa: ANN001, ANN201
    client = client_for(seeded.family)
    auth.sign_in(client, seeded.parent, seeded.family)
    return client


def _charts(html: str) -> dict[str, ET.Element]:
    """Every chart SVG on the page, parsed as XML, by the id of its <title>."""
    charts = {}
    for text in SVG.findall(html):
        svg = ET.fromstring(text)
        title = svg.find("{http://www.w3.org/2000/svg}title")
        charts[title.get("id").removesuffix("-title")] = svg
    return charts


def _bars(svg: ET.Element) -> list[str]:
    return [rect.find(f"{NS}title").text for rect in svg.iter(f"{NS}rect")]


def test_the_page_draws_five_accessible_charts(parent_page) -> None:  # noqa: ANN001
    response = parent_page.get("/reports?start=2026-03-01&end=2026-03-14")
    html = response.get_data(as_text=True)

    charts = _charts(html)
    assert response.status_code == 200
    assert set(charts) == {"completion", "points", "categories", "missed", "streaks"}
    for chart_id, svg in charts.items():
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{chart_id}-title {chart_id}-desc"
        assert svg.find("{http://www.w3.org/2000/svg}desc").text
    assert _bars(charts["completion"]) == [
        "Leo, 1 Mar: 66.7% (2 of 3)", "Maya, 1 Mar: 40% (2 of 5)", "Maya, 8 Mar: 100% (1 of 1)"]
    assert _bars(charts["categories"]) == ["kitchen: 30 points · 3 of 5 done", "bedroom: 10 points · 2 of 4 done"]
    assert _bars(charts["missed"]) == ["Leo, 1 Mar: 0 (of 3)", "Maya, 1 Mar: 1 (of 5)", "Maya, 8 Mar: 0 (of 1)"]
    points = charts["points"]
    lines = {g.get("data-series"): [c.find("{http://www.w3.org/2000/svg}title").text
                                    for c in g.iter("{http://www.w3.org/2000/svg}circle")]
             for g in points.iter("{http://www.w3.org/2000/svg}g")}
    assert lines == {"Earned": ["Earned, 1 Mar: 31", "Earned, 8 Mar: 14"],
                     "Spent": ["Spent, 1 Mar: 7", "Spent, 8 Mar: 0"]}


def test_every_chart_has_a_table_twin(parent_page) -> None:  # noqa: ANN001
    html = parent_page.get("/reports?start=2026-03-01&end=2026-03-07").get_data(as_text=True)

    assert html.count("<summary>Show as a table</summary>") == 5
    assert '<th scope="row">1 Mar</th><td>66.7% (2 of 3)</td><td>40% (2 of 5)</td>' in html
    assert '<th scope="row">kitchen</th><td>20 points · 2 of 4 done</td>' in html
    assert "Showing 1 Mar 2026 to 7 Mar 2026, in family time (America/Los_Angeles)." in html
    assert "4 / 8" in html and "50%" in html  # the totals: chores done, completion rate


def test_the_page_works_on_a_phone(parent_page) -> None:  # noqa: ANN001
    html = parent_page.get("/reports").get_data(as_text=True)

    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert ".hp-chart svg { width: 100%; height: auto;" in html  # charts scale down to 375 px
    assert all('viewBox="0 0 640' in svg for svg in SVG.findall(html))
    assert 'type="date" id="start"' in html and 'type="date" id="end"' in html


@pytest.mark.parametrize("query", ["start=2026-13-01", "start=2026-03-08&end=2026-03-01", "end=yesterday"])
def test_a_bad_range_is_a_422_with_the_default_charts(parent_page, query: str) -> None:  # noqa: ANN001
    response = parent_page.get(f"/reports?{query}")

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="form-error" id="range-error" role="alert"' in html and len(_charts(html)) == 5


def test_a_family_without_kids_gets_empty_charts(client, auth, family, create_member) -> None:  # noqa: ANN001
    auth.sign_in(client, create_member(role="parent", username="solo", display_name="Solo"), family)

    html = client.get("/reports").get_data(as_text=True)

    assert "No kids yet" in html and "Nothing to show for this range yet." in html
    assert len(_charts(html)) == 5
