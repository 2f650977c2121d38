"""Services from BlueKing service exports: the API's `import_service` / `update_service` as callers send them.

The body is upstream's service export (`{key: <service type>, name, desc, workflow: {...}, catalog_id, ...}`,
e.g. blueking-dbm's `itsm_dbm.json`, blueking-paas's `plugins_create_approval.json`). The workflow is
translated (app.flowdef.bk_export), saved as a template, deployed, and the service points at the new
version. A name another service has answers 3900035 (ServiceExists), as upstream does.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app.errors import NotFound, ServiceExists, ValidationFailed
from app.extensions import db
from app.models import Catalog, CatalogService, FlowVersion, Service
from app.services.flows.bk_exchange import save_translation, translate
from app.services.flows.library import deploy_flow

NAME_MAX = 128


@dataclass
class BkService:
    service: Service
    notes: list[str] = field(default_factory=list)


def _flow_key_for(name: str) -> str:
    """A stable flow/service key for an imported service (service names are unique, so keys are too)."""
    return "bk_svc_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:12]


def import_bk_service(body: dict, *, service_id: int | None = None, by: str) -> BkService:
    """Create (or, with `service_id`, replace the flow of) a service from a BlueKing service export."""
    if not isinstance(body, dict):
        raise ValidationFailed("服务导出应为 JSON 对象 {key, name, workflow, ...}")
    name = str(body.get("name") or "").strip()
    if not name:
        raise ValidationFailed("名称不能为空：缺少参数 name")
    if len(name) > NAME_MAX:
        raise ValidationFailed(f"服务名称不超过 {NAME_MAX} 个字符")
    if body.get("workflow") in (None, "", [], {}):
        raise ValidationFailed("缺少参数 workflow（蓝鲸流程导出）")
    row = None
    if service_id is not None:
        row = db.session.get(Service, service_id)
        if row is None:
            raise NotFound(f"服务 {service_id} 不存在")
    clash = db.session.execute(select(Service.id).where(Service.name == name)).scalars().first()
    if clash is not None and (row is None or clash != row.id):
        raise ServiceExists(("更新" if row else "导入") + "失败，服务名称已经存在")
    catalog_id = body.get("catalog_id")
    catalog = None
    if catalog_id not in (None, ""):
        try:
            catalog = db.session.get(Catalog, int(catalog_id))
        except (TypeError, ValueError):
            raise ValidationFailed(f"catalog_id 应为整数，收到 {catalog_id!r}") from None
        if catalog is None:
            raise ValidationFailed("导入失败，对应的服务目录不存在")
    key = _current_flow_key(row) if row is not None else _flow_key_for(name)
    service_data = {k: v for k, v in body.items() if k != "workflow"}
    [(translation, compiled)] = translate({**service_data, "workflow": body["workflow"]}, filename=f"{name}.json",
                                          key=key)
    flow = save_translation(compiled, by=by, status="ENABLED", filename=f"{name}.json")
    version = deploy_flow(flow.key, by=by)
    if row is None:
        row = Service(key=_free_service_key(key), name=name, service_type=version.service_type)
        db.session.add(row)
    row.name, row.desc = name, str(body.get("desc") or "")
    row.service_type, row.flow_version_id, row.updated_by = version.service_type, version.id, by
    if "is_valid" in body:
        row.is_valid = str(body["is_valid"]).lower() not in ("false", "0", "")
    owners = body.get("owners")
    if isinstance(owners, str) and owners.strip():
        row.owners = owners.strip(",")[:255]
    db.session.flush()
    if catalog is not None:                                   # upstream's bind_catalog: one catalog per service
        for link in list(row.links):
            if link.catalog_id != catalog.id:
                db.session.delete(link)
        if not any(link.catalog_id == catalog.id for link in row.links):
            db.session.add(CatalogService(catalog_id=catalog.id, service_id=row.id))
    db.session.flush()
    return BkService(row, list(translation.notes))


def _current_flow_key(service: Service) -> str:
    version = db.session.get(FlowVersion, service.flow_version_id) if service.flow_version_id else None
    return version.flow_key if version is not None else _flow_key_for(service.name)


def _free_service_key(key: str) -> str:
    taken = set(db.session.execute(select(Service.key).where(Service.key.like(f"{key}%"))).scalars())
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key}_{n}"
    return candidate


def looks_like_bk_service(workflow: Any) -> bool:
    """Whether an import_service `workflow` parameter is a BlueKing workflow export (not our flow language)."""
    from app.flowdef.bk_export import is_bk_export

    if isinstance(workflow, list) and workflow:
        workflow = workflow[0]
    return isinstance(workflow, dict) and is_bk_export(workflow)
