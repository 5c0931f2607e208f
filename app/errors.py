"""Error pages and JSON errors: `/api` answers JSON, everything else an HTML page, decided by path."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, jsonify, make_response, render_template, request
from flask.globals import request_ctx
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, SecurityError, ServiceUnavailable

from app.db.session import FamilyReadOnly
from app.domain import DomainError
from app.i18n import DATABASE_DOWN_FLAG, refusal_text, translate_message
from app.languages import translatable

log = logging.getLogger(__name__)

TITLES = {
    400: translatable("That request doesn't look right"),
    403: translatable("You can't go there"),
    404: translatable("We couldn't find that"),
    405: translatable("That isn't allowed here"),
    410: translatable("This family has left HousePoints"),
    422: translatable("Please check what you entered"),
    423: translatable("This account is locked"),
    429: translatable("Slow down a little"),
    500: translatable("Something went wrong on our side"),
    503: translatable("We'll be right back"),
}

MOVING_TITLE = translatable("We're moving your family's data")
MOVING_RETRY_AFTER = 30  # seconds: a move of a typical family takes a few
MOVING_MESSAGE = translatable("Your family's data is being moved to a new home. Everything is still there and you "
                              "can look around, but changes are paused for a moment: please try again shortly.")

DATABASE_DOWN = translatable("We can't reach our database for a moment. Please try again in a few seconds.")
RETRY_AFTER_DATABASE_DOWN = 5

# Extra keys a DomainError may show callers (anything else, such as internal ids, stays server-side).
PUBLIC_EXTRAS = frozenset({"points_available", "points_required", "points_short", "alternatives", "retry_after",
                           "details"})

API_MESSAGES = {404: "Not found", 405: "Method not allowed", 500: "Internal server error",
                503: "Service temporarily unavailable"}


def wants_json() -> bool:
    """JSON for the API path prefix; never by sniffing Accept."""
    return request.path == "/api" or request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    """Register one handler for every HTTP error and one for unexpected exceptions."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(FamilyReadOnly, handle_family_moving)
    app.register_error_handler(RecursionError, handle_too_deep)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def handle_http_error(error: HTTPException) -> Response:
    """Render an HTTP error as JSON under /api or as a friendly page elsewhere."""
    code = error.code or 500
    if isinstance(error, SecurityError):  # an untrusted Host: say so plainly, without echoing it
        error = SecurityError("This address is not served here.")
    if wants_json():
        message = error.description if code not in API_MESSAGES or _custom(error) else API_MESSAGES[code]
        response = jsonify(error=message)
        response.status_code = code
    else:
        response = make_response(app_page(code, error.description if _custom(error) else None))
    if code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_domain_error(error: DomainError) -> Response:
    """A rule said no and the view did not answer itself: JSON under /api, a page elsewhere."""
    if wants_json():
        body: dict[str, object] = {"error": error.message}
        if error.fields:
            body["fields"] = error.fields
        body.update({k: v for k, v in error.extra.items() if k in PUBLIC_EXTRAS})
        response = jsonify(body)
        response.status_code = error.status
    else:
        response = make_response(app_page(error.status, refusal_text(error)))
    retry_after = error.extra.get("retry_after")
    if retry_after is not None:
        response = make_response(response)
        response.headers["Retry-After"] = str(retry_after)
    return response


def handle_family_moving(_error: FamilyReadOnly) -> Response:
    """A write while the family is being moved: 503 with Retry-After; reads keep working meanwhile."""
    if wants_json():
        response = jsonify(error="This family's data is being moved; changes are paused. Try again shortly.")
        response.status_code = 503
    else:
        response = make_response(app_page(503, MOVING_MESSAGE, title=MOVING_TITLE))
    response.headers["Retry-After"] = str(MOVING_RETRY_AFTER)
    return response


def handle_too_deep(_error: RecursionError) -> Response:
    """Absurdly nested JSON makes the parser recurse too deep: that is the client's bad input."""
    return handle_http_error(BadRequest("The request body is nested too deeply."))


def handle_database_error(error: DBAPIError | PoolTimeout) -> Response:
    """The database went away (restart, failover, full pool): fail fast with 503 and let the client retry."""
    if isinstance(error, DBAPIError) and not _unreachable(error):
        return handle_unexpected_error(error)
    log.warning("database unavailable: %s", type(getattr(error, "orig", None) or error).__name__)
    g.setdefault(DATABASE_DOWN_FLAG, True)  # the page's language comes from the browser, not the member's row
    if wants_json():
        response = handle_http_error(ServiceUnavailable(DATABASE_DOWN))
    else:  # the bare page, without context processors: the signed-in member would be loaded from the database
        page = current_app.jinja_env.get_template("errors/bare.html")
        response = make_response(page.render(code=503, title=TITLES[503], message=DATABASE_DOWN), 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_DATABASE_DOWN)
    return response


def _unreachable(error: DBAPIError) -> bool:
    # A lost or refused connection, or a server shutting down/starting up; not a bad statement or a constraint.
    return error.connection_invalidated or isinstance(error, OperationalError)


def handle_unexpected_error(error: Exception) -> Response:
    """Log the exception with its request id and answer a plain 500."""
    log.exception("unhandled error", exc_info=error)
    return handle_http_error(InternalServerError())


def app_page(code: int, message: str | None, *, title: str | None = None) -> tuple[str, int]:
    """The HTML error page."""
    title = translate_message(title or TITLES.get(code, translatable("Something went wrong")))
    message = translate_message(message) if message else message
    # A Host we do not serve has no URL adapter, so that page cannot build links.
    template = "errors/bare.html" if request_ctx.url_adapter is None else "errors/error.html"
    return render_template(template, code=code, title=title, message=message), code


def _custom(error: HTTPException) -> bool:
    # Werkzeug's stock descriptions are long and technical; show only messages we wrote ourselves.
    return error.description != type(error).description
