"""流程管理: the YAML editor, validation, previews, import/export, deploy, versions."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from admin_kit import text_of

from app.flowdef import dump_flow, load_flow_file, parse_flow_text
from app.models import AuditLog, Flow, FlowVersion, Service

FLOWS = Path(__file__).resolve().parents[2] / "flows_yaml"
DEMO_FLOWS = sorted(p.stem for p in FLOWS.glob("*.yaml"))

NEW_FLOW = """\
key: laptop
name: 笔记本申领
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: model, name: 型号, type: SELECT, choices: [{key: mac, name: MacBook}, {key: tp, name: ThinkPad}]}
  - {key: approve, name: 领导审批, kind: manual, processors: {type: GENERAL, value: [dept_leaders]},
     fields: [{key: ok, name: 同意, type: RADIO, required: true, choices: [{key: y, name: 是}, {key: n, name: 否}]}]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end, name: 同意, when: {field: ok, op: "==", value: y}}
  - {from: approve, to: submit, name: 退回, when: {field: ok, op: "==", value: n}}
"""


def test_flow_list_shows_status_and_flags(admin):
    page = text_of(admin.get("/admin/flow/"))
    assert "账号开通" in page and "启用" in page and "关联业务" in page and "导入流程" in page


def test_create_a_flow_from_yaml_and_preview_its_graph_and_fields(admin, rows):
    response = admin.post("/admin/flow/new/", {"source": NEW_FLOW})
    assert response.status_code == 302, text_of(response)
    flow = rows.one(Flow, key="laptop")
    assert flow.status == "DRAFT" and flow.source == NEW_FLOW and flow.updated_by == "admin"
    page = admin.get(f"/admin/flow/preview/{flow.id}").get_data(as_text=True)
    assert "<svg" in page and 'data-node="approve"' in page and "stroke-dasharray" in page   # the back edge
    assert 'name="model"' in page and "ThinkPad" in page                                       # field preview
    svg = admin.get(f"/admin/flow/graph/{flow.id}.svg")
    assert svg.mimetype == "image/svg+xml" and b"\xe9\xa2\x86\xe5\xaf\xbc\xe5\xae\xa1\xe6\x89\xb9" in svg.data
    assert rows.one(AuditLog, model="Flow", action="create").object_id == str(flow.id)


def test_invalid_yaml_is_refused_with_file_line_and_nothing_saved(admin, rows):
    broken = NEW_FLOW.replace("to: end, name: 同意", "to: nowhere, name: 同意")
    response = admin.post("/admin/flow/new/", {"source": broken})
    assert response.status_code == 400
    page = text_of(response)
    assert "<editor>:16: transitions.1.to:" in page and "nowhere" in page
    assert rows.one(Flow, key="laptop") is None
    assert rows.count(AuditLog) == 0


def test_editing_keeps_the_key_and_validates(admin, rows):
    flow_id = rows.one(Flow, key="account_apply").id
    source = rows.one(Flow, key="account_apply").source
    response = admin.post(f"/admin/flow/edit/?id={flow_id}", {"source": source.replace("key: account_apply", "key: other", 1)})
    assert response.status_code == 400 and "不能修改流程标识" in text_of(response)
    response = admin.post(f"/admin/flow/edit/?id={flow_id}", {"source": source.replace("nodes:", "nodes: [", 1)})
    assert response.status_code == 400 and "<editor>:" in text_of(response)
    assert rows.one(Flow, key="account_apply").source == source


def test_validate_endpoint_answers_errors_warnings_and_preview(admin):
    good = admin.post("/admin/flow/validate/", {"source": NEW_FLOW}).get_json()
    assert good["ok"] and good["errors"] == [] and "<svg" in good["preview"]
    unknown_role = admin.post("/admin/flow/validate/", {"source": NEW_FLOW.replace("[dept_leaders]", "[ghosts]")}).get_json()
    assert unknown_role["ok"] and any("ghosts" in w for w in unknown_role["warnings"])
    bad = admin.post("/admin/flow/validate/", {"source": "key: x\nnodes: 3\n"}).get_json()
    assert not bad["ok"] and bad["errors"][0].startswith("<editor>:")
    assert admin.post("/admin/flow/validate/", {"source": NEW_FLOW}, csrf=False).status_code == 400


@pytest.mark.parametrize("key", DEMO_FLOWS)
@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_import_export_round_trip_of_each_demo_flow(admin, rows, key, fmt):
    original = dump_flow(load_flow_file(FLOWS / f"{key}.yaml").definition)
    flow_id = rows.one(Flow, key=key).id
    exported = admin.get(f"/admin/flow/export/{flow_id}?format={fmt}")
    assert exported.status_code == 200 and f"{key}.{fmt}" in exported.headers["Content-Disposition"]
    if fmt == "yaml":
        assert exported.get_data(as_text=True) == (FLOWS / f"{key}.yaml").read_text(encoding="utf-8")
    admin.post("/admin/flow/delete/", {"id": str(flow_id), "url": "/admin/flow/"})
    assert rows.one(Flow, key=key) is None
    assert rows.count(FlowVersion, FlowVersion.flow_key == key) == 1        # versions untouched
    response = admin.post("/admin/flow/import/", {"file": (io.BytesIO(exported.data), f"{key}.{fmt}")},
                          content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)
    imported = rows.one(Flow, key=key)
    assert imported.status == "CLOSED"
    assert dump_flow(parse_flow_text(imported.source).definition) == original
    again = admin.get(f"/admin/flow/export/{imported.id}?format=json").get_data(as_text=True)
    assert json.loads(again) == original


def test_import_refuses_a_duplicate_key_and_broken_files(admin, rows):
    response = admin.post("/admin/flow/import/", {"text": (FLOWS / "account_apply.yaml").read_text(encoding="utf-8")})
    assert response.status_code == 400 and "已存在" in text_of(response)
    response = admin.post("/admin/flow/import/", {"file": (io.BytesIO(b'{"key": "x", "nodes": []'), "x.json")},
                          content_type="multipart/form-data")
    assert response.status_code == 400 and "x.json:" in text_of(response)
    assert rows.one(Flow, key="x") is None


def test_deploy_creates_the_next_version_with_the_notify_policy(admin, rows):
    flow_id = rows.one(Flow, key="account_apply").id
    assert "任务通知策略" in text_of(admin.get(f"/admin/flow/deploy/{flow_id}"))
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {
        "notify": "yes", "channels": ["email", "wecom"], "frequency": "daily", "supervise": "yes",
        "supervise_starter": "y", "supervisors": "leader, pm"})
    assert response.status_code == 302, text_of(response)
    version = rows.one(FlowVersion, flow_key="account_apply", version_number=2)
    notify = version.definition["notify"]
    assert notify["channels"] == ["email", "wecom"] and notify["frequency"] == "daily"
    assert notify["supervisors"] == [{"type": "STARTER"}, {"type": "PERSON", "value": ["leader", "pm"]}]
    assert rows.one(AuditLog, action="deploy").object_id == str(version.id)


def test_deploy_page_starts_from_the_policy_written_in_the_flow(admin, rows):
    """The canvas (or a hand edit) writes `notify:` into the YAML; the 部署流程 page offers it, not its defaults."""
    policy = ("notify: {enabled: true, channels: [email, wecom], frequency: daily, supervise: true,\n"
              "         supervisors: [{type: PERSON, value: [leader]}]}\n")
    admin.post("/admin/flow/new/", {"source": NEW_FLOW.replace("service_type: request\n",
                                                               "service_type: request\n" + policy)})
    flow_id = rows.one(Flow, key="laptop").id
    response = admin.get(f"/admin/flow/deploy/{flow_id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _checked(html, "channels", "email") and _checked(html, "channels", "wecom") and not _checked(html, "channels", "log")
    assert _checked(html, "frequency", "daily") and not _checked(html, "frequency", "once")
    assert not _checked(html, "supervise_starter", "y")
    assert re.search(r'<option[^>]*(selected[^>]*value="leader"|value="leader"[^>]*selected)', html)
    # deployed as offered: the version keeps the YAML's policy
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {
        "notify": "yes", "channels": ["email", "wecom"], "frequency": "daily", "supervise": "yes",
        "supervisors": "leader"})
    assert response.status_code == 302, text_of(response)
    notify = rows.one(FlowVersion, flow_key="laptop").definition["notify"]
    assert notify["frequency"] == "daily" and notify["supervisors"] == [{"type": "PERSON", "value": ["leader"]}]


def _checked(html: str, name: str, value: str) -> bool:
    """Whether the input `name` with `value` is rendered checked (WTForms writes attributes in any order)."""
    for tag in re.findall(r"<input[^>]*>", html):
        if f'name="{name}"' in tag and f'value="{value}"' in tag:
            return "checked" in tag
    return False


def test_deploy_refuses_unknown_roles(admin, rows):
    admin.post("/admin/flow/new/", {"source": NEW_FLOW.replace("[dept_leaders]", "[ghosts]")})
    flow_id = rows.one(Flow, key="laptop").id
    response = admin.post(f"/admin/flow/deploy/{flow_id}", {"notify": "no", "channels": ["log"], "frequency": "once",
                                                            "supervise": "no"})
    assert response.status_code == 400 and "ghosts" in text_of(response)
    assert rows.count(FlowVersion, FlowVersion.flow_key == "laptop") == 0


def test_close_and_enable_actions_cast_ids(admin, rows):
    ids = [str(rows.one(Flow, key=k).id) for k in ("account_apply", "change_normal")]
    admin.post("/admin/flow/action/", {"action": "close", "rowid": ids, "url": "/admin/flow/"})
    assert {rows.one(Flow, key=k).status for k in ("account_apply", "change_normal")} == {"CLOSED"}
    admin.post("/admin/flow/action/", {"action": "enable", "rowid": ids[:1], "url": "/admin/flow/"})
    assert rows.one(Flow, key="account_apply").status == "ENABLED"


def test_version_in_use_cannot_be_deleted_and_lists_services(admin, rows):
    version = rows.one(FlowVersion, flow_key="account_apply", version_number=1)
    response = admin.post("/admin/flowversion/delete/", {"id": str(version.id), "url": "/admin/flowversion/"},
                          follow_redirects=True)
    assert "正被服务使用：账号开通" in text_of(response)
    assert rows.one(FlowVersion, id=version.id) is not None


def test_unused_version_is_previewed_restored_and_deleted(admin, rows):
    flow_id = rows.one(Flow, key="incident_handle").id
    admin.post(f"/admin/flow/deploy/{flow_id}", {"notify": "no", "channels": ["log"], "frequency": "once",
                                                  "supervise": "no"})
    v2 = rows.one(FlowVersion, flow_key="incident_handle", version_number=2)
    page = admin.get(f"/admin/flowversion/preview/{v2.id}").get_data(as_text=True)
    assert "<svg" in page and "还原到流程模板" in page
    admin.post("/admin/flow/delete/", {"id": str(flow_id), "url": "/admin/flow/"})
    response = admin.post(f"/admin/flowversion/restore/{v2.id}")
    assert response.status_code == 302
    restored = rows.one(Flow, key="incident_handle")
    assert restored is not None and restored.source == v2.source
    admin.post("/admin/flowversion/action/", {"action": "delete", "rowid": [str(v2.id)], "url": "/admin/flowversion/"})
    assert rows.one(FlowVersion, id=v2.id) is None
    assert rows.count(Service, Service.key == "incident_handle") == 1
    assert {a.action for a in rows.all(AuditLog)} >= {"deploy", "delete", "restore"}


def test_yaml_files_and_database_stay_in_step(admin, rows, demo, tmp_path):
    """After admin edits, `flows export` writes exactly what the admin saved, and it loads back."""
    admin.post("/admin/flow/new/", {"source": NEW_FLOW})
    from app.extensions import db
    from app.services.flows.library import export_flow_files, validate_files

    with demo.app_context():
        export_flow_files(tmp_path)
        db.session.rollback()
    assert (tmp_path / "laptop.yaml").read_text(encoding="utf-8") == NEW_FLOW
    flows, issues = validate_files([tmp_path])
    assert not issues and {f.key for f, _ in flows} == set(DEMO_FLOWS) | {"laptop"}
    assert yaml.safe_load(NEW_FLOW)["key"] == "laptop"


BK_EXPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"


def test_import_of_upstreams_builtin_export_saves_both_flows_and_shows_what_was_not_carried_over(admin, rows):
    data = (BK_EXPORTS / "bk_itsm_builtin_workflow.json").read_bytes()
    response = admin.post("/admin/flow/import/", {"file": (io.BytesIO(data), "bk_itsm_builtin_workflow.json")},
                          content_type="multipart/form-data", follow_redirects=True)
    page = text_of(response)
    assert response.status_code == 200 and "一般审批流程" in page and "变更发布" in page
    assert "未能导入" in page and "can_deliver" in page
    imported = [f for f in rows.all(Flow) if f.name in ("一般审批流程", "变更发布")]
    assert len(imported) == 2 and all(f.status == "CLOSED" for f in imported)
    exported = admin.get(f"/admin/flow/export/{imported[0].id}?format=bk")
    workflow = json.loads(exported.data)[0]
    assert {s["type"] for s in workflow["states"].values()} >= {"START", "NORMAL", "APPROVAL", "END"}


def test_a_broken_blueking_export_is_refused_and_saves_nothing(admin, rows):
    data = json.loads((BK_EXPORTS / "itsm_dbm.json").read_text(encoding="utf-8"))
    data["workflow"]["transitions"]["2015"]["to_state"] = 999
    before = len(rows.all(Flow))
    response = admin.post("/admin/flow/import/", {"text": json.dumps(data, ensure_ascii=False)})
    assert response.status_code == 400
    assert "transitions.2015" in text_of(response) and "999" in text_of(response)
    assert len(rows.all(Flow)) == before
