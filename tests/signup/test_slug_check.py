"""The live address check: proposed from the family name, checked as typed, free alternatives one tap away."""
from __future__ import annotations

import uuid

import pytest

from tests.html import one, select, text

pytestmark = pytest.mark.usefixtures("app")


def alternatives(page: str) -> list[str]:
    return [node.text() for node in select(page, 'button[class="slug-alternative"]')]


def text_of(page: str) -> str:
    return text(page)


@pytest.fixture
def taken(make_family):  # noqa: ANN201
    return make_family(f"taken-{uuid.uuid4().hex[:6]}")


def test_a_free_address_is_yours(apex) -> None:
    slug = f"free-{uuid.uuid4().hex[:6]}"

    page = apex.get("/signup/check-slug", query_string={"slug": slug}).get_data(as_text=True)

    assert text_of(page) == f"✓ {slug}.localhost:5000 is yours"
    assert alternatives(page) == []


def test_a_taken_address_offers_free_alternatives_that_fill_the_field(apex, taken, make_family) -> None:
    make_family(f"{taken.slug}-2")

    page = apex.get("/signup/check-slug", query_string={"slug": taken.slug}).get_data(as_text=True)

    assert f"The address '{taken.slug}' is taken." in text_of(page)
    assert alternatives(page) == [f"{taken.slug}-3", f"{taken.slug}-4", f"{taken.slug}-5"]
    # Each alternative swaps in the address field holding it (an htmx GET, no page load).
    assert f'hx-get="/signup/slug-field?slug={taken.slug}-3&amp;slug_touched=1"' in page
    assert 'hx-target="#slug-field"' in page


def test_the_city_feeds_the_first_alternative(apex, taken) -> None:
    page = apex.get("/signup/check-slug", query_string={"slug": taken.slug, "city": "São Paulo"}).get_data(as_text=True)

    assert alternatives(page)[0] == f"{taken.slug}-sao-paulo"


@pytest.mark.parametrize(("typed", "message", "first_alternative"), [
    ("admin", "The address 'admin' is reserved.", "admin-2"),
    ("ab", "The address 'ab' must be 3-50 characters.", "ab-family"),
    ("The Smiths!", "may use only lowercase letters, digits and inner hyphens.", "the-smiths"),
    ("smi--ths", "may not contain two hyphens in a row.", "smi-ths"),
])
def test_a_reserved_or_malformed_address_says_why_and_suggests_a_clean_one(apex, typed: str, message: str,
                                                                           first_alternative: str) -> None:
    page = apex.get("/signup/check-slug", query_string={"slug": typed}).get_data(as_text=True)

    assert message in text_of(page)
    assert alternatives(page)[0] == first_alternative
    assert "is yours" not in page


def test_an_empty_address_gets_a_hint_not_an_error(apex) -> None:
    page = apex.get("/signup/check-slug", query_string={"slug": ""}).get_data(as_text=True)

    assert "like the-smiths" in text_of(page) and "slug-problem" not in page


def test_the_family_name_proposes_the_address(apex) -> None:
    name = f"The Smiths {uuid.uuid4().hex[:4]}!"

    page = apex.get("/signup/slug-field", query_string={"family_name": name, "slug": ""}).get_data(as_text=True)

    slug = str(one(page, 'input#slug[name="slug"][type="text"]').attributes.get("value") or "")
    assert slug.startswith("the-smiths-") and f"✓ {slug}.localhost:5000 is yours" in text_of(page)
    assert 'id="slug-field"' in page and 'name="slug_touched" value=""' in page


def test_an_address_the_parent_typed_is_not_overwritten_by_the_family_name(apex) -> None:
    page = apex.get("/signup/slug-field", query_string={"family_name": "The Smiths", "slug": "our-place",
                                                        "slug_touched": "1"}).get_data(as_text=True)

    assert 'value="our-place"' in page and 'name="slug_touched" value="1"' in page


def test_a_proposal_that_is_taken_shows_its_alternatives(apex, taken) -> None:
    page = apex.get("/signup/slug-field", query_string={"family_name": taken.slug}).get_data(as_text=True)

    assert f'value="{taken.slug}"' in page and "is taken" in page and alternatives(page)


def test_html_typed_into_the_check_is_shown_as_text(apex) -> None:
    page = apex.get("/signup/check-slug", query_string={"slug": "<img src=x onerror=alert(1)>"}).get_data(as_text=True)

    assert "<img" not in page and "&lt;img" in page
