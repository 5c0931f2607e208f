"""One JSON log line per request: request id (echoed as X-Request-ID), family, status and duration."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("housepoints.request")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def init_app(app: Flask) -> None:
    """Stamp each request with an id, log it when the response leaves."""
    if app.config["LOG_REQUESTS"] and not log.handlers:
        # Servers print the lines to stdout; tests leave the logger alone and read it with caplog.
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    # Before the tenancy hook too: even a request rejected for its Host gets an id and a log line.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers["X-Request-ID"] = request_id
    started = g.get("request_started")
    if log.isEnabledFor(logging.INFO):
        family = g.get("family")
        log.info(json.dumps({
            "event": "request",
            "request_id": request_id,
            "method": request.method,
            "path": request.path,
            "host": request.headers.get("Host", ""),
            "family": family.slug if family is not None else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
        }))
    return response
