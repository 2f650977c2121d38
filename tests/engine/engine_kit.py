"""Shared helpers for the engine tests: a fake directory, a flow builder, op builders, checks.

Pure: no app, no database. Imported by the test modules of this directory
(pytest puts this directory on sys.path).
"""
from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any, Iterable

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.engine import allowed_operations, apply, refusal, start_ticket  # noqa: E402
from app.engine import operations as ops  # noqa: E402
from app.engine.state import Actor, Log, Notify, Outcome, TicketState  # noqa: E402
from app.errors import OperationRefused, PermissionDenied  # noqa: E402
from app.flowdef import CompiledFlow, parse_flow_text  # noqa: E402

SUPER_NOTE = "（超级管理员特殊处理）"
CLOSED_MSG = "抱歉，单据已关闭，无法操作"
NOT_SUSPENDED_MSG = "抱歉，该单据不在挂起中，无法操作"

CREATOR = "alice"
ROOT_USER = "root"
ALICE = Actor("alice")
BOB = Actor("bob")
CAROL = Actor("carol")
DAVE = Actor("dave")
ERIN = Actor("erin")
MALLORY = Actor("mallory")       # in no role, processor of nothing
ROOT_ACTOR = Actor(ROOT_USER, is_superuser=True)
ALL_ACTORS = (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, ROOT_ACTOR)

ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("GENERAL", "ops"): frozenset({"bob", "carol"}),
    ("GENERAL", "solo"): frozenset({"dave"}),
    ("GENERAL", "desk"): frozenset({"carol", "erin"}),
    ("GENERAL", "ghosts"): frozenset(),
    ("CMDB", "biz_ops"): frozenset({"erin", "dave"}),
    ("CMDB", "biz_one"): frozenset({"bob"}),
}


class FakeDirectory:
    """`role_members` over a fixed table; records its calls."""

    def __init__(self, roles: dict[tuple[str, str], frozenset[str]] | None = None):
        self.roles = dict(ROLES if roles is None else roles)
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def role_members(self, role_type: str, keys: tuple[str, ...]) -> frozenset[str]:
        self.calls.append((role_type, tuple(keys)))
        out: set[str] = set()
        for k in keys:
            out |= self.roles.get((role_type, k), frozenset())
        return frozenset(out)


DIRECTORY = FakeDirectory()


# --- flows -------------------------------------------------------------------

def radio(key: str, *choices: str, required: bool = True) -> dict:
    return {"key": key, "name": key, "type": "RADIO", "required": required,
            "choices": [{"key": c, "name": c} for c in choices]}


def manual(key: str, *, processors: dict | None = None, distribute_type: str = "PROCESS",
           assignors: dict | None = None, can_deliver: bool = False, can_terminate: bool = False,
           fields: list | None = None, name: str | None = None) -> dict:
    node: dict[str, Any] = {"key": key, "name": name or key, "kind": "manual", "distribute_type": distribute_type}
    if processors is not None:
        node["processors"] = processors
    if assignors is not None:
        node["assignors"] = assignors
    node["can_deliver"] = can_deliver
    node["can_terminate"] = can_terminate
    node["fields"] = fields if fields is not None else [radio(f"{key}_result", "ok", "back")]
    return node


def build_flow(nodes: list[dict], transitions: list[dict], *, notify: dict | None = None,
               biz_related: bool = False, start: dict | None = None, key: str = "demo",
               extra_nodes: list[dict] | None = None) -> CompiledFlow:
    start_node = start or {"key": "submit", "name": "提单", "kind": "start",
                           "fields": [{"key": "title", "name": "标题", "type": "STRING"}]}
    doc: dict[str, Any] = {"key": key, "name": "测试流程", "service_type": "request",
                           "biz_related": biz_related,
                           "nodes": [start_node, *nodes, {"key": "end", "name": "结束", "kind": "end"}, *(extra_nodes or [])],
                           "transitions": transitions}
    if notify is not None:
        doc["notify"] = notify
    return parse_flow_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), f"{key}.yaml")


def one_node_flow(**node_kw: Any) -> CompiledFlow:
    """submit → work → end (work_result == ok) / → submit (work_result == back); no default."""
    notify = node_kw.pop("notify", None)
    biz = node_kw.pop("biz_related", False)
    name = node_kw.pop("name", "处理")
    node_kw.setdefault("processors", {"type": "PERSON", "value": ["bob"]})
    return build_flow(
        [manual("work", name=name, **node_kw)],
        [{"from": "submit", "to": "work", "name": "提交"},
         {"from": "work", "to": "end", "name": "完成", "when": {"field": "work_result", "value": "ok"}},
         {"from": "work", "to": "submit", "name": "退回", "when": {"field": "work_result", "value": "back"}}],
        notify=notify, biz_related=biz)


def two_node_flow(first: dict | None = None, second: dict | None = None, **kw: Any) -> CompiledFlow:
    """submit → first → second → end, every transition a default one."""
    first = first or manual("first", processors={"type": "PERSON", "value": ["bob"]}, fields=[])
    second = second or manual("second", processors={"type": "PERSON", "value": ["carol"]}, fields=[])
    return build_flow([first, second],
                      [{"from": "submit", "to": first["key"], "name": "提交"},
                       {"from": first["key"], "to": second["key"], "name": "下一步"},
                       {"from": second["key"], "to": "end", "name": "完成"}], **kw)


# --- running -----------------------------------------------------------------

def start(flow: CompiledFlow, creator: str = CREATOR, values: dict | None = None,
          directory: Any = DIRECTORY) -> Outcome:
    return start_ticket(flow, creator, values or {"title": "t"}, directory)


def do(flow: CompiledFlow, state: TicketState, op: Any, actor: Actor, directory: Any = DIRECTORY) -> Outcome:
    return apply(flow, state, op, actor, directory)


def logs(events: Iterable) -> list[str]:
    return [e.message for e in events if isinstance(e, Log)]


def of(events: Iterable, cls: type) -> list:
    return [e for e in events if isinstance(e, cls)]


def notifies(events: Iterable, kind: str | None = None) -> list[Notify]:
    return [e for e in events if isinstance(e, Notify) and (kind is None or e.kind == kind)]


def snapshot(state: TicketState) -> tuple:
    return (state.status, state.creator, dict(state.values), state.steps, state.others_acted, state.pre_status)


def listed(flow: CompiledFlow, state: TicketState, actor: Actor, directory: Any = DIRECTORY) -> set[tuple]:
    """allowed_operations flattened to {(None, KEY)} ∪ {(node_key, KEY)}."""
    ticket_ops, step_ops = allowed_operations(flow, state, actor, directory)
    out = {(None, k) for k in ticket_ops}
    for node_key, keys in step_ops.items():
        out |= {(node_key, k) for k in keys}
    return out


def assert_refused(flow: CompiledFlow, state: TicketState, op: Any, actor: Actor, error: type,
                   message: str | None = None, directory: Any = DIRECTORY, *, check_listed: bool = True):
    """`apply` raises exactly `error` (with exactly `message`, when given), `refusal` agrees, the state is untouched."""
    before = snapshot(state)
    with pytest.raises((OperationRefused, PermissionDenied)) as info:
        apply(flow, state, op, actor, directory)
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    if message is not None:
        assert info.value.message == message, info.value.message
    assert info.value.message.strip()
    assert snapshot(state) == before
    predicted = refusal(flow, state, op, actor, directory)
    if predicted is not None:          # None only for refusals found while applying (form values, empty roles)
        assert type(predicted) is error and predicted.message == info.value.message
    if check_listed:
        # listed iff only the input (message, processors, form values) is at fault
        structural = refusal(flow, state, op, actor, directory, check_input=False)
        key = (getattr(op, "node_key", None), op.key)
        assert (key in listed(flow, state, actor, directory)) == (structural is None), (key, structural)
    return info.value


# --- valid operations (for allowed/apply agreement) ----------------------------

def transition_values(flow: CompiledFlow, state: TicketState, node_key: str) -> dict | None:
    """Values for the node's RADIO fields that make some transition match (None: none does)."""
    node = flow.node(node_key)
    radios = [f for f in node.fields if f.type == "RADIO"]
    for combo in itertools.product(*([c.key for c in f.choices] for f in radios)):
        values = {f.key: v for f, v in zip(radios, combo)}
        if flow.next_transition(node_key, {**state.values, **values}) is not None:
            return values
    return None


def valid_ops(flow: CompiledFlow, state: TicketState) -> list[tuple[tuple, Any]]:
    """Every operation kind, once per open step for step operations, with valid input."""
    out: list[tuple[tuple, Any]] = [
        ((None, "SUSPEND"), ops.Suspend("挂起原因")),
        ((None, "UNSUSPEND"), ops.Unsuspend("恢复")),
        ((None, "WITHDRAW"), ops.Withdraw("不要了")),
        ((None, "SUPERVISE"), ops.Supervise("快点")),
        ((None, "TERMINATE"), ops.TerminateTicket("终止原因")),
    ]
    for s in state.steps:
        k = s.node_key
        values = transition_values(flow, state, k) if flow.has_node(k) else {}
        out += [
            ((k, "TRANSITION"), ops.Transition(k, values or {})),
            ((k, "CLAIM"), ops.Claim(k)),
            ((k, "DISTRIBUTE"), ops.Distribute(k, "PERSON", ("bob",), "派给 bob")),
            ((k, "DELIVER"), ops.Deliver(k, "PERSON", ("carol",), "转给 carol")),
            ((k, "TERMINATE"), ops.TerminateStep(k, "终止原因")),
        ]
    return out


def check_allowed_agrees(flow: CompiledFlow, state: TicketState, actor: Actor, directory: Any = DIRECTORY) -> set:
    """Every listed operation is accepted by apply with valid input, every unlisted one is refused."""
    allowed = listed(flow, state, actor, directory)
    for key, op in valid_ops(flow, state):
        before = snapshot(state)
        try:
            apply(flow, state, op, actor, directory)
            accepted = True
        except (OperationRefused, PermissionDenied):
            accepted = False
        assert snapshot(state) == before
        if key[1] == "TRANSITION" and transition_values(flow, state, key[0]) is None:
            continue              # a flow whose conditions leave this state stuck: not the engine's call
        assert accepted == (key in allowed), f"{key} listed={key in allowed} accepted={accepted} for {actor}"
    return allowed


# --- approval nodes (test_approval, test_approval_details) ---
def approval_flow(*, multi=False, sequential=False, agree=None, approvers=("bob", "carol", "dave"), extra=None):
    node = {"key": "cab", "name": "CAB 评审", "kind": "approval",
            "processors": {"type": "PERSON", "value": list(approvers)}}
    if multi:
        node["multi"] = True
    if sequential:
        node["sequential"] = True
    if agree is not None:
        node["finish_condition"] = {"agree": agree}
    if extra:
        node["fields"] = extra
    return build_flow(
        [node],
        [{"from": "submit", "to": "cab", "name": "提交"},
         {"from": "cab", "to": "end", "name": "通过", "when": {"field": "cab_result", "value": "true"}},
         {"from": "cab", "to": "rejected", "name": "拒绝", "when": {"field": "cab_result", "value": "false"}}],
        extra_nodes=[{"key": "rejected", "name": "审批不通过", "kind": "end", "approve_result": False}])


def decide(flow, state, actor, result, remark="", **extra):
    return do(flow, state, ops.Transition("cab", {"cab_result": result, "cab_remark": remark, **extra}), actor)


# --- parallel gateways (test_parallel, test_parallel_details) ---
def yes_no(key: str) -> dict:
    return {"key": key, "name": key, "type": "RADIO", "choices": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]}


def parallel_flow(*, conditional: bool = True, empty_branch: bool = False, cab: bool = False) -> object:
    """submit (sec?, db?) → fork ⇉ security (bob) ∥ dba (carol) → join → implement (dave) → end."""
    start_node = {"key": "submit", "name": "提单", "kind": "start",
                  "fields": [{"key": "title", "name": "标题", "type": "STRING"}, yes_no("sec"), yes_no("db")]}
    nodes = [
        {"key": "fork", "name": "并行评审", "kind": "parallel"},
        manual("security", name="安全评审", processors={"type": "PERSON", "value": ["bob"]}, fields=[],
               can_terminate=True),
        manual("dba", name="DBA 评审", processors={"type": "PERSON", "value": ["carol"]}, fields=[]),
        {"key": "join", "name": "评审汇聚", "kind": "converge"},
        manual("implement", name="实施", processors={"type": "PERSON", "value": ["dave"]}, fields=[]),
    ]
    if cab:
        nodes[1] = {"key": "security", "name": "安全评审", "kind": "approval", "multi": True,
                    "processors": {"type": "PERSON", "value": ["bob", "erin"]}}
    fork_to = [
        {"from": "fork", "to": "security", "name": "安全",
         **({"when": {"field": "sec", "value": "yes"}} if conditional else {})},
        {"from": "fork", "to": "dba", "name": "数据库",
         **({"when": {"field": "db", "value": "yes"}} if conditional else {})},
    ]
    if empty_branch:
        fork_to.append({"from": "fork", "to": "join", "name": "无需评审"})
    transitions = [{"from": "submit", "to": "fork", "name": "提交"}, *fork_to,
                   {"from": "security", "to": "join"}, {"from": "dba", "to": "join"},
                   {"from": "join", "to": "implement"}, {"from": "implement", "to": "end"}]
    if cab:          # the security review is a countersign; a rejection loops back inside its branch
        transitions.remove({"from": "security", "to": "join"})
        transitions += [{"from": "security", "to": "join", "when": {"field": "security_result", "value": "true"}},
                        {"from": "security", "to": "security_again",
                         "when": {"field": "security_result", "value": "false"}},
                        {"from": "security_again", "to": "security"}]
        nodes.append(manual("security_again", name="整改", processors={"type": "PERSON", "value": ["bob"]},
                            fields=[]))
    return build_flow(nodes, transitions, start=start_node)


def opened(flow, sec="yes", db="yes"):
    return start(flow, values={"title": "t", "sec": sec, "db": db})
