"""Posting forms in tests as the pages do: a CSRF token from Flask-WTF's own `generate_csrf`, optionally as htmx."""
from __future__ import annotations

from typing import Any

from flask import Flask, session
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from werkzeug.test import TestResponse, encode_multipart

HTMX = {"HX-Request": "true"}  # a (non-boosted) htmx request: the answer is a fragment


def csrf_token(client: FlaskClient) -> str:
    """A valid CSRF token for this client's session, made by Flask-WTF exactly as it makes the one in every page."""
    with client.session_transaction() as cookie_session, client.application.test_request_context():
        # generate_csrf keeps its secret in the session: start from the client's, and give back what it added.
        session.update(cookie_session)
        token = str(generate_csrf())
        cookie_session.update(session)
    return token


def post_form(client: FlaskClient, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False,
              csrf: bool = True, headers: dict[str, str] | None = None, multipart: bool = False) -> TestResponse:
    """POST a form with the page's CSRF token (unless `csrf=False`), as htmx when asked."""
    form: dict[str, Any] = {"csrf_token": csrf_token(client)} if csrf else {}
    form.update(data or {})
    sent = {**(HTMX if htmx else {}), **(headers or {})}
    if multipart:
        # Encoded here in memory: the test client would spool a large body to a temporary file it never closes.
        boundary, body = encode_multipart(form)
        return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}", headers=sent)
    return client.post(path, data=form, headers=sent)


class Poster:
    """The `post` fixture of an area's tests: `post_form` with the area's default for `htmx`."""

    def __init__(self, app: Flask | None = None, *, htmx: bool = False) -> None:
        self.htmx = htmx

    def __call__(self, client: FlaskClient, path: str, data: dict[str, Any] | None = None, *,
                 htmx: bool | None = None, **options: Any) -> TestResponse:
        return post_form(client, path, data, htmx=self.htmx if htmx is None else htmx, **options)
