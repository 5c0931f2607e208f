"""What a ledger row says: the English text stored with it (the API's wire text) and the same in a reader's language.

A row's `description` is written once, in English, from one of the templates below and never changes (the ledger is
append-only and the JSON API returns it as stored). Pages and exports say it in their reader's language instead: the
stored text is matched back to its template by the row's kind and the template is said with the same name or amount.
Text a parent typed (a bonus's reason) matches no template and is shown as it is.
"""
from __future__ import annotations

import re
from functools import cache

from app.languages import Phrase, phrase, translatable
from app.points.models import LedgerKind

COMPLETED = translatable("Completed: %(name)s")
UNDONE = translatable("Undone: %(name)s")
MISSED = translatable("Missed: %(name)s")
PENALTY_RETURNED = translatable("Penalty returned: %(name)s")
REDEEMED = translatable("Redeemed: %(name)s")
REFUNDED = translatable("Refund: %(name)s")
BADGE = translatable("Badge: %(badge)s")
CONVERTED = translatable("Converted to %(money)s")
WEEKLY_ALLOWANCE = translatable("Weekly allowance: converted to %(money)s")
# Written by the import of the previous service's data (app/legacy/importer.py).
LEGACY_CONVERTED = translatable("Converted %(points)s points")
LEGACY_REWARD = translatable("Reward: %(name)s")
LEGACY_OPENING = translatable("Opening balance carried over from the previous HousePoints")
LEGACY_DEDUCTION = translatable("Deduction")
LEGACY_ADJUSTMENT = translatable("Adjustment")

TEMPLATES: dict[str, tuple[str, ...]] = {
    LedgerKind.CHORE: (COMPLETED, UNDONE),
    LedgerKind.PENALTY: (MISSED, PENALTY_RETURNED),
    LedgerKind.REDEMPTION: (REDEEMED, LEGACY_REWARD),
    LedgerKind.REFUND: (REFUNDED,),
    LedgerKind.ACHIEVEMENT: (BADGE,),
    LedgerKind.CONVERSION: (CONVERTED, WEEKLY_ALLOWANCE, LEGACY_CONVERTED),
    LedgerKind.DEDUCTION: (LEGACY_DEDUCTION,),
    LedgerKind.ADJUSTMENT: (LEGACY_OPENING, LEGACY_ADJUSTMENT),
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def ledger_text(template: str, **params: str | int) -> str:
    """The English description stored with a new row (`ledger_text(COMPLETED, name="Dishes")`)."""
    return template % params if params else template


def say_ledger_text(kind: str, description: str, language: str | None) -> str:
    """A row's description in `language`: its template said again with the stored name, else the text as stored."""
    for template in TEMPLATES.get(kind, ()):
        match = _pattern(template).fullmatch(description)
        if match is not None:
            params: dict[str, str | Phrase] = dict(match.groupdict())
            if "badge" in params:  # badge names are the catalog's own words, not the family's
                params["badge"] = phrase(str(params["badge"]))
            return Phrase(template, params).render(language)
    return description


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """The template as a pattern that reads its placeholders back out of a stored description."""
    parts = _PLACEHOLDER.split(template)  # literal, name, literal, name, ..., literal
    pattern = "".join(re.escape(part) if index % 2 == 0 else f"(?P<{part}>.*)" for index, part in enumerate(parts))
    return re.compile(pattern, re.DOTALL)
