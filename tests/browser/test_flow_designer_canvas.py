"""流程设计器 in Chromium: an admin builds a flow from nothing on the canvas, deploys it, binds a service and a
user submits it; the saved YAML equals a reference file; a hand-written demo flow saves back unchanged."""
from __future__ import annotations

import yaml

from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Flow, Service
from designer_kit import add_field, back_to_node, choose, connect_in_panel, open_node, set_value, wait_checked

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "designer_reference.yaml"
FLOWS = HERE.parents[1] / "flows_yaml"


def test_admin_designs_deploys_binds_and_a_user_submits(sessions, demo):
    admin = sessions("admin")
    page = admin.go("/admin/flow/designer/")
    page.on("dialog", lambda d: d.accept())

    # 1 基本信息
    page.fill("#flow-name", "办公用品申请")
    page.press("#flow-name", "Tab")
    set_value(page, "#flow-key", "office_supplies")
    choose(page, "#flow-service-type", "request")
    page.click("#btn-next-design")

    # 2 流程设计: the start node with two fields
    page.click("#palette .palette-item[data-kind=start]")
    set_value(page, "#panel input[name=node_key]", "submit")
    set_value(page, "#panel input[name=node_name]", "提单")
    add_field(page, "title", "标题", "STRING")
    page.check("#p-required")
    back_to_node(page)
    add_field(page, "category", "类别", "SELECT")
    set_value(page, "#panel textarea[name=field_choices]", "paper:纸张\npen:笔")
    back_to_node(page)

    # a manual node: a number (half row, default) and a text hidden by a condition on an earlier field
    page.click("#palette .palette-item[data-kind=manual]")
    set_value(page, "#panel input[name=node_key]", "handle")
    set_value(page, "#panel input[name=node_name]", "行政处理")
    choose(page, "#panel select[name=distribute_type]", "CLAIM_THEN_PROCESS")
    add_field(page, "qty", "数量", "INT")
    choose(page, "#panel select[name=field_layout]", "half")
    set_value(page, "#panel input[name=field_default]", "1")
    back_to_node(page)
    add_field(page, "note", "笔的型号", "TEXT")
    # the hide condition offers only earlier fields: before any line exists, this node's own earlier one
    page.check("#p-hide")
    assert page.locator("#panel select[name=hide_field] option").all_inner_texts() == ["数量（qty）"]
    page.uncheck("#p-hide")
    back_to_node(page)

    # an approval node and an end node
    page.click("#palette .palette-item[data-kind=approval]")
    set_value(page, "#panel input[name=node_key]", "approve")
    set_value(page, "#panel input[name=node_name]", "主管审批")
    page.locator("#palette .palette-item[data-kind=end]").drag_to(page.locator("#canvas"),
                                                                   target_position={"x": 620, "y": 300})
    set_value(page, "#panel input[name=node_key]", "end")

    # a line drawn with the mouse, the others from the panel
    out_port = page.locator("#canvas .drawflow-node.node-submit .output").bounding_box()
    in_port = page.locator("#canvas .drawflow-node.node-handle .input").bounding_box()
    page.mouse.move(out_port["x"] + 5, out_port["y"] + 5)
    page.mouse.down()
    page.mouse.move(in_port["x"] + 2, in_port["y"] + 5, steps=8)
    page.mouse.move(in_port["x"] + 5, in_port["y"] + 5, steps=2)
    page.mouse.up()
    page.locator("#panel h6:has-text('连线：提单 → 行政处理')").wait_for()
    connect_in_panel(page, "handle", "approve")
    connect_in_panel(page, "approve", "end")

    # until the approval has two conditional lines, the check says so in Chinese, on the element
    wait_checked(page)
    connect_in_panel(page, "approve", "submit")
    wait_checked(page)
    assert "节点「approve」有多条没有条件的流出连线，请为连线设置条件" in page.inner_text("#issues")
    assert "<editor>:" in page.inner_text("#issues")
    assert page.locator("#canvas .connection.has-error").count() >= 1

    # conditional lines from the approval's decision (choices offered: 通过 / 拒绝)
    for target, name, value in (("end", "通过", "true"), ("submit", "退回", "false")):
        open_node(page, "approve")
        page.click(f"#panel .field-row[data-line-to={target}] button:has-text('编辑')")
        set_value(page, "#panel input[name=line_name]", name)
        page.check("#p-line_when")
        choose(page, "#panel select[name=when_field]", "approve_result")
        choose(page, "#panel select[name=when_value]", value)

    # now the hide condition over an earlier field, with that field's choices
    open_node(page, "handle")
    page.click("#panel .field-row[data-field=note] button:has-text('编辑')")
    page.check("#p-hide")
    choose(page, "#panel select[name=hide_field]", "category")
    choose(page, "#panel select[name=hide_op]", "!=")
    choose(page, "#panel select[name=hide_value]", "pen")

    # undo / redo, auto-layout and zoom are there
    page.click("#btn-undo")
    page.click("#btn-redo")
    page.click("#btn-layout")
    page.click("#btn-zoom-in")
    page.click("#btn-zoom-reset")
    wait_checked(page)
    assert page.inner_text("#issues").strip() == "校验通过"
    # a field's panel shows it as the form will (the live form preview of the valid flow)
    open_node(page, "handle")
    page.click("#panel .field-row[data-field=qty] button:has-text('编辑')")
    assert page.locator("#field-preview input[type=number]").count() == 1
    assert page.locator("#form-preview .node-preview[data-node=submit] select").count() == 1

    # 3 保存与部署: the diff first, then save
    page.click("#btn-next-deploy")
    page.locator("#diff[data-empty=false]").wait_for()
    assert "+key: office_supplies" in page.inner_text("#diff")
    page.click("#btn-save")
    page.locator("#saved").wait_for()
    with demo.app_context():
        source = db.session.execute(select(Flow.source).where(Flow.key == "office_supplies")).scalar_one()
    assert source == REFERENCE.read_text(encoding="utf-8")

    with page.expect_navigation():
        page.click("#deploy-link")
    with page.expect_navigation():
        page.click("button:has-text('部署')")
    assert "已部署：办公用品申请 v1" in page.content()

    # bind a service to the new version
    page = admin.go("/admin/service/new/")
    page.fill("#name", "办公用品")
    page.fill("#key", "office_supplies")
    page.select_option("#service_type", "request")
    version_value = page.eval_on_selector(
        "#flow_version", "s => [...s.options].find(o => o.textContent.includes('办公用品申请 v1')).value")
    page.eval_on_selector("#flow_version", "(s, v) => { s.value = v; }", version_value)
    with page.expect_navigation():
        page.click("input[type=submit]")
    with demo.app_context():
        service_id = db.session.execute(select(Service.id).where(Service.key == "office_supplies")).scalar_one()

    # a user submits it: the form is the designed one
    alice = sessions("alice")
    page = alice.go(f"/submit/{service_id}")
    page.fill("input[name=title]", "A4 纸两箱")
    page.select_option("select[name=category]", "paper")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    assert page.inner_text("#sn").startswith("REQ")
    assert all(u.startswith(sessions.base) for u in sessions.requests)


def node_id(page, key):
    """drawflow's id of the node drawn for flow node `key`."""
    return page.get_attribute(f"#canvas .drawflow-node.node-{key}", "id").removeprefix("node-")


def test_a_hand_written_flow_opens_and_saves_back_unchanged(sessions, demo):
    with demo.app_context():
        flow_id, before = db.session.execute(select(Flow.id, Flow.source).where(Flow.key == "change_normal")).one()
    page = sessions("admin").go(f"/admin/flow/designer/{flow_id}")
    assert page.locator("#canvas .drawflow-node").count() == len(yaml.safe_load(before)["nodes"])    # gateways too
    page.click("#tab-deploy")
    page.click("#btn-review")
    page.locator("#diff[data-empty=true]").wait_for()
    page.click("#btn-save")
    page.locator("#saved").wait_for()
    with demo.app_context():
        after = db.session.execute(select(Flow.source).where(Flow.id == flow_id)).scalar_one()
    assert after == before == (FLOWS / "change_normal.yaml").read_text(encoding="utf-8")
