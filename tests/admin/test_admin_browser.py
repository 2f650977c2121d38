"""The back office in a real browser (Playwright + /usr/bin/chromium), against the demo SQLite database:
create a catalog, create a flow from YAML and see its graph, deploy it, bind a service, see it in /submit."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/admin-shots")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")

FLOW_YAML = """\
key: printer_repair
name: 打印机报修
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: floor, name: 楼层, type: SELECT, choices: [{key: f1, name: 一楼}, {key: f2, name: 二楼}]}
  - {key: fix, name: 运维处理, kind: manual, processors: {type: GENERAL, value: [it_ops]},
     fields: [{key: done, name: 是否修好, type: RADIO, required: true, choices: [{key: y, name: 是}, {key: n, name: 否}]}]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: fix}
  - {from: fix, to: end, name: 修好, when: {field: done, op: "==", value: y}}
  - {from: fix, to: fix, name: 继续, when: {field: done, op: "==", value: n}}
"""




@pytest.fixture
def page(live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=live_server)
        page.on("dialog", lambda dialog: dialog.accept())
        yield page
        browser.close()


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_admin_builds_a_service_end_to_end(page, demo):
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "admin-pass-123")
    page.press("input[name=password]", "Enter")
    page.click("#nav-admin")
    assert "后台管理" in page.content()
    shot(page, "01-admin-home")

    # a catalog
    page.goto("/admin/catalog/new/")
    page.fill("#name", "办公设备")
    page.fill("#key", "office")
    page.click("input[type=submit]")
    page.wait_for_selector("tr[data-catalog=office]")
    shot(page, "02-catalog-tree")

    # a flow from YAML, validated live, with its graph
    page.goto("/admin/flow/new/")
    page.fill("#source", FLOW_YAML.replace("to: end", "to: nowhere"))
    page.locator("#issues", has_text="nowhere").wait_for()        # (no wait_for_function: the CSP forbids eval)
    assert "<editor>:" in page.inner_text("#issues")
    shot(page, "03-flow-editor-error")
    page.fill("#source", FLOW_YAML)
    page.locator("#issues", has_text="校验通过").wait_for()
    page.wait_for_selector("#preview svg g.node[data-node=fix]")
    shot(page, "04-flow-editor-ok")
    page.click("button[name=_continue_editing]")
    page.wait_for_selector("text=已保存")
    assert page.locator("#preview svg g.edge.back").count() == 1

    # deploy it
    page.goto("/admin/flow/")
    page.click("tr:has-text('打印机报修') >> text=部署")
    page.check("input[name=channels][value=email]")
    page.locator("#deploy-form .ts-control").click()             # the people picker (pickers.js)
    with page.expect_response(lambda r: "/people/search" in r.url):
        page.keyboard.type("leader")
    page.locator(".ts-dropdown:visible .option:has-text('leader')").first.click()
    shot(page, "05-deploy-form")
    page.click("#deploy-form button[type=submit]")
    page.wait_for_selector("text=已部署：打印机报修 v1")
    with demo.app_context():
        from app.extensions import db
        from app.models import FlowVersion

        version = db.session.query(FlowVersion).filter_by(flow_key="printer_repair").one()
        assert {"type": "PERSON", "value": ["leader"]} in version.definition["notify"]["supervisors"]
    shot(page, "06-flow-list")

    # a service bound to the new version, put into the new catalog
    page.goto("/admin/service/new/")
    page.fill("#name", "打印机报修")
    page.fill("#key", "printer")
    page.select_option("#service_type", "request")
    version_value = page.eval_on_selector(
        "#flow_version", "s => [...s.options].find(o => o.textContent.includes('打印机报修 v1')).value")
    page.eval_on_selector("#flow_version", "(s, v) => { s.value = v; }", version_value)
    shot(page, "07-service-form")
    page.click("input[type=submit]")
    page.wait_for_selector("text=打印机报修 v1")
    shot(page, "08-service-list")
    page.goto("/admin/catalog/")
    page.click("tr[data-catalog=office] >> text=服务（0）")
    page.select_option("select[name=service_ids]", label="打印机报修（请求）")
    page.click("button:has-text('添加')")
    page.wait_for_selector("tr[data-service=printer]")
    shot(page, "09-catalog-services")

    # the requester's submit entry shows it
    page.goto("/submit")
    page.click("text=办公设备")
    page.wait_for_selector("text=打印机报修")
    shot(page, "10-front-office-submit")
    page.click(".card:has-text('打印机报修') >> a.btn")
    page.wait_for_selector("select[name=floor]")
    shot(page, "11-submit-form")
