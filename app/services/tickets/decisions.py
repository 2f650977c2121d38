"""Approval decisions named the way BlueKing's API names them (approve, proceed_approval), and what an
approval node decided (get_approve_node_result) or who decides it (get_approver).

A decision is an ordinary step operation: the node's 审批意见 / 备注 fields filled in, through
`operate_step`, so the engine's rules (who may approve, countersign counting) apply unchanged.
"""
from __future__ import annotations

from sqlalchemy import select

from app.errors import OperationRefused, ValidationFailed
from app.extensions import db
from app.models import Ticket, TicketStep, User
from app.services.flows.library import node_by_state_id
from app.services.tickets.operations import operate_step
from app.services.tickets.reading import flow_of, lock_ticket, open_steps

DECISIONS = ("true", "false")


def decision_value(value) -> str:
    """"true"/"false" from what clients send (strings in any case, JSON booleans); ValidationFailed otherwise."""
    text = str(value).strip().lower() if value is not None else ""
    if text not in DECISIONS:
        raise ValidationFailed(f"审批结果应为 true（通过）或 false（拒绝），收到 {value!r}")
    return text


def approve_step(ticket_ref: int | str | Ticket, user: User, state_id: int, decision: str, remark: str = "", *,
                 source: str = "API") -> Ticket:
    """Decide an approval node as `user` (one of its approvers): upstream's `approve` / `proceed_approval`."""
    decision = decision_value(decision)
    ticket = lock_ticket(ticket_ref)
    flow = flow_of(ticket)
    node_key = node_by_state_id(flow, state_id)
    if node_key is None:
        raise OperationRefused(f"单据审批失败，节点 {state_id} 不存在")
    node = flow.node(node_key)
    if node.kind != "approval":
        raise OperationRefused(f"单据审批失败，目标节点{node.name}不是审批节点")
    step = next((s for s in open_steps(ticket) if s.node_key == node_key), None)
    if step is None or step.status != "RUNNING":
        raise OperationRefused("单据审批失败，单据当前状态非RUNNING")
    fields = {node.result_key: decision}
    if remark:
        fields[node.remark_key] = remark
    return operate_step(ticket, user, "TRANSITION", node_key, fields=fields, source=source)


def _last_step(ticket: Ticket, state_id: int) -> TicketStep | None:
    return db.session.execute(select(TicketStep).where(TicketStep.ticket_id == ticket.id,
                                                       TicketStep.state_id == state_id)
                              .order_by(TicketStep.id.desc()).limit(1)).scalar_one_or_none()


def approve_node_result(ticket: Ticket, state_id: int) -> dict:
    """The last finished visit of an approval node: name, who decided, the result, the remark."""
    step = _last_step(ticket, state_id)
    if step is None:
        raise ValidationFailed(f"sn[{ticket.sn}], state[{state_id}] 未查到对应的节点状态")
    if step.status != "FINISHED":
        raise ValidationFailed(f"sn[{ticket.sn}], state[{state_id}] 当前节点状态为非结束状态")
    node = flow_of(ticket).node(step.node_key)
    data = step.data or {}
    votes = (step.approval or {}).get("votes") or []
    deciders = [v["username"] for v in votes] or ([step.closed_by] if step.closed_by else [])
    result = str(data.get(node.result_key, "")).lower() == "true" if node.kind == "approval" else False
    remark = data.get(node.remark_key) or next((v.get("remark") for v in reversed(votes) if v.get("remark")), "")
    return {"name": step.name, "processed_user": ",".join(dict.fromkeys(deciders)), "approve_result": result,
            "approve_remark": remark or ""}


def step_approvers(ticket: Ticket, state_id: int) -> str:
    """Who decides (or decided) the node's last visit, comma-separated; "" when it never opened."""
    step = _last_step(ticket, state_id)
    if step is None:
        return ""
    sign = step.approval or {}
    if sign.get("approvers"):
        names = list(sign["approvers"])
    elif step.is_open:
        names = list(step.users or [])
    else:
        names = [v["username"] for v in sign.get("votes") or []] or ([step.closed_by] if step.closed_by else [])
    return ",".join(dict.fromkeys(names))
