"""Notice texts: one Jinja template per kind (defaults in `templates/notify/`, admin overrides in settings).

A kind's template defines `{% block subject %}` and `{% block body %}` (plain text), and may
define `{% block html %}` and `{% block markdown %}`; otherwise the HTML comes from the
`_layout` template around the body, and the WeCom markdown from subject + body + link.
Templates run in `jinja2.sandbox.SandboxedEnvironment` over plain dicts: an admin's
template can format data but never reach Python objects.
"""
from __future__ import annotations

from typing import Any

from flask import current_app
from jinja2 import ChainableUndefined, FunctionLoader, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from app.errors import ValidationFailed
from app.infra.public_url import public_base_url
from app.services.system.settings import get_setting

KINDS = {
    "todo": "新待办", "claim": "待认领", "distribute": "派单给您", "deliver": "转单给您", "supervise": "督办",
    "suspend": "单据挂起", "resume": "单据恢复", "finished": "单据已结束", "terminated": "单据终止",
    "revoked": "单据撤回", "reminder": "每日待办提醒", "failed": "自动节点执行失败",
    "alert": "告警创建故障单", "alert_storm": "告警风暴",
    "sla_warning": "服务级别预警", "sla_breach": "服务级别超时",
}
# a notice's status as the back office shows it (the codes stay in the database and the filters' URLs)
NOTICE_STATUS_NAMES = {"PENDING": "待发送", "SENT": "已发送", "SKIPPED": "未发送（无可用渠道或接收人）",
                       "FAILED": "发送失败"}
LAYOUT = "_layout"
OVERRIDE_PREFIX = "notify.template."


def template_name(kind: str) -> str:
    return f"notify/{kind}.html" if kind == LAYOUT else f"notify/{kind}.txt"


def default_source(kind: str) -> str:
    """The shipped template text for a kind (or the HTML layout)."""
    app = current_app._get_current_object()
    source, _, _ = app.jinja_loader.get_source(app.jinja_env, template_name(kind))
    return source


def override_source(kind: str) -> str | None:
    return get_setting(OVERRIDE_PREFIX + kind) or None


def _environment(autoescape: bool, overrides: dict[str, str] | None = None) -> SandboxedEnvironment:
    """A sandbox reading admin overrides first, then the shipped files; `overrides` wins (previews)."""
    overrides = overrides or {}

    def load(name: str):
        kind = name.removeprefix("notify/").rsplit(".", 1)[0]
        if kind not in KINDS and kind != LAYOUT:
            raise TemplateNotFound(name)
        return overrides.get(kind) or override_source(kind) or default_source(kind)

    return SandboxedEnvironment(loader=FunctionLoader(load), autoescape=autoescape, undefined=ChainableUndefined,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def _block(template, name: str, context: dict) -> str | None:
    block = template.blocks.get(name)
    if block is None:
        return None
    return "".join(block(template.new_context(context))).strip()


def render(kind: str, context: dict[str, Any], *, overrides: dict[str, str] | None = None) -> dict[str, str]:
    """{subject, text, html, markdown} for a notice of `kind` (TemplateError when a template is broken)."""
    template = _environment(False, overrides).get_template(template_name(kind))
    subject = " ".join((_block(template, "subject", context) or KINDS.get(kind, kind)).split())
    body = _block(template, "body", context) or ""
    url = context.get("url", "")
    text = f"{body}\n\n查看单据：{url}\n" if url else body + "\n"
    # the HTML block is rendered by an escaping environment: ticket titles and notes are text, never markup
    html = _block(_environment(True, overrides).get_template(template_name(kind)), "html", context)
    if html is None:
        layout = _environment(True, overrides).get_template(template_name(LAYOUT))
        html = layout.render({**context, "subject": subject, "body": body})
    markdown = _block(template, "markdown", context)
    if markdown is None:
        markdown = f"**{subject}**\n{body}" + (f"\n[查看单据]({url})" if url else "")
    return {"subject": subject, "text": text, "html": html, "markdown": markdown}


def sample_context() -> dict[str, Any]:
    """What a template sees, with example values (previews and checks in the back office)."""
    base = public_base_url()
    return {
        "kind": "todo", "kind_name": KINDS["todo"], "site_name": "蓝鲸 ITSM",
        "ticket": {"id": 1, "sn": "REQ20250101000001", "title": "申请开通 VPN 账号", "status": "RUNNING",
                   "status_name": "处理中", "creator": "alice", "creator_name": "张三", "service_type": "request",
                   "created_at": "2025-01-01 09:00:00"},
        "step": "直属领导审批", "steps": ["直属领导审批"], "operator": "alice", "operator_name": "张三",
        "action": "alice 处理节点【提单】(提交)", "note": "请尽快处理", "recipients": ["leader(王五)"],
        "url": f"{base}/tickets/1", "waiting_since": "2025-01-01 09:00:00",
    }


def check_template(kind: str, source: str) -> dict[str, str]:
    """Compile and render `source` for `kind` with the sample context; a clear error if it is broken."""
    if kind not in KINDS and kind != LAYOUT:
        raise ValidationFailed(f"未知的通知类型 {kind}")
    try:
        if kind == LAYOUT:
            return render("todo", sample_context(), overrides={LAYOUT: source})
        return render(kind, {**sample_context(), "kind": kind, "kind_name": KINDS[kind]}, overrides={kind: source})
    except TemplateError as exc:
        line = f"第 {exc.lineno} 行：" if getattr(exc, "lineno", None) else ""
        raise ValidationFailed(f"模板有错误：{line}{exc.message or exc}") from None
