"""Cheap polling: an ETag on every htmx fragment, and a bodiless 304 when the page already shows that fragment."""
from __future__ import annotations

import hashlib
import re

from flask import Flask, request
from werkzeug.wrappers import Response as BaseResponse

from app.htmx import is_htmx

# A CSRF token is signed with the time, so it differs on every render; the fragment is the same without it (the
# page's own token stays valid), so it is left out of the tag.
_CSRF_VALUE = re.compile(rb'(name="csrf_token"\s+value=")[^"]*(")')


def fragment_etag(body: bytes) -> str:
    """The one tag of a fragment's content: equal bodies (tokens aside) get equal tags."""
    return hashlib.blake2b(_CSRF_VALUE.sub(rb"\1\2", body), digest_size=12).hexdigest()


def answer_conditionally(response: BaseResponse) -> BaseResponse:
    """Tag a successful htmx fragment GET; answer 304 (no body) when the browser already has that fragment."""
    if (request.method != "GET" or response.status_code != 200 or response.is_streamed
            or response.mimetype != "text/html" or not is_htmx()):
        return response
    etag = fragment_etag(response.get_data())
    response.set_etag(etag, weak=True)
    # Only the page's own copy counts (static/js/live.js sends the tag back): never a shared one. A view's own,
    # stricter rule (the bell's no-store) stays.
    response.headers.setdefault("Cache-Control", "no-cache, private")
    if request.if_none_match.contains_weak(etag):
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
    return response


def init_app(app: Flask) -> None:
    """Every fragment answer passes through the one rule above."""
    app.after_request(answer_conditionally)
