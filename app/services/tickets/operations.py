"""Ticket use cases: create, operate a step, operate the ticket, link two tickets.

The only writer of tickets and the only caller of the engine. Each public function is
part of one unit of work that its entry point commits: lock the ticket row alone
(`SELECT ... FOR UPDATE`), read its open steps after the lock is held, check the right,
run the engine, persist what it decided. Web, API, jobs and CLI all come through here.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from sqlalchemy import select

from app import engine
from app.engine import operations as ops
from app.engine.state import SYSTEM
from app.errors import CreateFailed, OperationRefused, TicketNotFound, ValidationFailed
from app.extensions import db
from app.models import Role, Service, Ticket, TicketLink, User
from app.services.fields.values import (sanitize_written_values, store_file_values, suggested_values,
                                        validate_field_values)
from app.services.catalog.browse import submittable_service
from app.services.flows.library import compiled_version, node_by_state_id
from app.services.people.directory import DbDirectory
from app.services.sla.clocks import start_sla
from app.services.tickets.numbers import next_sn
from app.services.tickets.persist import attach_files, joins_json, persist
from app.services.tickets.reading import actor_of, can_view, flow_of, lock_ticket, open_steps, state_of
from app.timeutil import utcnow

SOURCES = ("WEB", "MOBILE", "API", "SYS", "ALERT")


# --- creating ------------------------------------------------------------------

def create_ticket(*, service_id: int, creator: User, fields: Mapping[str, Any] | None = None,
                  values: Mapping[str, Any] | None = None, source: str = "WEB", catalog_id: int | None = None,
                  meta: Mapping[str, Any] | None = None, related_to: int | None = None) -> Ticket:
    """Open a ticket on a service's flow version.

    `fields` are raw client values (validated here); `values` are values an HTML
    form already validated through the same field registry (files still to store).
    `related_to` (关联单) must be a ticket the creator may view.
    """
    if related_to:
        _linkable(related_to, creator)
    service = submittable_service(service_id, CreateFailed) if service_id else None
    if service is None:
        raise CreateFailed("服务不存在，请联系管理员！")
    flow = compiled_version(service.flow_version_id)
    start_fields = flow.start.fields
    if values is None:     # a field left out takes its suggestion (default_from), as the web form shows it
        fields = {**suggested_values(start_fields, creator.username), **(fields or {})}
        values = _validated(flow, start_fields, fields, {}, creator, CreateFailed, "单据创建失败")
    values = store_file_values(start_fields, dict(values), creator.username)
    meta = {k: v for k, v in (meta or {}).items() if k not in ("joins", "node_processors")}   # kept by the engine
    if "dynamic_fields" in meta:
        meta["dynamic_fields"] = _dynamic_fields(meta["dynamic_fields"], {f.key for f in flow.fields()})
    if "tag" in meta and not (isinstance(meta["tag"], str) and len(meta["tag"]) <= 64):
        raise CreateFailed("tag 应为不超过 64 个字符的字符串")
    assigned = _assigned_processors(flow, meta.get("state_processors"))
    _iam_nodes_assigned(flow, assigned)
    if assigned:
        meta["node_processors"] = {k: list(v) for k, v in assigned.items()}
    outcome = engine.start_ticket(flow, creator.username, values, DbDirectory(), assigned=assigned)
    if outcome.state.joins:
        meta["joins"] = joins_json(outcome.state)
    now = utcnow()
    sla = start_sla(service.key, flow, outcome.state.values, creator.username, outcome, now)
    ticket = Ticket(sn=next_sn(service.service_type), title=_title(values, service), service_id=service.id,
                    catalog_id=catalog_id, service_type=service.service_type, flow_version_id=service.flow_version_id,
                    creator=creator.username, status=outcome.state.status, values=dict(outcome.state.values),
                    source=source if source in SOURCES else "WEB", meta=meta, created_at=now,
                    bk_biz_id=_biz_id(values),
                    updated_at=now, updated_by=creator.username, **sla)
    db.session.add(ticket)
    db.session.flush()
    persist(ticket, flow, [], outcome, source=ticket.source, now=now, new=True)
    attach_files(ticket, start_fields, values)
    if related_to:
        link_tickets(related_to, ticket.id, creator)
    return ticket


def _assigned_processors(flow, given: Any) -> dict[str, tuple[str, ...]]:
    """meta.state_processors ({"<state_id>": "u1,u2"}) as {node key: usernames}; refuses unknown nodes and users."""
    if not given:
        return {}
    if not isinstance(given, Mapping):
        raise CreateFailed("meta.state_processors 应为 {\"节点ID\": \"处理人1,处理人2\"}")
    out: dict[str, tuple[str, ...]] = {}
    for sid, people in given.items():
        key = node_by_state_id(flow, int(sid)) if str(sid).strip().isdigit() else None
        if key is None or flow.node(key).kind not in ("manual", "approval"):
            raise CreateFailed(f"meta.state_processors 中的节点 {sid} 不存在或不是人工/审批节点")
        names = [p.strip() for p in (people.split(",") if isinstance(people, str) else people or []) if str(p).strip()]
        if not names:
            raise CreateFailed(f"meta.state_processors 中节点 {sid} 的处理人为空")
        out[key] = tuple(dict.fromkeys(str(n) for n in names))
    wanted = {u for names in out.values() for u in names}
    known = set(db.session.execute(select(User.username).where(User.username.in_(wanted),
                                                                User.is_enabled.is_(True))).scalars())
    unknown = sorted(wanted - known)
    if unknown:
        raise CreateFailed(f"meta.state_processors 中的处理人不存在或已停用：{','.join(unknown)}")
    return out


def _biz_id(values: Mapping[str, Any]) -> int:
    """The ticket's business: its `bk_biz_id` field when the flow has one (as upstream; blueking-dbm sends it), else -1."""
    value = values.get("bk_biz_id")
    try:
        number = int(str(value).strip()) if value not in (None, "") and not isinstance(value, bool) else -1
    except ValueError:
        return -1
    return number if -2**31 <= number < 2**31 else -1


def _dynamic_fields(given: Any, taken: set[str]) -> list[dict]:
    """create_ticket's `dynamic_fields` ([{name, type, value, key?, meta?}], upstream's extra ticket fields) as
    stored: each with a key (given, or `dynamic_<n>`) that no flow field has; values kept as sent."""
    if not isinstance(given, list) or not all(isinstance(f, dict) for f in given):
        raise CreateFailed("dynamic_fields 应为 [{name, type, value}] 列表")
    out = []
    for n, field in enumerate(given, start=1):
        name = field.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 128:
            raise CreateFailed(f"dynamic_fields 第 {n} 项缺少 name（不超过 128 个字符）")
        key = field.get("key") or f"dynamic_{n}"
        if not isinstance(key, str) or len(key) > 64 or key in taken:
            raise CreateFailed(f"dynamic_fields 第 {n} 项的 key {key!r} 不合法或与流程字段重复")
        taken.add(key)
        kind = field.get("type") or "STRING"
        out.append({"key": key, "name": name.strip(), "type": str(kind)[:32], "value": field.get("value", ""),
                    "meta": field.get("meta") if isinstance(field.get("meta"), dict) else {}})
    return out


def _iam_nodes_assigned(flow, assigned: Mapping[str, tuple[str, ...]]) -> None:
    """An IAM node's approvers are the members of a BlueKing IAM role, which only bk-iam knows: it names them
    per ticket (meta.state_processors, keyed by the node's state_id from get_service_roles)."""
    from app.services.flows.library import state_id

    for node in flow.definition.nodes:
        if node.processors is not None and node.processors.type == "IAM" and node.key not in assigned:
            raise CreateFailed(f"节点「{node.name}」的处理人是权限中心角色 {node.processors.value[0]}，"
                               f"请在 meta.state_processors 中为节点 {state_id(flow, node.key)} 指定处理人")


def _title(values: Mapping[str, Any], service: Service) -> str:
    title = values.get("title")
    return str(title)[:120] if title else service.name


def _validated(flow, field_defs, fields: Mapping[str, Any] | None, ticket_values: Mapping[str, Any], user: User,
               error: type, what: str) -> dict:
    """Raw client values checked through the field registry; `error` names the missing keys or the first problem."""
    clean, errors, missing = validate_field_values(flow, field_defs, dict(fields or {}), ticket_values, user)
    if missing:
        raise error(f"{what}，缺少参数：{missing}", errors=errors)
    if errors:
        raise error(_first_error(errors), errors=errors)
    return clean


def _first_error(errors: Mapping[str, list[str]]) -> str:
    return next((msgs[0] for msgs in errors.values() if msgs), "参数验证失败")


# --- operating -----------------------------------------------------------------

def operate_step(ticket_ref: int | str | Ticket, user: User, action: str, node_key: str, *,
                 fields: Mapping[str, Any] | None = None, values: Mapping[str, Any] | None = None,
                 processors_type: str = "", processors: str | list[str] = "", message: str = "",
                 source: str = "WEB") -> Ticket:
    """One step operation: TRANSITION, CLAIM, DISTRIBUTE, DELIVER, TERMINATE, RETRY or SKIP."""
    ticket = lock_ticket(ticket_ref)
    steps = open_steps(ticket)
    flow = flow_of(ticket)
    state = state_of(ticket, steps)
    actor, directory = actor_of(user), DbDirectory(ticket.id)
    people = tuple(p.strip() for p in (processors.split(",") if isinstance(processors, str) else processors) if p.strip())
    action = (action or "").upper()
    builders = {
        "TRANSITION": lambda: ops.Transition(node_key, {}),
        "CLAIM": lambda: ops.Claim(node_key),
        "DISTRIBUTE": lambda: ops.Distribute(node_key, processors_type, people, message),
        "DELIVER": lambda: ops.Deliver(node_key, processors_type, people, message),
        "TERMINATE": lambda: ops.TerminateStep(node_key, message),
        "RETRY": lambda: ops.RetryStep(node_key),
        "SKIP": lambda: ops.SkipStep(node_key, message),
    }
    if action not in builders:
        raise OperationRefused(f"不支持的操作类型: {action}")
    op = builders[action]()
    refusal = engine.refusal(flow, state, op, actor, directory)
    if refusal is not None:
        raise refusal
    if action in ("DISTRIBUTE", "DELIVER"):
        _check_targets(processors_type, people)
    if action == "TRANSITION":
        node_fields = flow.node(node_key).fields
        if values is None:
            values = _validated(flow, node_fields, fields, state.values, user, ValidationFailed, "单据处理失败")
        values = store_file_values(node_fields, dict(values), user.username)
        op = ops.Transition(node_key, values)
        attach_files(ticket, node_fields, values)
    outcome = engine.apply(flow, state, op, actor, directory)
    persist(ticket, flow, steps, outcome, source=source, now=utcnow(), operator=user.username)
    return ticket


def operate_ticket(ticket_ref: int | str | Ticket, user: User, action: str, *, message: str = "",
                   source: str = "WEB") -> Ticket:
    """One ticket operation: SUSPEND, UNSUSPEND, WITHDRAW, SUPERVISE or TERMINATE."""
    builders = {"SUSPEND": ops.Suspend, "UNSUSPEND": ops.Unsuspend, "WITHDRAW": ops.Withdraw,
                "SUPERVISE": ops.Supervise, "TERMINATE": ops.TerminateTicket}
    action = (action or "").upper()
    if action not in builders:
        raise OperationRefused(f"不支持的操作类型: {action}")
    ticket = lock_ticket(ticket_ref)
    steps = open_steps(ticket)
    flow = flow_of(ticket)
    outcome = engine.apply(flow, state_of(ticket, steps), builders[action](message or ""), actor_of(user),
                           DbDirectory(ticket.id))
    persist(ticket, flow, steps, outcome, source=source, now=utcnow(), operator=user.username)
    return ticket


def _check_targets(processors_type: str, people: tuple[str, ...]) -> None:
    """Dispatch/transfer targets must exist: enabled users for PERSON, known roles for GENERAL."""
    if processors_type == "PERSON":
        known = set(db.session.execute(select(User.username).where(
            User.username.in_(people), User.is_enabled.is_(True))).scalars())
        unknown = [p for p in people if p not in known]
        if unknown:
            raise OperationRefused(f"处理人不存在或已停用：{','.join(unknown)}")
    elif processors_type == "GENERAL":
        known = set(db.session.execute(select(Role.key).where(Role.key.in_(people), Role.type == "GENERAL")).scalars())
        unknown = [p for p in people if p not in known]
        if unknown:
            raise OperationRefused(f"角色不存在：{','.join(unknown)}")


def apply_system_operation(ticket_id: int, op) -> Ticket:
    """The scheduler reports an automatic step's outcome (locked like any operation, logged as SYS)."""
    ticket = lock_ticket(ticket_id)
    flow = flow_of(ticket)
    steps = open_steps(ticket)
    if isinstance(op, ops.CompleteAutomatic):      # values from an API response or a plugin: never trusted HTML
        op = replace(op, values=sanitize_written_values(flow, op.values))
    outcome = engine.apply(flow, state_of(ticket, steps), op, engine.Actor(SYSTEM), DbDirectory(ticket.id))
    persist(ticket, flow, steps, outcome, source="SYS", now=utcnow(), operator=SYSTEM)
    return ticket


# --- related tickets -------------------------------------------------------------

LINK_REFUSED = "关联单据不存在或你没有查看它的权限"     # one answer for both: a refusal must not tell what exists


def _linkable(ticket_id: int, user: User) -> Ticket:
    """The ticket to link, if it exists and `user` may view it (its number, title and status show on the link)."""
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None or not can_view(ticket, user):
        raise TicketNotFound(LINK_REFUSED)
    return ticket


def link_tickets(from_id: int, to_id: int, user: User) -> TicketLink:
    """关联单: link two tickets (shown on both); refuses self-links and tickets `user` may not view."""
    if from_id == to_id:
        raise OperationRefused("不能关联单据自身")
    for tid in (from_id, to_id):
        _linkable(tid, user)
    existing = db.session.execute(select(TicketLink).where(
        ((TicketLink.from_ticket_id == from_id) & (TicketLink.to_ticket_id == to_id))
        | ((TicketLink.from_ticket_id == to_id) & (TicketLink.to_ticket_id == from_id)))).scalar_one_or_none()
    if existing:
        return existing
    link = TicketLink(from_ticket_id=from_id, to_ticket_id=to_id, created_by=user.username)
    db.session.add(link)
    db.session.flush()
    return link


