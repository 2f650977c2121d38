"""The service catalog as requesters see it: catalogs, services, the submit form's fields."""
from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, literal, or_, select

from app.errors import OperationRefused, ServiceNotFound
from app.extensions import db
from app.flowdef import CompiledFlow
from app.models import Catalog, CatalogService, Flow, FlowVersion, Role, RoleMember, Service
from app.services.flows.library import compiled_version, deploy_flow, save_flow_source

SERVICE_TYPE_NAMES = {"request": "请求", "change": "变更", "event": "事件", "question": "问题"}
SERVICE_TYPE_EN = {"request": "Request", "change": "Change", "event": "Incident", "question": "Problem"}


def catalog_tree(*, with_services_only: bool = False, service_key: str = "") -> list[dict]:
    """Every catalog as nested dicts `{id,key,name,level,desc,children}`.

    `with_services_only` / `service_key` keep only the catalogs holding an enabled service (with that
    key or service type) and their ancestors (get_service_catalogs' has_service and service_key).
    """
    if with_services_only or service_key:
        stmt = select(CatalogService.catalog_id).join(Service).where(Service.is_valid.is_(True))
        if service_key:
            stmt = stmt.where((Service.key == service_key) | (Service.service_type == service_key))
        return _prune(catalog_tree(), set(db.session.execute(stmt).scalars()))
    rows = list(db.session.execute(select(Catalog).order_by(Catalog.level, Catalog.order, Catalog.id)).scalars())
    nodes = {c.id: {"id": c.id, "key": c.key, "name": c.name, "level": c.level, "desc": c.desc, "children": []}
             for c in rows}
    roots = []
    for c in rows:
        (nodes[c.parent_id]["children"] if c.parent_id in nodes else roots).append(nodes[c.id])
    return roots


def _prune(nodes: list[dict], keep: set[int]) -> list[dict]:
    out = []
    for node in nodes:
        children = _prune(node["children"], keep)
        if node["id"] in keep or children:
            out.append({**node, "children": children})
    return out


def get_service(service_id: int) -> Service:
    """A service bound to a flow version (ServiceNotFound otherwise)."""
    service = db.session.get(Service, service_id)
    if service is None or service.flow_version_id is None:
        raise ServiceNotFound()
    return service


def builtin_approval_service() -> Service:
    """内置审批服务 (created by `itsm init`): the service `create_ticket` with fast_approval uses."""
    service = db.session.execute(select(Service).where(Service.key == "builtin_approval")).scalar_one_or_none()
    if service is None or service.flow_version_id is None or not service.is_valid:
        raise ServiceNotFound("内置审批服务不存在，请先运行 itsm init")
    return service


DISPLAY_TYPES = {"OPEN": "不限", "API": "第三方系统", "INVISIBLE": "不可见", "GENERAL": "通用角色表",
                 "ORGANIZATION": "组织架构", "PERSON": "个人", "CMDB": "CMDB业务公用角色"}     # upstream's 可见范围


def display_roles(text: str | None) -> str:
    """display_role as stored: names separated by single commas, no blanks (upstream keeps ",A,B,")."""
    return ",".join(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))


def _named_in_display_role(names) -> Any:
    listed = literal(",") + Service.display_role + literal(",")
    return or_(false(), *(listed.contains(f",{n},", autoescape=True) for n in names if n))


def shown_in_front_office(user) -> Any:
    """Which services a user sees when submitting (upstream's 可见范围): OPEN to everyone; GENERAL/CMDB to
    members of a listed role, PERSON to a listed user, ORGANIZATION to a listed department; INVISIBLE and
    API (services other systems create tickets on) to nobody in the front office."""
    role_keys = db.session.execute(
        select(Role.key).join(RoleMember, RoleMember.role_id == Role.id).where(RoleMember.username == user.username)
    ).scalars().all()
    return or_(Service.display_type.in_(("OPEN", "")), Service.display_type.is_(None),
               and_(Service.display_type.in_(("GENERAL", "CMDB")), _named_in_display_role(role_keys)),
               and_(Service.display_type == "PERSON", _named_in_display_role([user.username])),
               and_(Service.display_type == "ORGANIZATION", _named_in_display_role([user.department])))


def submittable_services(*, catalog_id: int | None = None, service_type: str | None = None,
                         display_type: str | None = None, display_role: str | None = None,
                         shown_to=None) -> list[Service]:
    """Enabled services bound to a version, optionally within one catalog (in its order) or one type;
    `display_type` / `display_role` keep the services shown that way / to that role (get_services);
    `shown_to` (a user) keeps those the front office shows them."""
    stmt = select(Service).where(Service.is_valid.is_(True), Service.flow_version_id.is_not(None))
    if shown_to is not None:
        stmt = stmt.where(shown_in_front_office(shown_to))
    if display_type:
        stmt = stmt.where(Service.display_type == display_type)
    if display_role:
        wanted = f",{display_role.strip()},"
        stmt = stmt.where((literal(",") + Service.display_role + literal(",")).contains(wanted, autoescape=True))
    if catalog_id is not None:
        stmt = stmt.join(CatalogService).where(CatalogService.catalog_id == catalog_id) \
            .order_by(CatalogService.order, Service.id)
    else:
        stmt = stmt.order_by(Service.service_type, Service.id)
    if service_type:
        stmt = stmt.where(Service.service_type == service_type)
    return list(db.session.execute(stmt).scalars())


def submittable_service(service_id: int, refusal=OperationRefused) -> Service | None:
    """The enabled service bound to a version, or None; `refusal` if its flow template is closed (关闭).

    One statement: the service with its template's status (a version whose template was deleted stays usable).
    """
    row = db.session.execute(
        select(Service, Flow.name, Flow.status)
        .outerjoin(FlowVersion, FlowVersion.id == Service.flow_version_id)
        .outerjoin(Flow, Flow.id == FlowVersion.flow_id)
        .where(Service.id == service_id)).first()
    if row is None:
        return None
    service, flow_name, flow_status = row
    if not service.is_valid or service.flow_version_id is None:
        return None
    if flow_status == "CLOSED":
        raise refusal(f"服务「{service.name}」使用的流程「{flow_name}」已被管理员关闭，暂时不能提单；"
                      "请联系管理员在流程设计中启用该流程")
    return service


def service_for_submit(service_id: int, user=None) -> tuple[Service, CompiledFlow]:
    """The service a user submits from the front office: enabled, bound, its flow open, shown to them."""
    service = submittable_service(service_id)
    if service is None:
        raise ServiceNotFound()
    if user is not None and not db.session.execute(
            select(Service.id).where(Service.id == service.id, shown_in_front_office(user))).first():
        raise ServiceNotFound(f"服务「{service.name}」不在您可提单的范围内")
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
                   owners: str = "", catalogs: list[Catalog] = (), display_type: str = "OPEN",
                   display_role: str = "") -> Service:
    row = db.session.execute(select(Service).where(Service.key == key)).scalar_one_or_none()
    if row is None:
        row = Service(key=key, name=name, desc=desc, service_type=service_type, owners=owners,
                      display_type=display_type, display_role=display_roles(display_role))
        db.session.add(row)
    row.flow_version_id = row.flow_version_id or flow_version_id
    db.session.flush()
    have = {link.catalog_id for link in row.links}
    for order, catalog in enumerate(catalogs):
        if catalog.id not in have:
            db.session.add(CatalogService(catalog_id=catalog.id, service_id=row.id, order=order))
    db.session.flush()
    return row


ROOT_CATALOG = "root"


def ensure_root_catalog() -> Catalog:
    """The root catalog (key `root`, level 0) upstream always has: callers look it up by key and level
    (blueking-paas) or take the first catalog's children (blueking-dbm)."""
    return ensure_catalog(ROOT_CATALOG, "根目录")


def create_catalog(name: str, *, parent_id: int | None, desc: str = "", by: str = "system") -> Catalog:
    """A new catalog under `parent_id` (None: a root); its key is generated from the id."""
    from app.errors import NotFound, ValidationFailed

    name = (name or "").strip()
    if not name or len(name) > 128:
        raise ValidationFailed("目录名称不能为空，且不超过 128 个字符")
    parent = db.session.get(Catalog, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise NotFound(f"父级目录 {parent_id} 不存在")
    siblings = db.session.execute(select(Catalog.name).where(Catalog.parent_id == (parent.id if parent else None))).scalars()
    if name in set(siblings):
        raise ValidationFailed(f"同级目录下已存在名为 {name} 的目录")
    import uuid

    row = Catalog(key=f"c_{uuid.uuid4().hex[:12]}", name=name, desc=desc or "",
                  parent_id=parent.id if parent else None, level=(parent.level + 1) if parent else 0)
    db.session.add(row)
    db.session.flush()
    return row


def publish_service(*, key: str, name: str, flow_text: str | dict, desc: str = "", owners: str = "",
                    catalog_id: int | None = None, is_valid: bool = True, service_id: int | None = None,
                    by: str = "system") -> Service:
    """Create (or update `service_id`) a service from a flow definition: save the template, deploy, bind.

    `flow_text` is a flow in the flow language (YAML text, or the same structure as a dict).
    """
    import json

    from app.errors import NotFound, ValidationFailed

    if isinstance(flow_text, dict):
        flow_text = json.dumps(flow_text, ensure_ascii=False, indent=2)
    if not flow_text:
        raise ValidationFailed("缺少流程定义 workflow")
    row = db.session.get(Service, service_id) if service_id else None
    if service_id and row is None:
        raise NotFound(f"服务 {service_id} 不存在")
    key = (key or (row.key if row else "")).strip()
    if not key:
        raise ValidationFailed("缺少服务标识 key")
    clash = db.session.execute(select(Service).where(Service.key == key)).scalar_one_or_none()
    if clash is not None and clash is not row:
        raise ValidationFailed(f"服务标识 {key} 已被占用")
    flow = save_flow_source(flow_text, by=by, filename=f"{key}.json")
    version = deploy_flow(flow.key, by=by)
    if row is None:
        row = Service(key=key, name=name or flow.name, service_type=flow.service_type)
        db.session.add(row)
    row.name, row.desc, row.owners, row.is_valid = name or row.name, desc or row.desc, owners or row.owners, is_valid
    row.service_type, row.flow_version_id, row.updated_by = version.service_type, version.id, by
    db.session.flush()
    if catalog_id:
        if db.session.get(Catalog, catalog_id) is None:
            raise NotFound(f"服务目录 {catalog_id} 不存在")
        if not any(link.catalog_id == catalog_id for link in row.links):
            db.session.add(CatalogService(catalog_id=catalog_id, service_id=row.id))
    db.session.flush()
    return row
