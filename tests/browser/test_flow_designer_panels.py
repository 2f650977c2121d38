"""流程设计器 in Chromium, what used to need YAML: combined line conditions, an API node's request, the flow's
notify policy, and a wide flow fitting the canvas. Each is built with the mouse and the saved YAML is checked."""
from __future__ import annotations

import yaml
from sqlalchemy import select

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiDef, ApiSystem, FlowVersion
from designer_kit import add_field, save, source_of, stored_flow, back_to_node, choose, connect_in_panel, open_node, set_value, wait_checked


CONDITIONS_FLOW = """\
key: purchase
name: 采购申请
service_type: request
nodes:
  # 提单：风险、金额和类别决定走哪条路
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: risk, name: 风险, type: RADIO, choices: [{key: low, name: 低}, {key: high, name: 高}]}
      - {key: amount, name: 金额, type: INT}
      - {key: category, name: 类别, type: SELECT, choices: [{key: paper, name: 纸张}, {key: pen, name: 笔}, {key: desk, name: 桌子}]}
      - {key: site, name: 地点, type: TREESELECT, choices: [{key: bj, name: 北京, children: [{key: bj_hq, name: 总部}]}]}
  - {key: fast, name: 快速通道, kind: end}
  - {key: review, name: 复核, kind: manual, processors: {type: STARTER}}
  - {key: done, name: 结束, kind: end}
transitions:
  - {from: submit, to: fast, when: {all: [{field: risk, op: "==", value: low}, {field: ghost, op: "==", value: 1}]}}
  - {from: submit, to: review}   # 其余的走复核
  - {from: review, to: done}
"""

ACCOUNT_FLOW = """\
key: account
name: 开通账号
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: username, name: 用户名, type: STRING, required: true}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: end}
"""

NOTIFY_FLOW = """\
key: leave
name: 请假
service_type: request
notify:
  frequency: hourly   # 写错了
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: days, name: 天数, type: INT}]}
  - {key: review, name: 主管处理, kind: manual, processors: {type: STARTER}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: review}
  - {from: review, to: end}
"""


def wide_flow(steps: int) -> str:
    nodes = ["  - {key: submit, name: 提单, kind: start}"]
    nodes += [f"  - {{key: step_{i}, name: 第{i}步, kind: manual, processors: {{type: STARTER}}}}" for i in range(steps)]
    nodes += ["  - {key: end, name: 结束, kind: end}"]
    keys = ["submit"] + [f"step_{i}" for i in range(steps)] + ["end"]
    lines = [f"  - {{from: {a}, to: {b}}}" for a, b in zip(keys, keys[1:])]
    return "key: wide\nname: 长流程\nservice_type: request\nnodes:\n" + "\n".join(nodes) + "\ntransitions:\n" + \
        "\n".join(lines) + "\n"


def edit_line(page, from_key, to_key):
    open_node(page, from_key)
    page.click(f"#panel [data-line-to={to_key}] button")


def test_a_line_condition_combines_clauses_and_groups_built_with_the_mouse(sessions, demo):
    flow_id = stored_flow(demo, CONDITIONS_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#canvas .drawflow-node.node-done").wait_for()

    # the hand-written line reads a field that does not exist: the check says so in Chinese, on the line
    assert page.locator("#canvas .connection.has-error").count() == 1
    edit_line(page, "submit", "fast")
    assert "条件中的字段「ghost」不是本流程的字段" in page.inner_text("#panel .issue-list")
    assert page.locator("#panel select[name=when_mode]").input_value() == "all"
    assert page.locator("#panel select[name=when_1_field]").input_value() == "ghost"      # shown as written
    page.click("#panel [data-cond-remove=when_1]")               # one clause left: the group becomes that clause
    wait_checked(page)
    assert page.locator("#canvas .connection.has-error").count() == 0

    # the other line: risk is high, or the amount is large, or (paper or pen, and not low risk)
    edit_line(page, "submit", "review")
    page.check("#p-line_when")
    assert page.locator("#panel select[name=when_field] option").all_inner_texts() == [
        "风险（risk）", "金额（amount）", "类别（category）", "地点（site）"]
    assert page.locator("#panel select[name=when_value] option").all_inner_texts() == ["低（low）", "高（high）"]
    choose(page, "#panel select[name=when_value]", "high")
    page.click("#panel [data-cond-add=when]")
    choose(page, "#panel select[name=when_1_field]", "amount")
    choose(page, "#panel select[name=when_1_op]", ">=")
    set_value(page, "#panel input[name=when_1_value]", "1000")
    choose(page, "#panel select[name=when_mode]", "any")
    page.click("#panel [data-cond-add-group=when]")
    choose(page, "#panel select[name=when_2_0_field]", "category")
    choose(page, "#panel select[name=when_2_0_op]", "in")
    page.select_option("#panel select[name=when_2_0_value]", ["paper", "pen"])
    page.click("#panel [data-cond-add=when_2]")
    choose(page, "#panel select[name=when_2_1_field]", "site")                # a tree's nested options are offered too
    assert page.locator("#panel select[name=when_2_1_value] option").all_inner_texts() == [
        "北京（bj）", "北京 / 总部（bj_hq）"]
    choose(page, "#panel select[name=when_2_1_field]", "risk")
    choose(page, "#panel select[name=when_2_1_op]", "!=")
    choose(page, "#panel select[name=when_2_1_value]", "low")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    save(page)

    after = source_of(demo, flow_id)
    assert yaml.safe_load(after)["transitions"] == [
        {"from": "submit", "to": "fast", "when": {"field": "risk", "op": "==", "value": "low"}},
        {"from": "submit", "to": "review", "when": {"any": [
            {"field": "risk", "op": "==", "value": "high"},
            {"field": "amount", "op": ">=", "value": 1000},
            {"all": [{"field": "category", "op": "in", "value": ["paper", "pen"]},
                     {"field": "risk", "op": "!=", "value": "low"}]}]}},
        {"from": "review", "to": "done"}]
    # what the edit did not touch is written as it was: comments, hand formatting, the other lines
    head = CONDITIONS_FLOW.split("transitions:")[0].splitlines()
    for line in head + ["  - {from: review, to: done}"]:
        assert line in after.splitlines()


def test_an_api_node_calls_a_registered_api_with_parameters_from_fields(sessions, demo):
    with demo.app_context():
        system = ApiSystem(key="idm", name="身份管理", base_url="http://127.0.0.1:9")
        db.session.add(system)
        db.session.flush()
        db.session.add(ApiDef(system_id=system.id, key="create_account", name="创建账号", method="POST",
                              path="/accounts", request_template='{"user": "", "dept": ""}'))
        commit()
    flow_id = stored_flow(demo, ACCOUNT_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.on("dialog", lambda d: d.accept())

    page.click("#palette .palette-item[data-kind=api]")
    set_value(page, "#panel input[name=node_key]", "create")
    set_value(page, "#panel input[name=node_name]", "创建账号")
    wait_checked(page)
    assert "API 节点需要选择 API" in page.inner_text("#canvas .drawflow-node.node-create .df-issue")
    connect_in_panel(page, "submit", "create")
    connect_in_panel(page, "create", "end")
    edit_line(page, "submit", "end")
    page.click("#panel button:has-text('删除连线')")

    open_node(page, "create")
    assert page.locator("#panel select[name=api] option").all_inner_texts()[1] == "身份管理 · 创建账号（idm.create_account）"
    choose(page, "#panel select[name=api]", "idm.create_account")
    # the API's own parameters are offered: user from the requester's field, dept a constant
    assert page.locator("#panel input[name=request_key_0]").input_value() == "user"
    choose(page, "#panel select[name=request_src_0]", "ref")
    choose(page, "#panel select[name=request_ref_0]", "fields.username")
    set_value(page, "#panel input[name=request_value_1]", "IT")
    add_field(page, "account_id", "账号 ID", "STRING")
    back_to_node(page)
    page.click("#panel [data-mapping-add=response]")
    set_value(page, "#panel input[name=response_path_0]", "data.id")
    page.check("#p-api_success")
    set_value(page, "#panel input[name=success_field]", "result.code")
    set_value(page, "#panel input[name=api_timeout]", "15")
    set_value(page, "#panel input[name=retry_times]", "2")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    assert page.inner_text("#canvas .drawflow-node.node-create .df-issue") == ""
    save(page)

    saved = yaml.safe_load(source_of(demo, flow_id))
    node = next(n for n in saved["nodes"] if n["key"] == "create")
    node.pop("layout")
    assert node == {"key": "create", "name": "创建账号", "kind": "api", "api": "idm.create_account",
                    "params": {"request": {"user": "{{ fields.username }}", "dept": "IT"}, "response": {"account_id": "data.id"},
                               "success": {"field": "result.code", "op": "==", "value": 0}, "timeout": 15},
                    "retry": {"times": 2}, "fields": [{"key": "account_id", "name": "账号 ID", "type": "STRING"}]}
    assert saved["transitions"] == [{"from": "submit", "to": "create"}, {"from": "create", "to": "end"}]
    assert source_of(demo, flow_id).startswith(ACCOUNT_FLOW.split("  - {key: end")[0])     # untouched text as written


def test_an_automation_node_sets_a_field_from_the_ticket(sessions, demo):
    flow_id = stored_flow(demo, ACCOUNT_FLOW.replace("key: account", "key: stamp_flow").replace(
        "      - {key: username", "      - {key: note, name: 备注, type: STRING}\n      - {key: username"))
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.click("#palette .palette-item[data-kind=automation]")
    set_value(page, "#panel input[name=node_key]", "stamp")
    connect_in_panel(page, "submit", "stamp")
    connect_in_panel(page, "stamp", "end")
    edit_line(page, "submit", "end")
    page.click("#panel button:has-text('删除连线')")
    wait_checked(page)
    assert "标准运维节点需要选择插件" in page.inner_text("#canvas .drawflow-node.node-stamp .df-issue")
    open_node(page, "stamp")
    assert page.locator("#panel select[name=plugin] option").all_inner_texts()[1:3] == ["HTTP 回调", "设置字段值"]
    choose(page, "#panel select[name=plugin]", "set_fields")
    page.click("#panel [data-mapping-add=set_fields]")
    choose(page, "#panel select[name=set_fields_key_0]", "note")
    choose(page, "#panel select[name=set_fields_src_0]", "ref")
    choose(page, "#panel select[name=set_fields_ref_0]", "ticket.sn")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    save(page)

    node = next(n for n in yaml.safe_load(source_of(demo, flow_id))["nodes"] if n["key"] == "stamp")
    assert (node["plugin"], node["params"]) == ("set_fields", {"fields": {"note": "{{ ticket.sn }}"}})


def test_the_notify_policy_is_set_from_a_node_panel(sessions, demo):
    flow_id = stored_flow(demo, NOTIFY_FLOW)
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#notify-panel").wait_for()
    # nothing selected: the panel shows the flow's policy, with the check's Chinese message on it
    assert "通知策略" in page.inner_text("#notify-panel .issue-list")
    open_node(page, "review")
    assert "是否通知：是" in page.inner_text("#notify-note")
    assert "通知策略" in page.inner_text("#notify-note .issue-list")          # on the node that it notifies, too
    page.click("#btn-notify")
    choose(page, "#panel select[name=notify_frequency]", "daily")
    wait_checked(page)
    assert page.inner_text("#notify-panel .issue-list") == ""
    page.uncheck("#p-notify_channel_log")
    page.check("#p-notify_channel_email")
    page.check("#p-notify_channel_wecom")
    set_value(page, "#panel input[name=notify_supervisors]", "alice, bob")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    open_node(page, "review")
    assert page.inner_text("#notify-note .small") == "是否通知：是（邮件、企业微信；首次通知后，次日起每天定时通知）；是否督办：是"
    save(page)

    page.click("#btn-deploy")                 # deployed as the YAML says, not with the deploy page's defaults
    assert page.inner_text("#deployed").startswith("已部署：请假 v1")
    with demo.app_context():
        version = db.session.execute(select(FlowVersion).where(FlowVersion.flow_key == "leave")).scalar_one()
        assert version.definition["notify"] == {
            "channels": ["email", "wecom"], "frequency": "daily",
            "supervisors": [{"type": "STARTER"}, {"type": "PERSON", "value": ["alice", "bob"]}]}

    after = source_of(demo, flow_id)
    assert yaml.safe_load(after)["notify"] == {
        "frequency": "daily", "channels": ["email", "wecom"],
        "supervisors": [{"type": "STARTER"}, {"type": "PERSON", "value": ["alice", "bob"]}]}
    assert after.split("notify:")[0] + "nodes:" + after.split("nodes:")[1] == \
        NOTIFY_FLOW.split("notify:")[0] + "nodes:" + NOTIFY_FLOW.split("nodes:")[1]


def inside(box, outer) -> bool:
    return box["x"] >= outer["x"] - 1 and box["y"] >= outer["y"] - 1 and \
        box["x"] + box["width"] <= outer["x"] + outer["width"] + 1 and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1


def all_nodes_visible(page) -> bool:
    canvas = page.locator("#canvas").bounding_box()
    return all(inside(n.bounding_box(), canvas) for n in page.locator("#canvas .drawflow-node").all())


def test_a_wide_flow_fits_the_canvas_when_opened_and_on_request(sessions, demo):
    flow_id = stored_flow(demo, wide_flow(14))
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    page.locator("#canvas .drawflow-node.node-end").wait_for()
    assert page.locator("#canvas .drawflow-node").count() == 16
    assert all_nodes_visible(page)                        # 16 columns, 3 000 px of flow: all of it in view
    for _ in range(3):
        page.click("#btn-zoom-in")
    assert not all_nodes_visible(page)
    page.click("#btn-fit")
    assert all_nodes_visible(page)
    # fitting changes the view, not the flow: nothing to save
    page.click("#tab-deploy")
    page.click("#btn-review")
    page.locator("#diff[data-empty=true]").wait_for()
