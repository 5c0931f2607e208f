"""The rules a family subdomain must follow, and free alternatives for a taken one."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from app.languages import Phrase, phrase

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*[a-z0-9]$")
RESERVED_SLUGS = frozenset({"api", "www", "app", "admin", "staging", "dev", "support", "help", "blog", "docs"})
MIN_LENGTH, MAX_LENGTH = 3, 50


def slug_problem(slug: str) -> Phrase | None:
    """Why `slug` cannot name a family (the end of a sentence, in any language), or None when it is well-formed
    and not reserved."""
    if not MIN_LENGTH <= len(slug) <= MAX_LENGTH:
        return phrase("must be %(low)s-%(high)s characters", low=MIN_LENGTH, high=MAX_LENGTH)
    if not SLUG_PATTERN.match(slug):
        return phrase("may use only lowercase letters, digits and inner hyphens")
    if "--" in slug:
        return phrase("may not contain two hyphens in a row")
    if slug in RESERVED_SLUGS:
        return phrase("is reserved")
    return None


def is_valid_slug(slug: str) -> bool:
    """True when `slug` follows every rule."""
    return slug_problem(slug) is None


def slugify(text: str) -> str:
    """A slug proposal from free text such as a family name ("The Smiths!" → "the-smiths")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = re.sub(r"-{2,}", "-", slug)[:MAX_LENGTH].strip("-")
    return slug if len(slug) >= MIN_LENGTH else (slug + "-family").strip("-")


def propose_alternatives(slug: str, is_taken: Callable[[Iterable[str]], set[str]], *,
                         city: str | None = None, count: int = 3) -> list[str]:
    """Free, valid slugs near `slug`: `<slug>-<city>` first when a city is given, then `<slug>-2`, `-3`…"""
    base = slugify(slug)[: MAX_LENGTH - 4].strip("-")
    candidates: list[str] = []
    if city:
        candidates.append(f"{base}-{slugify(city)}"[:MAX_LENGTH].strip("-"))
    candidates += [f"{base}-{n}" for n in range(2, 2 + count * 4)]
    candidates = [c for c in dict.fromkeys(candidates) if is_valid_slug(c)]
    taken = is_taken(candidates)
    return [c for c in candidates if c not in taken][:count]
