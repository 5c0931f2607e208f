"""Bytes on the wire (app/assets.py): text answers compressed when the browser accepts it, static files under
fingerprinted year-long URLs, and the live stream, fragment 304s and the service worker unchanged."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli
import pytest

from tests.forms import HTMX

STATIC = Path(__file__).resolve().parents[1] / "static"
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
GZIP_ONLY = {"Accept-Encoding": "gzip"}


@pytest.fixture
def parent_client(family, create_member, auth, client_for):  # noqa: ANN201
    parent = create_member(role="parent", username="mum", display_name="Mum")
    client = client_for(family)
    auth.sign_in(client, parent, family)
    return client


def _fetch(client, url: str, headers: dict[str, str]):  # noqa: ANN001, ANN202
    """GET, read and close, as a WSGI server does (a static answer holds its file open until closed)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def _plain(response) -> bytes:  # noqa: ANN001
    encoding = response.headers.get("Content-Encoding")
    body = response.get_data()
    return brotli.decompress(body) if encoding == "br" else gzip.decompress(body) if encoding == "gzip" else body


def test_pages_come_compressed_only_to_a_browser_that_accepts_it(parent_client) -> None:
    plain = parent_client.get("/today")
    br = parent_client.get("/today", headers=BROWSER)
    gz = parent_client.get("/today", headers=GZIP_ONLY)

    assert plain.status_code == br.status_code == gz.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert br.headers["Content-Encoding"] == "br" and gz.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in br.headers["Vary"]
    assert int(br.headers["Content-Length"]) == len(br.get_data()) < len(plain.get_data()) / 2
    # The same page (its CSRF token aside) once unpacked.
    token = re.compile(rb'csrf_token" value="[^"]*"|"X-CSRFToken": "[^"]*"')
    assert token.sub(b"", _plain(br)) == token.sub(b"", plain.get_data()) == token.sub(b"", _plain(gz))


def test_pages_are_packed_at_a_brotli_quality_cheap_enough_for_every_request(parent_client) -> None:
    """Each answer is compressed afresh, so quality costs CPU per request (Flask-Compress's default is 4)."""
    from app.assets import BROTLI_QUALITY

    br = parent_client.get("/today", headers=BROWSER)
    assert BROTLI_QUALITY == 3
    assert br.get_data() == brotli.compress(_plain(br), quality=BROTLI_QUALITY)  # brotli's output is deterministic
    assert br.get_data() != brotli.compress(_plain(br), quality=4)


def test_styles_and_scripts_are_compressed_fingerprinted_and_kept_a_year(parent_client) -> None:
    page = parent_client.get("/today").get_data(as_text=True)
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)\?v=[0-9a-f]{12})"', page)
    assert any(".css?" in a for a in assets) and any(".js?" in a for a in assets)

    for url in assets:
        answer = _fetch(parent_client, url, BROWSER)
        file = STATIC / url.split("?")[0].removeprefix("/static/")
        assert answer.status_code == 200 and answer.headers["Content-Encoding"] == "br", url
        assert _plain(answer) == file.read_bytes(), url
        assert "max-age=31536000" in answer.headers["Cache-Control"], url
        assert "immutable" in answer.headers["Cache-Control"], url
        again = _fetch(parent_client, url, {**BROWSER, "If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and again.get_data() == b"", url

    # A stale or missing fingerprint is revalidated as before, never kept a year.
    stale = _fetch(parent_client, "/static/css/app.css?v=000000000000", GZIP_ONLY)
    bare = _fetch(parent_client, "/static/css/app.css", GZIP_ONLY)
    assert stale.headers["Content-Encoding"] == bare.headers["Content-Encoding"] == "gzip"
    assert "immutable" not in stale.headers.get("Cache-Control", "") + bare.headers.get("Cache-Control", "")


def test_a_polled_fragment_keeps_its_tag_and_its_bodiless_304(parent_client) -> None:
    parent_client.get("/today")
    plain = parent_client.get("/today/summary", headers=HTMX)
    packed = parent_client.get("/today/summary", headers={**HTMX, **BROWSER})
    etag = packed.headers["ETag"]

    assert packed.status_code == 200 and etag.startswith('W/"')
    # The tag names the fragment, not its encoding: a page that polled without compression matches too.
    assert etag == plain.headers["ETag"]
    again = parent_client.get("/today/summary", headers={**HTMX, **BROWSER, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and "Content-Encoding" not in again.headers


def test_the_live_stream_is_never_compressed(parent_client) -> None:
    response = parent_client.get("/events", headers=BROWSER, buffered=False)
    try:
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        assert "Content-Encoding" not in response.headers
        assert b"retry:" in next(iter(response.response))  # readable at once, not held in a compressor
    finally:
        response.close()


def test_the_service_worker_stays_uncached_and_unfingerprinted(parent_client) -> None:
    worker = _fetch(parent_client, "/sw.js", BROWSER)

    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    assert worker.headers["Service-Worker-Allowed"] == "/"
    assert _plain(worker) == (STATIC / "js" / "sw.js").read_bytes()
