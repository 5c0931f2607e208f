"""Slug rules and the alternatives offered for a taken slug."""
import pytest

from app.tenancy.slugs import is_valid_slug, propose_alternatives, slug_problem, slugify


@pytest.mark.parametrize("slug", ["abc", "smith", "smith-2", "a1b", "x" * 50, "0ne-family"])
def test_valid_slugs(slug: str) -> None:
    assert is_valid_slug(slug)


@pytest.mark.parametrize(("slug", "reason"), [
    ("ab", "3-50"), ("x" * 51, "3-50"), ("Smith", "lowercase"), ("-smith", "lowercase"), ("smith-", "lowercase"),
    ("sm_ith", "lowercase"), ("sm ith", "lowercase"), ("smi--th", "two hyphens"), ("api", "reserved"),
    ("www", "reserved"), ("admin", "reserved"), ("docs", "reserved"), ("support", "reserved"), ("a.b", "lowercase"),
])
def test_invalid_slugs(slug: str, reason: str) -> None:
    problem = slug_problem(slug)
    assert problem is not None and reason in problem.render(None)  # a phrase: English here, any language on a page


def test_slugify_proposes_valid_slugs() -> None:
    assert slugify("The Smiths!") == "the-smiths"
    assert slugify("  Ünïcode -- Family ") == "unicode-family"
    assert is_valid_slug(slugify("Al"))


def test_alternatives_skip_taken_and_prefer_city() -> None:
    taken = {"smith", "smith-2", "smith-boston"}
    proposals = propose_alternatives("smith", lambda candidates: set(candidates) & taken, city="Boston")
    assert proposals == ["smith-3", "smith-4", "smith-5"]
    proposals = propose_alternatives("smith", lambda candidates: set(candidates) & {"smith"}, city="Austin")
    assert proposals[0] == "smith-austin" and proposals[1] == "smith-2"
    assert all(is_valid_slug(p) for p in proposals)
