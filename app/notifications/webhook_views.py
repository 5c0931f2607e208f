"""Webhook pages for parents: add, edit, switch off, re-key and remove webhooks; delivery logs and dead letters."""
from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from app.i18n import refusal_text
from app.auth.decorators import parent_required
from app.db import get_session
from app.domain import DomainError
from app.notifications import bp
from app.notifications.catalog import EVENTS
from app.inputs import parse_input
from app.notifications.delivery import allow_private_addresses
from app.notifications.inputs import WebhookInput
from app.notifications.models import DeliveryStatus, Webhook
from app.notifications.views import FORM_STATUS, Form, local_time, me
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
from app.uow import transactional, unit_of_work
from app.web import request_now


def allow_private() -> bool:
    """Private and loopback receivers are refused in production (SSRF guard), allowed in testing and debug."""
    return allow_private_addresses(current_app.config)


def _no_store(response: Response) -> Response:
    # A page showing a secret must not be kept by any cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _context(**extra: Any) -> dict[str, Any]:
    return {"events": EVENTS, "when": local_time, **extra}


def _webhooks_page(*, form: Form | None = None, created: Webhook | None = None, status: int = 200) -> Response:
    body = render_template("notifications/webhooks.html", **_context(
        webhooks=list_webhooks(get_session()), form=form or Form(values={"events": []}), created=created))
    return _no_store(make_response(body, status))


@bp.get("/settings/webhooks")
@parent_required
def webhooks() -> Response:
    """The family's webhooks and a form to add one."""
    return _webhooks_page()


@bp.post("/settings/webhooks", endpoint="create_webhook")
@parent_required
def add_webhook() -> Response:
    """Add a webhook; the page shows its signing secret this once."""
    session = get_session()
    values = {"url": request.form.get("url", ""), "events": request.form.getlist("events")}
    try:
        with unit_of_work(session):
            webhook = create_webhook(session, actor=me(), data=parse_input(WebhookInput, values),
                                     allow_private=allow_private())
    except DomainError as error:
        form = Form(values=values)
        form.refuse(error)
        return _webhooks_page(form=form, status=FORM_STATUS)
    return _webhooks_page(created=webhook)


def _webhook_page(webhook: Webhook, *, form: Form | None = None, new_secret: bool = False,
                  status: int = 200) -> Response:
    form = form or Form(values={"url": webhook.url, "events": list(webhook.events or []), "active": webhook.active})
    body = render_template("notifications/webhook.html", **_context(
        webhook=webhook, form=form, new_secret=new_secret,
        deliveries=list_deliveries(get_session(), actor=me(), webhook_id=webhook.id)))
    return _no_store(make_response(body, status))


@bp.get("/settings/webhooks/<webhook_id>", endpoint="webhook")
@parent_required
def show_webhook(webhook_id: str) -> Response:
    """One webhook: its settings and its delivery log."""
    return _webhook_page(get_webhook_or_404(get_session(), webhook_id))


@bp.post("/settings/webhooks/<webhook_id>", endpoint="update_webhook")
@parent_required
def change_webhook(webhook_id: str) -> BaseResponse:
    """Save a webhook's URL, events and on/off switch."""
    session = get_session()
    webhook = get_webhook_or_404(session, webhook_id)
    values = {"url": request.form.get("url", ""), "events": request.form.getlist("events"),
              "active": "active" in request.form}
    try:
        with unit_of_work(session):
            update_webhook(session, actor=me(), webhook=webhook, allow_private=allow_private(),
                           data=parse_input(WebhookInput, values))
    except DomainError as error:
        form = Form(values=values)
        form.refuse(error)
        return _webhook_page(get_webhook_or_404(session, webhook_id), form=form, status=FORM_STATUS)
    flash(gettext("Webhook saved."))
    return redirect(url_for("notifications.webhook", webhook_id=webhook.id), 303)


@bp.post("/settings/webhooks/<webhook_id>/secret", endpoint="rotate_secret")
@parent_required
@transactional
def new_secret(webhook_id: str) -> Response:
    """Replace the signing secret (shown this once); the receiver must be given the new one."""
    session = get_session()
    webhook = rotate_secret(session, actor=me(), webhook=get_webhook_or_404(session, webhook_id))
    return _webhook_page(webhook, new_secret=True)


@bp.post("/settings/webhooks/<webhook_id>/delete", endpoint="delete_webhook")
@parent_required
@transactional
def remove_webhook(webhook_id: str) -> BaseResponse:
    """Remove a webhook and its delivery log."""
    session = get_session()
    delete_webhook(session, actor=me(), webhook=get_webhook_or_404(session, webhook_id))
    flash(gettext("Webhook removed."))
    return redirect(url_for("notifications.webhooks"), 303)


@bp.get("/settings/deliveries")
@parent_required
def deliveries() -> Response:
    """Every outgoing email and webhook call, newest first; ?status=dead lists the ones that gave up."""
    status = clean_status(request.args.get("status"))
    body = render_template("notifications/deliveries.html", **_context(
        deliveries=list_deliveries(get_session(), actor=me(), status=status), status=status,
        statuses=DeliveryStatus, webhooks={w.id: w for w in list_webhooks(get_session())}))
    return make_response(body)


@bp.post("/settings/deliveries/<delivery_id>/retry", endpoint="retry_delivery")
@parent_required
def retry_now(delivery_id: str) -> BaseResponse:
    """"Retry now" on a dead letter: one more attempt right after this commit."""
    session = get_session()
    delivery = get_delivery_or_404(session, delivery_id)
    try:
        with unit_of_work(session):
            retry_delivery(session, actor=me(), delivery=delivery, now=request_now())
    except DomainError as error:
        flash(refusal_text(error))
        return redirect(url_for("notifications.deliveries", status="dead"), 303)
    flash(gettext("Sent again. The log shows how it went."))
    return redirect(url_for("notifications.deliveries", status="dead"), 303)
