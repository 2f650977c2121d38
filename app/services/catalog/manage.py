"""Back-office use cases for services and the catalog tree: guards, membership, ordering."""
from __future__ import annotations

from sqlalchemy import func, select

from app.errors import NotFound, OperationRefused, ValidationFailed
from app.extensions import db
from app.infra.trees import depth_first
from app.models import Catalog, CatalogService, Service, Ticket
from app.services.system import audit as admin_audit


def check_service_deletable(service: Service) -> None:
    """A service that belongs to a catalog cannot be deleted (the manual: remove it from the catalogs first)."""
    names = [link.catalog.name for link in service.links]
    if names:
        raise OperationRefused(f"服务「{service.name}」属于服务目录：{'、'.join(names)}；请先从这些目录中移除该服务，再删除")
    tickets = db.session.execute(select(func.count(Ticket.id)).where(Ticket.service_id == service.id)).scalar()
    if tickets:
        raise OperationRefused(f"服务「{service.name}」已有 {tickets} 张单据，不能删除；可以停用该服务")


def check_catalog_deletable(catalog: Catalog) -> None:
    """A catalog with child catalogs cannot be deleted."""
    names = [c.name for c in catalog.children]
    if names:
        raise OperationRefused(f"服务目录「{catalog.name}」下还有子目录：{'、'.join(names)}；请先删除子目录")
    tickets = db.session.execute(select(func.count(Ticket.id)).where(Ticket.catalog_id == catalog.id)).scalar()
    if tickets:
        raise OperationRefused(f"服务目录「{catalog.name}」已有 {tickets} 张单据从这里提交，不能删除")


def check_catalog_parent(catalog: Catalog, parent: Catalog | None) -> None:
    """A catalog cannot be its own ancestor."""
    node = parent
    while node is not None:
        if node.id is not None and node.id == catalog.id:
            raise ValidationFailed("上级目录不能是该目录自己或它的下级目录")
        node = node.parent


def fix_catalog_levels(catalog: Catalog) -> None:
    """Recompute `level` of a catalog and its descendants after its parent changed."""
    catalog.level = (catalog.parent.level + 1) if catalog.parent is not None else 0
    for child in catalog.children:
        fix_catalog_levels(child)


def _catalog(catalog_id: int) -> Catalog:
    row = db.session.get(Catalog, int(catalog_id))
    if row is None:
        raise NotFound("服务目录不存在")
    return row


def add_services_to_catalog(catalog_id: int, service_ids: list[int], *, by: str) -> list[str]:
    """Put services at the end of a catalog (idempotent); returns the names added."""
    catalog = _catalog(catalog_id)
    have = {link.service_id for link in catalog.links}
    order = (db.session.execute(select(func.max(CatalogService.order))
                                .where(CatalogService.catalog_id == catalog.id)).scalar() or 0)
    added = []
    for sid in map(int, service_ids):
        service = db.session.get(Service, sid)
        if service is None:
            raise NotFound(f"服务 {sid} 不存在")
        if sid in have:
            continue
        order += 1
        db.session.add(CatalogService(catalog_id=catalog.id, service_id=sid, order=order))
        added.append(service.name)
    db.session.flush()
    if added:
        admin_audit.record(by, "add_services", "Catalog", catalog.id, after={"services": added},
                           summary=f"{catalog.name}：添加服务 {'、'.join(added)}")
    return added


def remove_service_from_catalog(catalog_id: int, service_id: int, *, by: str) -> None:
    """Take a service out of one catalog; the service itself and its other catalogs are untouched."""
    catalog = _catalog(catalog_id)
    link = db.session.get(CatalogService, (catalog.id, int(service_id)))
    if link is None:
        raise NotFound("该服务不在此目录中")
    name = link.service.name
    db.session.delete(link)
    db.session.flush()
    admin_audit.record(by, "remove_service", "Catalog", catalog.id, before={"service": name},
                       summary=f"{catalog.name}：移除服务 {name}")


def move_service_in_catalog(catalog_id: int, service_id: int, step: int, *, by: str) -> None:
    """Move a service up (step=-1) or down (step=+1) within a catalog's order."""
    catalog = _catalog(catalog_id)
    links = list(catalog.links)
    index = next((i for i, link in enumerate(links) if link.service_id == int(service_id)), None)
    if index is None:
        raise NotFound("该服务不在此目录中")
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(links):
        links[index], links[target] = links[target], links[index]
    for order, link in enumerate(links, start=1):
        link.order = order
    db.session.flush()
    admin_audit.record(by, "reorder_services", "Catalog", catalog.id,
                       after={"services": [link.service.name for link in links]})


def move_catalog(catalog_id: int, step: int, *, by: str) -> None:
    """Move a catalog up or down among its siblings."""
    catalog = _catalog(catalog_id)
    siblings = list(db.session.execute(
        select(Catalog).where(Catalog.parent_id.is_(None) if catalog.parent_id is None
                              else Catalog.parent_id == catalog.parent_id)
        .order_by(Catalog.order, Catalog.id)).scalars())
    index = siblings.index(catalog)
    target = index + (1 if step > 0 else -1)
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]
    for order, row in enumerate(siblings):
        row.order = order
    db.session.flush()
    admin_audit.record(by, "reorder", "Catalog", catalog.id, after={"siblings": [c.name for c in siblings]})


def catalog_rows() -> list[tuple[Catalog, int]]:
    """Every catalog depth first in display order, with its depth (for the tree list)."""
    return depth_first(db.session.execute(select(Catalog).order_by(Catalog.order, Catalog.id)).scalars())


def services_not_in(catalog_id: int) -> list[Service]:
    inside = select(CatalogService.service_id).where(CatalogService.catalog_id == int(catalog_id))
    return list(db.session.execute(select(Service).where(Service.id.not_in(inside)).order_by(Service.name)).scalars())


def set_service_catalogs(service: Service, catalog_ids: list[int]) -> None:
    """Make the service belong to exactly these catalogs (new ones at the end of each catalog)."""
    wanted = {int(i) for i in catalog_ids}
    for link in list(service.links):
        if link.catalog_id not in wanted:
            service.links.remove(link)
    have = {link.catalog_id for link in service.links}
    for cid in sorted(wanted - have):
        if db.session.get(Catalog, cid) is None:
            raise NotFound(f"服务目录 {cid} 不存在")
        order = (db.session.execute(select(func.max(CatalogService.order))
                                    .where(CatalogService.catalog_id == cid)).scalar() or 0) + 1
        service.links.append(CatalogService(catalog_id=cid, order=order))


def catalog_choices() -> list[tuple[str, str]]:
    """(id, indented name) of every catalog in tree order, for pickers."""
    return [(str(c.id), "\u3000" * depth + c.name) for c, depth in catalog_rows()]
