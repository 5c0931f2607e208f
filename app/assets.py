"""Bytes on the wire: compressed text answers (Flask-Compress) and static files under fingerprinted, year-long URLs."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, request
from flask_compress import Compress
from werkzeug.wrappers import Response as BaseResponse

compress = Compress()

# Text we send: pages and fragments, styles, scripts, JSON (the API, the manifest) and the SVG icon. Never the live
# stream (text/event-stream: compressing it would hold events back), CSV, iCal, zip or photos.
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "application/manifest+json", "image/svg+xml"]
STATIC_ENDPOINTS = ("static", "operator.static")
YEAR = 365 * 24 * 3600
BROTLI_QUALITY = 3


def init_app(app: Flask) -> None:
    """Compress after the fragment ETag (app/live/etag.py) has tagged the plain body: call before `etag.init_app`."""
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # Brotli for browsers (all of ours send `br`), gzip for the rest; zstd is left out (one encoding fewer to test).
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Every answer is packed afresh (pages carry their CSRF token), so brotli's quality is paid per request: 3 packs
    # the kid's view in half the CPU of Flask-Compress's default 4 for ~5 % more bytes (docs/PERFORMANCE.md).
    app.config.setdefault("COMPRESS_BR_LEVEL", BROTLI_QUALITY)
    # Nothing streamed is compressed (downloads, the live stream); static files are read whole first (below).
    app.config.setdefault("COMPRESS_STREAMS", False)
    compress.init_app(app)
    # Added after the compressor, so it runs before it (Flask runs after-request hooks last-added first).
    app.url_defaults(fingerprint_static_url)
    app.after_request(prepare_static_file)


def fingerprint_static_url(endpoint: str, values: dict[str, Any]) -> None:
    """`url_for('static', filename=...)` gains `?v=<content hash>`: a changed file gets a new URL (and the service
    worker's cache-first copy, keyed by URL, is replaced with it)."""
    if endpoint in STATIC_ENDPOINTS and "filename" in values and "v" not in values:
        version = _version_of(endpoint, str(values["filename"]))
        if version:
            values["v"] = version


def prepare_static_file(response: BaseResponse) -> BaseResponse:
    """A static file asked for under its current fingerprint never changes: browsers keep it a year without asking
    (any other static request, an old or missing `v`, keeps Flask's revalidating default). A text file is read
    whole, so the compressor packs it like a page, tags it by encoding and answers its 304s; the file is closed
    with the response."""
    if request.endpoint not in STATIC_ENDPOINTS or response.status_code not in (200, 304):
        return response
    if request.view_args and request.args.get("v") == _version_of(request.endpoint,
                                                                  str(request.view_args.get("filename", ""))):
        response.cache_control.no_cache = None
        response.cache_control.public = True
        response.cache_control.max_age = YEAR
        response.cache_control.immutable = True
        response.expires = None
    if response.status_code == 200 and response.mimetype in COMPRESSED_TYPES and response.is_streamed:
        response.direct_passthrough = False
        response.make_sequence()
    return response


def _version_of(endpoint: str, filename: str) -> str | None:
    folder = _static_folder(endpoint)
    if folder is None:
        return None
    if current_app.debug:  # development: an edited file gets its new fingerprint on the next page
        return _file_version(folder, filename)
    return _deployed_version(folder, filename)


@lru_cache(maxsize=1024)
def _deployed_version(folder: str, filename: str) -> str | None:
    """A running server's files do not change (a deploy restarts it): resolved and hashed once, not per link (a page
    links about fifteen; resolving each path was a fifth of the landing page's CPU). Bounded: names come from URLs."""
    return _file_version(folder, filename)


def _file_version(folder: str, filename: str) -> str | None:
    path = (Path(folder) / filename).resolve()
    if not path.is_relative_to(Path(folder).resolve()):
        return None
    try:
        stat = path.stat()
    except OSError:
        return None
    return _content_hash(str(path), stat.st_mtime_ns, stat.st_size)


def _static_folder(endpoint: str) -> str | None:
    if endpoint == "static":
        return current_app.static_folder
    blueprint = current_app.blueprints.get(endpoint.rpartition(".")[0])
    return blueprint.static_folder if blueprint is not None else None


@lru_cache(maxsize=256)
def _content_hash(path: str, mtime_ns: int, size: int) -> str:
    """Hashed once per file version (the stat in the key notices an edit in development)."""
    del mtime_ns, size
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:12]

