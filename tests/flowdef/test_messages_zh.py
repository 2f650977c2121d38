"""Flow validation issues in Chinese, placed on the node, field or line they concern."""
from __future__ import annotations

import pytest

from app.flowdef import FlowLoadError, parse_flow_text
from app.flowdef.messages_zh import describe_issue, message_zh

BASE = """\
key: f
name: F
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
  - {key: approve, name: 审批, kind: manual, processors: {type: STARTER}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end}
"""


def issues_of(text):
    import yaml

    with pytest.raises(FlowLoadError) as err:
        parse_flow_text(text, "f.yaml")
    return [describe_issue(i, yaml.safe_load(text)) for i in err.value.issues]


def test_pydantic_type_error_is_chinese_on_the_field():
    [issue] = issues_of(BASE.replace("name: 标题", "name: [1, 2]"))
    assert issue["message"] == "节点「提单」的字段「title」「名称」：应为文本"
    assert issue["target"] == {"node": 0, "field": 0, "attr": "name"}
    assert issue["location"] == "f.yaml:9"


def test_unknown_field_type_and_missing_processors():
    [issue] = issues_of(BASE.replace("type: STRING", "type: STRNG"))
    assert issue["short"] == "「类型」不认识的字段类型「STRNG」"
    [issue] = issues_of(BASE.replace(", processors: {type: STARTER}", ""))
    assert issue["message"] == "节点「审批」：手动节点需要处理人" and issue["target"]["node"] == 1


def test_graph_problems_name_the_line_and_the_node():
    [issue] = issues_of(BASE.replace("{from: approve, to: end}", "{from: approve, to: nowhere}")
                        .replace("  - {from: submit, to: approve}\n", "  - {from: submit, to: approve}\n  - {from: submit, to: end, when: {field: title, op: '==', value: x}}\n"))
    assert issue["message"] == "连线「approve → nowhere」「终点」：连线的终点「nowhere」不是本流程的节点"
    assert issue["target"] == {"transition": 2, "attr": "to"}


@pytest.mark.parametrize("english, chinese", [
    ("Input should be a valid boolean, unable to interpret input", "应为 是/否"),
    ("Input should be 'PROCESS', 'CLAIM_THEN_PROCESS', 'DISTRIBUTE_THEN_PROCESS' or 'DISTRIBUTE_THEN_CLAIM'",
     "只能取以下值之一：'PROCESS', 'CLAIM_THEN_PROCESS', 'DISTRIBUTE_THEN_PROCESS' or 'DISTRIBUTE_THEN_CLAIM'"),
    ("missing key 'name'", "缺少「名称」"),
    ("unknown key 'colour'", "不认识的配置项「colour」"),
    ("node 'x' is unreachable from the start node", "从开始节点无法到达节点「x」，请连线"),
    ("processor type GENERAL needs a 'value'", "处理人类型「通用角色」需要填写具体人员或角色"),
    ("something new", "校验未通过：something new"),
])
def test_message_table(english, chinese):
    assert message_zh(english) == chinese
