"""The notifications resources: a member's own notifications and preferences; parents' webhooks, deliveries and
settings."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request

from app.api import bp
from app.api.serializers import format_timestamp
from app.api.serializers_daily import parse_uuid, query_int, read_json_object, typed_values
from app.auth.decorators import api_auth_required, api_parent_required
from app.db import get_session
from app.domain import ValidationFailed
from app.inputs import parse_input
from app.notifications.delivery import allow_private_addresses
from app.notifications.inputs import PreferencesInput, WebhookInput
from app.notifications.models import Delivery, Notification, Webhook
from app.notifications.services import (
    get_notification_or_404,
    list_notifications,
    mark_all_read,
    mark_read,
    notification_settings,
    preference_grid,
    unread_count,
    update_notification_settings,
    update_preferences,
)
from app.notifications.webhooks import (
    clean_status,
    create_webhook,
    delete_webhook,
    get_delivery_or_404,
    get_webhook_or_404,
    list_deliveries,
    list_webhooks,
    retry_delivery,
    rotate_secret,
    update_webhook,
)
from app.uow import transactional
from app.web import request_now

MAX_LIMIT = 200


# --- serialisers ---------------------------------------------------------------------------------------------------

def _timestamp(moment: Any) -> str | None:
    return format_timestamp(moment) if moment is not None else None


def notification_item(notification: Notification) -> dict[str, Any]:
    """One notification as the API shows it to its member."""
    return {
        "id": str(notification.id),
        "event": notification.event,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "data": notification.data or {},
        "is_read": notification.read_at is not None,
        "read_at": _timestamp(notification.read_at),
        "created_at": format_timestamp(notification.created_at),
    }


def webhook_item(webhook: Webhook, *, with_secret: bool = False) -> dict[str, Any]:
    """A webhook; its secret only in the answer that created or replaced it."""
    body = {
        "id": str(webhook.id),
        "url": webhook.url,
        "events": list(webhook.events or []),
        "active": webhook.active,
        "created_at": format_timestamp(webhook.created_at),
    }
    if with_secret:
        body["secret"] = webhook.secret
    return body


def delivery_item(delivery: Delivery) -> dict[str, Any]:
    """One entry of the delivery log."""
    return {
        "id": str(delivery.id),
        "channel": delivery.channel,
        "event": delivery.event,
        "webhook_id": str(delivery.webhook_id) if delivery.webhook_id else None,
        "recipient": delivery.recipient,
        "subject": delivery.subject,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "response_code": delivery.response_code,
        "last_error": delivery.last_error,
        "next_attempt_at": _timestamp(delivery.next_attempt_at),
        "delivered_at": _timestamp(delivery.delivered_at),
        "created_at": format_timestamp(delivery.created_at),
    }


def _preferences_body() -> dict[str, Any]:
    rows = preference_grid(get_session(), g.member)
    return {"preferences": {row.event: {channel: value for channel, value in (("in_app", row.in_app),
                                                                             ("email", row.email))
                                        if value is not None} for row in rows},
            "email_available": bool(g.member.email)}


# --- the member's own notifications ------------------------------------------------------------------------------

@bp.get("/notifications")
@api_auth_required
def notifications_list() -> Response:
    """The caller's notifications, newest first (?unread=true for unread only, limit/offset to page)."""
    unread = request.args.get("unread", "").strip().lower()
    if unread not in ("", "true", "false", "1", "0"):
        raise ValidationFailed("Invalid unread. Use true or false")
    session = get_session()
    items = list_notifications(session, g.member, unread_only=unread in ("true", "1"),
                               limit=query_int("limit", 50, 1, MAX_LIMIT), offset=query_int("offset", 0, 0, 1_000_000))
    return jsonify(notifications=[notification_item(n) for n in items], count=len(items),
                   unread_count=unread_count(session, g.member))


@bp.post("/notifications/<notification_id>/read")
@api_auth_required
@transactional
def notifications_mark_read(notification_id: str) -> Response:
    """Mark one of the caller's notifications read; anyone else's is not found."""
    session = get_session()
    key = parse_uuid(notification_id, "Invalid notification ID format")
    notification = get_notification_or_404(session, g.member, key)
    mark_read(session, member=g.member, notification=notification, now=request_now())
    return jsonify(message="Notification marked as read", notification=notification_item(notification),
                   unread_count=unread_count(session, g.member))


@bp.post("/notifications/read-all")
@api_auth_required
@transactional
def notifications_mark_all_read() -> Response:
    """Mark all the caller's notifications read."""
    session = get_session()
    changed = mark_all_read(session, member=g.member, now=request_now())
    return jsonify(message="All notifications marked as read", marked_read=changed, unread_count=0)


@bp.get("/notifications/preferences")
@api_auth_required
def notifications_get_preferences() -> Response:
    """The caller's choice per event and channel (email only offered with an address)."""
    return jsonify(_preferences_body())


@bp.put("/notifications/preferences")
@api_auth_required
@transactional
def notifications_put_preferences() -> Response:
    """Change some of the caller's choices: {"preferences": {"chore_waiting": {"email": true}}}."""
    body = read_json_object()
    choices = parse_input(PreferencesInput, {"choices": body.get("preferences", body)})
    update_preferences(get_session(), actor=g.member, member=g.member, choices=choices)
    return jsonify(_preferences_body())


@bp.get("/notifications/settings")
@api_parent_required("Only parents can see family settings")
def notifications_get_settings() -> Response:
    """The family's digest hour and reminder lead time (parents)."""
    return jsonify(notification_settings(get_session()))


@bp.put("/notifications/settings")
@api_parent_required("Only parents can change family settings")
@transactional
def notifications_put_settings() -> Response:
    """Set the digest hour (0–23) and/or reminder lead time (0–1440 minutes); anything else is a 400."""
    body = read_json_object()
    unknown = sorted(set(body) - {"digest_hour", "reminder_lead_minutes"})
    if unknown:
        raise ValidationFailed(f"Unknown setting: {unknown[0]}", fields={unknown[0]: "unknown"})
    values = typed_values(body, {"digest_hour": int, "reminder_lead_minutes": int})
    settings = update_notification_settings(get_session(), actor=g.member, values=values)
    return jsonify(settings)


# --- webhooks (parents) ----------------------------------------------------------------------------------------

WEBHOOKS_PARENTS_ONLY = "Only parents can manage webhooks"


def _webhook(webhook_id: str) -> Webhook:
    return get_webhook_or_404(get_session(), parse_uuid(webhook_id, "Invalid webhook ID format"))


@bp.get("/webhooks")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
def webhooks_list() -> Response:
    """The family's webhooks (never their secrets)."""
    hooks = list_webhooks(get_session())
    return jsonify(webhooks=[webhook_item(w) for w in hooks], count=len(hooks))


@bp.post("/webhooks")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
@transactional
def webhooks_create() -> tuple[Response, int]:
    """Add a webhook {url, events?}; the answer carries its signing secret, this once."""
    data = parse_input(WebhookInput, typed_values(read_json_object(), {"url": str, "events": list}))
    webhook = create_webhook(get_session(), actor=g.member, data=data,
                             allow_private=allow_private_addresses(current_app.config))
    return jsonify(webhook_item(webhook, with_secret=True)), 201


@bp.get("/webhooks/<webhook_id>")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
def webhooks_get(webhook_id: str) -> Response:
    """One webhook (no secret)."""
    return jsonify(webhook_item(_webhook(webhook_id)))


@bp.put("/webhooks/<webhook_id>")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
@transactional
def webhooks_update(webhook_id: str) -> Response:
    """Change url, events and/or active."""
    webhook = _webhook(webhook_id)
    data = parse_input(WebhookInput, typed_values(read_json_object(), {"url": str, "events": list, "active": bool}))
    update_webhook(get_session(), actor=g.member, webhook=webhook,
                   allow_private=allow_private_addresses(current_app.config), data=data)
    return jsonify(webhook_item(webhook))


@bp.delete("/webhooks/<webhook_id>")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
@transactional
def webhooks_delete(webhook_id: str) -> Response:
    """Remove a webhook and its delivery log."""
    delete_webhook(get_session(), actor=g.member, webhook=_webhook(webhook_id))
    return jsonify(message="Webhook deleted")


@bp.post("/webhooks/<webhook_id>/rotate-secret")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
@transactional
def webhooks_rotate_secret(webhook_id: str) -> Response:
    """A new signing secret, returned this once."""
    webhook = rotate_secret(get_session(), actor=g.member, webhook=_webhook(webhook_id))
    return jsonify(webhook_item(webhook, with_secret=True))


@bp.get("/webhooks/<webhook_id>/deliveries")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
def webhooks_deliveries(webhook_id: str) -> Response:
    """One webhook's delivery log, newest first."""
    webhook = _webhook(webhook_id)
    items = list_deliveries(get_session(), actor=g.member, webhook_id=webhook.id,
                            status=clean_status(request.args.get("status")),
                            limit=query_int("limit", 100, 1, MAX_LIMIT))
    return jsonify(deliveries=[delivery_item(d) for d in items], count=len(items))


@bp.get("/deliveries")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
def deliveries_list() -> Response:
    """Every email and webhook delivery, newest first; ?status=dead lists the dead letters."""
    items = list_deliveries(get_session(), actor=g.member, status=clean_status(request.args.get("status")),
                            limit=query_int("limit", 100, 1, MAX_LIMIT))
    return jsonify(deliveries=[delivery_item(d) for d in items], count=len(items))


@bp.post("/deliveries/<delivery_id>/retry")
@api_parent_required(WEBHOOKS_PARENTS_ONLY)
@transactional
def deliveries_retry(delivery_id: str) -> tuple[Response, int]:
    """Send a dead letter once more, right after this commit (202: the outcome shows in the log)."""
    session = get_session()
    delivery = get_delivery_or_404(session, parse_uuid(delivery_id, "Invalid delivery ID format"))
    retry_delivery(session, actor=g.member, delivery=delivery, now=request_now())
    return jsonify(message="Delivery queued", delivery=delivery_item(delivery)), 202
