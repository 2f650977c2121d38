"""Audit records for back-office changes: who, when, what (model + id), before/after with secrets masked."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect

from app.extensions import db
from app.models import AuditLog

MASK = "******"

ACTION_NAMES = {
    "create": "新增", "update": "修改", "delete": "删除", "import": "导入", "load": "从文件加载", "sync": "同步",
    "deploy": "部署", "restore": "还原", "retry": "重试", "reorder": "调整顺序", "reorder_services": "调整服务顺序",
    "add_services": "添加服务", "remove_service": "移出服务", "rotate": "更换密钥", "status": "修改状态",
}
OBJECT_NAMES = {
    "Service": "服务", "Catalog": "服务目录", "Flow": "流程", "FlowVersion": "流程版本", "ApiSystem": "接入系统",
    "ApiDef": "API", "Role": "角色", "User": "用户", "Dictionary": "数据字典", "ApiApp": "API 应用",
    "Setting": "基础配置", "Notification": "通知", "CMDB": "CMDB", "sla_file": "服务级别文件",
    "AlertReceiver": "告警接收器", "AlertPayload": "告警报文", "alert_rules": "告警规则文件", "AlertRule": "告警规则",
}


def action_name(action: str) -> str:
    """An audit action in words (修改, 部署, …); an unknown one as recorded."""
    return ACTION_NAMES.get(action, action)


def object_name(model: str) -> str:
    """An audited object type in words (流程版本, 角色, …); an unknown one as recorded."""
    return OBJECT_NAMES.get(model, model)
SECRET_KEY_PATTERN = re.compile(r"(secret|password|token|auth|api[_-]?key|cookie|credential)", re.I)


def mask_secrets(value: Any, *, under_secret: bool = False) -> Any:
    """A copy of `value` where every value under a secret-looking key is replaced by the mask."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, under_secret=under_secret or bool(SECRET_KEY_PATTERN.search(str(k))))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v, under_secret=under_secret) for v in value]
    if under_secret and value not in (None, "", {}, []):
        return MASK
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else value.isoformat()
    return value


def snapshot(obj: Any, extra: dict | None = None) -> dict:
    """The row's column values as JSON-ready data (plus `extra`, e.g. role members), secrets masked."""
    data = {attr.key: _plain(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs}
    data.update(extra or {})
    return mask_secrets(data)


def record(actor: str, action: str, model: str, object_id: Any = "", *, before: dict | None = None,
           after: dict | None = None, summary: str = "") -> AuditLog:
    """Add one audit row in the current transaction (the caller commits)."""
    row = AuditLog(actor=actor, action=action, model=model, object_id=str(object_id if object_id is not None else ""),
                   before=mask_secrets(before) if before is not None else None,
                   after=mask_secrets(after) if after is not None else None, summary=summary)
    db.session.add(row)
    return row
