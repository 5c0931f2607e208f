"""Sending one delivery (an email over SMTP or a signed webhook POST) and recording the attempt: sent, retry or dead."""
from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from app.languages import phrase
from app.mail import MailSettings, send_email, settings_from_config
from app.notifications.models import Delivery, Webhook, DeliveryStatus
from app.notifications.services import mark_for_dispatch
from app.notifications.webhooks import UnsafeAddress, public_addresses, sign

log = logging.getLogger("housepoints.deliveries")

# Backoff between attempts (seconds): the RQ Retry schedule and the delivery's next_attempt_at agree on it.
RETRY_INTERVALS = (10, 30, 120, 600, 1800)
WEBHOOK_TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 64 * 1024
# With a worker, a queued or retrying delivery this far past its time lost its job (Redis flushed, worker down).
STALLED_AFTER = timedelta(hours=1)
# Without one, a delivery still queued this long after its commit was never sent (the process died first).
INLINE_GRACE = timedelta(minutes=2)
MAX_SWEEP = 500  # per family per tick; the rest go next minute


def allow_private_addresses(config: Mapping[str, Any]) -> bool:
    """WEBHOOK_ALLOW_PRIVATE, defaulting to on only for testing and debug (local receivers); off in production."""
    allow = config.get("WEBHOOK_ALLOW_PRIVATE")
    if allow is None:
        return bool(config.get("TESTING") or config.get("DEBUG"))
    return bool(allow)


@dataclass(frozen=True)
class SendSettings:
    """What sending needs from the app's config, passed in so this module stays free of Flask."""

    mail: MailSettings
    scheme: str
    base_domain: str
    allow_private: bool
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS
    timeout: float = WEBHOOK_TIMEOUT

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SendSettings:
        """Settings from an app config (private webhook addresses allowed in testing/debug unless configured)."""
        return cls(mail=settings_from_config(dict(config)), scheme=config.get("PREFERRED_URL_SCHEME") or "https",
                   base_domain=config["BASE_DOMAIN"], allow_private=allow_private_addresses(config),
                   retry_intervals=tuple(config.get("DELIVERY_RETRY_INTERVALS") or RETRY_INTERVALS))

    @property
    def max_attempts(self) -> int:
        """The first try plus one per retry interval."""
        return 1 + len(self.retry_intervals)

    def family_url(self, slug: str, path: str = "") -> str:
        """An absolute URL on the family's site (emails need them)."""
        return f"{self.scheme}://{slug}.{self.base_domain}{path}"


@dataclass(frozen=True)
class Attempt:
    """What happened to one delivery: delivered, retrying, dead, or missing (nothing to do)."""

    status: str
    error: str | None = None
    response_code: int | None = None


class SendFailed(Exception):
    """The receiver did not take the message; `permanent` failures are not retried."""

    def __init__(self, message: str, *, response_code: int | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.response_code = response_code
        self.permanent = permanent


def attempt_delivery(session: Session, delivery_id: uuid.UUID, *, family_slug: str, settings: SendSettings,
                     now: datetime, last_chance: bool = False) -> Attempt:
    """Send one delivery now and record it; a failure schedules the next attempt or, at the last one, marks it dead.

    The row is locked while sending (SKIP LOCKED), so two workers never send the same delivery at once.
    """
    delivery = session.scalar(select(Delivery).where(Delivery.id == delivery_id)
                              .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    if delivery is None:
        return Attempt("missing")
    if delivery.status in ("delivered", "dead"):
        return Attempt(delivery.status)
    delivery.attempts += 1
    try:
        delivery.response_code = _send(session, delivery, family_slug, settings)
    except SendFailed as failure:
        return _failed(delivery, str(failure), failure.response_code, settings, now,
                       final=last_chance or failure.permanent)
    except Exception as error:  # noqa: BLE001 - SMTP, sockets, TLS…: every failure is recorded and retried
        return _failed(delivery, f"{type(error).__name__}: {error}", None, settings, now, final=last_chance)
    delivery.status = DeliveryStatus.DELIVERED
    delivery.delivered_at = now
    delivery.last_error = None
    delivery.next_attempt_at = None
    session.flush()
    return Attempt("delivered", response_code=delivery.response_code)


def _failed(delivery: Delivery, error: str, response_code: int | None, settings: SendSettings, now: datetime, *,
            final: bool) -> Attempt:
    delivery.last_error = error[:500]
    delivery.response_code = response_code
    if final or delivery.attempts >= settings.max_attempts:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
    else:
        intervals = settings.retry_intervals
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = now + timedelta(seconds=intervals[min(delivery.attempts, len(intervals)) - 1])
    log.warning("delivery %s (%s %s) attempt %s failed: %s → %s", delivery.id, delivery.channel, delivery.event,
                delivery.attempts, error, delivery.status)
    return Attempt(delivery.status, error=error, response_code=response_code)


def _send(session: Session, delivery: Delivery, family_slug: str, settings: SendSettings) -> int | None:
    if delivery.channel == "email":
        send_email(settings.mail, to=delivery.recipient or "", subject=delivery.subject or "HousePoints",
                   body=email_body(delivery, family_slug, settings))
        return None
    if delivery.channel == "webhook":
        webhook = session.get(Webhook, delivery.webhook_id) if delivery.webhook_id else None
        if webhook is None:
            raise SendFailed("The webhook was removed", permanent=True)
        if not webhook.active:
            raise SendFailed("The webhook is turned off", permanent=True)
        delivery.recipient = webhook.url  # a corrected URL applies to retries
        body = webhook_body(delivery, family_slug)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HousePoints-Webhooks/1",
            "X-HousePoints-Event": delivery.event,
            "X-HousePoints-Delivery": str(delivery.id),
            "X-HousePoints-Signature": sign(webhook.secret, body),
        }
        status = post(webhook.url, body, headers, timeout=settings.timeout, allow_private=settings.allow_private)
        if not 200 <= status < 300:
            raise SendFailed(f"The receiver answered HTTP {status}", response_code=status)
        return status
    raise SendFailed(f"Unknown channel {delivery.channel}", permanent=True)


def email_body(delivery: Delivery, family_slug: str, settings: SendSettings) -> str:
    """The plain-text email: the message, a link to open it, and where to change what is emailed, in the language
    the message was written in (its payload's `language`; English for rows queued before it was recorded)."""
    payload = delivery.payload or {}
    language = payload.get("language") if isinstance(payload.get("language"), str) else None
    parts = [str(payload.get("body") or delivery.subject or "")]
    if payload.get("link"):
        parts.append(phrase("Open it: %(link)s", link=settings.family_url(family_slug, str(payload["link"])))
                     .render(language))
    parts.append("—\n" + phrase("You get this email because of your HousePoints notification settings: %(link)s",
                                link=settings.family_url(family_slug, "/notifications/preferences")).render(language))
    return "\n\n".join(parts)


def webhook_body(delivery: Delivery, family_slug: str) -> bytes:
    """The exact bytes POSTed and signed: {event, family, data, id, created_at} (the same on every retry)."""
    created = delivery.created_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    message = {"event": delivery.event, "family": family_slug, "data": (delivery.payload or {}).get("data", {}),
               "id": str(delivery.id), "created_at": created}
    return json.dumps(message, separators=(",", ":"), sort_keys=True).encode()


def stalled_instants(now: datetime, *, queued_by_worker: bool) -> tuple[datetime, datetime]:
    """(retries due before this, never-sent rows made before this) count as stalled."""
    retry_due = now - STALLED_AFTER if queued_by_worker else now
    never_sent = now - (STALLED_AFTER if queued_by_worker else INLINE_GRACE)
    return retry_due, never_sent


def stalled_deliveries(retry_due: Any, never_sent: Any) -> ColumnElement[bool]:
    """The condition `requeue_stalled_deliveries` sweeps by (the tick asks first whether any row meets it);
    the instants are datetimes or bound parameters (the tick's probe is built once)."""
    return or_(
        and_(Delivery.status == "retrying", Delivery.next_attempt_at <= retry_due),
        and_(Delivery.status == "queued", Delivery.created_at <= never_sent,
             or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= never_sent)),
    )


def requeue_stalled_deliveries(session: Session, now: datetime, *, queued_by_worker: bool) -> int:
    """Deliveries whose next attempt is due but that nobody will send: dispatch them after the caller's commit.

    Without a worker, this is how inline failures get their next attempt (the tick calls it every minute). With
    one, only deliveries an hour overdue count (their RQ job was lost), so this never races a scheduled retry.
    """
    stalled = stalled_deliveries(*stalled_instants(now, queued_by_worker=queued_by_worker))
    due = list(session.scalars(select(Delivery.id).where(stalled)
                               .order_by(Delivery.created_at).limit(MAX_SWEEP)))
    for delivery_id in due:
        mark_for_dispatch(session, delivery_id)
    return len(due)


# --- HTTP with the address checked and pinned -------------------------------------------------------------------

class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address we checked, not whatever the name resolves to a moment later (DNS rebinding)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked address, with the certificate verified against the URL's host name."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_private: bool) -> int:
    """POST `body`; the status code. Redirects are not followed (they could lead to a private address)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SendFailed("Not an http(s) URL", permanent=True)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        if allow_private:
            addresses = [str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, port,
                                                                         type=socket.SOCK_STREAM)]
        else:
            addresses = public_addresses(parts.hostname, port)
    except UnsafeAddress as error:
        raise SendFailed(str(error)) from None
    except OSError as error:
        raise SendFailed(f"The host {parts.hostname} could not be found: {error}") from None
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, port, address=addresses[0], timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return response.status
    except (OSError, http.client.HTTPException) as error:
        raise SendFailed(f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
