"""The two declarative bases (platform and family) and the column types both share."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, MetaData, TypeDecorator, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

# One naming convention on both metadatas, so Alembic can name (and later drop) every constraint.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware UTC now: every stored timestamp is UTC, local time is computed at the edges."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back aware in UTC, on PostgreSQL and SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite keeps no zone; we only ever store UTC
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _enum_values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


def str_enum(enum: type[StrEnum], *, length: int, name: str) -> Enum:
    """A VARCHAR(length) holding one of `enum`'s values, with CHECK constraint ck_<table>_<name> refusing others.

    The stored strings are the members' values (what the API has always shown); rows load as members.
    """
    return Enum(enum, native_enum=False, validate_strings=True, create_constraint=True, length=length, name=name,
                values_callable=_enum_values)


class PlatformBase(DeclarativeBase):
    """Tables of the platform database: families, accounts, billing, audit."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class FamilyBase(DeclarativeBase):
    """Tables of a family database (pooled or dedicated); each one carries family_id."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UUIDPrimaryKey:
    """UUID ids, as the previous service's API exposes them."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class Timestamps:
    """created_at / updated_at kept by the ORM in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class FamilyScoped:
    """Mixin for every family table: the session filters and stamps family_id automatically."""

    @declared_attr
    def family_id(cls) -> Mapped[uuid.UUID]:  # noqa: N805 - declared_attr takes the class
        return mapped_column(Uuid, nullable=False, index=True)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        # The unit of work updates and deletes rows by primary key. Declaring family_id as a "version" column the
        # app manages (never generated) puts `AND family_id = <loaded value>` into those statements too, so every
        # flush is pinned to its family and the gate can prove it; a row of another family matches nothing.
        return {"version_id_col": cls.family_id, "version_id_generator": False}
