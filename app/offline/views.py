"""`/manifest.webmanifest`, `/sw.js` and its `/offline` page: the worker must come from the root (scope: every page)."""
from __future__ import annotations

from flask import current_app, g, jsonify, make_response, render_template, send_from_directory, url_for
from werkzeug.wrappers import Response as BaseResponse

from app.offline import bp


@bp.get("/manifest.webmanifest")
def manifest() -> BaseResponse:
    """What the tablet needs to install HousePoints full-screen, starting on the family tablet's wall."""
    response = jsonify({
        "name": f"{g.family.name} · HousePoints", "short_name": g.family.name[:12] or "HousePoints",
        "start_url": url_for("tablet.wall"), "scope": "/", "display": "fullscreen", "orientation": "any",
        # One value each (a manifest cannot follow the device's theme): the light theme's top bar and page colours,
        # as templates/base.html's light theme-color and static/css/app.css; its dark theme-color tag drives dark.
        "background_color": "#f7f7fb", "theme_color": "#ffffff",
        "icons": [{"src": url_for("static", filename="favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    })
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/sw.js")
def service_worker() -> BaseResponse:
    """The service worker script, never cached by the browser's HTTP cache (updates reach tablets at once)."""
    response = send_from_directory(current_app.static_folder or "static", "js/sw.js", max_age=0)
    response.headers["Content-Type"] = "text/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/offline")
def offline_page() -> BaseResponse:
    """The page the worker shows offline for a page it has no copy of (kept when it installs): back to the wall."""
    response = make_response(render_template("offline/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response
