"""Back-office use cases for data dictionaries: the items tree for the audit log, guards on references."""
from __future__ import annotations

import yaml
from sqlalchemy import select

from app.errors import OperationRefused, ValidationFailed
from app.extensions import db
from app.flowdef.model import SERVICE_TYPES
from app.models import Dictionary, DictionaryItem, Flow, Service
from app.models.ticket import SN_PREFIX
from app.services.catalog.browse import SERVICE_TYPE_NAMES

PROTECTED = {"SERVICE_TYPE"}      # services' types come from it


def items_tree(dictionary: Dictionary) -> list[dict]:
    """The items as nested `{key, name, children}` dicts, in their order."""
    children: dict[int | None, list[DictionaryItem]] = {}
    for item in sorted(dictionary.items, key=lambda i: (i.order, i.id or 0)):
        children.setdefault(item.parent_id, []).append(item)

    def build(parent_id):
        out = []
        for item in children.get(parent_id, []):
            node = {"key": item.key, "name": item.name}
            if not item.is_enabled:
                node["enabled"] = False
            sub = build(item.id)
            if sub:
                node["children"] = sub
            out.append(node)
        return out

    return build(None)


def check_key_unique(dictionary: Dictionary) -> None:
    with db.session.no_autoflush:
        rows = db.session.execute(select(Dictionary).where(Dictionary.key == dictionary.key)).scalars()
        clash = any(r is not dictionary for r in rows)
    if clash:
        raise ValidationFailed(f"字典编码 {dictionary.key!r} 已存在")


def flows_referencing(key: str) -> list[str]:
    """Names of flow templates whose fields take choices from dictionary `key`."""
    names = []
    for flow in db.session.execute(select(Flow).order_by(Flow.name)).scalars():
        try:
            data = yaml.safe_load(flow.source)
        except yaml.YAMLError:
            continue
        if _mentions(data, key):
            names.append(flow.name)
    return names


def _mentions(data, key: str) -> bool:
    if isinstance(data, dict):
        if isinstance(data.get("source"), dict) and data["source"].get("dictionary") == key:
            return True
        return any(_mentions(v, key) for v in data.values())
    if isinstance(data, list):
        return any(_mentions(v, key) for v in data)
    return False


def check_dictionary_change(dictionary: Dictionary, *, old_key: str | None, deleting: bool = False) -> None:
    """A dictionary referenced by flows (or SERVICE_TYPE) cannot be deleted, renamed or disabled."""
    key = old_key or dictionary.key
    if not deleting and key == dictionary.key and dictionary.is_enabled:
        return
    if key in PROTECTED:
        raise OperationRefused(f"数据字典 {key} 是服务类型的来源，不能删除、改编码或停用")
    users = flows_referencing(key)
    if users:
        raise OperationRefused(f"数据字典 {key} 正被流程引用：{'、'.join(users)}；不能删除、改编码或停用")


def service_type_choices() -> list[tuple[str, str]]:
    """Service types from the SERVICE_TYPE dictionary, limited to the four the ticket numbers know."""
    rows = db.session.execute(
        select(DictionaryItem.key, DictionaryItem.name).join(Dictionary)
        .where(Dictionary.key == "SERVICE_TYPE", Dictionary.is_enabled.is_(True))
        .order_by(DictionaryItem.order)).all()
    names = {k: n for k, n in rows if k in SN_PREFIX}
    if not names:

        names = dict(SERVICE_TYPE_NAMES)
    return [(k, names[k]) for k in SERVICE_TYPES if k in names]


def check_service(service: Service) -> None:
    """The service type comes from the dictionary; the bound version must be of the same type."""
    allowed = dict(service_type_choices())
    if service.service_type not in allowed:
        raise ValidationFailed(f"服务类型 {service.service_type!r} 不在数据字典 SERVICE_TYPE 中")
    version = service.flow_version
    if version is not None and version.service_type != service.service_type:
        raise ValidationFailed(f"所关联的流程版本「{version.label}」是{allowed.get(version.service_type, version.service_type)}"
                               f"流程，与服务类型「{allowed[service.service_type]}」不一致")
