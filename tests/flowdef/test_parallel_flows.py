"""Parallel and converge gateways in the flow language: the region rules, with file:line, and round trips.

Pure: no app, no database.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.flowdef import FlowLoadError, dump_flow, dump_flow_yaml, flow_from_json, parse_flow_text  # noqa: E402

BASE = """\
key: demo
name: 演示
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
      - {key: sec, name: 涉及安全, type: RADIO, choices: [{key: "yes", name: 是}, {key: "no", name: 否}]}
      - {key: reviewer, name: 复核人, type: MEMBER}
  - {key: fork, name: 并行评审, kind: parallel}
  - {key: security, name: 安全评审, kind: manual, processors: {type: PERSON, value: [bob]},
     fields: [{key: sec_person, name: 安全负责人, type: MEMBER}]}
  - {key: dba, name: DBA 评审, kind: manual, processors: {type: PERSON, value: [carol]},
     fields: [{key: dba_person, name: DBA 负责人, type: MEMBER}]}
  - {key: join, name: 评审汇聚, kind: converge}
  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [dave]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: fork}
  - {from: fork, to: security, name: 安全, when: {field: sec, value: "yes"}}
  - {from: fork, to: dba, name: 数据库}
  - {from: security, to: join}
  - {from: dba, to: join}
  - {from: join, to: implement}
  - {from: implement, to: end}
"""


def variant(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def issues(text: str) -> list[str]:
    with pytest.raises(FlowLoadError) as info:
        parse_flow_text(text, "demo.yaml")
    return [str(i) for i in info.value.issues]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_well_formed_region_loads_and_knows_its_branches():
    flow = parse_flow_text(BASE, "demo.yaml")
    region = flow.regions["fork"]
    assert region.converge == "join" and region.branches == ("security", "dba")
    assert region.conditional == {"security": True, "dba": False}
    assert region.branch_of("security") == "security" and region.branch_of("implement") is None


def test_a_converge_without_a_parallel_gateway_is_refused_with_its_line():
    text = variant("  - {from: submit, to: fork}", "  - {from: submit, to: join}")
    text = variant("  - {key: fork, name: 并行评审, kind: parallel}\n", "", text)
    text = text.replace("  - {from: fork, to: security, name: 安全, when: {field: sec, value: \"yes\"}}\n", "")
    text = text.replace("  - {from: fork, to: dba, name: 数据库}\n", "")
    found = issues(text)
    assert any("is unreachable" in m for m in found) or any("not matched by a parallel gateway" in m for m in found)


def test_an_orphan_converge_on_the_main_path_is_refused():
    text = variant("  - {from: join, to: implement}", "  - {from: join, to: join2}\n  - {from: join2, to: implement}")
    text = variant("  - {key: implement,", "  - {key: join2, name: 多余汇聚, kind: converge}\n  - {key: implement,", text)
    assert issues(text) == [f"demo.yaml:{line_of(text, 'key: join2')}: nodes.5: "
                            "converge gateway 'join2' is not matched by a parallel gateway"]


def test_a_transition_from_one_branch_into_another_is_refused_at_that_transition():
    text = variant("  - {from: security, to: join}", "  - {from: security, to: dba}")
    assert issues(text) == [f"demo.yaml:{line_of(text, 'from: security, to: dba')}: transitions.3: "
                            "transition from 'security' crosses from branch 'security' into branch 'dba' "
                            "of parallel gateway 'fork'"]


def test_a_transition_out_of_a_branch_past_the_converge_is_refused():
    text = variant("  - {from: security, to: join}",
                   "  - {from: security, to: join, when: {field: sec, value: \"yes\"}}\n"
                   "  - {from: security, to: implement}")
    assert issues(text) == [f"demo.yaml:{line_of(text, 'from: security, to: implement')}: transitions.4: "
                            "transition from 'security' leaves branch 'security' of parallel gateway 'fork' "
                            "before its converge gateway 'join'"]


def test_a_transition_back_before_the_gateway_is_refused():
    text = variant("  - {from: security, to: join}",
                   "  - {from: security, to: join, when: {field: sec, value: \"yes\"}}\n"
                   "  - {from: security, to: submit}")
    assert issues(text) == [f"demo.yaml:{line_of(text, 'from: security, to: submit')}: transitions.4: "
                            "transition from 'security' leaves branch 'security' of parallel gateway 'fork' "
                            "before its converge gateway 'join'"]


def test_a_transition_into_the_middle_of_a_branch_from_outside_is_refused():
    text = variant("  - {from: implement, to: end}",
                   "  - {from: implement, to: end, when: {field: sec, value: \"no\"}}\n"
                   "  - {from: implement, to: dba}")
    found = issues(text)
    assert found and all("transitions.7" in m or "transitions" in m for m in found)
    assert any("enters" in m or "leaves" in m for m in found), found


def test_branches_that_never_meet_at_one_converge_are_refused_at_the_gateway():
    text = variant("  - {from: dba, to: join}", "  - {from: dba, to: end}")
    assert issues(text) == [f"demo.yaml:{line_of(text, 'key: fork')}: nodes.1: the branches of parallel gateway "
                            "'fork' must all lead to one converge gateway (they reach join)"]


def test_a_parallel_gateway_with_one_branch_is_refused():
    text = variant("  - {from: fork, to: dba, name: 数据库}\n", "")
    text = variant("  - {from: dba, to: join}", "  - {from: submit, to: dba, when: {field: sec, value: \"no\"}}\n"
                   "  - {from: dba, to: implement}", text)
    found = issues(text)
    assert f"demo.yaml:{line_of(text, 'key: fork')}: nodes.1: parallel gateway 'fork' needs at least two " \
           "outgoing transitions" in found


def test_a_gateway_has_no_form_and_no_processors():
    text = variant("{key: fork, name: 并行评审, kind: parallel}",
                   "{key: fork, name: 并行评审, kind: parallel, processors: {type: PERSON, value: [bob]}}")
    assert issues(text) == [f"demo.yaml:{line_of(text, 'key: fork')}: nodes.1: "
                            "a parallel gateway has no processors or assignors (the engine passes it)"]


def test_after_the_converge_only_fields_of_unconditional_branches_are_known():
    ok = variant("  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [dave]}}",
                 "  - {key: implement, name: 实施, kind: manual, processors: {type: VARIABLE, value: [dba_person]}}")
    parse_flow_text(ok, "demo.yaml")          # the DBA branch always runs
    bad = variant("  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [dave]}}",
                  "  - {key: implement, name: 实施, kind: manual, processors: {type: VARIABLE, value: [sec_person]}}")
    assert issues(bad) == [f"demo.yaml:{line_of(bad, 'key: implement')}: nodes.5.processors.value: "
                           "VARIABLE field 'sec_person' is not filled on every path before this node"]


def test_a_branch_cannot_read_what_a_sibling_branch_fills():
    bad = variant("processors: {type: PERSON, value: [carol]}", "processors: {type: VARIABLE, value: [sec_person]}")
    assert issues(bad) == [f"demo.yaml:{line_of(bad, 'key: dba')}: nodes.3.processors.value: "
                           "VARIABLE field 'sec_person' is not filled on every path before this node"]
    parse_flow_text(variant("processors: {type: PERSON, value: [carol]}",
                            "processors: {type: VARIABLE, value: [reviewer]}"), "demo.yaml")


def test_several_unconditional_branches_and_a_nested_region_load():
    text = variant("  - {from: dba, to: join}", "  - {from: dba, to: inner}\n"
                   "  - {from: inner, to: d1}\n  - {from: inner, to: d2}\n"
                   "  - {from: d1, to: inner_join}\n  - {from: d2, to: inner_join}\n  - {from: inner_join, to: join}")
    text = variant("  - {key: join,", "  - {key: inner, name: 内层并行, kind: parallel}\n"
                   "  - {key: d1, name: D1, kind: manual, processors: {type: PERSON, value: [bob]}}\n"
                   "  - {key: d2, name: D2, kind: manual, processors: {type: PERSON, value: [carol]}}\n"
                   "  - {key: inner_join, name: 内层汇聚, kind: converge}\n  - {key: join,", text)
    flow = parse_flow_text(text, "demo.yaml")
    assert flow.regions["fork"].nodes["dba"] == {"dba", "inner", "d1", "d2", "inner_join"}
    assert flow.regions["inner"].converge == "inner_join"


def test_gateways_survive_the_yaml_and_json_round_trips():
    flow = parse_flow_text(BASE, "demo.yaml")
    again = parse_flow_text(dump_flow_yaml(flow.definition), "again.yaml")
    assert again.definition == flow.definition
    assert flow_from_json(dump_flow(flow.definition)).regions["fork"] == flow.regions["fork"]
