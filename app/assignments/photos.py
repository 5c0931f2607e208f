"""Photo proof: check an upload really is a JPEG/PNG/WebP photo, re-encode it without metadata, store it per family."""
from __future__ import annotations

import io
import os
import re
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from app.domain import DomainError, ValidationFailed
from app.languages import phrase, translatable

MAX_PHOTO_BYTES = 10 * 1024 * 1024
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP")
# Enough for any phone camera; more pixels than this is a decompression bomb, whatever its size in bytes.
MAX_PIXELS = 50_000_000
MAX_SIDE = 2048
THUMB_SIDE = 320
EXTENSION = "jpg"
MIMETYPE = "image/jpeg"
READ_CHUNK = 64 * 1024
# The only names this module ever stores; anything else found in a row is not served.
STORED_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.jpg$")
NOT_A_PHOTO = translatable("That file isn't a photo: please send a JPEG, PNG or WebP picture.")


class PhotoTooLarge(DomainError):
    """The upload is over the size limit (HTTP 413)."""

    status = 413


@dataclass(frozen=True)
class PreparedPhoto:
    """A re-encoded photo and its thumbnail, ready to store (no EXIF, GPS or other metadata)."""

    full: bytes
    thumb: bytes
    width: int
    height: int


@dataclass(frozen=True)
class StagedPhoto:
    """A photo written beside its final place: publish it after the commit, discard it if the commit fails."""

    name: str
    staged: tuple[tuple[Path, Path], ...]  # (temporary file, final file)

    def publish(self) -> None:
        """Move the files into place (an atomic rename each), replacing an earlier photo of the assignment."""
        for temporary, final in self.staged:
            os.replace(temporary, final)

    def discard(self) -> None:
        """Delete the temporary files (the completion did not happen, so nothing is kept)."""
        for temporary, _final in self.staged:
            temporary.unlink(missing_ok=True)


def read_upload(stream: IO[bytes], limit: int = MAX_PHOTO_BYTES) -> bytes:
    """The upload's bytes, read in chunks and refused as soon as it passes the limit (never read whole first)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(READ_CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise PhotoTooLarge(phrase("That photo is too big: the limit is %(megabytes)s MB.",
                                       megabytes=limit // (1024 * 1024)),
                                fields={"photo": "too large"})
        chunks.append(chunk)
    if size == 0:
        raise ValidationFailed("The photo is empty: please take it again.", fields={"photo": "empty"})
    return b"".join(chunks)


def _open(data: bytes) -> Image.Image:
    """Open with only the allowed decoders; a bomb warning counts as a bad photo, not as a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)


def prepare_photo(data: bytes) -> PreparedPhoto:
    """Verify the bytes are a real JPEG/PNG/WebP, then re-encode a JPEG of at most 2048 px and a 320 px thumbnail.

    Re-encoding from pixels drops EXIF (GPS included), XMP, comments and anything hidden after the image data.
    """
    try:
        probe = _open(data)
        if probe.format not in ALLOWED_FORMATS:
            raise ValidationFailed(NOT_A_PHOTO, fields={"photo": "type"})
        width, height = probe.size
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise ValidationFailed("That picture is far too large to be a photo.", fields={"photo": "dimensions"})
        probe.verify()  # checks the file's structure; the image cannot be used afterwards, so open it again
        image = _open(data)
        if image.format == "JPEG":
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))  # let the decoder scale big camera photos down cheaply
        image.load()
        image = ImageOps.exif_transpose(image)  # keep the photo the right way up once the EXIF tag is gone
        pixels = _flatten(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError,
            SyntaxError, ValueError, EOFError) as error:
        raise ValidationFailed(NOT_A_PHOTO, fields={"photo": "invalid"}) from error
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return PreparedPhoto(full=_jpeg(pixels, quality=85), thumb=_jpeg(thumb, quality=80),
                         width=pixels.width, height=pixels.height)


def _flatten(image: Image.Image) -> Image.Image:
    """Plain RGB pixels in a brand-new image (transparency on white), carrying none of the source's metadata."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean = Image.new("RGB", rgba.size, (255, 255, 255))
        clean.paste(rgba, mask=rgba.getchannel("A"))
        return clean
    rgb = image.convert("RGB")
    clean = Image.new("RGB", rgb.size)
    clean.paste(rgb)
    return clean


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def family_folder(uploads_root: Path, family_id: uuid.UUID) -> Path:
    """Each family's photos live in their own folder, named by the family's id (never by anything typed)."""
    return uploads_root / str(uuid.UUID(str(family_id)))


def stored_name(assignment_id: uuid.UUID) -> str:
    """The file name of an assignment's photo (its thumbnail adds `_thumb`)."""
    return f"{uuid.UUID(str(assignment_id))}.{EXTENSION}"


def stage_photo(uploads_root: Path, family_id: uuid.UUID, assignment_id: uuid.UUID,
                photo: PreparedPhoto) -> StagedPhoto:
    """Write the photo and thumbnail to temporary files in the family's folder (published after the commit)."""
    folder = family_folder(uploads_root, family_id)
    folder.mkdir(parents=True, exist_ok=True)
    name = stored_name(assignment_id)
    token = uuid.uuid4().hex
    staged = []
    try:
        for final, content in ((folder / name, photo.full), (_thumb_path(folder / name), photo.thumb)):
            temporary = folder / f".{final.name}.{token}.tmp"
            temporary.write_bytes(content)
            staged.append((temporary, final))
    except OSError:
        StagedPhoto(name, tuple(staged)).discard()
        raise
    return StagedPhoto(name=name, staged=tuple(staged))


def photo_path(uploads_root: Path, family_id: uuid.UUID, name: str | None, *, thumb: bool = False) -> Path | None:
    """The stored file for an assignment's photo name, or None when there is none (or the name is not ours)."""
    if not name or not STORED_NAME.match(name):
        return None
    path = family_folder(uploads_root, family_id) / name
    if thumb:
        path = _thumb_path(path)
    return path if path.is_file() else None


def _thumb_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}_thumb{path.suffix}")
