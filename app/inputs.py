"""The one input layer: typed fields and input models shared by page forms, the JSON API, CLI and jobs.

Every action's input is a pydantic model built from the field types below; `parse_input` turns a form or JSON body
into that model or raises `ValidationFailed` with one message per field, which pages re-render as a 422 form and the
API answers as `{"error": …, "fields": {…}}`. Text is NFC-normalised and refuses NUL, lone surrogates and other
control characters, so nothing a database driver cannot store ever reaches a service.
"""
from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError,
                      ValidationInfo)

from app.domain import ValidationFailed
from app.languages import Phrase, phrase, translatable

if TYPE_CHECKING:  # only for the annotation: this module stays free of Flask at import time
    from flask import Flask

MAX_POINTS = 100_000
MAX_MONEY_CENTS = 10_000_000
ALLOWED_CONTROLS = frozenset("\t\n\r")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# [0-9], not \d: Python's \d also matches Arabic-Indic and other digits, which int() would then accept. Always
# fullmatch: `$` would also match before a trailing newline.
_ASCII_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?")
_ASCII_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,12}")
_ASCII_MONTH = re.compile(r"([0-9]{4})-([0-9]{1,2})")
# The date at UTC midnight the previous service wrote (`2010-05-01T00:00:00Z`), which its clients send back.
_ASCII_MIDNIGHT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T00:00(:00(\.0{1,6})?)?(Z|[+-]00:00)?")
# Invisible characters that reorder the text around them (Trojan Source): never part of a name, a note or a secret.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class FieldProblem(ValueError):
    """A field's refusal with a number or a name in it, raised in a validator: `str()` is the English the API sends,
    `said` the same for a page to say in its language (literal messages are marked `translatable` instead)."""

    def __init__(self, said: Phrase) -> None:
        super().__init__(said.render(None))
        self.said = said


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text (NUL, a lone surrogate, a control or direction-override character,
    a line break in one-line text), or None."""
    for char in value:
        code = ord(char)
        # The end of a sentence that starts with the field's name ("Device name contains a line break"); marked
        # for the catalog so a page can say the whole sentence in its language.
        if 0xD800 <= code <= 0xDFFF:
            return translatable("contains an invalid character")
        category = unicodedata.category(char)
        if category == "Cc" and not (multiline and char in ALLOWED_CONTROLS):
            return translatable("contains a control character")
        if char in BIDI_CONTROLS:
            return translatable("contains a text-direction control character")
        if category in ("Zl", "Zp") and not multiline:
            return translatable("contains a line break")
    return None


def ascii_int(text: str) -> int:
    """A whole number written in ASCII digits (an optional sign, at most 12 digits); ValueError otherwise."""
    stripped = text.strip()
    if not _ASCII_INT.fullmatch(stripped):
        raise ValueError(translatable("must be a whole number"))
    return int(stripped)


def ascii_month(text: str) -> date:
    """`2026-12` (ASCII digits) as the month's first day; ValueError otherwise."""
    match = _ASCII_MONTH.fullmatch(text.strip())
    if match is None:
        raise ValueError(translatable("must be a month like 2026-12"))
    return date(int(match.group(1)), int(match.group(2)), 1)


def ascii_date(text: str, *, midnight_instant: bool = False) -> date:
    """`2026-03-14` (ASCII digits, nothing after it); with `midnight_instant`, also that day written as the old
    service's UTC-midnight timestamp. ValueError otherwise: nothing is ever cut off to make a value fit."""
    stripped = text.strip()
    if not _ASCII_DATE.fullmatch(stripped):
        match = _ASCII_MIDNIGHT.fullmatch(stripped) if midnight_instant else None
        if match is None:
            raise ValueError(translatable("must be a date like 2026-03-14"))
        stripped = match.group(1)
    return date.fromisoformat(stripped)


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Text as stored: a string, NFC, trimmed, with no NUL, lone surrogate or control character."""
    if not isinstance(value, str):
        raise ValueError(translatable("must be text"))
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise ValueError(problem)
    return unicodedata.normalize("NFC", value).strip()


def _strict_int(value: Any) -> Any:
    """Whole numbers only, written with ASCII digits (no 1.5, no True, no Arabic-Indic digits)."""
    if isinstance(value, bool):
        raise ValueError(translatable("must be a whole number"))
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(translatable("must be a whole number"))
        return int(value)
    if isinstance(value, str):
        return ascii_int(value)
    return value


def _strict_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _ASCII_TIME.fullmatch(value.strip()):
        raise ValueError(translatable("must be a time like 18:30"))
    return time.fromisoformat(value.strip())


def _strict_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ASCII_DATE.fullmatch(value.strip()):
        raise ValueError(translatable("must be a date like 2026-03-14"))
    try:
        return ascii_date(value)
    except ValueError:
        raise ValueError(translatable("must be a real date")) from None


def _weekday(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise FieldProblem(phrase("must be one of %(choices)s", choices=", ".join(WEEKDAYS)))
    return value.strip().lower()


def Text(max_length: int, *, min_length: int = 0, multiline: bool = False) -> Any:  # noqa: N802 - a type factory
    """A text field of at most `max_length` characters (after trimming and NFC)."""
    return Annotated[str, BeforeValidator(lambda v: clean_text(v, multiline=multiline)),
                     Field(min_length=min_length, max_length=max_length)]


Points = Annotated[int, BeforeValidator(_strict_int), Field(ge=0, le=MAX_POINTS)]
SignedPoints = Annotated[int, BeforeValidator(_strict_int), Field(ge=-MAX_POINTS, le=MAX_POINTS)]
MoneyCents = Annotated[int, BeforeValidator(_strict_int), Field(ge=0, le=MAX_MONEY_CENTS)]
WholeNumber = Annotated[int, BeforeValidator(_strict_int)]
LocalDate = Annotated[date, BeforeValidator(_strict_date)]
LocalTime = Annotated[time, BeforeValidator(_strict_time)]
Weekday = Annotated[str, AfterValidator(_weekday)]
Id = uuid.UUID


class Input(BaseModel):
    """Base of every action's input: immutable, unknown keys ignored (old clients send whole objects)."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_input(model: type[ModelT], data: Mapping[str, Any] | None) -> ModelT:
    """Validate `data` as `model`, or raise ValidationFailed naming every bad field."""
    if data is None or not isinstance(data, Mapping):
        raise ValidationFailed("Request body must be a JSON object")
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        problems = field_problems(error)
        fields = {name: problem.render(None) for name, problem in problems.items()}
        first_field, first_problem = next(iter(problems.items()))
        raise ValidationFailed(phrase("%(field)s %(problem)s", field=first_field, problem=first_problem),
                               fields=fields) from None


def field_problems(error: ValidationError) -> dict[str, Phrase]:
    """One short message per field name, from pydantic's errors (English for the API's `fields`, any language on
    a page)."""
    fields: dict[str, Phrase] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, _problem(item))
    return fields


def _problem(item: Mapping[str, Any]) -> Phrase:
    kind, context = item["type"], item.get("ctx") or {}
    if kind == "missing":
        return phrase("is required")
    if kind in ("string_too_long", "too_long"):
        return phrase("can be at most %(most)s characters", most=context.get("max_length"))
    if kind in ("string_too_short", "too_short"):
        return phrase("is required") if context.get("min_length") == 1 else phrase(
            "needs at least %(least)s", least=context.get("min_length"))
    if kind == "less_than_equal":
        return phrase("must be at most %(most)s", most=context.get("le"))
    if kind == "greater_than_equal":
        return phrase("must be at least %(least)s", least=context.get("ge"))
    if kind == "value_error":
        problem = context.get("error", item["msg"])
        # A validator's own words: a FieldProblem says them in any language; a literal is looked up in the catalog.
        return problem.said if isinstance(problem, FieldProblem) else phrase(str(problem))
    if kind in ("uuid_parsing", "uuid_type"):
        return phrase("must be an id")
    if kind in ("bool_parsing", "bool_type"):
        return phrase("must be true or false")
    if kind in ("string_type",):
        return phrase("must be text")
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return phrase("must be a whole number")
    return phrase(str(item["msg"]).lower())  # pydantic's own words, for shapes no form sends


# --- the door: what no field of ours accepts is refused before any view runs ---------------------------------------

def unstorable_input(args: Iterable[tuple[str, Any]], form: Iterable[tuple[str, Any]], json_body: Any,
                     view_args: Mapping[str, Any] | None) -> str | None:
    """The name of the first input that no text field accepts (NUL, lone surrogate, control character), or None."""
    sources: list[tuple[str, Any]] = [(f"query {k}", v) for k, v in args]
    sources += [(k, v) for k, v in form]
    sources += [(f"URL {k}", v) for k, v in (view_args or {}).items()]
    for key, _ in sources:
        if text_problem(key):
            return "a parameter name"
    pending: list[tuple[str, Any]] = [*sources, ("body", json_body)]
    while pending:
        name, value = pending.pop()
        if isinstance(value, str):
            if text_problem(value, multiline=True):
                return name
        elif isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, str) and text_problem(key):
                    return "a key of the body"
                pending.append((str(key) if isinstance(key, str) else name, item))
        elif isinstance(value, list):
            pending.extend((name, item) for item in value)
    return None


def init_app(app: Flask) -> None:
    """Refuse, with 400, any request carrying text that no field could store."""
    from flask import request

    @app.before_request
    def refuse_unstorable_input() -> None:
        json_body = request.get_json(silent=True) if request.is_json else None
        form = request.form.items(multi=True) \
            if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") else ()
        name = unstorable_input(request.args.items(multi=True), form, json_body, request.view_args)
        if name is not None:
            why = phrase("%(name)s contains a character that is not allowed (NUL, control or invalid)", name=name)
            if request.path.startswith("/api/"):  # the contract's message for any unusable body, with the reason
                message = "Invalid query parameter" if name.startswith("query ") else "Invalid request body"
                raise ValidationFailed(message, details=why.render(None), fields={name: "invalid character"})
            raise ValidationFailed(why, fields={name: "invalid character"})


# --- shared by the rewards, allowance, members, settings and notifications inputs ----------------------------------

def _blank_is_none(value: Any) -> Any:
    """An empty form field (or blank JSON text) means "no value"."""
    return None if isinstance(value, str) and not value.strip() else value


BlankIsNone = BeforeValidator(_blank_is_none)
# The longest URL browsers and servers reliably handle; an area's own rule may be stricter (webhooks: 500).
Url = Text(2048)


def _text_list(value: Any) -> Any:
    """A list of short text items (event names, tags), each checked as text; one message for the whole list."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)):
        # pydantic reports a ValueError as the field's message
        raise ValueError(translatable("must be a list"))  # noqa: TRY004
    items = []
    for item in value:
        try:
            items.append(clean_text(item))
        except ValueError:
            raise ValueError(translatable("must be a list of names")) from None
        if len(items[-1]) > 100:
            raise ValueError(translatable("must be a list of names of at most 100 characters"))
    return items


TextList = Annotated[list[str] | None, BeforeValidator(_text_list)]


def _secret(value: Any) -> str:
    """A password or PIN exactly as typed (never trimmed or normalised), but nothing a database cannot store."""
    if not isinstance(value, str):
        # pydantic reports a ValueError as the field's message
        raise ValueError(translatable("must be text"))  # noqa: TRY004
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def Secret(max_length: int, *, min_length: int = 0) -> Any:  # noqa: N802 - a type factory like Text
    """A credential of at most `max_length` characters, kept exactly as typed."""
    return Annotated[str, BeforeValidator(_secret), Field(min_length=min_length, max_length=max_length)]


# --- shared rules of the daily loop (chores, assignments, presence, points) ----------------------------------------

LEDGER_POINTS_LIMIT = 10_000  # one ledger row (a chore's points, a bonus, a deduction) moves at most this many


def blank_to_none(value: Any) -> Any:
    """An empty form box means "not given", like a missing JSON key."""
    return None if isinstance(value, str) and not value.strip() else value


def points_problem(value: int, *, allow_zero: bool = False, allow_negative: bool = False) -> Phrase | None:
    """Why `value` cannot be the points of one ledger row (±10,000; zero and negatives only when allowed), or None."""
    if not -LEDGER_POINTS_LIMIT <= value <= LEDGER_POINTS_LIMIT:
        return phrase("must be between -%(limit)s and %(limit)s", limit=LEDGER_POINTS_LIMIT)
    if value < 0 and not allow_negative:
        return phrase("cannot be negative")
    if value == 0 and not allow_zero:
        return phrase("must not be zero")
    return None


def _ledger_points(*, allow_zero: bool) -> Any:
    def check(value: Any) -> int:
        number = _strict_int(value)
        if not isinstance(number, int):
            raise ValueError(translatable("must be a whole number"))
        problem = points_problem(number, allow_zero=allow_zero)
        if problem:
            raise FieldProblem(problem)
        return number
    return BeforeValidator(check)


def Between(low: int, high: int) -> Any:  # noqa: N802 - a type factory
    """A whole number from `low` to `high`, refused with "must be between low and high"."""
    def check(value: Any) -> int:
        number = _strict_int(value)
        if not isinstance(number, int):
            raise ValueError(translatable("must be a whole number"))
        if not low <= number <= high:
            raise FieldProblem(phrase("must be between %(low)s and %(high)s", low=low, high=high))
        return number
    return Annotated[int, BeforeValidator(check)]


def _weekday_numbers(value: Any) -> list[int]:
    if isinstance(value, str):  # "1,3" from a query string or an old client
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        raise ValueError(translatable("must be a list of weekday numbers"))
    try:
        days = {_strict_int(day) for day in value}
    except ValueError:
        raise ValueError(translatable("are numbers 0 (Monday) to 6 (Sunday)")) from None
    if not all(isinstance(day, int) for day in days):
        raise ValueError(translatable("are numbers 0 (Monday) to 6 (Sunday)"))
    if any(not 0 <= day <= 6 for day in days):
        raise ValueError(translatable("Pick weekdays between 0 (Monday) and 6 (Sunday)"))
    return sorted(days)


def Blankable(field_type: Any) -> Any:  # noqa: N802 - a type factory
    """`field_type` or None; an empty form box counts as None."""
    return Annotated[field_type | None, BeforeValidator(blank_to_none)]


def Choice(*choices: str) -> Any:  # noqa: N802 - a type factory
    """One of a fixed set of words (a kind, a strategy, a difficulty)."""
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise FieldProblem(phrase("must be one of %(choices)s", choices=", ".join(choices)))
        return value
    return Annotated[str, BeforeValidator(check)]


def Reworded(field_type: Any, message: str) -> Any:  # noqa: N802 - a type factory
    """`field_type`, refused with `message` (may name `%(field)s`; mark it `translatable`) where the API contract
    fixes the wording."""
    adapter: TypeAdapter[Any] = TypeAdapter(field_type)

    def check(value: Any, info: ValidationInfo) -> Any:
        try:
            return adapter.validate_python(value)
        except ValidationError:
            raise FieldProblem(phrase(message, field=info.field_name)) from None
    return Annotated[Any, BeforeValidator(check)]


AwardPoints = Annotated[int, _ledger_points(allow_zero=False)]  # 1-10,000: a chore's points, a bonus
AwardPointsOrZero = Annotated[int, _ledger_points(allow_zero=True)]  # 0-10,000: a penalty, a bonus for claiming
Minutes = Between(1, 24 * 60)  # how long something takes, at most a day
Age = Between(0, 18)  # a kid's age in years
WeekdayNumbers = Annotated[list[int], BeforeValidator(_weekday_numbers)]  # 0 = Monday … 6 = Sunday, sorted, unique


def parse_action(model: type[ModelT], data: Mapping[str, Any] | None) -> ModelT:
    """`parse_input`, where a field refusal written as a whole sentence ("Times look like 18:00") is the message."""
    try:
        return parse_input(model, data)
    except ValidationFailed as error:
        first = next(iter(error.fields.values()), "")
        if first[:1].isupper():
            sentence = error.said.params["problem"] if isinstance(error.said, Phrase) else first
            raise ValidationFailed(sentence, fields=error.fields, **error.extra) from None
        raise


_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,100}")


def clean_idempotency_key(value: str | None) -> str | None:
    """A client's optional `Idempotency-Key` header: 1–100 visible ASCII characters (a UUID is typical)."""
    if value is None:
        return None
    if not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ValidationFailed("Idempotency-Key must be 1-100 visible ASCII characters",
                               fields={"Idempotency-Key": "invalid"})
    return value
