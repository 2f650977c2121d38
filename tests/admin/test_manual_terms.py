"""The manual's terms where the manual puts them (issue 16): each test opens the page an admin or user would
read and finds the term there."""
from __future__ import annotations

import pytest
from admin_kit import text_of

from app.models import Flow, FlowVersion

AUTOMATION_FLOW = """\
key: auto_note
name: 自动记录
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
  - key: handle
    name: 处理
    kind: manual
    processors: {type: STARTER}
  - key: note
    name: 记录结果
    kind: automation
    plugin: set_fields
    params:
      fields: {result_note: "已处理"}
    fields:
      - {key: result_note, name: 结果, type: TEXT}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: note}
  - {from: note, to: end}
"""


@pytest.mark.parametrize(("url", "term"), [
    ("/admin/apicalllog/", "接口日志"),
    ("/admin/apisystem/", "接入系统"),
    ("/admin/cmdbrole/", "业务角色表"),
    ("/admin/role/", "通用角色表"),
    ("/admin/adminrole/", "管理员角色表"),
    ("/admin/flow/", "新增流程"),
    ("/admin/flow/", "导出流程"),
])
def test_back_office_pages_use_the_manuals_term(admin, url, term):
    response = admin.get(url)
    assert response.status_code == 200
    assert term in text_of(response)


@pytest.mark.parametrize(("module", "term"), [
    ("request", "所有请求单"), ("change", "所有变更单"), ("event", "所有故障单"), ("question", "所有问题单"),
])
def test_each_module_lists_all_its_tickets_under_the_manuals_name(admin, module, term):
    assert term in text_of(admin.get(f"/modules/{module}"))


def test_a_flow_version_offers_to_restore_it(admin, rows):
    version = rows.one(FlowVersion, flow_key="account_apply", version_number=1)
    assert "还原" in text_of(admin.get(f"/admin/flowversion/preview/{version.id}"))


@pytest.mark.parametrize("term", ["手动节点", "标准运维节点"])
def test_the_flow_graph_names_node_kinds_as_the_manual_does(admin, rows, term):
    response = admin.post("/admin/flow/new/", {"source": AUTOMATION_FLOW})
    assert response.status_code == 302, text_of(response)
    flow_id = rows.one(Flow, key="auto_note").id
    assert term in text_of(admin.get(f"/admin/flow/preview/{flow_id}"))


@pytest.mark.parametrize("term", ["部署流程名", "是否通知", "是否督办", "通知类型", "首次通知，以后不再通知",
                                  "首次通知后，次日起每天定时通知"])
def test_the_deploy_dialog_uses_the_manuals_terms(admin, rows, term):
    flow_id = rows.one(Flow, key="account_apply").id
    assert term in text_of(admin.get(f"/admin/flow/deploy/{flow_id}"))


def test_the_deploy_name_names_the_new_version(admin, rows):
    flow_id = rows.one(Flow, key="account_apply").id
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {
        "version_name": "账号开通（2024 版）", "notify": "no", "channels": ["log"], "frequency": "once",
        "supervise": "no"})
    assert response.status_code == 302, text_of(response)
    assert rows.one(FlowVersion, flow_key="account_apply", version_number=2).name == "账号开通（2024 版）"


def test_an_empty_deploy_name_keeps_the_flows_name(admin, rows):
    flow = rows.one(Flow, key="account_apply")
    admin.post(f"/admin/flow/deploy/{flow.id}", {"version_name": "", "notify": "no", "channels": ["log"],
                                                 "frequency": "once", "supervise": "no"})
    assert rows.one(FlowVersion, flow_key="account_apply", version_number=2).name == flow.name


def test_the_language_switch_is_on_every_admin_page_and_keeps_the_page(admin):
    for url in ("/admin/", "/admin/flow/", "/admin/settings/"):
        assert 'id="language-switch"' in admin.get(url).get_data(as_text=True), url
    response = admin.post("/language", {"lang": "en", "next": "/admin/flow/"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/flow/")
    page = text_of(admin.get("/admin/flow/"))
    assert "Flow design" in page and "Export flow" in page and "流程设计" not in page
    admin.post("/language", {"lang": "zh", "next": "/admin/flow/"})
    assert "导出流程" in text_of(admin.get("/admin/flow/"))
