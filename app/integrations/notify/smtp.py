"""SMTP email: one message per recipient (HTML + plain text), all over one connection per notice."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from .base import ChannelNotConfigured, Message, Recipient, Result

log = logging.getLogger(__name__)
SECURITY = ("none", "starttls", "ssl")


def build_email(message: Message, recipient: Recipient, sender: str) -> EmailMessage:
    """The MIME message: text part first, HTML alternative; headers name the notice and the ticket."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = formataddr((recipient.display_name or recipient.username, recipient.email))
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip(">") or "itsm.local")
    mail["X-ITSM-Notification"] = str(message.notification_id)
    if message.ticket_sn:
        mail["X-ITSM-Ticket"] = message.ticket_sn
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


def _connect(config: dict) -> smtplib.SMTP:
    host, port = config.get("host"), int(config.get("port") or 25)
    timeout = float(config.get("timeout") or 10)
    security = config.get("security") or "none"
    if security == "ssl":
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            server.starttls(context=ssl.create_default_context())
    if config.get("username"):
        server.login(config["username"], config.get("password") or "")
    return server


class EmailChannel:
    name = "email"
    label = "邮件"
    per_recipient = True

    def deliver(self, message: Message, recipients: list[Recipient], config: dict) -> list[Result]:
        if not config.get("host") or not config.get("sender"):
            raise ChannelNotConfigured("SMTP 未配置（后台管理 → 通知配置）")
        results = [Result(r.username, ok=False, error="没有邮箱地址", skipped=True) for r in recipients if not r.email]
        targets = [r for r in recipients if r.email]
        if not targets:
            return results
        try:
            server = _connect(config)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"SMTP 连接失败: {type(exc).__name__}: {exc}"
            log.warning("notice %s: %s", message.notification_id, error)
            return results + [Result(r.username, ok=False, error=error) for r in targets]
        try:
            for r in targets:
                results.append(self._send_one(server, message, r, config["sender"]))
        finally:
            try:
                server.quit()
            except (OSError, smtplib.SMTPException):
                server.close()
        return results

    @staticmethod
    def _send_one(server: smtplib.SMTP, message: Message, recipient: Recipient, sender: str) -> Result:
        try:
            server.send_message(build_email(message, recipient, sender))
        except (OSError, smtplib.SMTPException) as exc:
            return Result(recipient.username, ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
        log.info("notice %s (%s %s) emailed to %s", message.notification_id, message.kind, message.ticket_sn,
                 recipient.email)
        return Result(recipient.username, ok=True)
