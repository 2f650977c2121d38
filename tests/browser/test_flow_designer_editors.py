"""流程设计器 in Chromium, the editors that used to need YAML: a table field's columns, a countersign (sign) node's
finish rule and a choice field's options from an API. Each is built with the mouse and the saved YAML is checked."""
from __future__ import annotations

import yaml

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiDef, ApiSystem
from designer_kit import add_field, choose, open_node, set_value, wait_checked
from designer_kit import save, source_of, stored_flow


TABLE_FLOW = """\
key: hosts
name: 主机下线
service_type: change
nodes:
  # 提单：填写主机清单
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
      - key: disks
        name: 磁盘
        type: CUSTOMTABLE
        columns:
          - {key: size, name: 容量, display: int, hide_when: {field: ghost, op: "==", value: 1}}   # 写错了
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: end}
"""

SIGN_FLOW = """\
key: vote
name: 方案投票
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING}]}
  - key: poll
    name: 方案投票
    kind: sign
    processors: {type: STARTER}
    fields:
      - {key: plan, name: 方案, type: RADIO, choices: [{key: a, name: 方案A}, {key: b, name: 方案B}]}
    finish_when: {field: title, op: "==", value: x}   # 不能读表单字段
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: poll}
  - {from: poll, to: end}
"""

SELECT_FLOW = """\
key: pick
name: 选择主机
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}   # 标题
      - {key: host, name: 主机, type: SELECT, choices: [{key: h1, name: 主机1}]}
      - {key: rack, name: 机架, type: SELECT, source: {api: cmdb.gone}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: end}
"""


def edit_field(page, node_key, field_key):
    open_node(page, node_key)
    page.click(f"#panel .field-row[data-field={field_key}] button:has-text('编辑')")


def test_a_table_fields_columns_are_built_in_the_side_panel(sessions, demo):
    flow_id = stored_flow(demo, TABLE_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#canvas .drawflow-node.node-end").wait_for()

    # the hand-written column reads a field that does not exist: said in Chinese on that column
    edit_field(page, "submit", "disks")
    assert "ghost" in page.inner_text("#panel .column-row[data-column='0'] .issue-list")
    assert page.locator("#panel select[name=col_0_display]").input_value() == "int"
    page.uncheck("#p-col_0_hide")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"

    # a new TABLE field: IP (required), an action chosen from a list, a reason hidden unless the action is drop
    open_node(page, "submit")
    add_field(page, "hosts", "主机清单", "TABLE")
    assert page.locator("#panel .column-row").count() == 1
    set_value(page, "#panel input[name=col_0_name]", "IP 地址")
    set_value(page, "#panel input[name=col_0_key]", "ip")
    page.check("#p-col_0_required")
    page.click("#panel [data-column-add=columns]")
    set_value(page, "#panel input[name=col_1_name]", "操作")
    set_value(page, "#panel input[name=col_1_key]", "action")
    choose(page, "#panel select[name=col_1_display]", "select")
    page.fill("#panel textarea[name=col_1_choices]", "keep:保留\ndrop:下线")
    page.press("#panel textarea[name=col_1_choices]", "Tab")
    page.click("#panel [data-column-add=columns]")
    set_value(page, "#panel input[name=col_2_name]", "原因")
    set_value(page, "#panel input[name=col_2_key]", "reason")
    choose(page, "#panel select[name=col_2_display]", "textarea")
    page.check("#p-col_2_hide")
    # the row's other cells come first, then the form's fields
    assert page.locator("#panel select[name=col_2_hide_field] option").all_inner_texts()[:3] == [
        "本行·IP 地址（ip）", "本行·操作（action）", "标题（title）"]
    choose(page, "#panel select[name=col_2_hide_field]", "action")
    choose(page, "#panel select[name=col_2_hide_op]", "!=")
    assert page.locator("#panel select[name=col_2_hide_value] option").all_inner_texts() == ["保留（keep）", "下线（drop）"]
    choose(page, "#panel select[name=col_2_hide_value]", "drop")
    page.click("#panel [data-column-add=columns]")
    page.click("#panel [data-column-remove='3']")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    save(page)

    after = source_of(demo, flow_id)
    fields = yaml.safe_load(after)["nodes"][0]["fields"]
    assert fields[1] == {"key": "disks", "name": "磁盘", "type": "CUSTOMTABLE",
                         "columns": [{"key": "size", "name": "容量", "display": "int"}]}
    assert fields[2] == {"key": "hosts", "name": "主机清单", "type": "TABLE", "columns": [
        {"key": "ip", "name": "IP 地址", "required": True},
        {"key": "action", "name": "操作", "display": "select", "choices": [{"key": "keep", "name": "保留"}, {"key": "drop", "name": "下线"}]},
        {"key": "reason", "name": "原因", "display": "textarea", "hide_when": {"field": "action", "op": "!=", "value": "drop"}}]}
    for line in ["  # 提单：填写主机清单", "      - {key: title, name: 标题, type: STRING}",
                 "  - {key: end, name: 结束, kind: end}", "  - {from: submit, to: end}"]:
        assert line in after.splitlines()


def test_a_sign_nodes_finish_rule_reads_its_counts(sessions, demo):
    flow_id = stored_flow(demo, SIGN_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#canvas .drawflow-node.node-end").wait_for()
    # the hand-written rule reads a form field: the check says so on the node, in Chinese
    assert page.inner_text("#canvas .drawflow-node.node-poll .df-issue") != ""
    open_node(page, "poll")
    assert page.inner_text("#panel .issue-list").strip() != ""
    assert page.locator("#panel select[name=finish_field]").input_value() == "title"       # shown as written
    assert page.locator("#panel select[name=finish_field] option").all_inner_texts()[:3] == [
        "已提交人数（poll_count）", "选择「方案」为「方案A」的人数（plan_count_a）", "选择「方案」为「方案B」的人数（plan_count_b）"]
    choose(page, "#panel select[name=finish_field]", "plan_count_b")
    choose(page, "#panel select[name=finish_op]", ">=")
    set_value(page, "#panel input[name=finish_value]", "2")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    assert page.inner_text("#canvas .drawflow-node.node-poll .df-issue") == ""
    save(page)

    after = source_of(demo, flow_id)
    poll = yaml.safe_load(after)["nodes"][1]
    assert poll["finish_when"] == {"field": "plan_count_b", "op": ">=", "value": 2}
    assert after.split("    finish_when")[0] == SIGN_FLOW.split("    finish_when")[0]

    # unticked, the rule goes: the node ends when everyone has submitted
    page.click("#tab-design")
    open_node(page, "poll")
    page.uncheck("#p-finish_when")
    wait_checked(page)
    save(page)
    assert "finish_when" not in yaml.safe_load(source_of(demo, flow_id))["nodes"][1]


def test_a_choice_fields_options_come_from_a_registered_api(sessions, demo):
    with demo.app_context():
        system = ApiSystem(key="cmdb", name="配置平台", base_url="http://127.0.0.1:9")
        db.session.add(system)
        db.session.flush()
        db.session.add(ApiDef(system_id=system.id, key="hosts", name="主机列表", method="GET", path="/hosts"))
        commit()
    flow_id = stored_flow(demo, SELECT_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#canvas .drawflow-node.node-end").wait_for()
    # a hand-written source naming an API that is not configured: shown as written, flagged on the field
    edit_field(page, "submit", "rack")
    assert page.locator("#panel select[name=field_source]").input_value() == "__api"
    assert page.locator("#panel select[name=source_api] option:checked").inner_text() == "cmdb.gone（不存在的 API）"
    assert "API「cmdb.gone」不存在或未启用" in page.inner_text("#panel .issue-list")
    edit_field(page, "submit", "host")
    choose(page, "#panel select[name=field_source]", "__api")
    assert page.locator("#panel select[name=source_api]").input_value() == "cmdb.hosts"
    assert page.locator("#panel select[name=source_api] option").all_inner_texts()[1] == "配置平台 · 主机列表（cmdb.hosts）"
    set_value(page, "#panel input[name=source_items]", "data.items")
    set_value(page, "#panel input[name=source_key_field]", "id")
    set_value(page, "#panel input[name=source_name_field]", "hostname")
    wait_checked(page)
    assert page.locator("#issues .issue").count() == 0
    assert page.locator("#issues .warning").all_inner_texts()[0].startswith("部署前需处理：节点「提单」的字段「机架」")
    save(page)

    after = source_of(demo, flow_id)
    host = yaml.safe_load(after)["nodes"][0]["fields"][1]
    assert host == {"key": "host", "name": "主机", "type": "SELECT",
                    "source": {"api": "cmdb.hosts", "items": "data.items", "key_field": "id", "name_field": "hostname"}}
    assert "      - {key: title, name: 标题, type: STRING}   # 标题" in after.splitlines()

    # back to the defaults: an attribute left at its default is not written
    page.click("#tab-design")
    edit_field(page, "submit", "host")
    set_value(page, "#panel input[name=source_items]", "data")
    wait_checked(page)
    save(page)
    assert yaml.safe_load(source_of(demo, flow_id))["nodes"][0]["fields"][1]["source"] == {
        "api": "cmdb.hosts", "key_field": "id", "name_field": "hostname"}
