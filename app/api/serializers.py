"""BlueKing-shaped JSON for services, flows, tickets (field names as BlueKing's API has them)."""
from __future__ import annotations

from typing import Any

from app.flowdef import CompiledFlow, FieldDef
from app.models import Service, Ticket, TicketStep
from app.services.fields import display, field_context
from app.services.flows import state_id
from app.services.tickets import extra_fields, ticket_url
from app.timeutil import fmt

LIST_TYPES = ("MULTISELECT", "MEMBERS", "CHECKBOX", "CASCADE")


def field_id(flow: CompiledFlow, key: str) -> int:
    """A field's number within its flow version (BlueKing's field id)."""
    return next(i for i, f in enumerate(flow.fields(), start=1) if f.key == key)


def _choices(fdef: FieldDef) -> list[dict]:
    def flat(items, out):
        for c in items:
            out.append({"key": c.key, "name": c.name, **({"children": flat(c.children, [])} if c.children else {})})
        return out

    return flat(field_context().choices(fdef), [])


def field_config(flow: CompiledFlow, fdef: FieldDef) -> dict:
    """A field definition as get_service_detail / get_ticket_status report it, shaped like upstream's.

    `regex` is upstream's rule key (EMPTY, or CUSTOM with the pattern in `custom_regex`); `show_type` 0
    with `show_conditions` when the field hides on a condition (upstream's show conditions are hide
    conditions), 1 when always shown. `regex_message` and `max_length` are ours (extra keys).
    """
    meta: dict[str, Any] = {}
    if fdef.columns:
        meta["columns"] = [{"key": c.key, "name": c.name, "display": c.display,
                            "choice": [{"key": x.key, "name": x.name} for x in c.choices]} for c in fdef.columns]
    source = fdef.source
    api_source = source is not None and bool(source.api)
    return {
        "id": field_id(flow, fdef.key), "key": fdef.key, "type": fdef.type, "name": fdef.name, "desc": fdef.desc,
        "choice": _choices(fdef), "validate_type": "REQUIRE" if fdef.required else "OPTION",
        "regex": "CUSTOM" if fdef.regex else "EMPTY", "custom_regex": fdef.regex or "", "regex_config": {},
        "regex_message": fdef.regex_message or "", "max_length": fdef.max_length, "meta": meta,
        "default": fdef.default if fdef.default is not None else "", "layout": "COL_6" if fdef.layout == "half" else "COL_12",
        "source_type": "DATADICT" if source and source.dictionary else "API" if api_source else "CUSTOM",
        "source_uri": source.api if api_source else "", "api_instance_id": 0,
        "kv_relation": {"key": source.key_field, "name": source.name_field} if api_source else {},
        "show_type": 0 if fdef.hide_when else 1,
        "show_conditions": _show_conditions(flow, fdef.hide_when) if fdef.hide_when else {},
        "is_readonly": fdef.read_only, "state_id": state_id(flow, flow.node_of_field(fdef.key)),
    }


# --- conditions in upstream's shape: {type: and|or, expressions: [{type, expressions: [leaf]}]} ---------

_UPSTREAM_OP = {"contains": "issuperset"}
_NEGATED = {"==": "!=", "!=": "==", ">": "<=", ">=": "<", "<": ">=", "<=": ">", "in": "notin", "notin": "in",
            "contains": "notissuperset"}
ALWAYS = {"type": "and", "expressions": [{"type": "and", "expressions": [
    {"key": "G_INT_1", "condition": "==", "value": 1}]}]}        # upstream's unconditional transition


def _field_types(flow: CompiledFlow) -> dict[str, str]:
    return {f.key: f.type for f in flow.fields()}


def _leaf(types: dict[str, str], cond, negate: bool = False) -> dict | None:
    """One comparison as upstream writes it, or None when `cond` is not a comparison (or a negated one)."""
    if type(cond).__name__ == "NotOf":
        return _leaf(types, cond.not_, not negate)
    if type(cond).__name__ != "Compare":
        return None
    op = _NEGATED[cond.op] if negate else _UPSTREAM_OP.get(cond.op, cond.op)
    value = cond.value
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return {"key": cond.field, "condition": op, "value": value,
            "type": types.get(cond.field, "INT" if "_count" in cond.field else "STRING"), "source": "field"}


def _group(types: dict[str, str], cond) -> dict | None:
    """A condition as one upstream group (`{type, expressions: [leaf, ...]}`), or None if it needs more."""
    leaf = _leaf(types, cond)
    if leaf is not None:
        return {"type": "and", "expressions": [leaf]}
    kind = type(cond).__name__
    if kind in ("AllOf", "AnyOf"):
        leaves = [_leaf(types, c) for c in (cond.all if kind == "AllOf" else cond.any)]
        if all(leaves):
            return {"type": "and" if kind == "AllOf" else "or", "expressions": leaves}
    return None


def upstream_condition(flow: CompiledFlow, cond) -> dict | None:
    """Our structured condition in upstream's two-level `{type, expressions}` form; None when it cannot be
    written that way (a `not` over a group, deeper nesting): the caller then gives ours as it is."""
    if cond is None:
        return ALWAYS
    types = _field_types(flow)
    group = _group(types, cond)
    if group is not None:
        return {"type": "and", "expressions": [group]}
    kind = type(cond).__name__
    if kind in ("AllOf", "AnyOf"):
        groups = [_group(types, c) for c in (cond.all if kind == "AllOf" else cond.any)]
        if all(groups):
            return {"type": "and" if kind == "AllOf" else "or", "expressions": groups}
    return None


def _show_conditions(flow: CompiledFlow, hide_when) -> dict:
    """hide_when as upstream's one-level show_conditions ({type, expressions: [leaf]}), ours if deeper."""
    group = _group(_field_types(flow), hide_when)
    return group if group is not None else hide_when.model_dump(mode="json", by_alias=True)


def wire_value(fdef: FieldDef, value: Any) -> Any:
    """Stored value as BlueKing sends it: lists of keys as comma strings, numbers and tables as they are."""
    if fdef.type in LIST_TYPES and isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else value


def ticket_fields(flow: CompiledFlow, ticket: Ticket) -> list[dict]:
    """Every field of the ticket's flow, as upstream lists a ticket's fields: those not filled yet (a later
    step's, an approval's 审批意见 / 备注) with "" (callers look a step's fields up here before acting)."""
    values = ticket.values or {}
    return [{"id": field_id(flow, f.key), "key": f.key, "type": f.type, "name": f.name, "desc": f.desc,
             "value": wire_value(f, values[f.key]) if f.key in values else "",
             "display_value": display(f, values[f.key]) if f.key in values else ""}
            for f in flow.fields()]


def dynamic_fields(flow: CompiledFlow, ticket: Ticket) -> list[dict]:
    """The fields create_ticket's `dynamic_fields` added to this ticket alone (after the flow's, numbered on); the
    value as text, as upstream stores it (DynamicFieldSerializer: a CharField)."""
    start = len(flow.fields())
    return [{"id": start + i, "key": f.key, "type": f.type, "name": f.name, "desc": "", "value": f.display,
             "display_value": f.display} for i, f in enumerate(extra_fields(ticket), start=1)]


def step_summary(step: TicketStep, action_type: str) -> dict:
    # roles and other specs resolved to usernames while the step is open (upstream lists people here)
    people = ",".join(step.users) if step.is_open and step.users and step.processors_type != "PERSON" else None
    out = {"name": step.name, "state_id": step.state_id, "status": step.status, "action_type": action_type,
           "tag": "DEFAULT", "processors_type": step.processors_type, "processors": people or step.processors}
    if step.kind in ("approval", "sign"):
        out.update(approval_summary(step))
    return out


def approval_summary(step: TicketStep) -> dict:
    """An approval step's signers: who decided what and when, who is still to decide."""
    sign = step.approval or {}
    votes = sign.get("votes") or []
    return {"type": step.kind.upper(), "is_multi": bool(sign.get("approvers")),
            "approvers": ",".join(sign.get("approvers") or []), "pending_approvers": ",".join(step.users or []),
            "votes": [{"processor": v["username"], "approve_result": v["result"] == "true",
                       "remark": v.get("remark") or "", "operate_at": v.get("at") or "",
                       **({"fields": v.get("values") or {}} if step.kind == "sign" else {})} for v in votes]}


def ticket_item(ticket: Ticket) -> dict:
    """One row of get_tickets."""
    return {
        "id": ticket.id, "sn": ticket.sn, "title": ticket.title, "catalog_id": ticket.catalog_id,
        "service_id": ticket.service_id, "service_type": ticket.service_type, "flow_id": ticket.flow_version_id,
        "current_status": ticket.status, "comment_id": "", "is_commented": ticket.is_commented,
        "updated_by": ticket.updated_by, "update_at": fmt(ticket.updated_at), "end_at": fmt(ticket.end_at),
        "creator": ticket.creator, "create_at": fmt(ticket.created_at), "bk_biz_id": ticket.bk_biz_id,
        "ticket_url": ticket_url(ticket), "iframe_ticket_url": ticket_url(ticket),
    }


def service_item(service: Service) -> dict:
    return {"id": service.id, "key": service.key, "name": service.name, "desc": service.desc,
            "service_type": service.service_type}


# upstream bk-itsm's state types for our gateway kinds (itsm/component/constants/flow.py)
STATE_TYPES = {"parallel": "ROUTER-P", "converge": "COVERAGE"}


def workflow_detail(version, flow: CompiledFlow) -> dict:
    d = flow.definition
    states = []
    for node in d.nodes:
        spec = node.effective_processors if node.kind not in ("end", "parallel", "converge") else None
        states.append({
            "id": state_id(flow, node.key), "key": node.key, "name": node.name,
            "type": STATE_TYPES.get(node.kind, node.kind.upper()),
            "distribute_type": node.distribute_type, "processors_type": spec.type if spec else "",
            "processors": ",".join(spec.value) if spec else "",
            "assignors_type": node.assignors.type if node.assignors else "",
            "assignors": ",".join(node.assignors.value) if node.assignors else "",
            "can_deliver": node.can_deliver, "is_terminable": node.can_terminate, "is_multi": node.is_countersign,
            "is_sequential": node.sequential,
            "finish_condition": node.finish_condition.model_dump(mode="json") if node.finish_condition else {},
            "fields": [field_id(flow, f.key) for f in node.fields],
        })
    transitions = [_transition(flow, i, t) for i, t in enumerate(d.transitions, start=1)]
    return {"id": version.id, "name": d.name, "flow_type": d.service_type, "desc": d.desc,
            "version_number": str(version.version_number), "is_biz_needed": d.biz_related, "states": states,
            "transitions": transitions, "fields": [field_config(flow, f) for f in flow.fields()]}


def user_ticket_item(row, username: str, service_names: dict[int, str], followers: list[str]) -> dict:
    """One row of get_tickets_by_user, shaped like upstream's TicketList.to_client_representation."""
    from app.engine.state import TICKET_STATUS_NAMES

    t, steps = row.ticket, row.steps
    processors = [u for s in steps for u in (s.users or [])]
    waiting_approve = t.status == "RUNNING" and any(
        s.kind in ("approval", "sign") and username in (s.users or []) for s in steps)
    item = ticket_item(t)
    item.update({
        "meta": {}, "service_name": service_names.get(t.service_id, ""),
        "current_status_display": TICKET_STATUS_NAMES.get(t.status, t.status),
        "current_steps": [{"id": s.id, "tag": "DEFAULT", "name": s.name, "state_id": s.state_id} for s in steps],
        "priority_name": "--", "current_processors": ",".join(dict.fromkeys(processors)),
        "is_supervise_needed": False, "supervise_type": "EMPTY", "supervisor": "",
        "can_comment": t.status == "FINISHED" and not t.is_commented and t.creator == username,
        "can_operate": False, "waiting_approve": waiting_approve, "followers": followers,
        "can_supervise": False, "can_withdraw": False, "sla": [], "sla_color": "",
    })
    return item


def _transition(flow: CompiledFlow, number: int, t) -> dict:
    """A transition as upstream's get_workflow_detail has it: `condition` in `{type, expressions}` form,
    `condition_type` default (always) or by_field; `when` is our own form of the same condition."""
    native = t.when.model_dump(mode="json", by_alias=True) if t.when else {}
    condition = upstream_condition(flow, t.when)
    return {"id": number, "from_state": state_id(flow, t.from_), "to_state": state_id(flow, t.to), "name": t.name,
            "condition_type": "by_field" if t.when else "default",
            "condition": condition if condition is not None else native, "when": native}
