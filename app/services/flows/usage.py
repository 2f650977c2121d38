"""What the flows in use depend on: roles and APIs that must not disappear under a running ticket.

A flow version is *in use* when a service is bound to it or a ticket on it has an open step. Deleting
(or re-keying) a general role or an API such a version names is refused with the list of users, and
open steps whose processors resolve to nobody are listed for the back office's overview.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Text, cast, or_, select

from app.errors import OperationRefused
from app.extensions import db
from app.flowdef import CompiledFlow
from app.models import FlowVersion, Service, Ticket, TicketStep

from .library import compiled_version

_SHOWN = 10          # how many users a refusal names before "等 N 处"


def versions_in_use() -> list[FlowVersion]:
    """Versions bound to a service or with an open step on one of their tickets."""
    bound = select(Service.flow_version_id).where(Service.flow_version_id.is_not(None))
    running = (select(Ticket.flow_version_id).join(TicketStep, TicketStep.ticket_id == Ticket.id)
               .where(TicketStep.is_open.is_(True)))
    return list(db.session.execute(
        select(FlowVersion).where(or_(FlowVersion.id.in_(bound), FlowVersion.id.in_(running)))
        .order_by(FlowVersion.flow_key, FlowVersion.version_number)).scalars())


def _role_uses(flow: CompiledFlow, key: str) -> list[str]:
    def names(spec) -> bool:
        return spec is not None and spec.type == "GENERAL" and key in spec.value

    where = [f"节点「{n.name}」" for n in flow.definition.nodes if names(n.processors) or names(n.assignors)]
    if any(names(s) for s in flow.definition.notify.supervisors):
        where.append("督办人")
    return where


def _api_uses(flow: CompiledFlow, key: str) -> list[str]:
    where = [f"节点「{n.name}」" for n in flow.definition.nodes if n.api == key]
    where += [f"字段「{f.name}」" for f in flow.fields() if f.source is not None and f.source.api == key]
    return where


def _condition_names(condition, fields: set[str], item: str) -> bool:
    """Whether a condition compares one of `fields` with the dictionary item `item`."""
    if condition is None:
        return False
    for attr in ("all", "any"):
        if hasattr(condition, attr):
            return any(_condition_names(c, fields, item) for c in getattr(condition, attr))
    if hasattr(condition, "not_"):
        return _condition_names(condition.not_, fields, item)
    value = condition.value
    return condition.field in fields and (value == item or (isinstance(value, (list, tuple)) and item in value))


def _dictionary_item_uses(flow: CompiledFlow, key: tuple[str, str]) -> list[str]:
    dictionary, item = key
    fields = [f for f in flow.fields() if f.source is not None and f.source.dictionary == dictionary]
    keys = {f.key for f in fields}
    where = [f"字段「{f.name}」的默认值" for f in fields
             if f.default == item or (isinstance(f.default, (list, tuple)) and item in f.default)]
    where += [f"字段「{f.name}」的隐藏条件" for f in flow.fields() if _condition_names(f.hide_when, keys, item)]
    names = {n.key: n.name for n in flow.definition.nodes}
    where += [f"连线「{names.get(t.from_, t.from_)} → {names.get(t.to, t.to)}」的条件"
              for t in flow.definition.transitions if _condition_names(t.when, keys, item)]
    return where


def _uses(finder, key: str) -> list[str]:
    found = []
    for version in versions_in_use():
        for place in finder(compiled_version(version), key):
            found.append(f"流程「{version.label}」的{place}")
    return found


def role_uses(key: str) -> list[str]:
    """Where flows in use name the general role `key` (processors or supervisors)."""
    return _uses(_role_uses, key)


def api_uses(key: str) -> list[str]:
    """Where flows in use call the API `<system key>.<api key>` (api nodes, choice sources)."""
    return _uses(_api_uses, key)


def dictionary_item_uses(dictionary: str, item: str) -> list[str]:
    """Where flows in use name the item `item` of dictionary `dictionary` (defaults, hide and line conditions)."""
    return _uses(_dictionary_item_uses, (dictionary, item))


def check_dictionary_items_removable(dictionary: str, items: list[tuple[str, str]], *, verb: str = "删除") -> None:
    """Refuse deleting or re-keying dictionary items (key, name) that a flow in use names."""
    for key, name in items:
        _refuse_if_used(f"字典项「{name}」（{key}）", dictionary_item_uses(dictionary, key), verb)


def _refuse_if_used(what: str, uses: list[str], verb: str) -> None:
    if not uses:
        return
    shown = "；".join(uses[:_SHOWN]) + (f" 等 {len(uses)} 处" if len(uses) > _SHOWN else "")
    raise OperationRefused(f"{what}正被使用中的流程引用，不能{verb}：{shown}。请先修改这些流程并重新部署，或等相关单据结束。")


def check_role_removable(key: str, name: str, *, verb: str = "删除") -> None:
    """Refuse deleting or re-keying a general role that a flow in use names."""
    _refuse_if_used(f"角色「{name}」", role_uses(key), verb)


def check_api_removable(key: str, name: str, *, verb: str = "删除") -> None:
    """Refuse deleting, disabling or re-keying an API that a flow in use calls."""
    _refuse_if_used(f"API「{name}」", api_uses(key), verb)


@dataclass(frozen=True)
class StuckStep:
    ticket_id: int
    ticket_sn: str
    ticket_title: str
    step_name: str
    processors_type: str
    processors: str


def steps_without_processors(limit: int = 50) -> list[StuckStep]:
    """Open steps waiting for a person whose processors resolve to nobody (nobody can act on them)."""
    nobody = or_(TicketStep.users.is_(None), cast(TicketStep.users, Text).in_(("[]", "null")))
    rows = db.session.execute(
        select(Ticket.id, Ticket.sn, Ticket.title, TicketStep.name, TicketStep.processors_type, TicketStep.processors)
        .join(Ticket, Ticket.id == TicketStep.ticket_id)
        .where(TicketStep.is_open.is_(True), TicketStep.kind.not_in(("api", "automation")),
               TicketStep.status.in_(("WAIT", "RUNNING", "RECEIVING", "DISTRIBUTING")), nobody)
        .order_by(TicketStep.id).limit(limit)).all()
    return [StuckStep(*row) for row in rows]
