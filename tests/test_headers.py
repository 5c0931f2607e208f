"""Protective headers on every answer (issue 12 item 5): CSP without inline scripts, no framing, no sniffing."""
from __future__ import annotations

import re

import pytest
from flask import Flask

from app.headers import content_security_policy, permissions_policy
from app.tenancy.registry import FamilyRecord
from tests.conftest import Auth, FamilyClient

ROOT_TEMPLATES = "templates"


def directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_the_policy_allows_only_our_own_scripts_and_no_framing() -> None:
    policy = directives(content_security_policy("housepoints.ai", "https"))
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'", "https://housepoints.ai", "https://*.housepoints.ai"]
    assert "'unsafe-eval'" not in str(policy) and policy["default-src"] == ["'self'"]


def test_camera_only_where_asked() -> None:
    assert permissions_policy(True).startswith("camera=(self)")
    assert permissions_policy(False).startswith("camera=()") and "microphone=()" in permissions_policy(False)


@pytest.mark.parametrize("path", ["/", "/login", "/signup", "/health", "/static/css/app.css", "/no-such-page"])
def test_apex_answers_carry_the_headers(apex_client: FamilyClient, path: str) -> None:
    response = apex_client.get(path)
    response.close()  # a static file's answer holds the file open
    headers = response.headers
    assert "script-src 'self';" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Permissions-Policy"].startswith("camera=()")
    assert "Strict-Transport-Security" not in headers  # plain http in tests and development


def test_family_pages_and_the_api_carry_them_and_the_kid_page_may_use_the_camera(
        client: FamilyClient, auth: Auth, family: FamilyRecord, create_member) -> None:  # noqa: ANN001
    kid = create_member(role="child", username="kim", display_name="Kim")
    assert client.get("/api/chores").headers["X-Content-Type-Options"] == "nosniff"
    auth.sign_in(client, kid, family)
    home = client.get("/me")
    assert home.status_code == 200 and home.headers["Permissions-Policy"].startswith("camera=(self)")
    rewards = client.get("/rewards")
    assert rewards.headers["Permissions-Policy"].startswith("camera=()")
    assert "frame-ancestors 'none'" in rewards.headers["Content-Security-Policy"]


def test_production_adds_hsts(app: Flask) -> None:
    app.config["HSTS_SECONDS"] = 31536000
    try:
        client = app.test_client()
        response = client.get("/", base_url=f"http://{app.config['BASE_DOMAIN']}")
    finally:
        app.config["HSTS_SECONDS"] = 0
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_no_template_has_an_inline_script_or_event_handler() -> None:
    from pathlib import Path

    offenders = []
    for path in Path(ROOT_TEMPLATES).glob("**/*.html"):
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\s(on[a-z]+|hx-on[:\w-]*)=", text) \
                or "javascript:" in text or re.search(r'hx-(vals|headers)=["\']js:', text):
            offenders.append(str(path))
    assert offenders == []


def test_the_family_tablet_can_install_the_site_and_its_worker_covers_every_page(
        client: FamilyClient, family: FamilyRecord) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == "/tablet" and body["display"] == "fullscreen" and body["scope"] == "/"
    worker = client.get("/sw.js")
    script = worker.get_data(as_text=True)
    worker.close()
    assert worker.status_code == 200 and worker.headers["Content-Type"].startswith("text/javascript")
    assert worker.headers["Service-Worker-Allowed"] == "/" and worker.headers["Cache-Control"] == "no-cache"
    assert "OFFLINE_PAGES" in script
    # Parents' pages and visitors are not offered the install (only the family tablet is).
    assert 'rel="manifest"' not in client.get("/").get_data(as_text=True)


def test_the_workers_offline_page_links_to_the_wall_and_shows_nobody(
        client: FamilyClient, auth: Auth, family: FamilyRecord, create_member) -> None:  # noqa: ANN001
    """Kept by the worker at install and shown to whichever kid opens an unsaved page offline: nothing of a turn."""
    from tests.html import one, text

    auth.sign_in(client, create_member(role="child", username="kim", display_name="Kim"), family)
    page = client.get("/offline")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-cache"
    assert "You're offline" in text(page, "h1")
    assert one(page, "a.button").attrs["href"] == "/tablet"
    html = page.get_data(as_text=True)
    assert "csrf" not in html and "data-member-id" not in html
