"""Outbound webhooks: checking their URLs (the SSRF guard), signing bodies, and the parents' CRUD and delivery log."""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.domain import NotFound, Sayable, ValidationFailed
from app.languages import phrase, translatable
from app.members.models import Member
from app.notifications.inputs import WebhookInput
from app.notifications.models import NOTIFICATION_EVENTS, Delivery, DeliveryStatus, Webhook
from app.notifications.services import mark_for_dispatch
from app.policy import require_parent

MAX_URL = 500
MAX_WEBHOOKS = 20
LOG_SIZE = 100
SIGNATURE_HEADER = "X-HousePoints-Signature"
Resolver = Callable[..., list[tuple[Any, ...]]]


class UnsafeAddress(ValueError):
    """The webhook's host is (or resolves to) an address a hosted service must never call.

    `str(error)` is English (the delivery log, the API); `said` the same for the parent's page in its language.
    """

    def __init__(self, message: Sayable) -> None:
        super().__init__(message.render(None))
        self.said = message


def check_webhook_url(url: object, *, allow_private: bool, resolve: Resolver = socket.getaddrinfo) -> str:
    """An http(s) URL with a host; unless allowed, every address it resolves to must be public (SSRF guard)."""
    if not isinstance(url, str) or not url.strip():
        raise ValidationFailed("Give the URL the events should be sent to", fields={"url": "required"})
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValidationFailed(phrase("URLs are at most %(most)s characters", most=MAX_URL), fields={"url": "too_long"})
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("That is not a valid URL", fields={"url": "invalid"}) from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed("Webhook URLs must start with https:// or http://", fields={"url": "scheme"})
    if not parts.hostname:
        raise ValidationFailed("That URL has no host name", fields={"url": "invalid"})
    if parts.username is not None or parts.password is not None:
        raise ValidationFailed("Put credentials in the receiver, not in the URL", fields={"url": "credentials"})
    if any(ch.isspace() for ch in url):
        raise ValidationFailed("That is not a valid URL", fields={"url": "invalid"})
    if not allow_private:
        try:
            public_addresses(parts.hostname, port or (443 if parts.scheme == "https" else 80), resolve=resolve)
        except UnsafeAddress as error:
            raise ValidationFailed(error.said, fields={"url": "private"}) from None
    return url


def public_addresses(host: str, port: int, *, resolve: Resolver = socket.getaddrinfo) -> list[str]:
    """The host's addresses, refusing private, loopback, link-local, reserved and multicast ones."""
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeAddress(phrase("The host %(host)s could not be found", host=host)) from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise UnsafeAddress(phrase("Webhooks cannot be sent to private, loopback or reserved addresses"))
        addresses.append(str(address))
    if not addresses:
        raise UnsafeAddress(phrase("The host %(host)s could not be found", host=host))
    return addresses


def sign(secret: str, body: bytes) -> str:
    """The X-HousePoints-Signature value: sha256=<hex HMAC-SHA256 of the raw body with the webhook's secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def clean_events(events: object) -> list[str]:
    """A list of known event names (empty = every event), without duplicates."""
    if events is None:
        return []
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise ValidationFailed("events must be a list of event names", fields={"events": "invalid"})
    cleaned: list[str] = []
    for event in events:
        if not isinstance(event, str) or event not in NOTIFICATION_EVENTS:
            raise ValidationFailed(phrase("Unknown event: %(event)s", event=event), fields={"events": "unknown"})
        if event not in cleaned:
            cleaned.append(event)
    return cleaned


# --- CRUD ----------------------------------------------------------------------------------------------------

def list_webhooks(session: Session) -> list[Webhook]:
    """The family's webhooks, oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.created_at, Webhook.id)))


def get_webhook_or_404(session: Session, webhook_id: object) -> Webhook:
    """A webhook of this family; another family's id or a malformed one is not found."""
    key = _uuid_or_404(webhook_id, translatable("Webhook not found"))
    webhook = session.get(Webhook, key)
    if webhook is None:
        raise NotFound("Webhook not found")
    return webhook


def create_webhook(session: Session, *, actor: Member, data: WebhookInput, allow_private: bool,
                   resolve: Resolver = socket.getaddrinfo) -> Webhook:
    """A parent adds a webhook; its secret is made here, shown to them once by the caller."""
    require_parent(actor)
    clean_url = check_webhook_url(data.url, allow_private=allow_private, resolve=resolve)
    clean = clean_events(data.events)
    if len(list_webhooks(session)) >= MAX_WEBHOOKS:
        raise ValidationFailed(phrase("A family can have at most %(most)s webhooks", most=MAX_WEBHOOKS),
                               fields={"url": "limit"})
    webhook = Webhook(url=clean_url, events=clean, secret=secrets.token_hex(32), active=True, created_by=actor.id)
    session.add(webhook)
    session.flush()
    return webhook


def update_webhook(session: Session, *, actor: Member, webhook: Webhook, allow_private: bool, data: WebhookInput,
                   resolve: Resolver = socket.getaddrinfo) -> Webhook:
    """Change a webhook's URL, events or on/off switch (None leaves a field as it is)."""
    require_parent(actor)
    if data.url is not None:
        webhook.url = check_webhook_url(data.url, allow_private=allow_private, resolve=resolve)
    if data.events is not None:
        webhook.events = clean_events(data.events)
    if data.active is not None:
        webhook.active = data.active
    session.flush()
    return webhook


def rotate_secret(session: Session, *, actor: Member, webhook: Webhook) -> Webhook:
    """A new secret (shown once); deliveries signed from now on use it."""
    require_parent(actor)
    webhook.secret = secrets.token_hex(32)
    session.flush()
    return webhook


def delete_webhook(session: Session, *, actor: Member, webhook: Webhook) -> None:
    """Remove a webhook; its delivery log goes with it."""
    require_parent(actor)
    session.execute(delete(Delivery).where(Delivery.webhook_id == webhook.id))
    session.delete(webhook)
    session.flush()


# --- the delivery log and dead letters -------------------------------------------------------------------------

def clean_status(status: object) -> str | None:
    """A delivery status filter ("" or None = all)."""
    if status in (None, ""):
        return None
    if status not in tuple(DeliveryStatus):
        raise ValidationFailed(phrase("status must be one of: %(choices)s", choices=", ".join(DeliveryStatus)),
                               fields={"status": "invalid"})
    return str(status)


def list_deliveries(session: Session, *, actor: Member, webhook_id: uuid.UUID | None = None,
                    status: str | None = None, limit: int = LOG_SIZE) -> list[Delivery]:
    """The newest deliveries (email and webhook), optionally one webhook's or one status's (dead letters)."""
    require_parent(actor)
    query = select(Delivery)
    if webhook_id is not None:
        query = query.where(Delivery.webhook_id == webhook_id)
    if status is not None:
        query = query.where(Delivery.status == status)
    return list(session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)))


def get_delivery_or_404(session: Session, delivery_id: object) -> Delivery:
    """A delivery of this family."""
    delivery = session.get(Delivery, _uuid_or_404(delivery_id, translatable("Delivery not found")))
    if delivery is None:
        raise NotFound("Delivery not found")
    return delivery


def retry_delivery(session: Session, *, actor: Member, delivery: Delivery, now: datetime) -> Delivery:
    """A parent sends a dead letter again ("retry now"): one more attempt, right after the commit."""
    require_parent(actor)
    if delivery.status != "dead":
        raise ValidationFailed("Only failed deliveries can be retried", fields={"status": delivery.status})
    delivery.status = DeliveryStatus.QUEUED
    delivery.next_attempt_at = now
    session.flush()
    mark_for_dispatch(session, delivery.id)
    return delivery


def _uuid_or_404(value: object, message: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound(message) from None
