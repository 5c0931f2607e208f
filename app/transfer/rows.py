"""Family rows as JSON values and back, by column type, for archives and the legacy importer alike."""
from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Boolean, Column, Date, Enum, Integer, JSON, String, Time, Uuid
from sqlalchemy.orm import Mapper

from app.db.bases import FamilyBase, UTCDateTime


class RowValueError(ValueError):
    """A stored value does not fit its column; the message names the column."""


def family_mappers() -> dict[str, Mapper[Any]]:
    """Table name → mapper of every family model."""
    import app.models  # noqa: F401  # every model module, so the registry is complete

    return {mapper.persist_selectable.description: mapper for mapper in FamilyBase.registry.mappers}


def columns_of(mapper: Mapper[Any]) -> dict[str, Column[Any]]:
    """Attribute name → column for a mapper's plain columns (family_id included)."""
    return {attr.key: attr.columns[0] for attr in mapper.column_attrs}  # type: ignore[misc]


def to_json(value: Any) -> Any:
    """A Python column value as a JSON value (UUIDs and instants as strings, enums as their stored string)."""
    if value is None or isinstance(value, bool | int | float | str) and not isinstance(value, enum.Enum):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return value
    raise RowValueError(f"cannot store a {type(value).__name__}")


def from_json(column: Column[Any], value: Any) -> Any:
    """The JSON value as the Python value `column` stores; RowValueError when it does not fit."""
    if value is None:
        if not column.nullable and column.default is None and not column.primary_key:
            raise RowValueError(f"{column.name} may not be empty")
        return None
    kind = column.type
    try:
        if isinstance(kind, JSON):
            return value
        if isinstance(kind, Uuid):
            return uuid.UUID(_text(value))
        if isinstance(kind, UTCDateTime):
            moment = datetime.fromisoformat(_text(value))
            if moment.tzinfo is None:
                raise RowValueError(f"{column.name}: an instant needs its UTC offset")
            return moment
        if isinstance(kind, Date):
            return date.fromisoformat(_text(value))
        if isinstance(kind, Time):
            return time.fromisoformat(_text(value))
        if isinstance(kind, Enum):
            if kind.enum_class is not None:
                return kind.enum_class(_text(value))
            if value not in kind.enums:
                raise RowValueError(f"{column.name}: {value!r} is not one of {', '.join(kind.enums)}")
            return value
        if isinstance(kind, Boolean):
            if not isinstance(value, bool):
                raise RowValueError(f"{column.name}: expected true or false")
            return value
        if isinstance(kind, Integer):
            if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
                raise RowValueError(f"{column.name}: expected a whole number")
            return value
        if isinstance(kind, String):
            text = _text(value)
            if kind.length is not None and len(text) > kind.length:
                raise RowValueError(f"{column.name}: longer than {kind.length} characters")
            if "\x00" in text:
                raise RowValueError(f"{column.name}: contains a NUL character")
            return text
    except (TypeError, ValueError) as error:
        if isinstance(error, RowValueError):
            raise
        raise RowValueError(f"{column.name}: {value!r} is not a valid {kind}") from None
    raise RowValueError(f"{column.name}: unsupported column type {kind}")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise RowValueError(f"expected text, got {type(value).__name__}")
    return value
