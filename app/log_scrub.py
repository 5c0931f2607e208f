"""Secrets never reach a log line or an error report: every record is scrubbed as it is created.

The scrubbing runs in the log record factory, so it covers every logger and handler of the process (the app's,
SQLAlchemy's, gunicorn's error log, pytest's caplog) and the formatted traceback of `log.exception`. Engines also
hide statement parameters (`app/db/engines.py:new_engine`); this is the second wall, for what a database error
message itself repeats (PostgreSQL's "Failing row contains (…)" lists the whole row, hashes included).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[redacted]"
# Dev-only mail "sent" to the log (MAIL_LOG_BODY, never on in production) must keep its links usable.
EXEMPT_LOGGERS = frozenset({"housepoints.mail.outbox"})

_SECRET_KEY = (r"[\w-]*(?:password|passwd|pin|token|secret|hash|session|cookie|authorization|api[_-]?key)")


def _long_random(match: re.Match[str]) -> str:
    # token_urlsafe(32) (session, device and feed tokens) is 43 URL-safe characters of mixed case.
    text = match.group(0)
    return REDACTED if any(c.isupper() for c in text) and any(c.islower() for c in text) else text


_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\$argon2(?:id|i|d)\$[^\s'\",)\]]+"), "[argon2 hash]"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1" + REDACTED),
    # JWTs and itsdangerous links/cookies (base64 JSON, maybe zlib-compressed with a leading dot) . time . signature
    (re.compile(r"\.?\be[yJ][A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}"), "[signed token]"),
    (re.compile(r"(?i)\b(" + _SECRET_KEY + r")(\"?'?\s*[:=]\s*\"?'?)([^\"'\s,&;)}\]]+)"), r"\1\2" + REDACTED),
    (re.compile(r"(?i)(Failing row contains \().*?(\)\.?)(?=$|\n)", re.MULTILINE), r"\1" + REDACTED + r"\2"),
    (re.compile(r"(Key \([^)]*\)=\()[^\n]*?(\) already exists|\) is not present)"), r"\1" + REDACTED + r"\2"),
    (re.compile(r"\[parameters: .*?\](?=\n|$)", re.MULTILINE), "[parameters: " + REDACTED + "]"),
    (re.compile(r"\b[0-9a-fA-F]{64}\b"), "[digest]"),
    (re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"), _long_random),
)


def scrub(text: str) -> str:
    """`text` with password and PIN hashes, tokens, digests and secret-named values replaced."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def scrub_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message and traceback now, scrubbed (handlers then print the clean text)."""
    if record.name in EXEMPT_LOGGERS:
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string: leave it for logging's own error report
        return record
    record.msg, record.args = scrub(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)
    return record


def install() -> None:
    """Scrub every record this process creates from now on (idempotent)."""
    current = logging.getLogRecordFactory()
    if getattr(current, "scrubs_secrets", False):
        return

    def scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub_record(current(*args, **kwargs))

    scrubbing_factory.scrubs_secrets = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(scrubbing_factory)
