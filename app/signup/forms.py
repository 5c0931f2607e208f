"""The sign-up form: raw fields in, every problem found at once with the rules the sign-up service applies."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import cast
from zoneinfo import available_timezones

from flask_babel import gettext
from sqlalchemy import String
from sqlalchemy.orm import Session

from app.domain import DomainError, ValidationFailed
from app.i18n import refusal_text, say
from app.languages import phrase
from app.members.services import check_password_strength, clean_display_name
from app.platform.models import Family
from app.platform.services import clean_email
from app.tenancy.slugs import is_valid_slug, propose_alternatives, slugify
from app.tenancy.provisioning import ProvisioningError, check_slug_available, taken_slugs

FAMILY_NAME_MAX = cast(int, cast(String, Family.__table__.c.name.type).length)  # 120, the column's own limit
ALTERNATIVE_COUNT = 3
FIELDS = ("display_name", "email", "password", "family_name", "city", "slug", "timezone")


@cache
def timezone_choices() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted (read from disk once per process)."""
    return tuple(sorted(available_timezones()))


@dataclass(frozen=True)
class SlugStatus:
    """Whether an address is free, and if not, why and which free addresses are near it."""

    slug: str
    available: bool = False
    message: str = ""
    alternatives: tuple[str, ...] = ()


def slug_status(session: Session, slug: str, *, city: str | None = None) -> SlugStatus:
    """The live answer for the address field (an empty field is neither good nor bad yet)."""
    slug = (slug or "").strip().lower()
    if not slug:
        return SlugStatus(slug)
    try:
        check_slug_available(session, slug, city=city or None)
    except ProvisioningError as error:
        alternatives = error.alternatives or _alternatives_for_unusable(session, slug, city)
        return SlugStatus(slug, message=say(error.said), alternatives=tuple(alternatives))
    return SlugStatus(slug, available=True)


def _alternatives_for_unusable(session: Session, slug: str, city: str | None) -> list[str]:
    # A malformed or reserved address still deserves suggestions: its cleaned-up form first, if free.
    cleaned = slugify(slug)
    proposals = propose_alternatives(cleaned, lambda candidates: taken_slugs(session, list(candidates)),
                                     city=city or None, count=ALTERNATIVE_COUNT)
    if cleaned != slug and is_valid_slug(cleaned) and not taken_slugs(session, [cleaned]):
        proposals.insert(0, cleaned)
    return proposals[:ALTERNATIVE_COUNT]


@dataclass
class SignUpForm:
    """What the parent typed, and the problems found, keyed by field ("form" for the whole form)."""

    display_name: str = ""
    email: str = ""
    password: str = ""
    family_name: str = ""
    city: str = ""
    slug: str = ""
    slug_touched: bool = False
    timezone: str = "UTC"
    nonce: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    alternatives: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, data: Mapping[str, str]) -> SignUpForm:
        """The submitted fields, trimmed (passwords are kept exactly as typed)."""
        return cls(display_name=data.get("display_name", "").strip(), email=data.get("email", "").strip(),
                   password=data.get("password", ""), family_name=data.get("family_name", "").strip(),
                   city=data.get("city", "").strip()[:80], slug=data.get("slug", "").strip().lower(),
                   slug_touched=data.get("slug_touched") == "1", timezone=data.get("timezone", "").strip(),
                   nonce=data.get("nonce", "")[:64])

    def validate(self, session: Session) -> bool:
        """Collect every field's problem, so the parent can fix them all in one go."""
        checks = {
            "display_name": lambda: clean_display_name(self.display_name),
            "email": lambda: clean_email(self.email),
            "password": lambda: check_password_strength(self.password),
            "family_name": self._check_family_name,
            "timezone": self._check_timezone,
        }
        for name, check in checks.items():
            try:
                check()
            except ValidationFailed as error:
                self.errors[name] = refusal_text(error)
        status = slug_status(session, self.slug, city=self.city)
        if not status.available:
            self.errors["slug"] = status.message or gettext("Please choose your family's web address")
            self.alternatives = status.alternatives
        return not self.errors

    def add_service_error(self, error: DomainError) -> None:
        """Put the sign-up service's refusal next to the field it names (or above the form)."""
        name = next((key for key in error.fields if key in FIELDS), "form")
        self.errors[name] = refusal_text(error)
        alternatives = error.extra.get("alternatives")
        if isinstance(alternatives, list):
            self.alternatives = tuple(alternatives)

    def _check_family_name(self) -> None:
        if not 1 <= len(self.family_name) <= FAMILY_NAME_MAX:
            raise ValidationFailed(phrase("Please give your family a name (up to %(most)s characters)",
                                          most=FAMILY_NAME_MAX))

    def _check_timezone(self) -> None:
        if self.timezone not in timezone_choices():
            raise ValidationFailed("Please pick your time zone from the list")
