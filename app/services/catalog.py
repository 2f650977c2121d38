"""The service catalog as requesters see it: catalogs, services, the submit form's fields."""
from __future__ import annotations

from sqlalchemy import select

from app.errors import ServiceNotFound
from app.extensions import db
from app.flowdef import CompiledFlow
from app.models import Catalog, CatalogService, Service

from .flows import compiled_version

SERVICE_TYPE_NAMES = {"request": "请求", "change": "变更", "event": "事件", "question": "问题"}
SERVICE_TYPE_EN = {"request": "Request", "change": "Change", "event": "Incident", "question": "Problem"}


def catalog_tree() -> list[dict]:
    """Every catalog as nested dicts `{id,key,name,level,desc,children}` (one query)."""
    rows = list(db.session.execute(select(Catalog).order_by(Catalog.level, Catalog.order, Catalog.id)).scalars())
    nodes = {c.id: {"id": c.id, "key": c.key, "name": c.name, "level": c.level, "desc": c.desc, "children": []}
             for c in rows}
    roots = []
    for c in rows:
        (nodes[c.parent_id]["children"] if c.parent_id in nodes else roots).append(nodes[c.id])
    return roots


def submittable_services(*, catalog_id: int | None = None, service_type: str | None = None) -> list[Service]:
    """Enabled services bound to a version, optionally within one catalog (in its order) or one type."""
    stmt = select(Service).where(Service.is_valid.is_(True), Service.flow_version_id.is_not(None))
    if catalog_id is not None:
        stmt = stmt.join(CatalogService).where(CatalogService.catalog_id == catalog_id) \
            .order_by(CatalogService.order, Service.id)
    else:
        stmt = stmt.order_by(Service.service_type, Service.id)
    if service_type:
        stmt = stmt.where(Service.service_type == service_type)
    return list(db.session.execute(stmt).scalars())


def catalogs_of(service: Service) -> list[Catalog]:
    return [link.catalog for link in service.links]


def service_for_submit(service_id: int) -> tuple[Service, CompiledFlow]:
    service = db.session.get(Service, service_id)
    if service is None or not service.is_valid or service.flow_version_id is None:
        raise ServiceNotFound()
    return service, compiled_version(service.flow_version_id)


def ensure_catalog(key: str, name: str, *, parent: Catalog | None = None, desc: str = "", order: int = 0) -> Catalog:
    row = db.session.execute(select(Catalog).where(Catalog.key == key)).scalar_one_or_none()
    if row is None:
        row = Catalog(key=key, name=name, desc=desc, parent_id=parent.id if parent else None,
                      level=(parent.level + 1) if parent else 0, order=order)
        db.session.add(row)
        db.session.flush()
    return row


def ensure_service(key: str, name: str, *, service_type: str, flow_version_id: int | None, desc: str = "",
                   owners: str = "", catalogs: list[Catalog] = ()) -> Service:
    row = db.session.execute(select(Service).where(Service.key == key)).scalar_one_or_none()
    if row is None:
        row = Service(key=key, name=name, desc=desc, service_type=service_type, owners=owners)
        db.session.add(row)
    row.flow_version_id = row.flow_version_id or flow_version_id
    db.session.flush()
    have = {link.catalog_id for link in row.links}
    for order, catalog in enumerate(catalogs):
        if catalog.id not in have:
            db.session.add(CatalogService(catalog_id=catalog.id, service_id=row.id, order=order))
    db.session.flush()
    return row
