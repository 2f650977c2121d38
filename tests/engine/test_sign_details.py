"""What a sign node (会签) records, compared whole, and people picked in a MEMBERS field (found by mutation testing).

Pure engine tests: no app, no database. See "Mutation testing" in docs/architecture.md.
"""
from __future__ import annotations

import pytest
from engine_kit import BOB, CAROL, DAVE, build_flow, do, start

from app.engine import operations as ops
from app.engine.approval import sign_counts
from app.engine.state import RUNNING, Log, Notify, StepChanged, StepClosed, StepOpened, Vote
from app.flowdef.model import NodeDef


def _choice(key, type_, choices=("a", "b")):
    return {"key": key, "name": key, "type": type_, "required": False,
            "choices": [{"key": c, "name": c.upper()} for c in choices]}


def _sign_then_review_flow():
    """submit → vote (sign: bob, carol) → review (GENERAL ops, so the directory is needed) → end; no names."""
    vote = {"key": "vote", "name": "方案投票", "kind": "sign",
            "processors": {"type": "PERSON", "value": ["bob", "carol"]},
            "fields": [_choice("plan", "RADIO")]}
    review = {"key": "review", "name": "复核", "kind": "manual", "distribute_type": "PROCESS",
              "processors": {"type": "GENERAL", "value": ["desk"]}, "fields": []}
    return build_flow([vote, review], [{"from": "submit", "to": "vote"}, {"from": "vote", "to": "review"},
                                       {"from": "review", "to": "end"}])


def test_a_sign_submission_records_the_vote_and_the_log_and_the_step_still_waiting():
    flow = _sign_then_review_flow()
    state = start(flow).state
    out = do(flow, state, ops.Transition("vote", {"plan": "a"}), BOB)
    step = out.state.step("vote")
    assert step.votes == (Vote("bob", "", "", {"plan": "a"}),)
    assert step.users == {"carol"} and step.status == RUNNING
    assert out.events == (Log("bob", "bob 提交了会签节点【方案投票】", "TRANSITION", "vote"), StepChanged(step))


def test_the_last_sign_submission_closes_the_step_with_every_vote_and_opens_the_next_node():
    flow = _sign_then_review_flow()
    state = do(flow, start(flow).state, ops.Transition("vote", {"plan": "a"}), BOB).state
    out = do(flow, state, ops.Transition("vote", {"plan": "b"}), CAROL)
    before = state.step("vote")
    decided = before.with_(votes=(Vote("bob", "", "", {"plan": "a"}), Vote("carol", "", "", {"plan": "b"})),
                           users=frozenset())
    values = {"plan": "b", "vote_count": 2, "plan_count_a": 1, "plan_count_b": 1}
    assert list(out.events[:4]) == [
        Log("carol", "carol 提交了会签节点【方案投票】", "TRANSITION", "vote"),
        StepChanged(decided),
        Log("carol", "节点【方案投票】会签结束（已提交 2/2 人）(提交)", "TRANSITION", "vote"),
        StepClosed("vote", "FINISHED", "carol", values)]
    (opened,) = [e for e in out.events if isinstance(e, StepOpened)]
    assert opened.step.node_key == "review" and opened.step.users == {"carol", "erin"}   # the role, from the directory
    assert [e.users for e in out.events if isinstance(e, Notify) and e.kind == "todo"] == [{"carol", "erin"}]
    assert out.state.handled["vote"] == "carol"
    assert {k: out.state.values[k] for k in values} == values


@pytest.mark.parametrize("type_", ["RADIO", "SELECT", "MULTISELECT", "CHECKBOX"])
def test_sign_counts_count_each_choice_of_every_choice_field_type(type_):
    node = NodeDef.model_validate({"key": "vote", "name": "v", "kind": "sign",
                                   "processors": {"type": "PERSON", "value": ["bob"]},
                                   "fields": [_choice("pick", type_, ("a", "b", "c")),
                                              {"key": "note", "name": "n", "type": "STRING", "required": False}]})
    many = type_ in ("MULTISELECT", "CHECKBOX")
    votes = [Vote("bob", "", "", {"pick": ["a", "b"] if many else "a", "note": "a"}),
             Vote("carol", "", "", {"pick": ["b"] if many else "b"}),
             Vote("dave", "", "", {})]
    expected = {"vote_count": 3, "pick_count_a": 1, "pick_count_b": 2 if many else 1, "pick_count_c": 0}
    assert sign_counts(node, votes) == expected


def test_sign_counts_skip_fields_that_are_not_choice_fields_even_with_choices():
    node = NodeDef.model_validate({"key": "vote", "name": "v", "kind": "sign",
                                   "processors": {"type": "PERSON", "value": ["bob"]},
                                   "fields": [{"key": "note", "name": "n", "type": "STRING", "required": False,
                                               "choices": [{"key": "x", "name": "X"}]}]})
    assert sign_counts(node, [Vote("bob", "", "", {"note": "x"})]) == {"vote_count": 1}


def _members_flow():
    start_node = {"key": "submit", "name": "提单", "kind": "start",
                  "fields": [{"key": "title", "name": "标题", "type": "STRING"},
                             {"key": "who", "name": "处理人", "type": "MEMBERS", "required": True}]}
    node = {"key": "work", "name": "处理", "kind": "manual", "distribute_type": "PROCESS",
            "processors": {"type": "VARIABLE", "value": ["who"]}, "fields": []}
    return build_flow([node], [{"from": "submit", "to": "work"}, {"from": "work", "to": "end"}], start=start_node)


@pytest.mark.parametrize("who", [[" dave ", "", "  ", "bob"], " dave, ,bob,", "dave,bob"])
def test_people_picked_in_a_members_field_are_the_names_it_holds_trimmed_without_blanks(who):
    flow = _members_flow()
    step = start(flow, values={"title": "t", "who": who}).state.step("work")
    assert step.users == {"dave", "bob"}
    assert do(flow, start(flow, values={"title": "t", "who": who}).state,
              ops.Transition("work", {}), DAVE).state.status == "FINISHED"


def test_a_members_value_with_spaces_but_no_comma_is_one_name():
    flow = _members_flow()
    assert start(flow, values={"title": "t", "who": "dave bob"}).state.step("work").users == {"dave bob"}
    assert CAROL.username not in start(flow, values={"title": "t", "who": "dave bob"}).state.step("work").users
