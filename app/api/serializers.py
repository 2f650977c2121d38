"""BlueKing-shaped JSON for services, flows, tickets (field names as BlueKing's API has them)."""
from __future__ import annotations

from typing import Any

from app.flowdef import CompiledFlow, FieldDef
from app.models import Service, Ticket, TicketStep
from app.services.fields import display, field_context
from app.services.flows import state_id
from app.services.tickets import ticket_url
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
    """A field definition as get_service_detail / get_ticket_status report it."""
    meta: dict[str, Any] = {}
    if fdef.columns:
        meta["columns"] = [{"key": c.key, "name": c.name, "display": c.display,
                            "choice": [{"key": x.key, "name": x.name} for x in c.choices]} for c in fdef.columns]
    return {
        "id": field_id(flow, fdef.key), "key": fdef.key, "type": fdef.type, "name": fdef.name, "desc": fdef.desc,
        "choice": _choices(fdef), "validate_type": "REQUIRE" if fdef.required else "OPTION",
        "regex": fdef.regex or "EMPTY", "custom_regex": fdef.regex or "", "meta": meta,
        "default": fdef.default if fdef.default is not None else "", "layout": "COL_6" if fdef.layout == "half" else "COL_12",
        "source_type": "DATADICT" if fdef.source and fdef.source.dictionary else "CUSTOM",
        "is_readonly": fdef.read_only, "state_id": state_id(flow, flow.node_of_field(fdef.key)),
    }


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
    """The fields create_ticket's `dynamic_fields` added to this ticket alone (after the flow's, numbered on)."""
    start = len(flow.fields())
    return [{"id": start + i, "key": f["key"], "type": f["type"], "name": f["name"], "desc": "",
             "value": f["value"], "display_value": f["value"] if isinstance(f["value"], str) else str(f["value"])}
            for i, f in enumerate((ticket.meta or {}).get("dynamic_fields") or [], start=1)]


def step_summary(step: TicketStep, action_type: str) -> dict:
    out = {"name": step.name, "state_id": step.state_id, "status": step.status, "action_type": action_type,
           "tag": "DEFAULT", "processors_type": step.processors_type, "processors": step.processors}
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


def workflow_detail(version, flow: CompiledFlow) -> dict:
    d = flow.definition
    states = []
    for node in d.nodes:
        spec = node.effective_processors if node.kind not in ("end",) else None
        states.append({
            "id": state_id(flow, node.key), "key": node.key, "name": node.name, "type": node.kind.upper(),
            "distribute_type": node.distribute_type, "processors_type": spec.type if spec else "",
            "processors": ",".join(spec.value) if spec else "",
            "assignors_type": node.assignors.type if node.assignors else "",
            "assignors": ",".join(node.assignors.value) if node.assignors else "",
            "can_deliver": node.can_deliver, "is_terminable": node.can_terminate, "is_multi": node.is_countersign,
            "is_sequential": node.sequential,
            "finish_condition": node.finish_condition.model_dump(mode="json") if node.finish_condition else {},
            "fields": [field_id(flow, f.key) for f in node.fields],
        })
    transitions = [{"id": i, "from_state": state_id(flow, t.from_), "to_state": state_id(flow, t.to), "name": t.name,
                    "condition": t.when.model_dump(mode="json", by_alias=True) if t.when else {}}
                   for i, t in enumerate(d.transitions, start=1)]
    return {"id": version.id, "name": d.name, "flow_type": d.service_type, "desc": d.desc,
            "version_number": str(version.version_number), "is_biz_needed": d.biz_related, "states": states,
            "transitions": transitions, "fields": [field_config(flow, f) for f in flow.fields()]}
