"""The log channel: one line per notice in the application log (development, audits, tests)."""
from __future__ import annotations

import logging

from .base import Message, Recipient, Result

log = logging.getLogger("itsm.notify")


class LogChannel:
    name = "log"
    label = "日志"
    per_recipient = False

    def deliver(self, message: Message, recipients: list[Recipient], config: dict) -> list[Result]:
        log.info("notice %s %s %s to %s: %s", message.notification_id, message.kind, message.ticket_sn,
                 ",".join(r.username for r in recipients), message.subject)
        return [Result("*", ok=True)]
