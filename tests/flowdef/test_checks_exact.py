"""Exact problem lists of `check_flow` (`app/flowdef/checks.py`), location and message.

Written against mutation testing: each check is called on a schema-valid `FlowDef` and the whole
list of `(location, message)` is compared, including which problems stop the later checks.
"""
from __future__ import annotations

from app.flowdef.checks import _reach, check_flow
from app.flowdef.model import FlowDef

STARTER = {"type": "STARTER"}


def node(key, kind="manual", **kw):
    data = {"key": key, "name": key.upper(), "kind": kind, **kw}
    if kind in ("manual", "approval", "sign") and "processors" not in kw and "assignors" not in kw:
        data["processors"] = STARTER
    return data


def field(key, type_="STRING", **kw):
    return {"key": key, "name": key, "type": type_, **kw}


def t(a, b, **kw):
    return {"from": a, "to": b, **kw}


def flow(nodes, transitions, **kw) -> FlowDef:
    return FlowDef.model_validate({"key": "f", "name": "f", "service_type": "request", "nodes": nodes,
                                   "transitions": transitions, **kw})


def test_a_valid_flow_has_no_problems():
    f = flow([node("s", "start"), node("m"), node("e", "end")], [t("s", "m"), t("m", "e")])
    assert check_flow(f) == []
    assert check_flow(f, known_roles=set(), known_dictionaries=set()) == []


def test_first_stage_problems_are_all_reported_and_stop_the_graph_checks():
    f = flow([node("s", "start"), node("s"), node("x"), node("e", "end")],
             [t("s", "e"), t("e", "s"), t("s", "q"), t("q", "r"), t("x", "e"), t("x", "e"), t("x", "e")])
    assert check_flow(f) == [
        (("nodes", 1, "key"), "duplicate node key 's'"),
        (("transitions", 1, "from"), "an end node ('e') has no outgoing transitions"),
        (("transitions", 2, "to"), "transition to unknown node 'q'"),
        (("transitions", 3, "from"), "transition from unknown node 'q'"),
        (("transitions", 3, "to"), "transition to unknown node 'r'"),
        (("transitions", 5), "node 'x' has more than one transition without 'when'"),
    ]


def test_start_and_end_counts():
    none = flow([node("a"), node("b")], [t("a", "b")])
    assert check_flow(none) == [(("nodes",), "a flow needs exactly one start node, found 0"),
                                (("nodes",), "a flow needs at least one end node")]
    two = flow([node("s", "start"), node("s2", "start"), node("e", "end")], [t("s", "e"), t("s2", "e")])
    assert check_flow(two) == [(("nodes",), "a flow needs exactly one start node, found 2")]


def test_a_second_default_counts_per_node_and_conditions_do_not_count():
    cond = {"field": "title", "value": "x"}
    f = flow([node("s", "start", fields=[field("title")]), node("a"), node("b"), node("e", "end")],
             [t("s", "a", when=cond), t("s", "b"), t("s", "e", when=cond), t("a", "e"), t("b", "e")])
    assert check_flow(f) == []


def test_unreachable_and_dead_end_nodes():
    cond = {"field": "x", "value": 1}
    f = flow([node("s", "start"), node("a"), node("loop"), node("orphan"), node("e", "end")],
             [t("s", "a"), t("a", "e"), t("a", "loop", when=cond), t("loop", "a"), t("orphan", "e")])
    assert check_flow(f) == [(("nodes", 3), "node 'orphan' is unreachable from the start node")]
    g = flow([node("s", "start"), node("a"), node("b"), node("e", "end")],
             [t("s", "a"), t("a", "e"), t("s", "b", when=cond), t("b", "b")])
    assert check_flow(g) == [(("nodes", 2), "no path from node 'b' to an end node")]
    both = flow([node("s", "start"), node("b"), node("o"), node("e", "end")],
                [t("s", "e"), t("s", "b", when=cond), t("b", "b"), t("o", "e")])
    assert check_flow(both) == [(("nodes", 1), "no path from node 'b' to an end node"),
                                (("nodes", 2), "node 'o' is unreachable from the start node")]


def test_an_end_reached_through_another_end_is_not_needed():
    f = flow([node("s", "start"), node("e1", "end"), node("e2", "end")], [t("s", "e1")])
    assert check_flow(f) == [(("nodes", 2), "node 'e2' is unreachable from the start node")]


def test_reach():
    edges = {"a": ["b", "c"], "b": ["d"], "c": ["d", "a"], "x": ["a"]}
    assert _reach("a", edges) == {"a", "b", "c", "d"}
    assert _reach("d", edges) == {"d"}
    assert _reach("x", edges) == {"x", "a", "b", "c", "d"}
    assert _reach("zz", {}) == {"zz"}


def test_field_problems():
    src = {"dictionary": "RISK"}
    f = flow([node("s", "start", fields=[field("a"), field("r", "SELECT", source=src)]),
              node("m", fields=[field("b"), field("a"), field("r2", "SELECT", source={"dictionary": "NOPE"})]),
              node("m2", fields=[field("a")]), node("e", "end")],
             [t("s", "m"), t("m", "m2"), t("m2", "e")])
    assert check_flow(f, known_dictionaries={"RISK"}) == [
        (("nodes", 1, "fields", 1, "key"), "duplicate field key 'a' (already on node 's')"),
        (("nodes", 1, "fields", 2, "source", "dictionary"), "unknown data dictionary 'NOPE'"),
        (("nodes", 2, "fields", 0, "key"), "duplicate field key 'a' (already on node 's')"),
    ]
    assert check_flow(f) == [
        (("nodes", 1, "fields", 1, "key"), "duplicate field key 'a' (already on node 's')"),
        (("nodes", 2, "fields", 0, "key"), "duplicate field key 'a' (already on node 's')"),
    ]
    api_source = flow([node("s", "start", fields=[field("r", "SELECT", source={"api": "cmdb.hosts"})]), node("e", "end")],
                      [t("s", "e")])
    assert check_flow(api_source, known_dictionaries=set()) == []


def test_processor_problems():
    f = flow([
        node("s", "start"),
        node("a", processors={"type": "CMDB", "value": "ops"}),
        node("b", distribute_type="DISTRIBUTE_THEN_PROCESS", assignors={"type": "CMDB", "value": "dba"}),
        node("c", distribute_type="DISTRIBUTE_THEN_CLAIM", assignors={"type": "OPEN"}),
        node("d", processors={"type": "ASSIGN_LEADER", "value": "a,d,s,ghost,ap"}),
        node("ap", "approval", processors={"type": "GENERAL", "value": "ops,boss"}),
        node("e", "end"),
    ], [t("s", "a"), t("a", "b"), t("b", "c"), t("c", "d"), t("d", "ap"), t("ap", "e")])
    assert check_flow(f, known_roles={"ops", "dba"}) == [
        (("nodes", 1, "processors", "type"), "CMDB business roles are allowed only in a flow with biz_related: true"),
        (("nodes", 2, "assignors", "type"), "CMDB business roles are allowed only in a flow with biz_related: true"),
        (("nodes", 3, "assignors", "type"), "assignors cannot be OPEN"),
        (("nodes", 4, "processors", "value"), "ASSIGN_LEADER names a manual or approval node; 'd' is not one"),
        (("nodes", 4, "processors", "value"), "ASSIGN_LEADER names a manual or approval node; 's' is not one"),
        (("nodes", 4, "processors", "value"), "ASSIGN_LEADER names a manual or approval node; 'ghost' is not one"),
        (("nodes", 5, "processors", "value"), "unknown role 'boss'"),
    ]


def test_processor_problems_in_a_business_flow_without_known_roles():
    f = flow([node("s", "start"), node("a", processors={"type": "CMDB", "value": "ops"}),
              node("b", processors={"type": "GENERAL", "value": "nobody"}), node("e", "end")],
             [t("s", "a"), t("a", "b"), t("b", "e")], biz_related=True)
    assert check_flow(f) == []
    assert check_flow(f, known_roles={"ops"}) == [(("nodes", 2, "processors", "value"), "unknown role 'nobody'")]
    assert check_flow(f, known_roles=set()) == [(("nodes", 1, "processors", "value"), "unknown role 'ops'"),
                                                (("nodes", 2, "processors", "value"), "unknown role 'nobody'")]


def test_variable_processors_on_assignors_and_the_start_node():
    f = flow([node("s", "start", processors={"type": "VARIABLE", "value": "who"}, fields=[field("who", "MEMBER")]),
              node("a", distribute_type="DISTRIBUTE_THEN_PROCESS", assignors={"type": "VARIABLE", "value": "who"}),
              node("e", "end")], [t("s", "a"), t("a", "e")])
    msg = "VARIABLE names people picked in earlier fields: not for assignors or the start node"
    assert check_flow(f) == [(("nodes", 0, "processors", "type"), msg), (("nodes", 1, "assignors", "type"), msg)]


def test_variable_processor_fields():
    f = flow([node("s", "start", fields=[field("who", "MEMBER"), field("txt")]),
              node("a", processors={"type": "VARIABLE", "value": "who,txt,ghost,later,many"}),
              node("b", fields=[field("later", "MEMBERS"), field("many", "MEMBERS")]), node("e", "end")],
             [t("s", "b"), t("b", "a"), t("a", "e"), t("s", "a", when={"field": "txt", "value": "x"})])
    assert check_flow(f) == [
        (("nodes", 1, "processors", "value"), "VARIABLE field 'txt' must be a MEMBER or MEMBERS field, not STRING"),
        (("nodes", 1, "processors", "value"), "VARIABLE field 'ghost' is not a field of this flow"),
        (("nodes", 1, "processors", "value"), "VARIABLE field 'later' is not filled on every path before this node"),
        (("nodes", 1, "processors", "value"), "VARIABLE field 'many' is not filled on every path before this node"),
    ]


def test_condition_fields_must_exist_on_every_path():
    f = flow([node("s", "start", fields=[field("a")]), node("l", fields=[field("only_l")]), node("r"),
              node("j", fields=[field("after")]), node("e", "end")],
             [t("s", "l", when={"field": "a", "value": 1}), t("s", "r"),
              t("l", "j"), t("r", "j"),
              t("j", "e", when={"all": [{"field": "only_l"}, {"field": "ghost"}, {"field": "after"},
                                        {"field": "a"}, {"field": "zz"}]}),
              t("j", "e")])
    assert check_flow(f) == [
        (("transitions", 4, "when"), "condition field 'ghost' is not a field of this flow"),
        (("transitions", 4, "when"), "condition field 'only_l' is not defined on every path before this transition"),
        (("transitions", 4, "when"), "condition field 'zz' is not a field of this flow"),
    ]


def test_the_start_nodes_conditions_read_only_its_own_fields():
    f = flow([node("s", "start", fields=[field("a")]), node("m", fields=[field("b")]), node("e", "end")],
             [t("s", "m", when={"field": "b", "value": 1}), t("s", "e"), t("m", "s", when={"field": "a", "value": 1}),
              t("m", "e")])
    assert check_flow(f) == [
        (("transitions", 0, "when"), "condition field 'b' is not defined on every path before this transition")]


def test_hide_when_reads_this_node_or_every_path_before():
    f = flow([node("s", "start", fields=[field("a"), field("h", hide_when={"field": "a"})]),
              node("m", fields=[field("b", hide_when={"any": [{"field": "c"}, {"field": "a"}, {"field": "nope"}]}),
                                field("c", hide_when={"field": "b"})]),
              node("n", fields=[field("d", hide_when={"field": "x"})]), node("x1", fields=[field("x")]),
              node("e", "end")],
             [t("s", "m"), t("m", "n"), t("n", "x1"), t("x1", "e")])
    assert check_flow(f) == [
        (("nodes", 2, "fields", 0, "hide_when"), "hide_when field 'x' is not defined on this node or every path before it"),
        (("nodes", 1, "fields", 0, "hide_when"), "hide_when field 'nope' is not a field of this flow"),
    ][::-1]


def test_finish_when_reads_only_the_sign_nodes_counts():
    f = flow([node("s", "start", fields=[field("a")]),
              node("sg", "sign", fields=[field("vote", "RADIO", choices=[{"key": "y", "name": "Y"},
                                                                          {"key": "n", "name": "N"}])],
                   finish_when={"all": [{"field": "sg_count", "op": ">=", "value": 2},
                                        {"field": "a"}, {"field": "vote_count_y"}, {"field": "vote"}]}),
              node("e", "end")],
             [t("s", "sg"), t("sg", "e", when={"field": "vote_count_n", "op": ">", "value": 0}), t("sg", "e")])
    counts = "sg_count, vote_count_y, vote_count_n"
    assert check_flow(f) == [
        (("nodes", 1, "finish_when"), f"finish_when may read only this node's counts ({counts}), not 'a'"),
        (("nodes", 1, "finish_when"), f"finish_when may read only this node's counts ({counts}), not 'vote'"),
    ]
