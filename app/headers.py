"""Protective response headers on every answer: the content security policy, framing, sniffing, referrer, HSTS."""
from __future__ import annotations

from flask import Flask, Response, current_app, request

# Pages where a kid takes a photo proof with the tablet's camera; every other page may not use it.
CAMERA_ENDPOINTS = frozenset({"tablet.kid_home"})
# Features no page of ours uses; the camera is added per page above.
DENIED_FEATURES = ("microphone", "geolocation", "payment", "usb", "serial", "bluetooth", "display-capture",
                   "interest-cohort")


def content_security_policy(base_domain: str, scheme: str) -> str:
    """Scripts only from our own files (no inline script, no eval: htmx runs with allowEval off).

    Styles allow inline `style` attributes: pages set each member's colour as a CSS variable on the element
    (`--member-color`) and a few fragments carry their own small <style>; no script can be smuggled through
    them. Forms may post to the apex and the family hosts (sign-in at the apex hands over to a family host).
    """
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        f"form-action 'self' {scheme}://{base_domain} {scheme}://*.{base_domain}",
        "frame-ancestors 'none'",
    ))


def permissions_policy(camera: bool) -> str:
    """Deny the powerful features; the camera only where a photo proof is taken."""
    features = [f"{name}=()" for name in DENIED_FEATURES]
    return ", ".join(["camera=(self)" if camera else "camera=()", *features])


def add_protective_headers(response: Response) -> Response:
    """Set the headers on one response (existing values set by a view win)."""
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       content_security_policy(config["BASE_DOMAIN"], config["PREFERRED_URL_SCHEME"]))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    # Family slugs and hand-off tokens stay on our own pages.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", permissions_policy(request.endpoint in CAMERA_ENDPOINTS))
    if config.get("HSTS_SECONDS"):
        headers.setdefault("Strict-Transport-Security", f"max-age={int(config['HSTS_SECONDS'])}; includeSubDomains")
    return response


def init_app(app: Flask) -> None:
    """Every response of the app, pages, fragments, JSON and static files alike, carries the headers."""
    app.after_request(add_protective_headers)
