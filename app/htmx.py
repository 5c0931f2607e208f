"""The one place that knows htmx: its request flags, its response headers and the names of the events pages hear."""
from __future__ import annotations

import json
from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar, cast

from flask import Flask, Response
# htmx-flask ships no type information (no py.typed); these names are typed where this module uses them.
from htmx_flask import Htmx
from htmx_flask import make_response as with_htmx_headers
from htmx_flask import request as htmx_request
from htmx_flask.constants import RESWAPS  # type: ignore[import-untyped]
from werkzeug.wrappers import Response as BaseResponse

AnyResponse = TypeVar("AnyResponse", bound=BaseResponse)

# The swap styles htmx 2 knows (the first word of an hx-swap / HX-Reswap value; modifiers may follow).
SWAP_STYLES = frozenset({"innerHTML", "outerHTML", "textContent", "beforebegin", "afterbegin", "beforeend", "afterend",
                         "delete", "none"})


class HxEvent(StrEnum):
    """Every event the server announces and a page listens for: the one vocabulary of HX-Trigger and the live stream.

    tests/test_htmx_events.py proves each name is both sent (by app code) and heard (by a template or a script).
    """

    ASSIGNMENT_CHANGED = "assignmentChanged"
    OPEN_CHORES_CHANGED = "openChoresChanged"
    POINTS_CHANGED = "pointsChanged"
    REWARD_CHANGED = "rewardChanged"
    MEMBERS_CHANGED = "membersChanged"
    PRESENCE_CHANGED = "presenceChanged"
    NOTIFICATIONS_CHANGED = "notificationsChanged"
    NOTIFICATION = "notification"
    LIVE_POLL = "livePoll"
    ANNOUNCE = "announce"


# Sent in an htmx response's HX-Trigger and heard on <body> (`hx-trigger="<name> from:body"`) or by a script.
# `announce` ({"message": "…"}) is said by static/js/a11y.js in the page's polite status region: what an in-place
# action did, for people who cannot see the card change (announcement() builds its detail).
PAGE_EVENTS = frozenset({HxEvent.ASSIGNMENT_CHANGED, HxEvent.OPEN_CHORES_CHANGED, HxEvent.POINTS_CHANGED,
                         HxEvent.MEMBERS_CHANGED, HxEvent.PRESENCE_CHANGED, HxEvent.NOTIFICATIONS_CHANGED,
                         HxEvent.ANNOUNCE})
# Published on the family's live stream after a commit and heard as `hx-trigger="sse:<name>"` (app.live.events).
LIVE_EVENTS = frozenset({HxEvent.ASSIGNMENT_CHANGED, HxEvent.POINTS_CHANGED, HxEvent.REWARD_CHANGED,
                         HxEvent.NOTIFICATION})
# Fired on <body> by static/js/live.js every few seconds while no live stream is open (no Redis, the stream refused
# or broken): every live widget also listens for it (`{{ HxEvent.LIVE_POLL }} from:body`), so pages update anyway.
SCRIPT_EVENTS = frozenset({HxEvent.LIVE_POLL})

# The one rule for error answers (htmx-config in templates/base.html and static/js/htmx-rules.js): a 422 (a form
# re-rendered with its reasons) is always swapped; any other 4xx only when the server names where it goes
# (`reswap(..., target)` sets HX-Retarget); 5xx and unnamed 4xx never (the page's error handlers speak instead).
FORM_INVALID = 422


class HousePointsHtmx(Htmx):  # type: ignore[misc]
    """htmx-flask's extension (it gives every request `request.htmx`), plus the event registry for templates."""

    def init_app(self, app: Flask) -> None:
        """Templates name events through the registry (`{{ HxEvent.MEMBERS_CHANGED }}`), never as bare strings."""
        super().init_app(app)
        app.jinja_env.globals["HxEvent"] = HxEvent


# --- request flags -----------------------------------------------------------------------------------------------

def is_htmx_request() -> bool:
    """Any request htmx made: a fragment fetch, a boosted navigation or a history restore."""
    return bool(htmx_request.htmx)


def is_navigation() -> bool:
    """An htmx request that loads a whole page: a boosted link or form, or a history restore after a cache miss."""
    flags = htmx_request.htmx
    return bool(flags) and (flags.boosted or flags.history_restore_request)


def is_htmx() -> bool:
    """An htmx request that wants a fragment: not a boosted navigation, not a history restore (whole page)."""
    return is_htmx_request() and not is_navigation()


# --- response headers --------------------------------------------------------------------------------------------

def trigger(response: Response, *events: HxEvent, details: Mapping[HxEvent, object] | None = None) -> Response:
    """Add HX-Trigger events (with an optional detail each), merging with any already set; only page events."""
    named = {HxEvent(name): None for name in events} | {HxEvent(name): detail for name, detail
                                                           in (details or {}).items()}
    unheard = set(named) - PAGE_EVENTS
    if unheard:
        raise ValueError(f"no page listens for {sorted(unheard)} on <body>; see app.htmx.PAGE_EVENTS")
    merged: dict[str, object] = {}
    current = response.headers.get("HX-Trigger")
    if current:
        try:
            merged = json.loads(current)
        except ValueError:
            merged = {name.strip(): None for name in current.split(",")}
    merged.update({str(name): detail for name, detail in named.items()})
    return cast(Response, with_htmx_headers(response, trigger=merged))


def announcement(message: str) -> dict[str, str]:
    """The detail of an `HxEvent.ANNOUNCE`: a sentence in the page's language, said once by screen readers.

    htmx fires it on `target` (<body>), not on the element that asked: a live refresh of the card around that
    element can land before this answer does, and an event on a detached element reaches no listener.
    """
    return {"message": message, "target": "body"}


def redirect_to(response: Response, url: str) -> Response:
    """Tell htmx to navigate (a full page load) to `url`."""
    return cast(Response, with_htmx_headers(response, redirect=url))


def refresh(response: Response) -> Response:
    """Tell htmx to reload the whole page (what changed shows everywhere on it)."""
    return cast(Response, with_htmx_headers(response, refresh=True))


def reswap(response: Response, swap: str, target: str | None = None) -> Response:
    """Override the swap and, with `target`, say where the answer goes (which also makes a 4xx answer swappable)."""
    if swap.split()[0] not in SWAP_STYLES:
        raise ValueError(f"unknown htmx swap {swap!r}")
    response = cast(Response, with_htmx_headers(response, retarget=target))
    if swap in RESWAPS:
        return cast(Response, with_htmx_headers(response, reswap=swap))
    # htmx-flask 0.1.0 rejects valid swaps ("beforebegin", "afterbegin": a missing comma in its list; any modifier
    # such as "outerHTML scroll:top"), so those are set here, the one place that writes HX-* headers by hand.
    response.headers["HX-Reswap"] = swap
    return response


def push_url(response: Response, url: str) -> Response:
    """Make htmx put `url` in the address bar (and history) after the swap."""
    return cast(Response, with_htmx_headers(response, push_url=url))


def vary_on_htmx(response: AnyResponse) -> AnyResponse:
    """URLs that answer both a page and a fragment must not share a cache entry."""
    response.vary.add("HX-Request")
    return response
