"""Family archives: export → import as a new family → export again is the same family; bad archives leave nothing."""
from __future__ import annotations

import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from app.tenancy.registry import FamilyRecord
from app.transfer.archive import EXCLUDED_TABLES, FORMAT_VERSION, MANIFEST
from tests.neighbour import row_counts
from tests.transfer.conftest import dedicated_database_exists


def _export(runner: FlaskCliRunner, slug: str, path: Path) -> dict[str, bytes]:
    result = runner.invoke(args=["families", "export", slug, str(path)])
    assert result.exit_code == 0, result.output
    assert f"Exported {slug}" in result.output
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return path


def _reseal(files: dict[str, bytes]) -> dict[str, bytes]:
    """Recompute the manifest's checksums after an edit (an attacker who knows the format)."""
    manifest = json.loads(files[MANIFEST])
    for name, content in files.items():
        if name != MANIFEST:
            entry = manifest["files"].setdefault(name, {})
            entry.update(sha256=hashlib.sha256(content).hexdigest(), bytes=len(content))
    return {**files, MANIFEST: json.dumps(manifest).encode()}


def test_round_trip_gives_the_same_family_apart_from_its_id_and_slug(
        app: Flask, runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path, uploads: Path) -> None:
    first = _export(runner, full_family.slug, tmp_path / "first.zip")
    copy = f"copy-{uuid.uuid4().hex[:8]}"
    # The original still lives in the pooled database and ids are kept, so the copy goes to its own database.
    result = runner.invoke(args=["families", "import-archive", copy, str(tmp_path / "first.zip"),
                                 "--placement", "dedicated"])
    assert result.exit_code == 0, result.output
    second = _export(runner, copy, tmp_path / "second.zip")

    assert sorted(first) == sorted(second)
    assert any(name.startswith("photos/") for name in first)
    for name in first:
        if name in (MANIFEST, "family.json"):
            continue
        assert first[name] == second[name], f"{name} differs after the round trip"
    family_1, family_2 = json.loads(first["family.json"]), json.loads(second["family.json"])
    assert (family_1.pop("id"), family_1.pop("slug")) == (str(full_family.id), full_family.slug)
    assert family_2.pop("slug") == copy and family_2.pop("id") != str(full_family.id)
    assert family_1 == family_2 and family_1["memberships"][0]["role"] == "owner"
    manifest_1, manifest_2 = json.loads(first[MANIFEST]), json.loads(second[MANIFEST])
    for manifest in (manifest_1, manifest_2):
        manifest.pop("exported_at"), manifest.pop("family"), manifest["files"].pop("family.json")
        assert manifest["format_version"] == FORMAT_VERSION
    assert manifest_1 == manifest_2

    # Every carried table has its rows; credentials stayed home.
    counts = row_counts(app, full_family)
    tables = {name.removeprefix("tables/").removesuffix(".json") for name in first if name.startswith("tables/")}
    assert tables == set(counts) - EXCLUDED_TABLES
    for table in tables:
        assert len(json.loads(first[f"tables/{table}.json"])["rows"]) == counts[table], table
        assert counts[table] > 0, f"the seeded family has no {table} rows: the round trip proves nothing for it"
    members = json.loads(first["tables/members.json"])["rows"]
    assert all("password_hash" not in row and "pin_hash" not in row for row in members)
    assert all("secret" not in row for row in json.loads(first["tables/webhooks.json"])["rows"])
    assert b"$argon2" not in b"".join(first.values())
    copied = json.loads(first[MANIFEST])["family"]["id"]
    assert (uploads / copied).is_dir()


def test_importing_beside_the_original_in_the_same_database_is_refused_cleanly(
        runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path,
        family_exists: Callable[[str], bool]) -> None:
    _export(runner, full_family.slug, tmp_path / "a.zip")
    copy = f"copy-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "import-archive", copy, str(tmp_path / "a.zip"),
                                 "--placement", "pooled"])
    assert result.exit_code != 0
    assert "already" in result.output and "dedicated" in result.output
    assert not family_exists(copy)


def _broken(kind: str, files: dict[str, bytes]) -> dict[str, bytes] | bytes:
    manifest = json.loads(files[MANIFEST])
    if kind == "newer format":
        manifest["format_version"] = FORMAT_VERSION + 1
        return {**files, MANIFEST: json.dumps(manifest).encode()}
    if kind == "not ours":
        manifest["format"] = "something-else"
        return {**files, MANIFEST: json.dumps(manifest).encode()}
    if kind == "checksum mismatch":
        rows = json.loads(files["tables/chores.json"])
        rows["rows"][0]["base_points"] = 999_999
        return {**files, "tables/chores.json": json.dumps(rows).encode()}
    if kind == "unlisted file":
        return {**files, "tables/extra.json": b"{}"}
    if kind == "missing table":
        del manifest["files"]["tables/chores.json"]
        rest = {name: content for name, content in files.items() if name != "tables/chores.json"}
        return {**rest, MANIFEST: json.dumps(manifest).encode()}
    if kind == "impossible value":
        rows = json.loads(files["tables/chores.json"])
        rows["rows"][0]["base_points"] = "lots"
        return _reseal({**files, "tables/chores.json": json.dumps(rows).encode()})
    if kind == "broken reference":
        rows = json.loads(files["tables/assignments.json"])
        rows["rows"][0]["chore_id"] = str(uuid.uuid4())
        return _reseal({**files, "tables/assignments.json": json.dumps(rows).encode()})
    if kind == "hostile photo name":
        return _reseal({**files, "photos/../../evil.jpg": b"x"})
    if kind == "not a zip":
        return b"PK\x03\x04 this is not really a zip"
    raise AssertionError(kind)


@pytest.mark.parametrize(("kind", "message"), [
    ("newer format", "newer HousePoints"), ("not ours", "not a HousePoints family archive"),
    ("checksum mismatch", "Checksum mismatch for tables/chores.json"), ("unlisted file", "does not match"),
    ("missing table", "lacks the tables chores"), ("impossible value", "base_points"),
    ("broken reference", "refused"), ("hostile photo name", "unexpected file"), ("not a zip", "corrupt"),
])
def test_a_bad_archive_is_refused_with_a_clear_message_and_leaves_nothing(
        app: Flask, runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path, uploads: Path,
        family_exists: Callable[[str], bool], kind: str, message: str) -> None:
    files = _export(runner, full_family.slug, tmp_path / "good.zip")
    broken = _broken(kind, files)
    path = tmp_path / "bad.zip"
    if isinstance(broken, bytes):
        path.write_bytes(broken)
    else:
        _zip(broken, path)
    folders_before = sorted(uploads.iterdir())
    copy = f"bad-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "import-archive", copy, str(path), "--placement", "dedicated"])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert not family_exists(copy)
    assert not dedicated_database_exists(app, copy)
    assert sorted(uploads.iterdir()) == folders_before


def test_a_truncated_archive_is_corrupt(runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path,
                                        family_exists: Callable[[str], bool]) -> None:
    good = (tmp_path / "good.zip")
    _export(runner, full_family.slug, good)
    (tmp_path / "cut.zip").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    result = runner.invoke(args=["families", "import-archive", "cut-family", str(tmp_path / "cut.zip")])
    assert result.exit_code != 0 and "corrupt" in result.output
    assert not family_exists("cut-family")


def test_a_taken_slug_is_refused(runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path,
                                 neighbour: FamilyRecord) -> None:
    _export(runner, full_family.slug, tmp_path / "a.zip")
    result = runner.invoke(args=["families", "import-archive", neighbour.slug, str(tmp_path / "a.zip")])
    assert result.exit_code != 0 and "is taken" in result.output


@pytest.mark.postgresql_only("the size limits are engine-independent; one run is enough")
def test_an_entry_that_inflates_past_the_limit_is_refused_without_reading_it_all(
        runner: FlaskCliRunner, full_family: FamilyRecord, tmp_path: Path,
        family_exists: Callable[[str], bool]) -> None:
    from app.transfer.archive import MAX_ENTRY_BYTES

    files = _export(runner, full_family.slug, tmp_path / "good.zip")
    bomb = _reseal({**files, f"photos/{uuid.uuid4()}.jpg": bytes(MAX_ENTRY_BYTES + 1)})  # ~64 MB of zeros: 64 KB zipped
    path = _zip(bomb, tmp_path / "bomb.zip")
    assert path.stat().st_size < 2 * 1024 * 1024
    copy = f"bomb-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(args=["families", "import-archive", copy, str(path)])
    assert result.exit_code != 0 and "is too large" in result.output
    assert not family_exists(copy)


def test_exporting_an_unknown_family_says_so(runner: FlaskCliRunner, tmp_path: Path) -> None:
    result = runner.invoke(args=["families", "export", "no-such-family", str(tmp_path / "x.zip")])
    assert result.exit_code != 0 and "no family with slug" in result.output
    assert not (tmp_path / "x.zip").exists()


def test_archive_bytes_are_deterministic_for_one_family(runner: FlaskCliRunner, full_family: FamilyRecord,
                                                         tmp_path: Path) -> None:
    first = _export(runner, full_family.slug, tmp_path / "1.zip")
    second = _export(runner, full_family.slug, tmp_path / "2.zip")
    assert {k: v for k, v in first.items() if k != MANIFEST} == {k: v for k, v in second.items() if k != MANIFEST}
    assert io.BytesIO(first[MANIFEST]).read()  # the manifest differs only by its export time
    assert json.loads(first[MANIFEST])["files"] == json.loads(second[MANIFEST])["files"]
