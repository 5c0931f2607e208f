"""Outgoing email over SMTP; with no MAIL_SERVER configured (development) the message goes to the log."""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

log = logging.getLogger("housepoints.mail")
outbox_log = logging.getLogger("housepoints.mail.outbox")


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    log_body: bool = True  # without a server, development logs the message; production never logs links or codes


def settings_from_config(config: Mapping[str, Any]) -> MailSettings:
    """Mail settings from the app config."""
    return MailSettings(server=config.get("MAIL_SERVER"), port=int(config.get("MAIL_PORT") or 25),
                        sender=config.get("MAIL_SENDER") or "HousePoints <no-reply@housepoints.ai>",
                        username=config.get("MAIL_USERNAME"), password=config.get("MAIL_PASSWORD"),
                        use_tls=bool(config.get("MAIL_USE_TLS")), log_body=bool(config.get("MAIL_LOG_BODY", True)))


def send_email(settings: MailSettings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text email (call after the transaction commits)."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not settings.server:
        if settings.log_body:
            # Its own logger: the log scrubber leaves it alone so a developer can follow the links (never on in
            # production, where MAIL_LOG_BODY is off).
            outbox_log.info("email (no MAIL_SERVER, logged instead) to=%s subject=%s\n%s", to, subject, body)
        else:
            log.warning("email not sent: no MAIL_SERVER configured (subject=%s)", subject)
        return
    with smtplib.SMTP(settings.server, settings.port, timeout=10) as smtp:
        if settings.use_tls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


def deliver(*, to: str, subject: str, body: str) -> None:
    """Send with the current app's settings (views call this after their commit)."""
    from flask import current_app

    send_email(settings_from_config(current_app.config), to=to, subject=subject, body=body)


def send_mail_after_commit(*, to: str, subject: str, body: str) -> bool:
    """Send a mail whose failure must not undo what was committed (nor reveal, by a 500, that an account exists)."""
    try:
        deliver(to=to, subject=subject, body=body)
    except (OSError, smtplib.SMTPException):
        log.exception("could not send %r", subject)
        return False
    return True
