"""What a converge gateway records, compared whole, its refusal, and a join's stored form (found by mutation testing).

Pure engine tests: no app, no database. See "Mutation testing" in docs/architecture.md.
"""
from __future__ import annotations

import pytest
from engine_kit import BOB, CAROL, build_flow, do, manual, of
from engine_kit import opened, parallel_flow

from app.engine import operations as ops
from app.engine.state import Join, Log
from app.errors import OperationRefused

REFUSED = "汇聚网关【评审汇聚】收到了未启动或已汇聚的分支，请检查流程配置"


def test_each_arrival_at_the_converge_is_logged_by_the_system_with_the_branches_still_awaited():
    flow = parallel_flow(empty_branch=True)
    first = opened(flow)
    assert of(first.events, Log)[-2] == Log("system", "并行网关【并行评审】启动分支：安全评审、DBA 评审、直接汇聚",
                                            "PARALLEL", "fork")
    assert of(first.events, Log)[-1] == Log("system", "分支【直接汇聚】到达汇聚网关【评审汇聚】，等待分支：安全评审、DBA 评审",
                                            "CONVERGE", "join")
    second = do(flow, first.state, ops.Transition("security", {}), BOB)
    assert of(second.events, Log)[-1] == Log("system", "分支【安全评审】到达汇聚网关【评审汇聚】，等待分支：DBA 评审",
                                             "CONVERGE", "join")
    last = do(flow, second.state, ops.Transition("dba", {}), CAROL)
    assert of(last.events, Log)[1] == Log("system", "分支【DBA 评审】到达汇聚网关【评审汇聚】，所有分支已汇聚",
                                          "CONVERGE", "join")
    assert last.state.step("implement") is not None


def test_a_branch_arriving_twice_is_refused_and_so_is_one_without_a_join():
    flow = parallel_flow()
    state = opened(flow).state
    arrived = state.with_(joins={"join": Join("fork", ("security", "dba"), ("security",))})
    with pytest.raises(OperationRefused) as info:
        do(flow, arrived, ops.Transition("security", {}), BOB)
    assert info.value.message == REFUSED
    with pytest.raises(OperationRefused) as info:
        do(flow, state.with_(joins={}), ops.Transition("security", {}), BOB)
    assert info.value.message == REFUSED
    with pytest.raises(OperationRefused) as info:        # a branch the gateway did not start
        do(flow, state.with_(joins={"join": Join("fork", ("dba",))}), ops.Transition("security", {}), BOB)
    assert info.value.message == REFUSED


def test_a_join_is_stored_as_plain_json_and_read_back():
    join = Join("fork", ("security", "dba"), ("dba",))
    assert join.as_json() == {"parallel": "fork", "started": ["security", "dba"], "arrived": ["dba"]}
    assert Join.from_json(join.as_json()) == join
    assert Join.from_json({"parallel": 7, "started": ["a"]}) == Join("7", ("a",), ())
    assert Join.from_json({"parallel": "p", "started": None, "arrived": None}) == Join("p", (), ())
    assert Join.from_json({"parallel": "p", "arrived": ["b"]}) == Join("p", (), ("b",))


def test_a_branch_starting_at_a_role_node_resolves_its_processors_through_the_directory():
    nodes = [{"key": "fork", "name": "并行评审", "kind": "parallel"},
             manual("security", name="安全评审", processors={"type": "GENERAL", "value": ["desk"]}, fields=[]),
             manual("dba", name="DBA 评审", processors={"type": "PERSON", "value": ["carol"]}, fields=[]),
             {"key": "join", "name": "评审汇聚", "kind": "converge"}]
    flow = build_flow(nodes, [{"from": "submit", "to": "fork"}, {"from": "fork", "to": "security"},
                              {"from": "fork", "to": "dba"}, {"from": "security", "to": "join"},
                              {"from": "dba", "to": "join"}, {"from": "join", "to": "end"}])
    state = opened(flow).state
    assert state.step("security").users == {"carol", "erin"}
