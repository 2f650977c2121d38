"""Property-based tests of parallel regions: random gateways, branches, countersigns and operation orders.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import math
import os

import yaml
from engine_kit import DIRECTORY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.engine import apply, refusal, start_ticket
from app.engine import operations as ops
from app.engine.state import FINISHED, Actor, ApprovalDecided, Log, StepOpened
from app.errors import OperationRefused, PermissionDenied
from app.flowdef import parse_flow_text

USERS = ("bob", "carol", "dave", "erin")
EXAMPLES = int(os.environ.get("ITSM_TEST_PROPERTY_EXAMPLES", "120"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=os.environ.get("ITSM_TEST_PROPERTY_DERANDOMIZE") == "1")


@st.composite
def parallel_flows(draw):
    """submit → fork ⇉ 2-3 branches (1-2 nodes each: manual or countersign, a rejection loops back to the
    branch's first node) → join → last → end. Each branch may be conditional on a start field."""
    n_branches = draw(st.integers(2, 3))
    start_fields = [{"key": "title", "name": "标题", "type": "STRING"}]
    nodes: list = [{"key": "fork", "name": "并行", "kind": "parallel"}]
    transitions: list = [{"from": "submit", "to": "fork"}]
    countersigns = {}
    for b in range(n_branches):
        conditional = draw(st.booleans())
        if conditional:
            start_fields.append({"key": f"go{b}", "name": f"分支{b}", "type": "RADIO",
                                 "choices": [{"key": "y", "name": "是"}, {"key": "n", "name": "否"}]})
        chain = [f"b{b}n{i}" for i in range(draw(st.integers(1, 2)))]
        transitions.append({"from": "fork", "to": chain[0],
                            **({"when": {"field": f"go{b}", "value": "y"}} if conditional else {})})
        for i, key in enumerate(chain):
            nxt = chain[i + 1] if i + 1 < len(chain) else "join"
            people = draw(st.lists(st.sampled_from(USERS), min_size=1, max_size=3, unique=True))
            if draw(st.booleans()):
                agree = draw(st.sampled_from(["all", 1, 2, "50%"]))
                nodes.append({"key": key, "name": key, "kind": "approval", "multi": True,
                              "processors": {"type": "PERSON", "value": people}, "finish_condition": {"agree": agree}})
                countersigns[key] = (tuple(people), agree)
                transitions += [{"from": key, "to": nxt, "when": {"field": f"{key}_result", "value": "true"}},
                                {"from": key, "to": chain[0], "when": {"field": f"{key}_result", "value": "false"}}]
            else:
                nodes.append({"key": key, "name": key, "kind": "manual",
                              "processors": {"type": "PERSON", "value": people}})
                transitions.append({"from": key, "to": nxt})
    nodes += [{"key": "join", "name": "汇聚", "kind": "converge"},
              {"key": "last", "name": "收尾", "kind": "manual", "processors": {"type": "PERSON", "value": ["bob"]}},
              {"key": "end", "name": "结束", "kind": "end"}]
    transitions += [{"from": "join", "to": "last"}, {"from": "last", "to": "end"}]
    doc = {"key": "par", "name": "并行", "service_type": "change",
           "nodes": [{"key": "submit", "name": "提单", "kind": "start", "fields": start_fields}, *nodes],
           "transitions": transitions}
    flow = parse_flow_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "par.yaml")
    values = {"title": "t", **{f["key"]: draw(st.sampled_from(["y", "n"])) for f in start_fields[1:]}}
    return flow, values, countersigns


def expected_outcome(approvers, agree, votes) -> str | None:
    """The finish condition, written independently of the engine."""
    n = len(approvers)
    need = n if agree == "all" else agree if isinstance(agree, int) else math.ceil(n * int(agree[:-1]) / 100)
    need = max(1, min(need, n))
    yes = sum(1 for v in votes if v == "true")
    if yes >= need:
        return "true"
    if n - (len(votes) - yes) < need:
        return "false"
    return None


@SETTINGS
@given(parallel_flows(), st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.booleans()), max_size=40))
def test_random_parallel_flows_keep_every_branch_and_join_rule(case, moves):
    flow, values, countersigns = case
    region = flow.regions["fork"]
    try:
        out = start_ticket(flow, "alice", values, DIRECTORY)
    except OperationRefused:
        assert not flow.branches_started("fork", values)        # refused only when no branch may start
        return
    state = out.state
    started = set(state.joins["join"].started)
    assert started == {t.to for t in flow.branches_started("fork", values)}
    arrivals: list[str] = []
    joins_fired = 0
    votes: dict[str, list[str]] = {}
    for pick, who, agree in moves:
        if state.status == FINISHED:
            break
        assert state.steps, "a running ticket always waits on some step"
        keys = [s.node_key for s in state.steps]
        assert len(keys) == len(set(keys)), "never two open steps of one node"
        lanes = [region.branch_of(k) for k in keys if k in region.inside]
        assert len(lanes) == len(set(lanes)), "one open step per branch"
        step = state.steps[pick % len(state.steps)]
        actor = Actor(sorted(step.users)[who % len(step.users)] if step.users else "mallory")
        node = flow.node(step.node_key)
        op = ops.Transition(step.node_key,
                            {f"{node.key}_result": "true" if agree else "false"} if node.kind == "approval" else {})
        try:
            out = apply(flow, state, op, actor, DIRECTORY)
        except (OperationRefused, PermissionDenied):
            continue
        if node.kind == "approval":
            votes.setdefault(node.key, []).append("true" if agree else "false")
        for ev in out.events:
            if isinstance(ev, Log) and ev.action == "CONVERGE":
                arrivals.append(ev.message)
                joins_fired += "所有分支已汇聚" in ev.message
            if isinstance(ev, ApprovalDecided):
                approvers, need = countersigns[ev.node_key]
                assert ("true" if ev.approved else "false") == expected_outcome(approvers, need, votes[ev.node_key])
                votes[ev.node_key] = []
            if isinstance(ev, StepOpened) and ev.step.node_key in region.inside:
                arrived = state.joins["join"].arrived
                assert region.branch_of(ev.step.node_key) not in arrived, "a branch that arrived never reopens"
        state = out.state
        for b in state.joins["join"].arrived:          # finished branches accept nothing more
            for k in region.nodes[b]:
                assert state.step(k) is None
                assert refusal(flow, state, ops.Transition(k), Actor("root", True), DIRECTORY) is not None
    join = state.joins["join"]
    assert len(join.arrived) == len(set(join.arrived)), "each branch reaches the converge once"
    assert set(join.arrived) <= started
    assert joins_fired <= 1, "the converge fires exactly once"
    assert joins_fired == (set(join.arrived) == started)
    if state.status == FINISHED:
        assert joins_fired == 1
    assert state.status == FINISHED or state.steps
