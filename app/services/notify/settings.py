"""Notification settings: SMTP / webhook / WeCom robot targets (secrets masked), the daily reminder time,
notice templates (admin overrides), and each user's channel choices (profile).
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.integrations.notify import USER_CHANNELS
from app.integrations.notify.smtp import SECURITY
from app.integrations.notify.wecom import split_key, with_key
from app.models import NotifyPreference, User
from app.services.notify.render import KINDS, LAYOUT, OVERRIDE_PREFIX, check_template, default_source, override_source
from app.services.system.audit import MASK
from app.services.system.settings import get_setting, set_setting
from app.timeutil import utcnow

SMTP, WEBHOOK, WECOM, DAILY_TIME = "notify.smtp", "notify.webhook", "notify.wecom", "notify.daily_time"
DEFAULT_DAILY_TIME = "09:00"
SECRET_FIELDS = {SMTP: "password", WEBHOOK: "secret", WECOM: "api_key"}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LANGUAGES = ("zh", "en")


# --- channel targets (back office) -------------------------------------------

def channel_config(key: str) -> dict:
    """The stored settings of one channel, secrets included (for sending only)."""
    return dict(get_setting(key) or {})


def masked_config(key: str) -> dict:
    """The settings as the back office shows them: the secret replaced by the mask when one is set."""
    config = channel_config(key)
    secret = SECRET_FIELDS[key]
    if config.get(secret):
        config[secret] = MASK
    if key == WECOM and config.get("url"):
        config["url"] = with_key(config["url"], MASK if config.get("api_key") else "")
    return config


def _keep_secret(key: str, value: str | None) -> str:
    """A secret left as the mask keeps the stored one; an empty value clears it."""
    value = (value or "").strip()
    return channel_config(key).get(SECRET_FIELDS[key], "") if value == MASK else value


def _timeout(value: Any) -> float:
    try:
        timeout = float(value or 10)
    except (TypeError, ValueError):
        raise ValidationFailed("超时时间应为数字（秒）") from None
    if not 0 < timeout <= 120:
        raise ValidationFailed("超时时间应在 0 到 120 秒之间")
    return timeout


def _http_url(url: str, what: str) -> str:
    url = (url or "").strip()
    if url and (urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc):
        raise ValidationFailed(f"{what}应为 http:// 或 https:// 开头的地址")
    return url


def save_smtp(*, host: str, port: Any, security: str, username: str, password: str, sender: str,
              timeout: Any = 10, by: str) -> None:
    """Store the SMTP server; an empty host turns email off."""
    host = (host or "").strip()
    try:
        port = int(port or 25)
    except (TypeError, ValueError):
        raise ValidationFailed("端口应为 1 到 65535 的整数") from None
    if not 0 < port < 65536:
        raise ValidationFailed("端口应为 1 到 65535 的整数")
    if security not in SECURITY:
        raise ValidationFailed("加密方式应为 none、starttls 或 ssl")
    sender = (sender or "").strip()
    if host and not EMAIL_RE.match(sender.rpartition("<")[2].rstrip(">")):
        raise ValidationFailed("发件人应为邮箱地址，如 itsm@example.com 或 ITSM <itsm@example.com>")
    set_setting(SMTP, {"host": host, "port": port, "security": security, "username": (username or "").strip(),
                       "password": _keep_secret(SMTP, password), "sender": sender, "timeout": _timeout(timeout)}, by=by)


def save_webhook(*, url: str, secret: str, timeout: Any = 10, by: str) -> None:
    """Store the generic webhook target and its signing secret."""
    set_setting(WEBHOOK, {"url": _http_url(url, "Webhook 地址"), "secret": _keep_secret(WEBHOOK, secret),
                          "timeout": _timeout(timeout)}, by=by)


def save_wecom(*, url: str, timeout: Any = 10, by: str) -> None:
    """Store the robot URL; its `key=` is kept apart as a secret (a masked key keeps the stored one)."""
    base, key = split_key(_http_url(url, "机器人地址"))
    set_setting(WECOM, {"url": base, "api_key": _keep_secret(WECOM, key), "timeout": _timeout(timeout)}, by=by)


# --- daily reminders ---------------------------------------------------------

def daily_time() -> tuple[int, int]:
    """The local (hour, minute) after which daily reminders go out."""
    hours, minutes = _parse_time(get_setting(DAILY_TIME) or DEFAULT_DAILY_TIME)
    return hours, minutes


def _parse_time(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (text or "").strip())
    if not match:
        raise ValidationFailed("提醒时间应为 HH:MM，如 09:00")
    return int(match.group(1)), int(match.group(2))


def save_daily_time(text: str, *, by: str) -> None:
    hours, minutes = _parse_time(text)
    set_setting(DAILY_TIME, f"{hours:02d}:{minutes:02d}", by=by)


# --- templates -----------------------------------------------------------------

def template_kinds() -> list[dict]:
    """Every notice kind (and the HTML layout) with whether an admin changed its template."""
    rows = [{"kind": k, "name": n, "custom": override_source(k) is not None} for k, n in KINDS.items()]
    return rows + [{"kind": LAYOUT, "name": "邮件 HTML 外框", "custom": override_source(LAYOUT) is not None}]


def template_source(kind: str) -> str:
    _known(kind)
    return override_source(kind) or default_source(kind)


def save_template(kind: str, source: str, *, by: str) -> dict[str, str]:
    """Check the template renders (sandboxed, sample data) and store it; returns the sample rendering."""
    _known(kind)
    source = (source or "").replace("\r\n", "\n")
    if not source.strip():
        raise ValidationFailed("模板不能为空；要恢复默认模板请点“恢复默认”")
    sample = check_template(kind, source)
    set_setting(OVERRIDE_PREFIX + kind, None if source == default_source(kind) else source, by=by)
    return sample


def reset_template(kind: str, *, by: str) -> None:
    _known(kind)
    set_setting(OVERRIDE_PREFIX + kind, None, by=by)


def _known(kind: str) -> None:
    if kind not in KINDS and kind != LAYOUT:
        raise ValidationFailed(f"未知的通知类型 {kind}")


# --- users' choices (profile) --------------------------------------------------

def user_channels(usernames) -> dict[str, tuple[str, ...]]:
    """Each user's chosen channels; users who never chose get every user channel."""
    rows = db.session.execute(select(NotifyPreference).where(NotifyPreference.username.in_(list(usernames)))).scalars()
    chosen = {p.username: tuple(c for c in p.channels if c in USER_CHANNELS) for p in rows}
    return {u: chosen.get(u, USER_CHANNELS) for u in usernames}


def preferences(user: User) -> dict:
    """What the profile form shows."""
    return {"email": user.email, "language": user.language, "channels": list(user_channels([user.username])[user.username])}


def save_preferences(user: User, *, email: str, channels: list[str], language: str) -> None:
    """Store the user's email address, channels and language (refused with a clear message when wrong)."""
    email = (email or "").strip()
    if email and (len(email) > 255 or not EMAIL_RE.match(email)):
        raise ValidationFailed("邮箱地址格式不正确", errors={"email": "邮箱地址格式不正确"})
    unknown = [c for c in channels if c not in USER_CHANNELS]
    if unknown:
        raise ValidationFailed(f"未知的通知方式：{', '.join(unknown)}")
    if "email" in channels and not email:
        raise ValidationFailed("选择邮件通知时请填写邮箱地址", errors={"email": "请填写邮箱地址"})
    if language not in LANGUAGES:
        raise ValidationFailed("语言应为 zh 或 en")
    user.email, user.language = email, language
    pref = db.session.get(NotifyPreference, user.username)
    if pref is None:
        pref = NotifyPreference(username=user.username)
        db.session.add(pref)
    pref.channels, pref.updated_at = [c for c in USER_CHANNELS if c in channels], utcnow()
    db.session.flush()
