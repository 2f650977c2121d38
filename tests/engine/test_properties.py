"""Property-based tests: random valid flows, random operation sequences, engine invariants.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import os

import yaml
from engine_kit import (ALL_ACTORS, CLOSED_MSG, DIRECTORY, ROOT_ACTOR, check_allowed_agrees, listed, snapshot,
                        valid_ops)
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from app.engine import allowed_operations, apply, start_ticket
from app.engine import operations as ops
from app.engine.state import (FINISHED, RUNNING, STEP_OPEN, SUSPEND, SUSPENDED, TICKET_OVER, Log, StepOpened,
                              TicketState)
from app.errors import OperationRefused, PermissionDenied
from app.flowdef import FlowLoadError, parse_flow_text

USERNAMES = ("alice", "bob", "carol", "dave", "erin")
GENERAL_ROLES = ("ops", "solo", "desk", "ghosts")
CMDB_ROLES = ("biz_ops", "biz_one")
CHOICES = ("fwd", "a", "b")
# ITSM_TEST_PROPERTY_EXAMPLES lowers the count for mutation runs (scripts/mutation.sh), which also derandomize
EXAMPLES = int(os.environ.get("ITSM_TEST_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=os.environ.get("ITSM_TEST_PROPERTY_DERANDOMIZE") == "1")

# --- flows ------------------------------------------------------------------------------------


def _spec(draw, biz_related: bool, *, allow_starter: bool = True) -> dict:
    kinds = ["PERSON", "GENERAL"] + (["STARTER"] if allow_starter else []) + (["CMDB"] if biz_related else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "PERSON":
        return {"type": "PERSON", "value": draw(st.lists(st.sampled_from(USERNAMES), min_size=1, max_size=3))}
    if kind == "GENERAL":
        return {"type": "GENERAL", "value": draw(st.lists(st.sampled_from(GENERAL_ROLES), min_size=1, max_size=2,
                                                           unique=True))}
    if kind == "CMDB":
        return {"type": "CMDB", "value": [draw(st.sampled_from(CMDB_ROLES))]}
    return {"type": "STARTER"}


def _when(draw, field: str, value: str) -> dict:
    if draw(st.booleans()):
        return {"field": field, "op": "==", "value": value}
    return {"field": field, "op": "in", "value": [value]}


@st.composite
def flow_docs(draw) -> dict:
    """A valid flow: submit → m1 → … → mN → end (the backbone, followed by RADIO value 'fwd'),
    plus random conditional edges on the values 'a'/'b' (forward, back, self loops, to the ends)."""
    n = draw(st.integers(1, 6))
    biz_related = draw(st.booleans())
    notify: dict = {"supervise": draw(st.booleans())}
    if draw(st.booleans()):
        notify["supervisors"] = [_spec(draw, biz_related=False)]
    start = {"key": "submit", "name": "提单", "kind": "start",
             "fields": [{"key": "title", "name": "标题", "type": "STRING"},
                        {"key": "r_submit", "name": "走向", "type": "RADIO",
                         "choices": [{"key": c, "name": c} for c in CHOICES]}]}
    if draw(st.booleans()):
        start["processors"] = {"type": "OPEN"}
    manual_keys = [f"m{i}" for i in range(1, n + 1)]
    nodes = [start]
    for key in manual_keys:
        mode = draw(st.sampled_from(("PROCESS", "CLAIM_THEN_PROCESS", "DISTRIBUTE_THEN_PROCESS", "DISTRIBUTE_THEN_CLAIM")))
        node = {"key": key, "name": f"节点{key}", "kind": "manual", "distribute_type": mode,
                "can_deliver": draw(st.booleans()), "can_terminate": draw(st.booleans()),
                "fields": [{"key": f"r_{key}", "name": "结果", "type": "RADIO",
                            "choices": [{"key": c, "name": c} for c in CHOICES]}]}
        if mode.startswith("DISTRIBUTE"):
            node["assignors"] = _spec(draw, biz_related)
            choice = draw(st.sampled_from(("none", "by_assignor", "spec")))
            if choice == "by_assignor":
                node["processors"] = {"type": "BY_ASSIGNOR"}
            elif choice == "spec":
                node["processors"] = _spec(draw, biz_related)
        else:
            node["processors"] = _spec(draw, biz_related)
        nodes.append(node)
    ends = ["end"] + (["end_no"] if draw(st.booleans()) else [])
    nodes += [{"key": e, "name": "结束" if e == "end" else "不通过", "kind": "end"} for e in ends]

    chain = ["submit", *manual_keys, "end"]
    transitions = []
    for a, b in zip(chain, chain[1:]):
        t = {"from": a, "to": b, "name": f"{a}→{b}"}
        if draw(st.booleans()):
            t["when"] = _when(draw, f"r_{a}", "fwd")
        transitions.append(t)
        for value in draw(st.lists(st.sampled_from(("a", "b")), max_size=2)):
            target = draw(st.sampled_from(["submit", *manual_keys, *ends]))
            transitions.append({"from": a, "to": target, "name": f"{a}-{value}→{target}",
                                "when": _when(draw, f"r_{a}", value)})
    if "end_no" in ends:                     # keep the second end reachable
        source = draw(st.sampled_from(chain[:-1]))
        transitions.append({"from": source, "to": "end_no", "name": "不通过",
                            "when": _when(draw, f"r_{source}", draw(st.sampled_from(("a", "b"))))})
    transitions = draw(st.permutations(transitions))
    return {"key": "random_flow", "name": "随机流程", "service_type": "request", "biz_related": biz_related,
            "notify": notify, "nodes": nodes, "transitions": list(transitions)}


def compile_doc(doc: dict):
    try:
        return parse_flow_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "random.yaml")
    except FlowLoadError:      # should not happen: the generator only builds valid flows
        assume(False)


def test_the_generator_builds_flows_the_loader_accepts():
    rejected = []

    @settings(max_examples=40, deadline=None, database=None)
    @given(flow_docs())
    def probe(doc):
        try:
            parse_flow_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "random.yaml")
        except FlowLoadError as exc:
            rejected.append(str(exc))

    probe()
    assert rejected == []


# --- operations -------------------------------------------------------------------------------


def _random_op(data, flow, state: TicketState):
    node_keys = [s.node_key for s in state.steps] + [n.key for n in flow.definition.nodes]
    kind = data.draw(st.sampled_from(("TRANSITION", "TRANSITION", "CLAIM", "DISTRIBUTE", "DELIVER", "TERMINATE_STEP",
                                      "SUSPEND", "UNSUSPEND", "WITHDRAW", "SUPERVISE", "TERMINATE")))
    message = data.draw(st.sampled_from(("", "  ", "原因")))
    if kind in ("TRANSITION", "CLAIM", "DISTRIBUTE", "DELIVER", "TERMINATE_STEP"):
        node_key = data.draw(st.sampled_from(node_keys))
        if kind == "TRANSITION":
            values = {}
            if flow.has_node(node_key) and flow.node(node_key).kind != "end":
                values = {f"r_{node_key}": data.draw(st.sampled_from((*CHOICES, "fwd", "nonsense")))}
            return ops.Transition(node_key, values)
        if kind == "CLAIM":
            return ops.Claim(node_key)
        if kind == "TERMINATE_STEP":
            return ops.TerminateStep(node_key, message)
        ptype = data.draw(st.sampled_from(("PERSON", "PERSON", "GENERAL", "CMDB")))
        pool = USERNAMES + ("mallory",) if ptype == "PERSON" else GENERAL_ROLES + CMDB_ROLES
        processors = tuple(data.draw(st.lists(st.sampled_from(pool), max_size=2)))
        cls = ops.Distribute if kind == "DISTRIBUTE" else ops.Deliver
        return cls(node_key, ptype, processors, message)
    return {"SUSPEND": ops.Suspend, "UNSUSPEND": ops.Unsuspend, "WITHDRAW": ops.Withdraw,
            "SUPERVISE": ops.Supervise, "TERMINATE": ops.TerminateTicket}[kind](message)


def _valid_op(data, flow, state: TicketState, key: tuple):
    """An operation `allowed_operations` listed, with valid input (random where there is a choice)."""
    node_key, name = key
    if name == "TRANSITION":
        values = [c for c in CHOICES if flow.next_transition(node_key, {**state.values, f"r_{node_key}": c})]
        return ops.Transition(node_key, {f"r_{node_key}": data.draw(st.sampled_from(values))})
    if name in ("DISTRIBUTE", "DELIVER"):
        target = data.draw(st.sampled_from((("PERSON", ("bob",)), ("PERSON", ("carol", "dave")),
                                            ("GENERAL", ("ops",)), ("GENERAL", ("solo", "desk")))))
        cls = ops.Distribute if name == "DISTRIBUTE" else ops.Deliver
        return cls(node_key, *target, "原因")
    return next(op for k, op in valid_ops(flow, state) if k == key)


def check_invariants(state: TicketState) -> None:
    # (b) the ticket is never lost
    if state.is_over:
        assert state.status in TICKET_OVER and state.steps == ()
    else:
        assert state.status in (RUNNING, SUSPENDED)
        assert len(state.steps) >= 1
        assert all(s.status in STEP_OPEN for s in state.steps)
    # (c) never two open steps for the same node
    keys = [s.node_key for s in state.steps]
    assert len(keys) == len(set(keys))
    # (e) suspended ⇔ every step in SUSPEND remembering its status
    if state.status == SUSPENDED:
        assert state.steps and all(s.status == SUSPEND and s.pre_status not in (None, SUSPEND) for s in state.steps)
    else:
        assert all(s.status != SUSPEND and s.pre_status is None for s in state.steps)


def check_authority(flow, state: TicketState, op, actor) -> None:
    """An accepted operation was done by someone entitled to it."""
    def processor(step):
        return step.processors_type == "OPEN" or actor.username in step.users

    if isinstance(op, ops.Withdraw):
        assert actor.username == state.creator and not state.others_acted
    elif actor.is_superuser or isinstance(op, ops.Supervise):
        return
    elif isinstance(op, ops.STEP_OPERATIONS):
        assert processor(state.step(op.node_key)), (op, actor)
    elif isinstance(op, ops.TerminateTicket):
        assert any(processor(s) and flow.node(s.node_key).can_terminate for s in state.steps), (op, actor)
    else:
        assert any(processor(s) for s in state.steps), (op, actor)


def check_over_refuses_everything(flow, state: TicketState) -> None:
    # (f)
    for actor in ALL_ACTORS:
        assert allowed_operations(flow, state, actor, DIRECTORY) == ([], {})
        probe_steps = [ops.Transition(n.key) for n in flow.definition.nodes]
        for op in [op for _, op in valid_ops(flow, state)] + probe_steps + [ops.Claim("m1"), ops.TerminateStep("m1", "x")]:
            try:
                apply(flow, state, op, actor, DIRECTORY)
            except OperationRefused as exc:
                assert exc.message == CLOSED_MSG
            else:
                raise AssertionError(f"{op} accepted on a {state.status} ticket")


def check_suspend_round_trip(flow, state: TicketState) -> None:
    # (e) resuming restores the previous statuses (and the ticket status)
    if state.status != RUNNING:
        return
    suspended = apply(flow, state, ops.Suspend("挂起"), ROOT_ACTOR, DIRECTORY).state
    check_invariants(suspended)
    assert [s.pre_status for s in suspended.steps] == [s.status for s in state.steps]
    resumed = apply(flow, suspended, ops.Unsuspend(), ROOT_ACTOR, DIRECTORY).state
    assert resumed.status == RUNNING and resumed.pre_status is None
    assert resumed.steps == state.steps
    assert resumed.values == state.values


@SETTINGS
@given(doc=flow_docs(), data=st.data())
def test_random_operation_sequences_keep_the_engine_invariants(doc, data):
    flow = compile_doc(doc)
    creator = data.draw(st.sampled_from(("alice", "bob")), label="creator")
    first = data.draw(st.sampled_from(CHOICES), label="r_submit")
    try:
        out = start_ticket(flow, creator, {"title": "t", "r_submit": first}, DIRECTORY)
    except OperationRefused as exc:         # the start node has no edge for this value
        assert flow.next_transition("submit", {"r_submit": first}) is None
        assert "没有满足条件的流转路径" in exc.message
        out = start_ticket(flow, creator, {"title": "t", "r_submit": "fwd"}, DIRECTORY)
    assert isinstance(out.events[0], Log) and out.events[0].message == "流程开始."
    state = out.state
    check_invariants(state)
    suspended_from = None
    for _ in range(data.draw(st.integers(1, 30), label="length")):
        if state.is_over:
            check_over_refuses_everything(flow, state)
            break
        # (d) allowed_operations agrees with apply, for every actor
        for actor in ALL_ACTORS:
            check_allowed_agrees(flow, state, actor)
        check_suspend_round_trip(flow, state)
        choices = sorted(((a, k) for a in ALL_ACTORS for k in listed(flow, state, a)), key=str)
        step_choices = [(a, k) for a, k in choices if k[0] is not None and k[1] != "TERMINATE"]
        how = data.draw(st.integers(0, 5), label="how to pick")   # 0 random, 1 any allowed, else a step op
        pool = step_choices if how >= 2 and step_choices else choices if how >= 1 else []
        if pool:
            actor, key = data.draw(st.sampled_from(pool), label="allowed op")
            op = _valid_op(data, flow, state, key)
        else:
            actor = data.draw(st.sampled_from(ALL_ACTORS), label="actor")
            op = _random_op(data, flow, state)
        before = snapshot(state)
        try:
            out = apply(flow, state, op, actor, DIRECTORY)
        except (OperationRefused, PermissionDenied) as exc:       # (a) nothing else may escape
            event(f"refused {type(op).__name__}")
            assert exc.message.strip()
            assert snapshot(state) == before
            continue
        assert snapshot(state) == before
        event(f"accepted {type(op).__name__}")
        if out.state.is_over:
            event(f"ended {out.state.status}")
        assert out.events and isinstance(out.events[0], Log)      # every accepted operation logs
        check_authority(flow, state, op, actor)
        new = out.state
        check_invariants(new)
        if isinstance(op, ops.Suspend):
            suspended_from = state.steps
        if isinstance(op, ops.Unsuspend):
            assert suspended_from is not None and new.steps == suspended_from
            suspended_from = None
        if isinstance(op, ops.Supervise):
            assert new == state
        if actor.username != new.creator and not isinstance(op, ops.Supervise):
            assert new.others_acted
        state = new
    else:
        if state.is_over:
            check_over_refuses_everything(flow, state)


@SETTINGS
@given(doc=flow_docs(), data=st.data())
def test_super_admin_following_the_backbone_finishes_the_ticket(doc, data):
    # (g)
    flow = compile_doc(doc)
    manual_keys = [n.key for n in flow.definition.nodes if n.kind == "manual"]
    out = start_ticket(flow, "alice", {"title": "t", "r_submit": "fwd"}, DIRECTORY)
    state = out.state
    visited = [e.step.node_key for e in out.events if isinstance(e, StepOpened)]
    bound = 3 * len(manual_keys) + 1
    for _ in range(bound):
        if state.is_over:
            break
        (step,) = state.steps
        allowed = listed(flow, state, ROOT_ACTOR)
        if (step.node_key, "TRANSITION") in allowed:
            op = ops.Transition(step.node_key, {f"r_{step.node_key}": "fwd"})
        elif (step.node_key, "CLAIM") in allowed:
            op = ops.Claim(step.node_key)
        elif (step.node_key, "DISTRIBUTE") in allowed:
            target = data.draw(st.sampled_from((("PERSON", ("bob",)), ("PERSON", ("bob", "dave")),
                                                ("GENERAL", ("ops",)), ("GENERAL", ("solo",)))))
            op = ops.Distribute(step.node_key, *target, "派")
        else:
            raise AssertionError(f"super admin has no way forward at {step}: {allowed}")
        out = apply(flow, state, op, ROOT_ACTOR, DIRECTORY)
        visited += [e.step.node_key for e in out.events if isinstance(e, StepOpened)]
        state = out.state
        check_invariants(state)
    assert state.status == FINISHED, f"not finished within {bound} operations: {state}"
    assert visited == manual_keys
