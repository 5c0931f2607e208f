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

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from app.domain import ValidationFailed

if TYPE_CHECKING:  # only for the annotation: this module stays free of Flask at import time
    from flask import Flask

MAX_POINTS = 100_000
MAX_MONEY_CENTS = 10_000_000
ALLOWED_CONTROLS = frozenset("\t\n\r")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# [0-9], not \d: Python's \d also matches Arabic-Indic and other digits, which int() would then accept.
_ASCII_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
_ASCII_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_ASCII_INT = re.compile(r"^[+-]?[0-9]{1,12}$")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as text (NUL, a lone surrogate, a control character), or None."""
    for char in value:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return "contains an invalid character"
        if unicodedata.category(char) == "Cc" and not (multiline and char in ALLOWED_CONTROLS):
            return "contains a control character"
    return None


def clean_text(value: Any, *, multiline: bool = False) -> str:
    """Text as stored: a string, NFC, trimmed, with no NUL, lone surrogate or control character."""
    if not isinstance(value, str):
        raise ValueError("must be text")
    problem = text_problem(value, multiline=multiline)
    if problem:
        raise ValueError(problem)
    return unicodedata.normalize("NFC", value).strip()


def _strict_int(value: Any) -> Any:
    """Whole numbers only, written with ASCII digits (no 1.5, no True, no Arabic-Indic digits)."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    if isinstance(value, str):
        stripped = value.strip()
        if not _ASCII_INT.match(stripped):
            raise ValueError("must be a whole number")
        return int(stripped)
    return value


def _strict_time(value: Any) -> Any:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not _ASCII_TIME.match(value.strip()):
        raise ValueError("must be a time like 18:30")
    return time.fromisoformat(value.strip())


def _strict_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not _ASCII_DATE.match(value.strip()):
        raise ValueError("must be a date like 2026-03-14")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("must be a real date") from None


def _weekday(value: Any) -> str:
    if not isinstance(value, str) or value.strip().lower() not in WEEKDAYS:
        raise ValueError(f"must be one of {', '.join(WEEKDAYS)}")
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
        fields = field_messages(error)
        first_field, first_message = next(iter(fields.items()))
        raise ValidationFailed(f"{first_field} {first_message}", fields=fields) from None


def field_messages(error: ValidationError) -> dict[str, str]:
    """One short message per field name, from pydantic's errors."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(name, _message(item))
    return fields


def _message(item: Mapping[str, Any]) -> str:
    kind, context = item["type"], item.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind in ("string_too_long", "too_long"):
        return f"can be at most {context.get('max_length')} characters"
    if kind in ("string_too_short", "too_short"):
        return "is required" if context.get("min_length") == 1 else f"needs at least {context.get('min_length')}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')}"
    if kind == "value_error":
        return str(context.get("error", item["msg"]))
    if kind in ("uuid_parsing", "uuid_type"):
        return "must be an id"
    if kind in ("bool_parsing", "bool_type"):
        return "must be true or false"
    if kind in ("string_type",):
        return "must be text"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    return str(item["msg"]).lower()


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
            why = f"{name} contains a character that is not allowed (NUL, control or invalid)"
            if request.path.startswith("/api/"):  # the contract's message for any unusable body, with the reason
                raise ValidationFailed("Invalid request body", details=why, fields={name: "invalid character"})
            raise ValidationFailed(why, fields={name: "invalid character"})
