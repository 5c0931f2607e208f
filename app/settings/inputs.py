"""Settings' typed inputs: a setting key and a storable JSON value, shared by the settings page and the API."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, StrictBool

from app.domain import Sayable, ValidationFailed
from app.inputs import FieldProblem, Input, parse_input, text_problem
from app.languages import phrase, translatable

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
MAX_VALUE_BYTES = 10_000


def _setting_key(value: Any) -> str:
    """A setting name: 1-100 letters, digits, `_`, `-` or `.` (it is also a URL segment)."""
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise ValueError(translatable("must be up to 100 letters, digits, _, - or ."))
    return value


def _storable_json(value: Any) -> Any:
    """Any JSON value but null, at most 10,000 bytes, whose text (keys too) PostgreSQL's json can hold."""
    if value is None:
        raise ValueError(translatable("is required"))
    try:
        encoded = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise ValueError(translatable("must be a JSON value")) from None
    if len(encoded.encode("utf-8", "surrogatepass")) > MAX_VALUE_BYTES:
        raise FieldProblem(phrase("is too large (at most %(most)s bytes of JSON)", most=MAX_VALUE_BYTES))
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and text_problem(item, multiline=True):
            raise ValueError(translatable("contains a character that cannot be stored"))
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            pending += item
    return value


SettingKey = Annotated[str, BeforeValidator(_setting_key)]
StorableJson = Annotated[Any, AfterValidator(_storable_json)]


class SettingValue(Input):
    """One setting as a parent writes it: the key's own rule then checks the value (services)."""

    key: SettingKey
    value: StorableJson
    is_private: StrictBool | None = None


def parse_settings(values: Mapping[str, Any]) -> list[SettingValue]:
    """A group of settings (the settings page), each checked; one message per key for every bad one."""
    parsed: list[SettingValue] = []
    errors: dict[str, str] = {}
    said: dict[str, str | Sayable] = {}  # each key's refusal for a page to say in its language (not in the API)
    first: ValidationFailed | None = None
    for key, value in values.items():
        try:
            parsed.append(parse_input(SettingValue, {"key": key, "value": value}))
        except ValidationFailed as error:
            errors[key] = error.message
            said[key] = error.said or error.message
            first = first or error
    if first is not None:
        raise ValidationFailed(first.said or first.message, fields=errors, said_fields=said)
    return parsed
