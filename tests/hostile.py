"""Hostile input for the bad-input tests: what every mutating route must answer with a clear 4xx, writing nothing."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any
from urllib.parse import quote

from flask import Flask
from itsdangerous import URLSafeTimedSerializer

# Text no field stores (the door refuses the first three; the 1 MB string is over every field's length).
HOSTILE_TEXT = {"nul": "a\x00b", "surrogate": "\ud800", "control": "bell\x07", "huge": "x" * 1_000_000}
# A lone surrogate cannot be written in UTF-8: on a form it arrives as invalid bytes, which Werkzeug (like every
# browser) turns into U+FFFD, so a form stores "\ufffd" rather than being refused. Forms are tested with the rest.
FORM_HOSTILE_TEXT = {kind: text for kind, text in HOSTILE_TEXT.items() if kind != "surrogate"}
HTMX = {"HX-Request": "true"}


def send_json(client: Any, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    """Send a JSON body as a fuzzer does (json.dumps writes a lone surrogate as the escape \\ud800)."""
    return client.open(path, method=method, data=json.dumps(body), content_type="application/json",
                       headers=headers)


def csrf_token(flask_app: Flask, client: Any) -> str:
    """A valid CSRF token for the client's session, made as Flask-WTF makes the one in every page."""
    with client.session_transaction() as cookie_session:
        raw = cookie_session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
    return URLSafeTimedSerializer(flask_app.secret_key, salt="wtf-csrf-token").dumps(raw)


def send_form(flask_app: Flask, client: Any, path: str, fields: dict[str, Any], *, htmx: bool = False) -> Any:
    """POST a form with its CSRF token, each value percent-encoded from raw bytes (a lone surrogate included)."""
    pairs = [("csrf_token", csrf_token(flask_app, client))]
    for name, value in fields.items():
        pairs += [(name, item) for item in value] if isinstance(value, list) else [(name, value)]
    raw = "&".join(f"{quote(name)}={quote(str(value).encode('utf-8', 'surrogatepass'))}" for name, value in pairs)
    return client.post(path, data=raw, content_type="application/x-www-form-urlencoded",
                       headers=HTMX if htmx else {})


def assert_refused(response: Any) -> None:
    """A 4xx with a message a person can read: JSON `error` under /api, a page (or fragment) otherwise."""
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if response.is_json:
        body = response.get_json()
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], body
    else:
        assert response.get_data(as_text=True).strip(), "an empty refusal"
