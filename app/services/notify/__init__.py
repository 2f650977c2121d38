"""Notices: the outbox sent by the scheduler, daily reminders, templates, channel settings, user choices.

What the entry points (web, api, admin, jobs, cli) may call; inside `app.services` import the modules.
"""
from app.infra.exports import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "delivery": ["claim_due_notices", "enqueue_daily_reminders", "prepare_notice", "record_notice",
                 "record_notice_crash", "record_test_message", "retry_notifications", "send_notice",
                 "send_test_message", "test_message"],
    "render": ["KINDS", "LAYOUT", "NOTICE_STATUS_NAMES", "override_source", "sample_context"],
    "settings": ["SMTP", "WEBHOOK", "WECOM", "daily_time", "masked_config", "preferences", "reset_template",
                 "save_daily_time", "save_preferences", "save_smtp", "save_template", "save_webhook",
                 "save_wecom", "template_kinds", "template_source"],
})
