"""A family's complete export as a zip (a JSON document per family table, its photos, a checksummed manifest),
and the family recreated from one.

Credentials never leave in an archive: sign-in sessions, lockout counters, tablet and calendar tokens, password and
PIN hashes and webhook signing secrets are left out (an imported family's people set a new password or PIN; its
webhooks get new secrets).
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import shutil
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapper, Session

from app.assignments.photos import family_folder
from app.audit import record_audit
from app.db.bases import FamilyBase
from app.languages import translatable
from app.db.engines import EngineRegistry
from app.domain import Forbidden
from app.members.models import FamilySetting, Member
from app.platform.models import Family, FamilyMembership, MembershipRole, User
from app.tenancy.provisioning import Placement, provision_family
from app.transfer.rows import RowValueError, columns_of, family_mappers, from_json, to_json

FORMAT = "housepoints-family-archive"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FAMILY_DOCUMENT = "family.json"
# Tables of sign-in state and tokens: meaningless (or dangerous) outside the family's own database.
EXCLUDED_TABLES = frozenset({"member_sessions", "login_failures", "tablet_devices", "calendar_feeds"})
EXCLUDED_COLUMNS = {"members": frozenset({"password_hash", "pin_hash"}), "webhooks": frozenset({"secret"})}
PHOTO_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_thumb)?\.jpg$")
MAX_ENTRY_BYTES = 64 * 1024 * 1024  # one table document or photo
MAX_ARCHIVE_BYTES = 2 * 1024 * 1024 * 1024  # everything, uncompressed (a zip bomb stops here)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed, so two exports of the same family are byte-comparable
OWNER_ONLY = translatable("Only the family owner can download the family's data")


class ArchiveError(ValueError):
    """The archive cannot be read or imported; the message says why, and nothing was created."""


@dataclass(frozen=True)
class ArchiveSummary:
    """What an export or import held: rows per table, photo count, archive size."""

    rows: dict[str, int]
    photos: int
    size_bytes: int = 0


@dataclass
class Archive:
    """A verified archive's contents: the family document, table rows and photo bytes."""

    family: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    photos: dict[str, bytes] = field(default_factory=dict)


def archived_tables() -> list[tuple[str, Mapper[Any]]]:
    """Family tables an archive carries, parents before children (the order rows are inserted in)."""
    mappers = family_mappers()
    return [(table.name, mappers[table.name]) for table in FamilyBase.metadata.sorted_tables
            if table.name not in EXCLUDED_TABLES and table.name in mappers]


def is_family_owner(session: Session, actor: Member, family_id: uuid.UUID) -> bool:
    """Whether `actor` is the active parent whose platform account owns family `family_id`."""
    if not (actor.is_parent and actor.is_active and actor.user_id is not None):
        return False
    role = session.scalar(select(FamilyMembership.role).where(FamilyMembership.family_id == family_id,
                                                              FamilyMembership.member_id == actor.id,
                                                              FamilyMembership.user_id == actor.user_id))
    return role == MembershipRole.OWNER


def require_family_owner(session: Session, actor: Member, family_id: uuid.UUID) -> None:
    """Refuse anyone but the family's owner (not co-parents, not kids)."""
    if not is_family_owner(session, actor, family_id):
        raise Forbidden(OWNER_ONLY)


def record_export(session: Session, actor: Member, family_id: uuid.UUID, summary: ArchiveSummary, *,
                  ip_address: str | None) -> None:
    """Audit who took the family's data out, and how much of it."""
    record_audit(session, "family.exported", family_id=family_id, actor_user_id=actor.user_id,
                 actor_member_id=actor.id, target_type="family", target_id=family_id, ip_address=ip_address,
                 details={"rows": sum(summary.rows.values()), "photos": summary.photos})


# --- export ----------------------------------------------------------------------------------------------------


def export_family(session: Session, family_id: uuid.UUID, uploads_root: Path, out: IO[bytes],
                  *, now: datetime | None = None) -> ArchiveSummary:
    """Write family `family_id`'s archive to `out`; `session` is scoped to that family (reads only)."""
    family = session.get(Family, family_id)
    if family is None:
        raise ArchiveError("no such family")
    documents: list[tuple[str, bytes, int | None]] = [(FAMILY_DOCUMENT, _dump(_family_document(session, family)),
                                                      None)]
    rows: dict[str, int] = {}
    for name, mapper in archived_tables():
        table_rows = _table_rows(session, name, mapper)
        rows[name] = len(table_rows)
        documents.append((f"tables/{name}.json", _dump({"format_version": FORMAT_VERSION, "table": name,
                                                         "rows": table_rows}), len(table_rows)))
    photos = sorted(path for path in family_folder(uploads_root, family.id).glob("*.jpg")
                    if path.is_file() and PHOTO_NAME.match(path.name)) \
        if family_folder(uploads_root, family.id).is_dir() else []
    for path in photos:
        documents.append((f"photos/{path.name}", path.read_bytes(), None))
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION,
        "exported_at": (now or datetime.now(timezone.utc)).isoformat(),
        "family": {"id": str(family.id), "slug": family.slug},
        "files": {path: {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content),
                         **({"rows": count} if count is not None else {})}
                  for path, content, count in documents},
    }
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        _write(archive, MANIFEST, _dump(manifest))
        for document_path, content, _count in documents:
            _write(archive, document_path, content)
    return ArchiveSummary(rows=rows, photos=len(photos))


def _family_document(session: Session, family: Family) -> dict[str, Any]:
    memberships = session.scalars(select(FamilyMembership).where(FamilyMembership.family_id == family.id)).all()
    return {
        "format_version": FORMAT_VERSION, "id": str(family.id), "slug": family.slug, "name": family.name,
        "timezone": family.timezone, "plan": family.plan.value,
        "memberships": sorted(({"user_id": str(m.user_id), "role": m.role.value,
                                "member_id": str(m.member_id) if m.member_id else None} for m in memberships),
                              key=lambda m: (m["user_id"], m["member_id"] or "")),
    }


def _table_rows(session: Session, name: str, mapper: Mapper[Any]) -> list[dict[str, Any]]:
    skipped = EXCLUDED_COLUMNS.get(name, frozenset()) | {"family_id"}
    columns = {key: column for key, column in columns_of(mapper).items() if key not in skipped}
    model = mapper.class_
    objects = session.scalars(select(model).order_by(model.id)).all()
    return [{key: to_json(getattr(obj, key)) for key in sorted(columns)} for obj in objects]


def _dump(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False).encode()


def _write(archive: zipfile.ZipFile, path: str, content: bytes) -> None:
    info = zipfile.ZipInfo(path, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, content)


# --- reading ---------------------------------------------------------------------------------------------------


def read_archive(source: IO[bytes] | Path) -> Archive:
    """Open and verify an archive: format and version, every file listed with the right size and SHA-256."""
    try:
        with zipfile.ZipFile(source) as archive:
            return _verified(archive)
    except zipfile.BadZipFile as error:
        raise ArchiveError(f"The archive is corrupt or not a zip file ({error}).") from None
    except (OSError, EOFError) as error:
        raise ArchiveError(f"The archive cannot be read ({error}).") from None


def _verified(archive: zipfile.ZipFile) -> Archive:
    infos = {info.filename: info for info in archive.infolist()}
    if MANIFEST not in infos:
        raise ArchiveError("The archive has no manifest.json: it is not a HousePoints family archive.")
    manifest = _json(_read(archive, infos[MANIFEST]), MANIFEST)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError("The archive is not a HousePoints family archive (unknown format).")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ArchiveError("The archive's format version is missing or invalid.")
    if version > FORMAT_VERSION:
        raise ArchiveError(f"The archive was made by a newer HousePoints (format version {version}); "
                           f"this one reads up to version {FORMAT_VERSION}. Upgrade, then import again.")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise ArchiveError("The archive's manifest lists no files.")
    unlisted = sorted(set(infos) - set(files) - {MANIFEST})
    missing = sorted(set(files) - set(infos))
    if unlisted or missing:
        raise ArchiveError(f"The archive does not match its manifest (missing: {', '.join(missing) or 'none'}; "
                           f"not listed: {', '.join(unlisted) or 'none'}).")
    if sum(info.file_size for info in infos.values()) > MAX_ARCHIVE_BYTES:
        raise ArchiveError("The archive is too large to import.")
    known = dict(archived_tables())
    result: Archive | None = None
    tables: dict[str, list[dict[str, Any]]] = {}
    photos: dict[str, bytes] = {}
    for path, expected in sorted(files.items()):
        if not isinstance(expected, dict):
            raise ArchiveError(f"The manifest entry for {path} is invalid.")
        content = _read(archive, infos[path])
        if len(content) != expected.get("bytes") or hashlib.sha256(content).hexdigest() != expected.get("sha256"):
            raise ArchiveError(f"Checksum mismatch for {path}: the archive was changed or damaged.")
        if path == FAMILY_DOCUMENT:
            document = _json(content, path)
            if not isinstance(document, dict):
                raise ArchiveError(f"{path} is not a family document.")
            result = Archive(family=document)
        elif path.startswith("tables/") and path.endswith(".json"):
            name = path.removeprefix("tables/").removesuffix(".json")
            if name not in known:
                raise ArchiveError(f"The archive holds an unknown table {name!r}.")
            document = _json(content, path)
            rows = document.get("rows") if isinstance(document, dict) else None
            if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows) \
                    or document.get("table") != name:
                raise ArchiveError(f"{path} is not a table document.")
            if len(rows) != expected.get("rows"):
                raise ArchiveError(f"{path} holds {len(rows)} rows, the manifest says {expected.get('rows')}.")
            tables[name] = rows
        elif path.startswith("photos/") and PHOTO_NAME.match(path.removeprefix("photos/")):
            photos[path.removeprefix("photos/")] = content
        else:
            raise ArchiveError(f"The archive holds an unexpected file {path!r}.")
    if result is None:
        raise ArchiveError("The archive has no family.json.")
    absent = sorted(set(known) - set(tables))
    if absent:
        raise ArchiveError(f"The archive lacks the tables {', '.join(absent)}.")
    result.tables, result.photos = tables, photos
    return result


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_ENTRY_BYTES:
        raise ArchiveError(f"{info.filename} is too large.")
    with archive.open(info) as stream:
        content = stream.read(MAX_ENTRY_BYTES + 1)
    if len(content) > MAX_ENTRY_BYTES:
        raise ArchiveError(f"{info.filename} is too large.")
    return content


def _json(content: bytes, path: str) -> Any:
    try:
        return json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArchiveError(f"{path} is not valid JSON.") from None


# --- import ----------------------------------------------------------------------------------------------------


def import_archive(platform_session: Session, engines: EngineRegistry, placement_config: Placement,
                   archive: Archive, *, slug: str, uploads_root: Path, name: str | None = None,
                   placement: str | None = None) -> Family:
    """Create family `slug` from a verified archive: all of it (rows, memberships, photos) or nothing."""
    document = archive.family
    family_name, timezone_name = name or document.get("name"), document.get("timezone", "UTC")
    plan = document.get("plan", "free")
    if not (isinstance(family_name, str) and isinstance(timezone_name, str) and isinstance(plan, str)):
        raise ArchiveError("family.json has an invalid name, timezone or plan.")
    prepared = {table: _decoded(table, mapper, archive.tables[table]) for table, mapper in archived_tables()}
    created_folder: list[Path] = []

    def populate(session: Session, family: Family) -> None:
        for pending in [obj for obj in session.new if isinstance(obj, FamilySetting)]:
            session.expunge(pending)  # the archive brings the family's own settings
        known_users = _existing_users(platform_session, document)
        for table, mapper in archived_tables():
            _insert_rows(session, table, mapper, prepared[table], known_users)
        for membership in _memberships(document, known_users):
            platform_session.add(FamilyMembership(family_id=family.id, **membership))
        if archive.photos:
            folder = family_folder(uploads_root, family.id)
            folder.mkdir(parents=True, exist_ok=False)
            created_folder.append(folder)
            for photo, content in archive.photos.items():
                (folder / photo).write_bytes(content)

    try:
        return provision_family(platform_session, engines, placement_config, slug=slug, name=family_name,
                                placement=placement, timezone=timezone_name, plan=plan, populate=populate)
    except IntegrityError as error:
        for folder in created_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise ArchiveError(_refusal(error)) from None
    except BaseException:
        for folder in created_folder:
            shutil.rmtree(folder, ignore_errors=True)
        raise


def _refusal(error: IntegrityError) -> str:
    """The database refused a row: say whether its id is already used or it points at a row that is missing."""
    detail = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
    if "duplicate key" in detail or "UNIQUE constraint" in detail:
        return ("Rows of this archive already exist in the target database (is the original family still there?). "
                "Import it with --placement dedicated, or after the original is gone. "
                f"The database said: {detail}")
    return f"The archive's rows were refused by the database (a broken reference or value): {detail}"


def _decoded(table: str, mapper: Mapper[Any], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    columns = columns_of(mapper)
    allowed = set(columns) - {"family_id"} - EXCLUDED_COLUMNS.get(table, frozenset())
    decoded = []
    for number, row in enumerate(rows, start=1):
        unknown = set(row) - allowed
        if unknown:
            raise ArchiveError(f"tables/{table}.json row {number}: unknown columns {', '.join(sorted(unknown))}.")
        try:
            decoded.append({key: from_json(columns[key], value) for key, value in row.items()})
        except RowValueError as error:
            raise ArchiveError(f"tables/{table}.json row {number}: {error}.") from None
        if decoded[-1].get("id") is None:
            raise ArchiveError(f"tables/{table}.json row {number}: no id.")
    return decoded


def _existing_users(platform_session: Session, document: dict[str, Any]) -> set[uuid.UUID]:
    """Platform accounts of the archive's memberships that exist here (an archive from elsewhere links no one)."""
    ids = set()
    for membership in _membership_list(document):
        try:
            ids.add(uuid.UUID(str(membership.get("user_id"))))
        except ValueError:
            raise ArchiveError("family.json has a membership with an invalid user id.") from None
    return set(platform_session.scalars(select(User.id).where(User.id.in_(ids)))) if ids else set()


def _membership_list(document: dict[str, Any]) -> list[dict[str, Any]]:
    memberships = document.get("memberships", [])
    if not isinstance(memberships, list) or not all(isinstance(m, dict) for m in memberships):
        raise ArchiveError("family.json has invalid memberships.")
    return memberships


def _memberships(document: dict[str, Any], known_users: set[uuid.UUID]) -> Iterable[dict[str, Any]]:
    for membership in _membership_list(document):
        user_id = uuid.UUID(str(membership["user_id"]))
        if user_id not in known_users:
            continue
        role = membership.get("role")
        if role not in tuple(MembershipRole):
            raise ArchiveError(f"family.json has an unknown membership role {role!r}.")
        member_id = membership.get("member_id")
        try:
            yield {"user_id": user_id, "role": MembershipRole(role),
                   "member_id": uuid.UUID(member_id) if member_id else None}
        except (TypeError, ValueError):
            raise ArchiveError("family.json has a membership with an invalid member id.") from None


def _insert_rows(session: Session, table: str, mapper: Mapper[Any], rows: list[dict[str, Any]],
                 known_users: set[uuid.UUID]) -> None:
    """Insert one table's rows through the family's session; a row referring to its own table follows its target."""
    self_refs = [key for key, column in columns_of(mapper).items()
                 if key != "family_id" and any(fk.column.table.name == table for fk in column.foreign_keys)]
    ordered = _referenced_first(rows, self_refs) if self_refs else rows
    for row in ordered:
        values = dict(row)
        if table == "members" and values.get("user_id") not in known_users:
            values["user_id"] = None  # an account of another platform: they join again by invitation
        if table == "webhooks":
            values["secret"] = secrets.token_hex(32)
        session.add(mapper.class_(**values))
        if self_refs:
            session.flush()  # one at a time, so the row it points at is already there
    session.flush()


def _referenced_first(rows: list[dict[str, Any]], keys: list[str]) -> list[dict[str, Any]]:
    """Rows ordered so each one comes after the rows of the same table it refers to; a cycle is refused."""
    by_id = {row["id"]: row for row in rows}
    ordered: list[dict[str, Any]] = []
    state: dict[Any, str] = {}

    def visit(row: dict[str, Any]) -> None:
        mark = state.get(row["id"])
        if mark == "done":
            return
        if mark == "visiting":
            raise ArchiveError("The archive's rows refer to each other in a circle.")
        state[row["id"]] = "visiting"
        for key in keys:
            target = by_id.get(row.get(key))
            if target is not None and target is not row:
                visit(target)
        state[row["id"]] = "done"
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def archive_bytes(session: Session, family_id: uuid.UUID, uploads_root: Path) -> bytes:
    """The family's archive in memory (tests and small families)."""
    buffer = io.BytesIO()
    export_family(session, family_id, uploads_root, buffer)
    return buffer.getvalue()
