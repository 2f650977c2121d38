"""The visual flow designer: the canvas's data from a template's YAML, and its edits written back to the YAML.

YAML stays the source of truth: the canvas receives the document's own data (plus the issues, in Chinese,
placed on the node, field or line they concern) and sends the whole flow back; the edit is merged into the
YAML with ruamel.yaml round-trip (app.flowdef.roundtrip), shown as a diff, and saved like the YAML editor saves.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from flask import current_app
from sqlalchemy import select

from app.errors import ValidationFailed
from app.extensions import db
from app.flowdef.loader import FlowLoadError, check_document_limits, parse_flow_text
from app.flowdef.messages_zh import DISTRIBUTE_NAMES, KIND_NAMES, PROCESSOR_NAMES, describe_issue
from app.flowdef.model import FIELD_TYPES, SERVICE_TYPES
from app.flowdef.roundtrip import apply_edit, yaml_diff
from app.models import ApiDef, ApiSystem, Flow, Role
from app.services.flows.editor import EDITOR_FILE, _flow, check_flow_text, save_flow_from_editor

FIELD_TYPE_NAMES = {"STRING": "单行文本", "TEXT": "多行文本", "INT": "数字", "DATE": "日期", "DATETIME": "时间",
                    "DATETIMERANGE": "时间区间", "TABLE": "表格", "SELECT": "单选下拉框", "MULTISELECT": "多选下拉框",
                    "CHECKBOX": "复选框", "RADIO": "单选框", "MEMBER": "单选人员选择", "MEMBERS": "多选人员选择",
                    "RICHTEXT": "富文本", "FILE": "附件上传", "CUSTOMTABLE": "自定义表格", "TREESELECT": "树形选择",
                    "CASCADE": "级联", "LINK": "链接", "CUSTOM-FORM": "自定义表单（JSON）"}
SERVICE_TYPE_LABELS = {"request": "请求", "change": "变更", "event": "事件", "question": "问题"}
PALETTE = ("start", "manual", "approval", "sign", "api", "automation", "parallel", "converge", "end")
OPERATOR_NAMES = {"==": "等于", "!=": "不等于", ">": "大于", ">=": "大于等于", "<": "小于", "<=": "小于等于",
                  "in": "属于", "notin": "不属于", "contains": "包含"}
REGEX_PRESETS = {"": "无", r"^\d+$": "数字", r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$": "邮箱",
                 r"^1\d{10}$": "手机号", r"^(\d{1,3}\.){3}\d{1,3}$": "IP 地址"}
MAX_DATA_BYTES = 1024 * 1024
PLUGIN_NAMES = {"http_webhook": "HTTP 回调", "set_fields": "设置字段值"}
NOTIFY_CHANNEL_NAMES = {"email": "邮件", "wecom": "企业微信", "webhook": "Webhook", "log": "日志"}
NOTIFY_FREQUENCY_NAMES = {"once": "首次通知，以后不再通知", "daily": "首次通知后，次日起每天定时通知"}
# what an api/automation node's templates may read besides the fields (app.services.automation.runs._context)
TICKET_ATTRS = {"sn": "单号", "title": "标题", "creator": "提单人", "service_type": "服务类型", "created_at": "提单时间"}


def vocabulary() -> dict:
    """Names the canvas shows (Chinese), the roles to pick from and each dictionary's items (for conditions)."""
    from app.services.system.dictionaries import all_choices

    def items(choices) -> list:
        return [{"key": c.key, "name": c.name, "children": items(c.children)} for c in choices]

    roles = db.session.execute(select(Role.key, Role.name, Role.type).order_by(Role.type, Role.key)).all()
    # ordered vocabularies as [key, name] pairs (JSON objects lose their order through `tojson`)
    return {"kinds": [[k, KIND_NAMES[k]] for k in PALETTE], "field_types": [[t, FIELD_TYPE_NAMES.get(t, t)] for t in FIELD_TYPES],
            "distribute_types": list(map(list, DISTRIBUTE_NAMES.items())),
            "processor_types": list(map(list, PROCESSOR_NAMES.items())), "operators": list(map(list, OPERATOR_NAMES.items())),
            "service_types": [[t, SERVICE_TYPE_LABELS[t]] for t in SERVICE_TYPES],
            "regex_presets": list(map(list, REGEX_PRESETS.items())),
            "roles": [{"key": k, "name": n, "type": t} for k, n, t in roles],
            "dictionaries": {k: items(v) for k, v in sorted(all_choices().items())},
            "apis": registered_apis(), "plugins": automation_plugins(),
            "notify_channels": list(map(list, NOTIFY_CHANNEL_NAMES.items())),
            "notify_frequencies": list(map(list, NOTIFY_FREQUENCY_NAMES.items())),
            "ticket_attrs": list(map(list, TICKET_ATTRS.items()))}


def _automation_issues(text: str) -> list:
    """api nodes naming an API not configured or not enabled, automation nodes naming no installed plugin: the step
    would fail when a ticket reaches it, so the canvas says so on the node (a warning: saving is still allowed)."""
    known_apis = {a["key"] for a in registered_apis() if a["enabled"]}
    known_plugins = {name for name, _label in automation_plugins()}
    try:
        parse_flow_text(text, EDITOR_FILE, known_apis=known_apis, known_plugins=known_plugins)
    except FlowLoadError as exc:
        return list(exc.issues)
    return []


def registered_apis() -> list[dict]:
    """The APIs an api node may call (后台 → API 配置), with the parameter names of their request template and
    the names of their response mapping, so the designer can offer them."""
    rows = db.session.execute(select(ApiSystem, ApiDef).join(ApiDef, ApiDef.system_id == ApiSystem.id)
                              .order_by(ApiSystem.key, ApiDef.key)).all()
    return [{"key": f"{system.key}.{api.key}", "name": f"{system.name} · {api.name}", "method": api.method,
             "enabled": bool(system.is_enabled and api.is_enabled),
             "params": _json_keys(api.request_template), "response": _json_keys(api.response_mapping)}
            for system, api in rows]


def _json_keys(text: str | None) -> list[str]:
    """The top-level keys of a JSON object's text (none when it is not one)."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return []
    return [str(k) for k in value] if isinstance(value, dict) else []


def automation_plugins() -> list[list[str]]:
    """[name, label] of every automation plugin the scheduler knows (built-ins, entry points, configuration)."""
    from app.integrations.plugins import registry

    try:
        names = list(registry(current_app.config.get("AUTOMATION_PLUGINS") or {}))
    except (ImportError, AttributeError):       # a misconfigured plugin must not keep the designer from opening
        names = list(PLUGIN_NAMES)
    return [[n, PLUGIN_NAMES.get(n, n)] for n in names]


def revision(text: str) -> str:
    """Which version of the YAML the canvas was opened on (a save over a newer one is refused)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def designer_state(flow_id: int | None) -> dict:
    """What the canvas opens with: the template's YAML, its data and its issues (empty flow for a new one)."""
    text = _flow(flow_id).source if flow_id is not None else ""
    if not text:
        return {"source": "", "data": None, "revision": revision(""), "ok": False, "issues": [], "warnings": []}
    return {"source": text, "data": _data_of(text), "revision": revision(text), **check_text(text)}


def _base_text(flow_id: int | None, opened: str | None) -> str:
    """The stored YAML the edit applies to; refused if someone saved it since the canvas opened it."""
    base = _flow(flow_id).source if flow_id is not None else ""
    if opened is not None and opened != revision(base):
        raise ValidationFailed("该流程在你打开设计器之后已被修改（可能是其他管理员或 YAML 编辑器）；"
                               "请重新打开设计器再修改，以免覆盖别人的改动")
    return base


def _data_of(text: str) -> Any:
    try:
        check_document_limits(text, EDITOR_FILE)
        return yaml.safe_load(text)
    except (yaml.YAMLError, FlowLoadError):
        return None


def check_text(text: str) -> dict:
    """The flow text's errors and warnings, each in Chinese with the element it concerns and its file:line."""
    data = _data_of(text)
    flow, errors, warnings = check_flow_text(text)
    if flow is not None:
        warnings = warnings + _automation_issues(text)
    return {"ok": not errors, "issues": [describe_issue(i, data) for i in errors],
            "warnings": [describe_issue(i, data) for i in warnings]}


def _edited_text(base: str, data: Any) -> str:
    if not isinstance(data, dict):
        raise ValidationFailed("流程数据应为对象（包含 key、name、nodes、transitions）")
    if len(json.dumps(data, ensure_ascii=False).encode()) > MAX_DATA_BYTES:
        raise ValidationFailed("流程数据过大")
    if base.strip() and not isinstance(_data_of(base), dict):
        raise ValidationFailed("流程的 YAML 有语法错误，设计器无法打开；请先在 YAML 编辑器中修正")
    return apply_edit(base, data)


def preview_designer_edit(data: Any, *, flow_id: int | None = None, opened: str | None = None) -> dict:
    """The YAML the canvas's data would save, its diff against the stored YAML, and its issues."""
    base = _base_text(flow_id, opened)
    text = _edited_text(base, data)
    return {"source": text, "diff": yaml_diff(base, text, f"{data.get('key') or 'flow'}.yaml"), **check_text(text)}


def save_designer_edit(data: Any, *, by: str, flow_id: int | None = None, opened: str | None = None) -> Flow:
    """Write the canvas's data into the template's YAML and save it (invalid flows save nothing)."""
    base = _base_text(flow_id, opened)
    return save_flow_from_editor(_edited_text(base, data), by=by, flow_id=flow_id)
