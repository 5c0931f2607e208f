"""Settings over the API: typed JSON values; kids never see private ones; parents write and may create keys."""
from __future__ import annotations

from flask import Response, g, jsonify
from werkzeug.wrappers import Response as BaseResponse

from app.api import bp
from app.api.serializers_daily import read_json_object
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import ValidationFailed
from app.inputs import parse_input
from app.settings.inputs import SettingValue
from app.settings.services import get_setting, get_settings, set_setting, with_legacy_names
from app.tenancy import registry
from app.uow import unit_of_work


@bp.get("/settings")
@api_auth_required
def list_settings() -> Response:
    """A flat object of every setting the caller may read: {key: value} (old names such as auto_approve_chores too)."""
    return jsonify(with_legacy_names(get_settings(get_session(), include_private=g.member.is_parent)))


@bp.get("/settings/<key>")
@api_auth_required
def read_setting(key: str) -> Response:
    """One setting as {"key", "value"}: 404 when unknown, 403 when a kid asks for a private one."""
    value = get_setting(get_session(), key, include_private=g.member.is_parent)
    return jsonify(key=key, value=value)


@bp.put("/settings/<key>")
@api_parent_required("Only parents can update settings")
def write_setting(key: str) -> tuple[BaseResponse, int]:
    """A parent sets one setting ({"value": <JSON>}): 200 for a key the list shows, 201 for a new key."""
    body = read_json_object()
    if "value" not in body or body["value"] is None:
        raise ValidationFailed("Invalid request body", fields={"value": "required"})
    data = parse_input(SettingValue, {"key": key, "value": body["value"], "is_private": body.get("is_private")})
    with unit_of_work() as work:
        change = set_setting(work.session, g.member, data)
    if change.platform:
        registry().invalidate(g.family.slug)
    message = "Setting created successfully" if change.created else "Setting updated successfully"
    return jsonify(key=key, message=message, value=change.value), 201 if change.created else 200
