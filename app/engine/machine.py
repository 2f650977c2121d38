"""The ticket state machine: pure functions over a compiled flow and a ticket state.

`start_ticket` opens a ticket, `allowed_operations` says what an actor may do
now, `apply` performs one operation and returns the new state plus events.
Every refusal raises `OperationRefused`/`PermissionDenied` and changes nothing
(the state objects are immutable).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from app.errors import OperationRefused, PermissionDenied
from app.flowdef import CompiledFlow, NodeDef, ProcessorSpec
from app.flowdef.conditions import compile_condition

from . import approval
from . import operations as ops
from .state import (AUTOMATIC_KINDS, CLAIM, DISTRIBUTE, DISTRIBUTING, FAILED, FINISHED, RECEIVING, RETRY, REVOKED,
                    RUNNING, SKIP, SUPERVISE, SYSTEM, SUSPEND, SUSPEND_OP, SUSPENDED, TERMINATE, TERMINATED, TRANSITION,
                    UNSUSPEND, WITHDRAW, Actor, ApprovalDecided, Directory, Join, Log, Notify, Outcome, Step, StepChanged,
                    StepClosed, StepOpened, TicketEnded, TicketState, Vote)

SUPERUSER_NOTE = "（超级管理员特殊处理）"


# --- resolving processors ----------------------------------------------------

def resolve(spec: ProcessorSpec | None, creator: str, directory: Directory,
            values: Mapping[str, Any] | None = None, just_handled: Mapping[str, str] | None = None) -> frozenset[str]:
    """Usernames a processor spec stands for right now (VARIABLE reads MEMBER/MEMBERS fields of `values`)."""
    if spec is None:
        return frozenset()
    if spec.type == "VARIABLE":
        return frozenset(u for key in spec.value for u in _members((values or {}).get(key)))
    if spec.type == "PERSON":
        return frozenset(spec.value)
    if spec.type == "STARTER":
        return frozenset({creator})
    if spec.type in ("GENERAL", "CMDB"):
        return directory.role_members(spec.type, tuple(spec.value))
    if spec.type == "STARTER_LEADER":
        return directory.leaders_of(frozenset({creator}))
    if spec.type == "ASSIGN_LEADER":
        handled = {(just_handled or {}).get(key) or directory.step_processor(key) for key in spec.value} - {None}
        return directory.leaders_of(frozenset(handled)) if handled else frozenset()
    if spec.type == "ORGANIZATION":
        return directory.department_members(tuple(spec.value))
    return frozenset()     # OPEN: anyone; BY_ASSIGNOR: set by the dispatcher


def _members(value: Any) -> list[str]:
    """Usernames held by a MEMBER/MEMBERS value (a name, a list, or a comma string)."""
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def open_step(flow: CompiledFlow, node: NodeDef, creator: str, directory: Directory,
              values: Mapping[str, Any] | None = None,
              assigned: Mapping[str, tuple[str, ...]] | None = None,
              just_handled: Mapping[str, str] | None = None) -> tuple[Step, list]:
    """The step a node opens with, per its distribute_type, and the notifications it sends.

    `values` are the ticket's (VARIABLE processors read them); `assigned` are processors the ticket's
    creator set per node (create_ticket's meta.state_processors), which replace the node's own.
    """
    if assigned and node.key in assigned and node.kind in ("manual", "approval"):
        node = node.model_copy(update={"processors": ProcessorSpec(type="PERSON", value=tuple(assigned[node.key]))})
    if node.processors is not None and node.processors.type == "VARIABLE":
        # the people picked in earlier fields, in the order they were picked (a sequential countersign follows it)
        people = tuple(dict.fromkeys(u for key in node.processors.value for u in _members((values or {}).get(key))))
        if people:
            node = node.model_copy(update={"processors": ProcessorSpec(type="PERSON", value=people)})
    elif node.processors is not None and node.processors.type in ("STARTER_LEADER", "ASSIGN_LEADER"):
        # leaders are looked up once, when the step opens; the step then names them
        people = tuple(sorted(resolve(node.processors, creator, directory, values, just_handled)))
        if people:
            node = node.model_copy(update={"processors": ProcessorSpec(type="PERSON", value=people)})
    if node.kind in AUTOMATIC_KINDS:
        # run by the scheduler; its processors (if any) may retry or skip it when it fails
        users = resolve(node.processors, creator, directory) if node.processors else frozenset()
        return Step(node.key, node.name, RUNNING, "AUTOMATIC", tuple(node.processors.value) if node.processors else (),
                    users, kind=node.kind), []
    if node.is_countersign:
        spec = node.processors
        approvers = approval.ordered_approvers(node, resolve(spec, creator, directory))
        users = approval.pending(node, approvers, ())
        step = Step(node.key, node.name, RUNNING, spec.type, tuple(spec.value) or _starter(spec, creator), users,
                    kind=node.kind, approvers=approvers)
        return step, [Notify("todo", users, node.key)]
    mode = node.distribute_type
    if mode.startswith("DISTRIBUTE"):
        spec = node.assignors
        users = resolve(spec, creator, directory)
        step = Step(node.key, node.name, DISTRIBUTING, spec.type, tuple(spec.value) or _starter(spec, creator),
                    users, kind=node.kind)
        return step, [Notify("distribute", users, node.key)]
    spec = node.effective_processors
    users = resolve(spec, creator, directory)
    if mode == "CLAIM_THEN_PROCESS" and len(users) != 1:
        step = Step(node.key, node.name, RECEIVING, spec.type, tuple(spec.value) or _starter(spec, creator),
                    users, kind=node.kind)
        return step, [Notify("claim", users, node.key)]
    if mode == "CLAIM_THEN_PROCESS":     # exactly one processor: the claim is skipped
        only = next(iter(users))
        return Step(node.key, node.name, RUNNING, "PERSON", (only,), users, kind=node.kind), \
            [Notify("todo", users, node.key)]
    step = Step(node.key, node.name, RUNNING, spec.type, tuple(spec.value) or _starter(spec, creator),
                users, kind=node.kind)
    return step, [Notify("todo", users, node.key)]


def _starter(spec: ProcessorSpec, creator: str) -> tuple[str, ...]:
    return (creator,) if spec.type == "STARTER" else ()


# --- starting ----------------------------------------------------------------

def start_ticket(flow: CompiledFlow, creator: str, values: Mapping[str, Any], directory: Directory,
                 assigned: Mapping[str, tuple[str, ...]] | None = None) -> Outcome:
    """A new ticket: the start step is submitted by the creator and the next step opens.

    `assigned` ({node key: usernames}) replaces those nodes' processors for this ticket.
    """
    start = flow.start
    state = TicketState(status=RUNNING, creator=creator, values=dict(values), assigned=dict(assigned or {}))
    events: list = [Log(creator, "流程开始.", "START", start.key)]
    transition = flow.next_transition(start.key, state.values)
    if transition is None:
        raise OperationRefused("没有满足条件的流转路径，请检查填写的内容")
    events.append(Log(creator, f"{creator} 处理节点【{start.name}】({transition.name or '提交'})", TRANSITION, start.key))
    events.append(StepClosed(start.key, FINISHED, creator, dict(values)))
    return _enter(flow, state, transition.to, directory, events, came_from=start.key)


def _enter(flow: CompiledFlow, state: TicketState, node_key: str, directory: Directory, events: list,
           came_from: str | None = None) -> Outcome:
    """Enter a node coming from `came_from`: open its step, end the ticket, fork or join branches."""
    state = _enter_node(flow, state, node_key, came_from, directory, events)
    return Outcome(state, tuple(events))


def _enter_node(flow: CompiledFlow, state: TicketState, node_key: str, came_from: str | None,
                directory: Directory, events: list) -> TicketState:
    node = flow.node(node_key)
    if node.kind == "end":
        events.append(Log("system", "单据流程结束", "END", node.key))
        events.append(TicketEnded(FINISHED, approved=node.approve_result and state.approve_result is not False))
        events.append(Notify("finished", frozenset({state.creator})))
        return state.with_(status=FINISHED, steps=())
    if node.kind == "parallel":
        return _fork(flow, state, node, directory, events)
    if node.kind == "converge":
        return _arrive(flow, state, node, came_from, directory, events)
    step, notes = open_step(flow, node, state.creator, directory, state.values, state.assigned, state.handled)
    events.append(StepOpened(step))
    events.extend(notes)
    return state.with_(steps=state.steps + (step,))


def _fork(flow: CompiledFlow, state: TicketState, node: NodeDef, directory: Directory, events: list) -> TicketState:
    """A parallel gateway: every branch whose condition holds starts now; its converge waits for them all."""
    branches = flow.branches_started(node.key, state.values)
    if not branches:
        raise OperationRefused(f"并行网关【{node.name}】没有满足条件的分支，请检查填写的内容")
    region = flow.regions[node.key]
    names = "、".join(_branch_name(flow, region.converge, t.to) for t in branches)
    events.append(Log(SYSTEM, f"并行网关【{node.name}】启动分支：{names}", "PARALLEL", node.key))
    joins = {**state.joins, region.converge: Join(node.key, tuple(t.to for t in branches))}
    state = state.with_(joins=joins)
    for t in branches:
        state = _enter_node(flow, state, t.to, node.key, directory, events)
    return state


def _arrive(flow: CompiledFlow, state: TicketState, node: NodeDef, came_from: str | None, directory: Directory,
            events: list) -> TicketState:
    """A branch reaches its converge gateway; the last one to arrive moves the ticket past it, once."""
    region = flow.region_of_converge(node.key)
    join = state.joins.get(node.key)
    branch = region.branch_of(came_from) if came_from else None
    if join is None or branch not in join.started or branch in join.arrived:
        raise OperationRefused(f"汇聚网关【{node.name}】收到了未启动或已汇聚的分支，请检查流程配置")
    join = replace(join, arrived=join.arrived + (branch,))
    state = state.with_(joins={**state.joins, node.key: join})
    said = f"分支【{_branch_name(flow, node.key, branch)}】到达汇聚网关【{node.name}】"
    if not join.complete:
        waiting = "、".join(_branch_name(flow, node.key, b) for b in join.started if b not in join.arrived)
        events.append(Log(SYSTEM, f"{said}，等待分支：{waiting}", "CONVERGE", node.key))
        return state
    events.append(Log(SYSTEM, f"{said}，所有分支已汇聚", "CONVERGE", node.key))
    transition = flow.next_transition(node.key, state.values)
    if transition is None:
        raise OperationRefused("没有满足条件的流转路径，请检查填写的内容")
    return _enter_node(flow, state, transition.to, node.key, directory, events)


def _branch_name(flow: CompiledFlow, converge: str, branch: str) -> str:
    """A branch as logs name it: its first node (an empty branch goes straight to the converge)."""
    return "直接汇聚" if branch == converge else flow.node(branch).name


# --- who may do what -------------------------------------------------------

def _is_processor(step: Step, actor: Actor) -> bool:
    return step.is_open_to_anyone or actor.username in step.users


def _may_act(step: Step, actor: Actor) -> bool:
    return _is_processor(step, actor) or actor.is_superuser


def supervisors(flow: CompiledFlow, state: TicketState, directory: Directory) -> frozenset[str]:
    policy = flow.definition.notify
    if not policy.supervise:
        return frozenset()
    users: set[str] = set()
    for spec in policy.supervisors:
        users |= resolve(spec, state.creator, directory)
    return frozenset(users)


def allowed_operations(flow: CompiledFlow, state: TicketState, actor: Actor,
                       directory: Directory) -> tuple[list[str], dict[str, list[str]]]:
    """(ticket operations, {node_key: step operations}) this actor may do now."""
    ticket_ops: list[str] = []
    step_ops: dict[str, list[str]] = {}
    if state.is_over:
        return ticket_ops, step_ops
    for op in (ops.Suspend(), ops.Unsuspend(), ops.Withdraw(), ops.Supervise(), ops.TerminateTicket()):
        if refusal(flow, state, op, actor, directory, check_input=False) is None:
            ticket_ops.append(op.key)
    for step in state.steps:
        keys = []
        for op in (ops.Transition(step.node_key), ops.Claim(step.node_key),
                   ops.Distribute(step.node_key, "PERSON", ("-",)), ops.Deliver(step.node_key, "PERSON", ("-",), "-"),
                   ops.TerminateStep(step.node_key, "-"), ops.RetryStep(step.node_key), ops.SkipStep(step.node_key)):
            if refusal(flow, state, op, actor, directory, check_input=False) is None:
                keys.append(op.key)
        step_ops[step.node_key] = keys
    return ticket_ops, step_ops


# --- applying ----------------------------------------------------------------

def apply(flow: CompiledFlow, state: TicketState, op: Any, actor: Actor, directory: Directory) -> Outcome:
    """Perform one operation; raise a domain error (and change nothing) when it is not allowed."""
    error = refusal(flow, state, op, actor, directory)
    if error is not None:
        raise error
    handler = _HANDLERS[type(op)]
    outcome = handler(flow, state, op, actor, directory)
    if actor.username != state.creator and not outcome.state.others_acted \
            and not isinstance(op, ops.Supervise):
        outcome = Outcome(outcome.state.with_(others_acted=True), outcome.events)
    return outcome


def refusal(flow: CompiledFlow, state: TicketState, op: Any, actor: Actor, directory: Directory,
            check_input: bool = True) -> Exception | None:
    """The error `apply` would raise for this operation (before looking at form values), or None."""
    if state.is_over:
        return OperationRefused("抱歉，单据已关闭，无法操作")
    if isinstance(op, ops.STEP_OPERATIONS):
        return _step_refusal(flow, state, op, actor, directory, check_input)
    if isinstance(op, ops.SYSTEM_OPERATIONS):
        return _system_refusal(state, op, actor)
    if isinstance(op, ops.Suspend):
        if state.status == SUSPENDED:
            return OperationRefused("单据已处于挂起状态，不能重复挂起")
        if not (actor.is_superuser or any(_is_processor(s, actor) for s in state.steps)):
            return PermissionDenied("只有当前处理人可以挂起单据")
        if check_input and not op.message.strip():
            return OperationRefused("请输入挂起原因")
        return None
    if isinstance(op, ops.Unsuspend):
        if state.status != SUSPENDED:
            return OperationRefused("抱歉，该单据不在挂起中，无法操作")
        if not (actor.is_superuser or any(_is_processor(s, actor) for s in state.steps)):
            return PermissionDenied("只有当前处理人可以恢复单据")
        return None
    if isinstance(op, ops.Withdraw):
        if actor.username != state.creator:
            return PermissionDenied("只有提单人可以撤单")
        if state.others_acted:
            return OperationRefused("单据已有他人处理，无法撤单")
        return None
    if isinstance(op, ops.Supervise):
        if not flow.definition.notify.supervise:
            return OperationRefused("该流程未开启督办")
        if not (actor.is_superuser or actor.username in supervisors(flow, state, directory)):
            return PermissionDenied("你没有督办该单据的权限")
        if not any(s.users for s in state.steps):
            return OperationRefused("当前没有可督办的处理人")
        return None
    if isinstance(op, ops.TerminateTicket):
        terminable = any(flow.node(s.node_key).can_terminate and _is_processor(s, actor) for s in state.steps)
        if not (actor.is_superuser or terminable):
            return PermissionDenied("你没有终止该单据的权限")
        if state.status == SUSPENDED and not actor.is_superuser:
            return OperationRefused("单据已挂起，请先恢复后再处理")
        if check_input and not op.message.strip():
            return OperationRefused("请输入终止原因！")
        return None
    return OperationRefused(f"不支持的操作类型: {getattr(op, 'key', op)!s}")


def _step_refusal(flow: CompiledFlow, state: TicketState, op: Any, actor: Actor, directory: Directory,
                  check_input: bool) -> Exception | None:
    step = state.step(op.node_key)
    if step is None:
        return OperationRefused("该节点当前不可处理")
    if state.status == SUSPENDED:
        return OperationRefused("单据已挂起，请先恢复后再处理")
    node = flow.node(step.node_key)
    automatic = step.kind in AUTOMATIC_KINDS
    if isinstance(op, (ops.RetryStep, ops.SkipStep)):
        if not automatic or step.status != FAILED:
            return OperationRefused("只有执行失败的自动节点可以重试或跳过")
        if not _may_act(step, actor):
            return PermissionDenied(f"你没有重试或跳过节点【{node.name}】的权限")
        return None
    if automatic and not isinstance(op, ops.TerminateStep):
        return OperationRefused("自动节点由系统执行，不能手动处理")
    required_status = {ops.Transition: RUNNING, ops.Claim: RECEIVING, ops.Distribute: DISTRIBUTING,
                       ops.Deliver: RUNNING}.get(type(op))
    if required_status is not None and step.status != required_status:
        return OperationRefused(_status_message(step.status, op.key))
    if isinstance(op, ops.Deliver) and not node.can_deliver:
        return OperationRefused(f"节点【{node.name}】不允许转单")
    if isinstance(op, ops.TerminateStep) and not node.can_terminate:
        return OperationRefused(f"节点【{node.name}】不允许终止")
    if node.is_countersign and isinstance(op, ops.Transition):
        if any(v.username == actor.username for v in step.votes):
            return OperationRefused(f"你已{'提交' if node.kind == 'sign' else '审批'}过节点【{node.name}】")
        if actor.username not in step.users:
            if node.sequential and actor.username in step.approvers:
                return OperationRefused(f"节点【{node.name}】按顺序会签，还未轮到你审批")
            return PermissionDenied(f"你不是节点【{node.name}】的待审批人，无法操作")
    if not _may_act(step, actor):
        return PermissionDenied(f"你不是节点【{node.name}】的处理人，无法操作")
    if not check_input:
        return None
    if isinstance(op, (ops.Distribute, ops.Deliver)):
        if op.processors_type not in ("PERSON", "GENERAL"):
            return OperationRefused("处理人类型只能是 PERSON（个人）或 GENERAL（通用角色）")
        if not op.processors or any(not str(p).strip() for p in op.processors):
            return OperationRefused("请指定处理人")
        if not resolve(ProcessorSpec(type=op.processors_type, value=tuple(op.processors)), state.creator, directory):
            return OperationRefused("指定的处理人为空或角色下没有成员，请重新选择")
    if isinstance(op, ops.Deliver) and not op.message.strip():
        return OperationRefused("请输入转单原因")
    if isinstance(op, ops.TerminateStep) and not op.message.strip():
        return OperationRefused("请输入终止原因！")
    return None


def _system_refusal(state: TicketState, op: Any, actor: Actor) -> Exception | None:
    if actor.username != SYSTEM:
        return PermissionDenied("自动节点的结果只能由系统回报")
    step = state.step(op.node_key)
    if step is None or step.kind not in AUTOMATIC_KINDS or step.status != RUNNING:
        return OperationRefused("该自动节点当前不在执行中")
    if state.status == SUSPENDED:
        return OperationRefused("单据已挂起，请先恢复后再处理")
    return None


def _status_message(status: str, key: str) -> str:
    return {
        RECEIVING: "该节点待认领，请先认领",
        DISTRIBUTING: "该节点待派单，请先派单",
        RUNNING: "该节点已在处理中" if key in (CLAIM, DISTRIBUTE) else "该节点当前状态不允许此操作",
    }.get(status, "该节点当前状态不允许此操作")


def _as(actor: Actor, step: Step) -> str:
    """The operator as logs show it, noting a super admin acting outside their role."""
    return actor.username if _is_processor(step, actor) else actor.username + SUPERUSER_NOTE


def _transition(flow, state, op: ops.Transition, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    if step.kind == "approval":
        return _approve(flow, state, op, actor, directory)
    if step.kind == "sign":
        return _sign(flow, state, op, actor, directory)
    return _finish_step(flow, state, op.node_key, dict(op.values), actor.username,
                        lambda node, t: f"{_as(actor, step)} 处理节点【{node.name}】({t.name or '提交'})", TRANSITION,
                        directory)


def _approve(flow, state, op: ops.Transition, actor, directory) -> Outcome:
    """One approver decides: or-sign → the node is settled; countersign → a vote, settled by the finish condition."""
    node, step = flow.node(op.node_key), state.step(op.node_key)
    result = str(op.values.get(node.result_key, "")).strip().lower()
    if result not in (approval.APPROVE, approval.REJECT):
        raise OperationRefused("请选择审批意见：通过（true）或拒绝（false）")
    remark = str(op.values.get(node.remark_key) or "").strip()
    extras = {k: v for k, v in op.values.items() if k not in (node.result_key, node.remark_key)}
    votes = step.votes + (Vote(actor.username, result, remark, extras),)
    note = f"，备注：{remark}" if remark else ""
    said = f"{_as(actor, step)} 审批节点【{node.name}】：{approval.word(result)}{note}"
    outcome = approval.outcome_of(node, step, votes)
    if outcome is None:
        waiting = approval.pending(node, step.approvers, votes)
        new = step.with_(votes=votes, users=waiting)
        events: list = [Log(actor.username, said, TRANSITION, node.key), StepChanged(new)]
        if node.sequential:
            events.append(Notify("todo", waiting, node.key))
        return Outcome(_replace_step(state, new), tuple(events))
    decided = step.with_(votes=votes, users=frozenset())
    deciders = tuple(v.username for v in votes)
    events = [StepChanged(decided), ApprovalDecided(node.key, outcome == approval.APPROVE, deciders)]
    if node.multi:
        agree = sum(1 for v in votes if v.agrees)
        events.insert(0, Log(actor.username, said, TRANSITION, node.key))
        # the counts avoid the words 通过/拒绝: callers (bk-bscp) read a log line's result from those words
        summary = (f"节点【{node.name}】会签结束：{approval.word(outcome)}"
                   f"（同意 {agree} 人，不同意 {len(votes) - agree} 人，共 {len(step.approvers)} 人）")
        message = lambda n, t: f"{summary}({t.name or '提交'})"      # noqa: E731
    else:
        message = lambda n, t: f"{said}({t.name or '提交'})"         # noqa: E731
    return _finish_step(flow, state.with_(approve_result=outcome == approval.APPROVE), node.key,
                        approval.decided_values(node, votes, outcome, step.approvers), actor.username, message,
                        TRANSITION, directory, events)


def _sign(flow, state, op: ops.Transition, actor, directory) -> Outcome:
    """会签: every processor submits the node's form once; it ends when all have, or when finish_when holds."""
    node, step = flow.node(op.node_key), state.step(op.node_key)
    votes = step.votes + (Vote(actor.username, "", "", dict(op.values)),)
    counts = approval.sign_counts(node, votes)
    said = f"{_as(actor, step)} 提交了会签节点【{node.name}】"
    done = len(votes) >= len(step.approvers) or (
        node.finish_when is not None and compile_condition(node.finish_when)(counts))
    if not done:
        new = step.with_(votes=votes, users=approval.pending(node, step.approvers, votes))
        return Outcome(_replace_step(state, new), (Log(actor.username, said, TRANSITION, node.key), StepChanged(new)))
    decided = step.with_(votes=votes, users=frozenset())
    values: dict = {}
    for v in votes:
        values.update(v.values)
    values.update(counts)
    summary = f"节点【{node.name}】会签结束（已提交 {len(votes)}/{len(step.approvers)} 人）"
    return _finish_step(flow, state, node.key, values, actor.username,
                        lambda n, t: f"{summary}({t.name or '提交'})", TRANSITION, directory,
                        [Log(actor.username, said, TRANSITION, node.key), StepChanged(decided)])


def _claim(flow, state, op: ops.Claim, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    claimed = step.with_(status=RUNNING, processors_type="PERSON", processors=(actor.username,),
                         users=frozenset({actor.username}))
    events = (Log(actor.username, f"{_as(actor, step)} 认领了节点【{step.name}】", CLAIM, step.node_key),
              StepChanged(claimed))
    return Outcome(_replace_step(state, claimed), events)


def _assign(flow, state, op, actor, directory, *, verb: str) -> Outcome:
    step = state.step(op.node_key)
    spec = ProcessorSpec(type=op.processors_type, value=tuple(op.processors))
    users = resolve(spec, state.creator, directory)
    if not users:
        raise OperationRefused("指定的处理人为空或角色下没有成员，请重新选择")
    node = flow.node(step.node_key)
    if isinstance(op, ops.Distribute) and node.distribute_type == "DISTRIBUTE_THEN_CLAIM" and len(users) != 1:
        new = step.with_(status=RECEIVING, processors_type=spec.type, processors=spec.value, users=users)
        kind = "claim"
    elif isinstance(op, ops.Distribute) and node.distribute_type == "DISTRIBUTE_THEN_CLAIM":
        only = next(iter(users))
        new = step.with_(status=RUNNING, processors_type="PERSON", processors=(only,), users=users)
        kind = "distribute"
    else:
        new = step.with_(status=RUNNING, processors_type=spec.type, processors=spec.value, users=users)
        kind = "distribute" if isinstance(op, ops.Distribute) else "deliver"
    target = ",".join(spec.value)
    note = f"，备注：{op.message}" if op.message else ""
    events = (Log(actor.username, f"{_as(actor, step)} 将节点【{step.name}】{verb}给 {target}{note}", op.key, step.node_key),
              StepChanged(new), Notify(kind, users, step.node_key, op.message))
    return Outcome(_replace_step(state, new), events)


def _distribute(flow, state, op, actor, directory) -> Outcome:
    return _assign(flow, state, op, actor, directory, verb="派单")


def _deliver(flow, state, op, actor, directory) -> Outcome:
    return _assign(flow, state, op, actor, directory, verb="转单")


def _terminate_step(flow, state, op: ops.TerminateStep, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    message = f"{_as(actor, step)} 终止了节点【{step.name}】，原因：{op.message}"
    return _close_ticket(state, TERMINATED, actor.username, message, TERMINATE, step.node_key)


def _terminate_ticket(flow, state, op: ops.TerminateTicket, actor, directory) -> Outcome:
    by_role = any(_is_processor(s, actor) for s in state.steps)
    who = actor.username if by_role else actor.username + SUPERUSER_NOTE
    return _close_ticket(state, TERMINATED, actor.username, f"{who} 终止了单据，原因：{op.message}", TERMINATE)


def _withdraw(flow, state, op: ops.Withdraw, actor, directory) -> Outcome:
    note = f"，备注：{op.message}" if op.message else ""
    return _close_ticket(state, REVOKED, actor.username, f"{actor.username} 撤回了单据{note}", WITHDRAW)


def _close_ticket(state: TicketState, status: str, operator: str, message: str, action: str,
                  node_key: str | None = None) -> Outcome:
    events: list = [Log(operator, message, action, node_key)]
    events += [StepClosed(s.node_key, TERMINATED, operator if s.node_key == node_key else None) for s in state.steps]
    kind = {TERMINATED: "terminated", REVOKED: "revoked"}[status]
    watchers = frozenset({state.creator}).union(*(s.users for s in state.steps)) - {operator}
    events += [TicketEnded(status), Notify(kind, watchers)]
    return Outcome(state.with_(status=status, steps=(), pre_status=None), tuple(events))


def _suspend(flow, state, op: ops.Suspend, actor, directory) -> Outcome:
    steps = tuple(s.with_(status=SUSPEND, pre_status=s.status) for s in state.steps)
    by_role = any(_is_processor(s, actor) for s in state.steps)
    who = actor.username if by_role else actor.username + SUPERUSER_NOTE
    watchers = frozenset({state.creator}).union(*(s.users for s in state.steps)) - {actor.username}
    events = (Log(actor.username, f"{who} 挂起了单据，原因：{op.message}", SUSPEND_OP),
              *(StepChanged(s) for s in steps), Notify("suspend", watchers, message=op.message))
    return Outcome(state.with_(status=SUSPENDED, pre_status=state.status, steps=steps), events)


def _unsuspend(flow, state, op: ops.Unsuspend, actor, directory) -> Outcome:
    steps = tuple(s.with_(status=s.pre_status or RUNNING, pre_status=None) for s in state.steps)
    by_role = any(_is_processor(s, actor) for s in state.steps)
    who = actor.username if by_role else actor.username + SUPERUSER_NOTE
    note = f"，备注：{op.message}" if op.message else ""
    watchers = frozenset({state.creator}).union(*(s.users for s in state.steps)) - {actor.username}
    events = (Log(actor.username, f"{who} 恢复了单据{note}", UNSUSPEND),
              *(StepChanged(s) for s in steps), Notify("resume", watchers, message=op.message))
    return Outcome(state.with_(status=state.pre_status or RUNNING, pre_status=None, steps=steps), events)


def _supervise(flow, state, op: ops.Supervise, actor, directory) -> Outcome:
    users = frozenset().union(*(s.users for s in state.steps))
    names = "、".join(s.name for s in state.steps)
    note = f"，备注：{op.message}" if op.message else ""
    events = (Log(actor.username, f"{actor.username} 督办了节点【{names}】的处理人：{','.join(sorted(users))}{note}", SUPERVISE),
              Notify("supervise", users, message=op.message))
    return Outcome(state, events)


def _complete_automatic(flow, state, op: ops.CompleteAutomatic, actor, directory) -> Outcome:
    return _finish_step(flow, state, op.node_key, dict(op.values), SYSTEM,
                        lambda node, t: f"系统执行节点【{node.name}】成功({t.name or '完成'})", TRANSITION, directory)


def _skip(flow, state, op: ops.SkipStep, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    note = f"，备注：{op.message}" if op.message else ""
    return _finish_step(flow, state, op.node_key, {}, actor.username,
                        lambda node, t: f"{_as(actor, step)} 跳过了执行失败的节点【{node.name}】{note}", SKIP, directory)


def _finish_step(flow, state, node_key, values, operator, message, action, directory, before=()) -> Outcome:
    """Close a step with the values it produced and enter the node its outgoing transition names."""
    node = flow.node(node_key)
    merged = {**state.values, **values}
    transition = flow.next_transition(node.key, merged)
    if transition is None:
        raise OperationRefused("没有满足条件的流转路径，请检查填写的内容")
    events: list = [*before, Log(operator, message(node, transition), action, node.key),
                    StepClosed(node.key, FINISHED, operator, dict(values))]
    rest = tuple(s for s in state.steps if s.node_key != node.key)
    handled = {**state.handled, node.key: operator}
    return _enter(flow, state.with_(values=merged, steps=rest, handled=handled), transition.to, directory, events,
                  came_from=node.key)


def _fail_automatic(flow, state, op: ops.FailAutomatic, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    # the log is read by everyone who sees the ticket: a sentence, no technical detail (that goes to the
    # automatic run's record, the application log and the processors' failure notice)
    if not op.final:
        return Outcome(state, (Log(SYSTEM, f"节点【{step.name}】执行失败，{op.retry_in} 秒后自动重试。",
                                   "AUTO_FAIL", step.node_key),))
    failed = step.with_(status=FAILED)
    watchers = step.users or frozenset()
    return Outcome(_replace_step(state, failed), (
        Log(SYSTEM, f"节点【{step.name}】执行失败，已通知处理人重试或跳过。", "AUTO_FAIL", step.node_key),
        StepChanged(failed), Notify("failed", watchers, step.node_key, op.error)))


def _retry(flow, state, op: ops.RetryStep, actor, directory) -> Outcome:
    step = state.step(op.node_key)
    again = step.with_(status=RUNNING)
    return Outcome(_replace_step(state, again), (
        Log(actor.username, f"{_as(actor, step)} 重试了节点【{step.name}】", RETRY, step.node_key), StepChanged(again)))


def _replace_step(state: TicketState, new: Step) -> TicketState:
    return state.with_(steps=tuple(new if s.node_key == new.node_key else s for s in state.steps))


_HANDLERS = {
    ops.Transition: _transition, ops.Claim: _claim, ops.Distribute: _distribute, ops.Deliver: _deliver,
    ops.TerminateStep: _terminate_step, ops.Suspend: _suspend, ops.Unsuspend: _unsuspend,
    ops.Withdraw: _withdraw, ops.Supervise: _supervise, ops.TerminateTicket: _terminate_ticket,
    ops.CompleteAutomatic: _complete_automatic, ops.FailAutomatic: _fail_automatic, ops.RetryStep: _retry,
    ops.SkipStep: _skip,
}
