"""Exact behaviour of `CompiledFlow` and of the parallel region analysis (`compiled.py`, `parallel.py`).

Written against mutation testing: every lookup and its miss, the transition choice (first
conditional that holds, else the first default), the regions' whole contents, and the analysis'
problem lists compared whole.
"""
from __future__ import annotations

import pytest

from app.flowdef.compiled import CompiledFlow
from app.flowdef.model import FlowDef
from app.flowdef.parallel import Region, analyse

STARTER = {"type": "STARTER"}


def node(key, kind="manual", **kw):
    data = {"key": key, "name": key.upper(), "kind": kind, **kw}
    if kind in ("manual", "approval", "sign") and "processors" not in kw:
        data["processors"] = STARTER
    return data


def t(a, b, **kw):
    return {"from": a, "to": b, **kw}


def definition(nodes, transitions) -> FlowDef:
    return FlowDef.model_validate({"key": "cf", "name": "编译", "service_type": "change", "nodes": nodes,
                                   "transitions": transitions})


def routed() -> CompiledFlow:
    return CompiledFlow(definition(
        [node("s", "start", fields=[{"key": "risk", "name": "风险", "type": "STRING"},
                                    {"key": "note", "name": "说明", "type": "STRING",
                                     "hide_when": {"field": "risk", "value": "low"}}]),
         node("hi", fields=[{"key": "plan", "name": "方案", "type": "TEXT"}]), node("lo"), node("mid"),
         node("e", "end")],
        [t("s", "hi", when={"field": "risk", "value": "high"}), t("s", "lo"),
         t("s", "mid", when={"field": "risk", "op": "in", "value": ["high", "mid"]}), t("s", "e"),
         t("hi", "e"), t("lo", "e"), t("mid", "e")]))


def test_compiled_flow_lookups():
    cf = routed()
    assert (cf.key, cf.name, cf.start.key, repr(cf)) == ("cf", "编译", "s", "<CompiledFlow cf>")
    assert cf.node("hi").key == "hi" and cf.has_node("hi") and not cf.has_node("nope")
    with pytest.raises(KeyError):
        cf.node("nope")
    assert cf.has_field("plan") and cf.has_field("risk") and not cf.has_field("nope") and not cf.has_field("hi")
    assert cf.field("plan").name == "方案"
    with pytest.raises(KeyError):
        cf.field("nope")
    assert [f.key for f in cf.fields()] == ["risk", "note", "plan"]
    assert cf.node_of_field("plan") == "hi" and cf.node_of_field("note") == "s"
    with pytest.raises(KeyError):
        cf.node_of_field("nope")


def test_next_transition_takes_the_first_condition_that_holds_else_the_first_default():
    cf = routed()
    assert cf.next_transition("s", {"risk": "high"}).to == "hi"
    assert cf.next_transition("s", {"risk": "mid"}).to == "mid"
    assert cf.next_transition("s", {"risk": "low"}).to == "lo"       # the first default, not the later one
    assert cf.next_transition("s", {}).to == "lo"
    assert cf.next_transition("hi", {}).to == "e"
    assert cf.next_transition("e", {}) is None
    assert cf.next_transition("nope", {"risk": "high"}) is None


def test_branches_started_in_flow_order():
    cf = routed()
    assert [x.to for x in cf.branches_started("s", {"risk": "high"})] == ["hi", "lo", "mid", "e"]
    assert [x.to for x in cf.branches_started("s", {"risk": "mid"})] == ["lo", "mid", "e"]
    assert [x.to for x in cf.branches_started("s", {})] == ["lo", "e"]
    assert cf.branches_started("e", {}) == () and cf.branches_started("nope", {}) == ()


def test_hidden_fields():
    cf = routed()
    assert cf.is_hidden("note", {"risk": "low"}) is True
    assert cf.is_hidden("note", {"risk": "high"}) is False
    assert cf.is_hidden("note", {}) is False
    assert cf.is_hidden("risk", {"risk": "low"}) is False
    assert cf.is_hidden("nope", {}) is False
    assert list(cf.hide_predicates) == ["note"]


def test_a_flow_without_gateways_has_no_regions():
    cf = routed()
    assert cf.regions == {}
    assert cf.closes("s") is False
    with pytest.raises(KeyError):
        cf.region_of_converge("s")


# --- regions -----------------------------------------------------------------

def nested() -> FlowDef:
    # s -> p -> (a -> p2 -> (x | y) -> c2 -> b) | (z) | c (empty branch) -> c -> e
    return definition(
        [node("s", "start"), node("p", "parallel"), node("a"), node("p2", "parallel"), node("x"), node("y"),
         node("c2", "converge"), node("b"), node("z"), node("c", "converge"), node("e", "end")],
        [t("s", "p"), t("p", "a"), t("p", "z", when={"field": "k", "value": 1}), t("p", "c"),
         t("a", "p2"), t("p2", "x"), t("p2", "y"), t("x", "c2"), t("y", "c2"), t("c2", "b"), t("b", "c"),
         t("z", "c"), t("c", "e")])


def test_nested_regions_whole():
    regions, problems = analyse(nested())
    assert problems == []
    assert regions == {
        "p": Region("p", "c", ("a", "z", "c"),
                    {"a": frozenset({"a", "p2", "x", "y", "c2", "b"}), "z": frozenset({"z"}), "c": frozenset()},
                    {"a": False, "z": True, "c": False}),
        "p2": Region("p2", "c2", ("x", "y"), {"x": frozenset({"x"}), "y": frozenset({"y"})},
                     {"x": False, "y": False}),
    }
    outer = regions["p"]
    assert outer.inside == frozenset({"a", "p2", "x", "y", "c2", "b", "z"})
    assert outer.branch_of("p") == "c" and outer.branch_of("x") == "a" and outer.branch_of("z") == "z"
    assert outer.branch_of("s") is None and outer.branch_of("c") is None
    cf = CompiledFlow(nested())
    assert cf.regions == regions
    assert cf.closes("c") and cf.closes("c2") and not cf.closes("p") and not cf.closes("b")
    assert cf.region_of_converge("c2") == regions["p2"]
    assert cf.region_of_converge("c2") is cf.regions["p2"] and cf.region_of_converge("c") is cf.regions["p"]


def test_a_loop_back_inside_a_branch_stays_on_it():
    f = definition([node("s", "start"), node("p", "parallel"), node("a"), node("a2"), node("b"),
                    node("c", "converge"), node("after"), node("e", "end")],
                   [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "a2"), t("a2", "a", when={"field": "k"}),
                    t("a2", "c"), t("b", "c"), t("c", "after"), t("after", "e")])
    regions, problems = analyse(f)
    assert problems == []
    assert regions["p"].nodes == {"a": frozenset({"a", "a2"}), "b": frozenset({"b"})}


def problems_of(nodes, transitions):
    return analyse(definition(nodes, transitions))


def test_one_branch_is_too_few():
    regions, problems = problems_of([node("s", "start"), node("p", "parallel"), node("a"), node("c", "converge"),
                                     node("e", "end")],
                                    [t("s", "p"), t("p", "a"), t("a", "c"), t("c", "e")])
    assert regions == {}
    assert problems == [(("nodes", 1), "parallel gateway 'p' needs at least two outgoing transitions")]


def test_two_branches_into_one_node():
    regions, problems = problems_of([node("s", "start"), node("p", "parallel"), node("a"), node("c", "converge"),
                                     node("e", "end")],
                                    [t("s", "p"), t("p", "a"), t("p", "a", when={"field": "k"}), t("a", "c"),
                                     t("c", "e")])
    assert regions == {}
    assert problems == [(("transitions", 2), "two branches of parallel gateway 'p' start at 'a'")]


def test_branches_meeting_nowhere_or_at_two_converges():
    _, problems = problems_of([node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("e", "end")],
                              [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "e"), t("b", "e")])
    assert problems == [(("nodes", 1),
                         "the branches of parallel gateway 'p' must all lead to one converge gateway (none is reached)")]
    _, problems = problems_of([node("s", "start"), node("p", "parallel"), node("a"), node("b"),
                               node("c1", "converge"), node("c2", "converge"), node("e", "end")],
                              [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c1"), t("b", "c2"), t("c1", "e"),
                               t("c2", "e")])
    assert problems == [(("nodes", 1), "the branches of parallel gateway 'p' must all lead to one converge gateway "
                                       "(they reach c1, c2)")]


def test_orphan_converge_and_shared_converge():
    _, problems = problems_of([node("s", "start"), node("c", "converge"), node("e", "end")],
                              [t("s", "c"), t("c", "e")])
    assert problems == [(("nodes", 1), "converge gateway 'c' is not matched by a parallel gateway")]
    regions, problems = problems_of(
        [node("s", "start"), node("p1", "parallel"), node("p2", "parallel"), node("a"), node("b"), node("x"),
         node("y"), node("c", "converge"), node("e", "end")],
        [t("s", "p1", when={"field": "k"}), t("s", "p2"), t("p1", "a"), t("p1", "b"), t("p2", "x"), t("p2", "y"),
         t("a", "c"), t("b", "c"), t("x", "c"), t("y", "c"), t("c", "e")])
    assert regions == {}
    assert problems == [(("nodes", 7), "converge gateway 'c' closes several parallel gateways (p1, p2): give each "
                                       "its own")]


def test_a_malformed_region_does_not_also_report_its_converge_unmatched():
    _, problems = problems_of([node("s", "start"), node("p", "parallel"), node("c", "converge"), node("e", "end")],
                              [t("s", "p"), t("p", "c"), t("c", "e")])
    assert problems == [(("nodes", 1), "parallel gateway 'p' needs at least two outgoing transitions")]


def test_crossing_leaving_and_entering_branches():
    nodes = [node("s", "start"), node("p", "parallel"), node("a"), node("a2"), node("b"), node("b2"),
             node("c", "converge"), node("out"), node("o"), node("e", "end")]
    cond = {"field": "k", "value": 1}
    regions, problems = problems_of(nodes, [
        t("s", "p"), t("o", "b2"), t("s", "c", when={"field": "k", "value": 2}),
        t("p", "a"), t("p", "b"), t("a", "a2"), t("a", "b2", when=cond), t("a2", "c"), t("a2", "out", when=cond),
        t("b", "b2"), t("b2", "c"), t("c", "out"), t("out", "e"), t("a2", "s", when={"field": "z"})])
    # b2 is reached from both branches: it is on both, and the first one names it
    assert regions["p"].nodes == {"a": frozenset({"a", "a2", "b2"}), "b": frozenset({"b", "b2"})}
    assert problems == [
        (("transitions", 1), "transition from 'o' enters branch 'a' of parallel gateway 'p' from outside "
                             "(only the gateway 'p' starts its branches)"),
        (("transitions", 2), "transition from 's' enters the converge gateway 'c' from outside "
                             "(only the gateway 'p' starts its branches)"),
        (("transitions", 6), "transition from 'a' crosses from branch 'a' into branch 'b' of parallel gateway 'p'"),
        (("transitions", 8), "transition from 'a2' leaves branch 'a' of parallel gateway 'p' before its converge "
                             "gateway 'c'"),
        (("transitions", 9), "transition from 'b' crosses from branch 'b' into branch 'a' of parallel gateway 'p'"),
        (("transitions", 13), "transition from 'a2' leaves branch 'a' of parallel gateway 'p' before its converge "
                              "gateway 'c'"),
    ]


def test_a_gateway_nested_in_its_own_branch():
    _, problems = problems_of([node("s", "start"), node("p", "parallel"), node("a"), node("b"),
                               node("c", "converge"), node("e", "end")],
                              [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "p"), t("b", "c"), t("a", "c"),
                               t("c", "e")])
    assert (("nodes", 1), "parallel gateway 'p' is nested inside its own branches") not in problems
    regions, _ = analyse(definition([node("s", "start"), node("p", "parallel"), node("q", "parallel"), node("a"),
                                     node("c", "converge"), node("e", "end")],
                                    [t("s", "p"), t("p", "q"), t("p", "a"), t("q", "p"), t("q", "a"), t("a", "c"),
                                     t("c", "e")]))
    assert regions == {}


def test_nodes_past_the_converge_are_found_behind_a_loop_back_to_the_gateway():
    # after the converge: first a loop back to the gateway, then x; a branch jumping to x leaves early
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("c", "converge"), node("x"),
         node("e", "end")],
        [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c"), t("b", "c"), t("c", "p", when={"field": "k"}),
         t("c", "x"), t("x", "e"), t("a", "x", when={"field": "k"})])
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}
    assert problems == [(("transitions", 8), "transition from 'a' leaves branch 'a' of parallel gateway 'p' before "
                                             "its converge gateway 'c'")]


def test_a_branch_jumping_two_nodes_past_the_converge_leaves_early():
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("c", "converge"), node("x"),
         node("y"), node("e", "end")],
        [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c"), t("b", "c"), t("c", "x"), t("x", "y"), t("y", "e"),
         t("a", "y", when={"field": "k"})])
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}
    assert problems == [(("transitions", 8), "transition from 'a' leaves branch 'a' of parallel gateway 'p' before "
                                             "its converge gateway 'c'")]


def test_analyse_works_on_a_flow_without_a_start_node():
    regions, problems = problems_of(
        [node("m"), node("p", "parallel"), node("a"), node("b"), node("c", "converge"), node("e", "end")],
        [t("m", "p"), t("p", "a"), t("p", "b"), t("a", "c"), t("b", "c"), t("c", "e")])
    assert problems == []
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}


def test_nodes_before_the_gateway_are_found_past_it_in_the_queue():
    # from the start: first the gateway, then x (another way out); a branch going back to x leaves early
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("c", "converge"), node("x"),
         node("e", "end")],
        [t("s", "p"), t("s", "x", when={"field": "k"}), t("x", "e"), t("p", "a"), t("p", "b"), t("a", "c"),
         t("b", "c"), t("c", "e"), t("a", "x", when={"field": "k"})])
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}
    assert problems == [(("transitions", 8), "transition from 'a' leaves branch 'a' of parallel gateway 'p' before "
                                             "its converge gateway 'c'")]


def test_a_branch_never_takes_in_an_end_node_or_another_converge():
    base = [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("c", "converge")]
    main = [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c"), t("b", "c"), t("c", "e")]
    leaves = (("transitions", 6), "transition from 'a' leaves branch 'a' of parallel gateway 'p' before its converge "
                                  "gateway 'c'")
    regions, problems = problems_of(base + [node("e", "end"), node("e2", "end")],
                                    main + [t("a", "e2", when={"field": "k"})])
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}
    assert problems == [leaves]
    regions, problems = problems_of(base + [node("c2", "converge"), node("e", "end")],
                                    main + [t("a", "c2", when={"field": "k"}), t("c2", "e")])
    assert regions["p"].nodes == {"a": frozenset({"a"}), "b": frozenset({"b"})}
    assert problems == [(("nodes", 5), "converge gateway 'c2' is not matched by a parallel gateway"), leaves]


def test_the_search_for_the_converge_stops_at_an_end_node():
    # (check_flow refuses an end node with outgoing transitions first; analyse alone still stops there)
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("e2", "end"), node("c", "converge"),
         node("e", "end")],
        [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c"), t("b", "e2"), t("e2", "c"), t("c", "e")])
    assert regions == {}
    assert problems == [(("nodes", 1), "the branches of parallel gateway 'p' must all lead to one converge gateway "
                                       "(they reach c)")]


def test_a_gateway_whose_inner_gateway_leads_back_to_it():
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("q", "parallel"), node("a"), node("b"), node("c", "converge"),
         node("e", "end")],
        [t("s", "p"), t("p", "q"), t("p", "a"), t("q", "p"), t("q", "b"), t("a", "c"), t("b", "c"), t("c", "e")])
    assert regions == {}
    assert problems == [
        (("nodes", 1), "parallel gateway 'p' is nested inside its own branches"),
        (("nodes", 2), "the branches of parallel gateway 'q' must all lead to one converge gateway (they reach c)"),
        (("nodes", 1), "the branches of parallel gateway 'p' must all lead to one converge gateway (they reach c)"),
    ]


def test_a_gateway_without_outgoing_transitions():
    regions, problems = problems_of([node("s", "start"), node("p", "parallel"), node("e", "end")],
                                    [t("s", "p"), t("s", "e")])
    assert regions == {}
    assert problems == [(("nodes", 1), "parallel gateway 'p' needs at least two outgoing transitions")]


def test_a_branch_reaching_another_converge_first_still_meets_at_the_common_one():
    regions, problems = problems_of(
        [node("s", "start"), node("p", "parallel"), node("a"), node("b"), node("c", "converge"), node("c2", "converge"),
         node("e", "end")],
        [t("s", "p"), t("p", "a"), t("p", "b"), t("a", "c2", when={"field": "k"}), t("a", "c"), t("b", "c"),
         t("c", "e"), t("c2", "e")])
    assert regions["p"].converge == "c"
    assert problems == [(("nodes", 5), "converge gateway 'c2' is not matched by a parallel gateway"),
                        (("transitions", 3), "transition from 'a' leaves branch 'a' of parallel gateway 'p' before "
                                             "its converge gateway 'c'")]
