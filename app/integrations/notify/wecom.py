"""WeCom-style group robot: POST `{"msgtype": "markdown", "markdown": {"content": ...}}` to the robot's URL."""
from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .base import ChannelNotConfigured, Message, Recipient, Result, json_body, post

MAX_CONTENT = 4000      # the robot refuses markdown over 4096 bytes


def split_key(url: str) -> tuple[str, str]:
    """`https://.../send?key=K` -> (`https://.../send`, `K`): the key is a secret and is stored apart."""
    parts = urlsplit(url.strip())
    query = parse_qsl(parts.query, keep_blank_values=True)
    key = next((v for k, v in query if k == "key"), "")
    rest = urlencode([(k, v) for k, v in query if k != "key"])
    return urlunsplit(parts._replace(query=rest)), key


def with_key(url: str, key: str) -> str:
    if not key:
        return url
    return url + ("&" if "?" in url else "?") + "key=" + quote(key, safe="*")


def content(message: Message, recipients: list[Recipient]) -> str:
    """The markdown shown in the group, mentioning the recipients; cut to the robot's limit."""
    mentions = " ".join(f"<@{r.username}>" for r in recipients)
    text = message.markdown + (f"\n{mentions}" if mentions else "")
    data = text.encode("utf-8")
    return text if len(data) <= MAX_CONTENT else data[:MAX_CONTENT].decode("utf-8", "ignore") + "…"


class WecomChannel:
    name = "wecom"
    label = "企业微信群机器人"
    per_recipient = False

    def deliver(self, message: Message, recipients: list[Recipient], config: dict) -> list[Result]:
        if not config.get("url"):
            raise ChannelNotConfigured("企业微信机器人地址未配置（后台管理 → 通知配置）")
        key = config.get("api_key") or ""
        body = json_body({"msgtype": "markdown", "markdown": {"content": content(message, recipients)}})
        call, response = post(with_key(config["url"], key), body,
                              headers={"Content-Type": "application/json; charset=utf-8"},
                              timeout=float(config.get("timeout") or 10), secrets=[key])
        error = call.error
        if call.ok:
            error = _robot_error(response)
        return [Result("*", ok=not error, error=error, calls=[call])]


def _robot_error(response) -> str:
    """The robot answers HTTP 200 with `errcode` != 0 when it refuses a message."""
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("errcode") not in (None, 0):
        return f"errcode {data.get('errcode')}: {data.get('errmsg', '')}"[:500]
    return ""
