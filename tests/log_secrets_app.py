"""The real app plus one test-only page whose INSERT fails with credential material in it, for the log tests.

`GET /failing-insert?case=…` on the apex: `null` inserts an account with a NULL name and a password hash (PostgreSQL
repeats the whole row in its error), `duplicate` inserts a spent-token row twice (the error repeats the key).
gunicorn serves it as `tests.log_secrets_app:build()` (the databases from the environment, as TestConfig reads them).
"""
from __future__ import annotations

from typing import Any

from flask import Flask, request
from sqlalchemy.exc import IntegrityError

from app import create_app
from app.auth.services import hash_token
from app.db import get_session
from app.platform.models import UsedToken, User
from app.security import hash_secret
from config import TestConfig

PASSWORD = "correct horse battery staple"
PIN = "4821"
PASSWORD_HASH = hash_secret(PASSWORD)
PIN_HASH = hash_secret(PIN)
SESSION_TOKEN = "Q2xq9Wv0-mZ8cRk3TtY7uPa1bN5dE4fG6hJ2kL0oSxw"  # 43 URL-safe characters, like token_urlsafe(32)
TOKEN_DIGEST = hash_token(SESSION_TOKEN)
SECRETS = (PASSWORD, PASSWORD_HASH, PIN_HASH, SESSION_TOKEN, TOKEN_DIGEST)


def add_failing_insert(app: Flask) -> Flask:
    """Register the page; unexpected errors go to the app's 500 handler (and its log), as in production."""
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/failing-insert")
    def failing_insert() -> Any:
        session = get_session()
        if request.args.get("case") == "duplicate":
            try:
                session.add(UsedToken(token_id=TOKEN_DIGEST, purpose=f"pin {PIN}"))
                session.commit()
            except IntegrityError:
                session.rollback()  # a second run of the test: the first row is there already
            session.add(UsedToken(token_id=TOKEN_DIGEST, purpose="session"))
        else:
            session.add(User(email=f"leak-{PIN}@example.com", display_name=None, password_hash=PASSWORD_HASH))
        session.flush()
        return "not reached"

    return app


def build(**overrides: Any) -> Flask:
    """The page on a TestConfig app (the caller names the databases)."""
    return add_failing_insert(create_app(TestConfig, **overrides))
