"""Chinese validation messages and their places, compared whole on hand-made issues (found by mutation testing).

See "Mutation testing" in docs/architecture.md.
"""
from __future__ import annotations

import pytest

from app.flowdef.conditions import Compare, condition_data
from app.flowdef.loader import FlowIssue
from app.flowdef.messages_zh import describe_issue, issue_target, message_zh


@pytest.mark.parametrize("english, chinese", [
    ("missing key 'zzz'", "缺少「zzz」"),                                            # a key without a Chinese name
    ("processor type FOO needs a 'value'", "处理人类型「FOO」需要填写具体人员或角色"),
    ("processor type PERSON takes no 'value'", "处理人类型「个人」不需要填写具体值"),
    ("FOO needs 'assignors' (who dispatches)", "处理场景「FOO」需要派单人"),
    ("DISTRIBUTE_THEN_PROCESS needs 'assignors' (who dispatches)", "处理场景「先派单后处理」需要派单人"),
    ("something nobody translated", "校验未通过：something nobody translated"),
])
def test_a_message_names_known_values_in_chinese_and_keeps_unknown_ones(english, chinese):
    assert message_zh(english) == chinese


@pytest.mark.parametrize("path, target", [
    ("nodes.2.kind", {"node": 2, "attr": "kind"}),
    ("nodes.2", {"node": 2, "attr": None}),
    ("nodes.1.fields.0", {"node": 1, "field": 0, "attr": None}),
    ("nodes.1.fields.0.type", {"node": 1, "field": 0, "attr": "type"}),
    ("transitions.3", {"transition": 3, "attr": None}),
    ("transitions.3.when", {"transition": 3, "attr": "when"}),
    ("key", {"attr": "key"}),
    ("", {"attr": None}),
])
def test_an_issue_path_names_the_element_it_concerns(path, target):
    assert issue_target(path) == target


@pytest.mark.parametrize("path, data, message, short", [
    ("nodes.5.kind", {"nodes": [{}]}, "第 6 个节点「节点类型」：校验未通过：x", "「节点类型」校验未通过：x"),
    ("transitions.4", {"transitions": []}, "第 5 条连线：校验未通过：x", "校验未通过：x"),
    ("nodes.0.fields.3", {"nodes": [{"fields": []}]}, "第 1 个节点的第 4 个字段：校验未通过：x", "校验未通过：x"),
    ("nodes.0.7", {"nodes": [{"fields": []}]}, "第 1 个节点：校验未通过：x", "校验未通过：x"),   # an index is no label
    ("zzz", {}, "「zzz」：校验未通过：x", "「zzz」校验未通过：x"),
])
def test_an_issue_without_names_to_show_is_placed_by_position(path, data, message, short):
    described = describe_issue(FlowIssue("f.yaml", 3, path, "x"), data)
    assert described == {"message": message, "short": short, "target": issue_target(path), "line": 3,
                         "location": "f.yaml:3", "path": path, "message_en": f"{path}: x"}


def test_a_condition_as_plain_json_for_the_browser():
    assert condition_data(None) is None
    assert condition_data(Compare.model_validate({"field": "n", "op": ">=", "value": 2})) == \
        {"field": "n", "op": ">=", "value": 2}


def test_a_combined_condition_as_plain_json_has_lists_not_tuples():
    from app.flowdef.model import AllOf
    data = condition_data(AllOf.model_validate({"all": [{"field": "n", "op": "in", "value": ["a", "b"]},
                                                        {"not": {"field": "m", "value": 1}}]}))
    assert data == {"all": [{"field": "n", "op": "in", "value": ["a", "b"]}, {"not": {"field": "m", "op": "==", "value": 1}}]}
    assert type(data["all"]) is list
