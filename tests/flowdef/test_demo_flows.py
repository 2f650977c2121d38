"""The shipped demo flows and data dictionaries load, and every flow can be walked to an end.

Pure: no app, no database.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run without an installed package or a pytest pythonpath
    sys.path.insert(0, str(ROOT))

from app.flowdef import CompiledFlow, dump_flow, flow_from_json, load_flow_file  # noqa: E402
from app.flowdef.conditions import condition_fields  # noqa: E402
from app.flowdef.dictionaries import (DictionaryLoadError, load_dictionaries,  # noqa: E402
                                      load_dictionary_file, parse_dictionary_text)
from app.flowdef.model import Compare  # noqa: E402

FLOWS = ROOT / "flows_yaml"
DICTIONARIES = ROOT / "dictionaries"
DEMO_ROLES = {"dept_leaders", "it_ops", "change_managers", "cab", "service_desk", "engineers", "problem_managers",
              "security_team", "dba_team"}
DEMO_FLOWS = ("account_apply", "change_normal", "incident_handle", "problem_manage")


@pytest.fixture(scope="module")
def dictionaries():
    return load_dictionaries(DICTIONARIES)


@pytest.fixture(scope="module")
def flows(dictionaries) -> dict[str, CompiledFlow]:
    return {key: load_flow_file(FLOWS / f"{key}.yaml", known_roles=DEMO_ROLES, known_dictionaries=set(dictionaries))
            for key in DEMO_FLOWS}


def walk(flow: CompiledFlow, answers: dict[str, list[dict]], limit: int = 30) -> list[str]:
    """Follow `next_transition` from the start; each visit to a node submits its next answer."""
    answers = {k: list(v) for k, v in answers.items()}
    values: dict = {}
    node = flow.start.key
    path = [node]
    while flow.node(node).kind != "end":
        queue = answers.get(node)
        values.update(queue.pop(0) if queue else {})
        t = flow.next_transition(node, values)
        assert t is not None, f"stuck at {node!r} with {values}"
        node = t.to
        path.append(node)
        assert len(path) < limit, f"no end reached: {path}"
    return path


# --- the flows --------------------------------------------------------------

def test_every_flow_file_is_a_demo_flow_or_a_builtin_service_and_loads(flows):
    assert sorted(p.stem for p in FLOWS.glob("*.yaml")) == sorted(DEMO_FLOWS + ("builtin_approval", "iam_default",
                                                                               "iam_group"))
    for key, flow in flows.items():
        assert flow.key == key
        assert flow.definition.desc and flow.definition.notify.channels


def test_service_types(flows):
    assert {k: f.definition.service_type for k, f in flows.items()} == {
        "account_apply": "request", "change_normal": "change", "incident_handle": "event",
        "problem_manage": "question"}


def test_snapshot_round_trip_is_identical(flows):
    for flow in flows.values():
        assert flow_from_json(dump_flow(flow.definition)).definition == flow.definition


def test_conditions_compare_against_declared_choice_keys(flows):
    """A typo in a condition value would silently never match: catch it here."""
    def compares(cond):
        if isinstance(cond, Compare):
            yield cond
        for part in getattr(cond, "all", ()) + getattr(cond, "any", ()):
            yield from compares(part)
        if getattr(cond, "not_", None) is not None:
            yield from compares(cond.not_)

    for flow in flows.values():
        conds = [t.when for t in flow.definition.transitions] + [f.hide_when for f in flow.fields()]
        for cond in filter(None, conds):
            for c in compares(cond):
                field = flow.field(c.field)
                if field.choices:
                    keys = {ch.key for ch in field.choices}
                    wanted = c.value if isinstance(c.value, list) else [c.value]
                    assert set(wanted) <= keys, (flow.key, c)


def test_every_manual_node_has_a_processor_and_every_flow_uses_dictionaries(flows, dictionaries):
    used = set()
    for flow in flows.values():
        for node in flow.definition.nodes:
            if node.kind == "manual":
                assert node.processors is not None
        used |= {f.source.dictionary for f in flow.fields() if f.source}
    assert {"CHANGE_TYPE", "EVENT_TYPE", "EVENT_SOURCE_TYPE", "IMPACT", "URGENCY"} <= used <= set(dictionaries)


def test_account_apply_walks(flows):
    flow = flows["account_apply"]
    agree = {"leader_approve": [{"leader_approve_result": "true"}], "confirm": [{"confirm_result": "confirmed"}]}
    assert walk(flow, agree) == ["submit", "leader_approve", "implement", "confirm", "end"]
    assert walk(flow, {"leader_approve": [{"leader_approve_result": "false"}]}) == ["submit", "leader_approve", "end_rejected"]
    redo = {"leader_approve": [{"leader_approve_result": "true"}],
            "confirm": [{"confirm_result": "not_done"}, {"confirm_result": "confirmed"}]}
    assert walk(flow, redo) == ["submit", "leader_approve", "implement", "confirm", "implement", "confirm", "end"]
    assert flow.node("end_rejected").name == "审批不通过"


def test_account_apply_fields(flows):
    flow = flows["account_apply"]
    assert flow.is_hidden("expire_date", {"account_type": "permanent"})
    assert not flow.is_hidden("expire_date", {"account_type": "temporary"})
    regex = flow.field("account_name").regex
    import re
    assert re.fullmatch(regex, "zhang.san") and not re.fullmatch(regex, "Zhang San")
    assert flow.node("implement").distribute_type == "CLAIM_THEN_PROCESS" and flow.node("implement").can_deliver
    assert flow.node("leader_approve").can_terminate


def test_change_normal_walks(flows):
    flow = flows["change_normal"]
    happy = {"cm_approve": [{"cm_result": "agree"}], "cab_review": [{"cab_review_result": "true"}],
             "verify": [{"verify_result": "ok"}]}
    assert walk(flow, happy) == ["submit", "cm_approve", "cab_review", "implement", "verify", "end"]
    returned = {"cm_approve": [{"cm_result": "reject"}, {"cm_result": "agree"}],
                "cab_review": [{"cab_review_result": "false"}, {"cab_review_result": "true"}],
                "verify": [{"verify_result": "fail"}, {"verify_result": "ok"}]}
    assert walk(flow, returned) == [
        "submit", "cm_approve", "submit", "cm_approve", "cab_review", "submit", "cm_approve", "cab_review",
        "implement", "verify", "implement", "verify", "end"]
    names = {(t.from_, t.to): t.name for t in flow.definition.transitions}
    assert names[("cm_approve", "submit")] == names[("cab_review", "submit")] == "退回"


def test_change_normal_cab_is_a_countersign_followed_by_parallel_reviews_on_demand(flows):
    flow = flows["change_normal"]
    cab = flow.node("cab_review")
    assert cab.kind == "approval" and cab.multi and cab.finish_condition.agree == "all"
    region = flow.regions["review_fork"]
    assert region.converge == "review_join" and region.branches == ("security_review", "dba_review")
    assert all(region.conditional.values())
    both = {"security_impact": "yes", "db_change": "yes", "cab_review_result": "true"}
    assert flow.next_transition("cab_review", both).to == "review_fork"
    assert [t.to for t in flow.branches_started("review_fork", both)] == ["security_review", "dba_review"]
    assert [t.to for t in flow.branches_started("review_fork", {**both, "db_change": "no"})] == ["security_review"]
    assert flow.next_transition("cab_review", {**both, "security_impact": "no", "db_change": "no"}).to == "implement"


def test_change_normal_fields(flows):
    flow = flows["change_normal"]
    assert flow.is_hidden("emergency_reason", {"change_type": "routine"})
    assert flow.is_hidden("emergency_reason", {})
    assert not flow.is_hidden("emergency_reason", {"change_type": "urgent"})
    assert flow.is_hidden("cm_comment", {"cm_result": "agree"})
    assert not flow.is_hidden("cm_comment", {"cm_result": "reject"})
    hosts = flow.field("affected_hosts")
    assert [c.key for c in hosts.columns] == ["ip", "role", "note"] and hosts.columns[0].required
    assert flow.field("change_type").source.dictionary == "CHANGE_TYPE"


def test_incident_handle_walks(flows):
    flow = flows["incident_handle"]
    assert walk(flow, {"confirm": [{"confirm_result": "solved", "satisfaction": "5"}]}) == [
        "submit", "handle", "confirm", "end"]
    again = {"confirm": [{"confirm_result": "unsolved"}, {"confirm_result": "solved"}]}
    assert walk(flow, again) == ["submit", "handle", "confirm", "handle", "confirm", "end"]
    handle = flow.node("handle")
    assert (handle.distribute_type, handle.assignors.value, handle.processors.type) == (
        "DISTRIBUTE_THEN_PROCESS", ("service_desk",), "BY_ASSIGNOR")
    assert flow.field("need_change").type == "CHECKBOX" and not flow.field("need_change").choices


def test_problem_manage_walks(flows):
    flow = flows["problem_manage"]
    assert walk(flow, {"fix": [{"fix_result": "workaround"}]}) == ["submit", "analysis", "fix", "close", "end"]
    assert flow.node("fix").distribute_type == "DISTRIBUTE_THEN_CLAIM"
    category = flow.field("category")
    assert category.type == "CASCADE"
    assert [c.name for c in category.choices] == ["硬件", "软件", "网络"]
    assert category.choices[0].children[0].children[0].name == "磁盘"
    assert flow.is_hidden("workaround", {"fix_result": "fixed"})


# --- the dictionaries -------------------------------------------------------

def test_shipped_dictionaries_load(dictionaries):
    assert {"SERVICE_TYPE", "CHANGE_TYPE", "EVENT_TYPE", "PLAT_TYPE", "EVENT_SOURCE_TYPE", "IMPACT", "URGENCY",
            "PRIORITY"} <= set(dictionaries)
    for path in DICTIONARIES.glob("*.yaml"):
        assert load_dictionary_file(path).key == path.stem


def test_service_type_dictionary_is_exactly_the_four_modules(dictionaries):
    items = dictionaries["SERVICE_TYPE"].items
    assert [(i.key, i.name, i.children) for i in items] == [
        ("request", "请求", ()), ("change", "变更", ()), ("event", "事件", ()), ("question", "问题", ())]


def test_change_type_is_a_tree(dictionaries):
    change_type = dictionaries["CHANGE_TYPE"]
    paths = {path[-1]: path for path, _ in change_type.walk()}
    assert paths["sub1"] == ("standard", "urgent", "sub1")
    assert change_type.names()["routine"] == "例行变更"


def test_duplicate_item_key_is_reported_with_its_line():
    text = ("key: X\nname: x\nitems:\n  - {key: a, name: A}\n  - key: b\n    name: B\n"
            "    children:\n      - {key: a, name: AA}\n")
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text(text, "x.yaml")
    assert [str(i) for i in exc.value.issues] == [
        "x.yaml:8: items.1.children.0.key: duplicate item key 'a' (already at items.0)"]


def test_dictionary_schema_errors_name_their_line():
    text = "key: X\nname: x\nitems:\n  - {key: a, nme: A}\n"
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text(text, "x.yaml")
    assert [str(i) for i in exc.value.issues] == [
        "x.yaml:4: items.0: Field required", "x.yaml:4: items.0.nme: unknown key 'nme'"]


def test_dictionary_duplicate_yaml_key_and_broken_yaml():
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nname: x\nname: y\n", "x.yaml")
    assert [str(i) for i in exc.value.issues] == ["x.yaml:3: name: duplicate key 'name'"]
    with pytest.raises(DictionaryLoadError) as exc:
        parse_dictionary_text("key: X\nitems: [{key: a, name: A}\n", "x.yaml")
    assert str(exc.value.issues[0]).startswith("x.yaml:3: <root>: not valid YAML/JSON: ")


def test_two_files_with_one_dictionary_key(tmp_path):
    (tmp_path / "a.yaml").write_text("key: IMPACT\nname: 影响\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("# copy\nkey: IMPACT\nname: 影响2\n", encoding="utf-8")
    with pytest.raises(DictionaryLoadError) as exc:
        load_dictionaries(tmp_path)
    assert [str(i) for i in exc.value.issues] == [
        f"{tmp_path / 'b.yaml'}:2: key: duplicate dictionary key 'IMPACT' (already in {tmp_path / 'a.yaml'})"]


def test_condition_fields_helper_sees_nested_conditions(flows):
    assert condition_fields(flows["change_normal"].field("emergency_reason").hide_when) == {"change_type"}
