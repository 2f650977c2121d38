"""Generic webhook: POST the notice as JSON, signed `X-ITSM-Signature: sha256=<HMAC-SHA256 of the body>`."""
from __future__ import annotations

import hashlib
import hmac

from .base import ChannelNotConfigured, Message, Recipient, Result, json_body, post


def signature(secret: str, body: bytes) -> str:
    """The header value a receiver recomputes from the raw body and the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def payload(message: Message, recipients: list[Recipient]) -> dict:
    return {
        "event": message.kind, "notification_id": message.notification_id,
        "ticket": {"id": message.ticket_id, "sn": message.ticket_sn, "url": message.url},
        "recipients": [{"username": r.username, "display_name": r.display_name, "email": r.email} for r in recipients],
        "subject": message.subject, "text": message.text,
    }


class WebhookChannel:
    name = "webhook"
    label = "Webhook"
    per_recipient = False

    def deliver(self, message: Message, recipients: list[Recipient], config: dict) -> list[Result]:
        url = config.get("url")
        if not url:
            raise ChannelNotConfigured("Webhook 地址未配置（后台管理 → 通知配置）")
        body = json_body(payload(message, recipients))
        headers = {"Content-Type": "application/json; charset=utf-8", "X-ITSM-Event": message.kind,
                   "X-ITSM-Delivery": str(message.notification_id)}
        secret = config.get("secret") or ""
        if secret:
            headers["X-ITSM-Signature"] = signature(secret, body)
        call, _ = post(url, body, headers=headers, timeout=float(config.get("timeout") or 10), secrets=[secret])
        return [Result("*", ok=call.ok, error=call.error, calls=[call])]
