"""Notification channels (SMTP email, generic webhook, WeCom-style robot, log) and their registry.

A channel turns a rendered `Message` and its recipients into sends and reports one
`Result` per target, with the HTTP calls it made (secrets masked) for the API call log.
Channels touch no database; `app.services.notify.delivery` decides who gets what.
"""
from __future__ import annotations

from .base import ChannelNotConfigured, HttpCall, Message, Recipient, Result
from .logline import LogChannel
from .smtp import EmailChannel
from .webhook import WebhookChannel
from .wecom import WecomChannel

CHANNELS = {c.name: c for c in (EmailChannel(), WebhookChannel(), WecomChannel(), LogChannel())}
USER_CHANNELS = ("email", "wecom", "log")          # what a user may choose in the profile; webhook is system-wide


def get_channel(name: str):
    """The channel registered under `name` (KeyError for an unknown one)."""
    return CHANNELS[name]


__all__ = ["CHANNELS", "USER_CHANNELS", "ChannelNotConfigured", "HttpCall", "Message", "Recipient", "Result",
           "get_channel"]
