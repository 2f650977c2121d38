"""流程设计器: the canvas page, its check (YAML, diff, Chinese issues) and save endpoints (test client)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from app.models import Flow

FLOWS = Path(__file__).resolve().parents[2] / "flows_yaml"


def config_of(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="designer-config">(.*?)</script>', page, re.S)
                      .group(1))


def post_json(admin, url, body):
    return admin.client.post(url, json=body, headers={"X-CSRFToken": admin.token or admin.csrf()})


def flow_id(app, key):
    from app.extensions import db
    from sqlalchemy import select

    with app.app_context():
        return db.session.execute(select(Flow.id).where(Flow.key == key)).scalar_one()


def test_designer_opens_a_demo_flow_with_its_data_and_serves_its_own_script(admin, app):
    fid = flow_id(app, "change_normal")
    response = admin.get(f"/admin/flow/designer/{fid}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    config = config_of(page)
    assert config["state"]["data"] == yaml.safe_load((FLOWS / "change_normal.yaml").read_text(encoding="utf-8"))
    assert ["parallel", "并行网关"] in config["vocabulary"]["kinds"]
    assert "RISK_LEVEL" in config["vocabulary"]["dictionaries"]
    assert "/static/designer/designer.js" in page and "/static/vendor/drawflow/drawflow.min.js" in page
    assert admin.get("/static/designer/designer.js").status_code == 200
    assert admin.get("/static/vendor/drawflow/drawflow.min.js").status_code == 200


def test_check_of_unchanged_data_gives_an_empty_diff(admin, app):
    fid = flow_id(app, "incident_handle")
    data = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]["data"]
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": fid, "data": data}).get_json()
    assert result["diff"] == "" and result["ok"] is True
    assert result["source"] == (FLOWS / "incident_handle.yaml").read_text(encoding="utf-8")


def test_check_names_errors_in_chinese_and_save_refuses_them(admin, app):
    fid = flow_id(app, "change_normal")
    data = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]["data"]
    data["nodes"][1].pop("processors")
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": fid, "data": data}).get_json()
    assert result["ok"] is False
    assert any(i["message"] == "节点「变更经理审批」：手动节点需要处理人" and i["target"]["node"] == 1
               and re.fullmatch(r"<editor>:\d+", i["location"]) for i in result["issues"])
    response = post_json(admin, "/admin/flow/designer/save", {"flow_id": fid, "data": data})
    assert response.status_code == 400 and "未保存" in response.get_json()["error"]
    with app.app_context():
        from app.extensions import db

        assert db.session.get(Flow, fid).source == (FLOWS / "change_normal.yaml").read_text(encoding="utf-8")


def test_save_writes_the_edit_into_the_yaml_keeping_its_comments(admin, app):
    fid = flow_id(app, "change_normal")
    data = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]["data"]
    data["nodes"][1]["name"] = "变更经理审核"
    data["nodes"][1]["layout"] = {"x": 250, "y": 40}
    result = post_json(admin, "/admin/flow/designer/save", {"flow_id": fid, "data": data}).get_json()
    assert result["ok"] is True and result["deploy"].endswith(f"/admin/flow/deploy/{fid}")
    with app.app_context():
        from app.extensions import db

        source = db.session.get(Flow, fid).source
    assert source.startswith("# 普通变更：")
    assert "    name: 变更经理审核\n    kind: manual\n    layout: {x: 250, y: 40}\n" in source


def test_bad_payload_is_refused_with_a_message(admin):
    response = post_json(admin, "/admin/flow/designer/check", {"flow_id": None, "data": "nope"})
    assert response.status_code == 400 and response.get_json()["error"].startswith("流程数据应为对象")


def test_check_of_a_valid_flow_returns_its_form_preview(admin, app):
    fid = flow_id(app, "account_apply")
    data = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]["data"]
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": fid, "data": data}).get_json()
    assert 'id="flow-graph"' in result["preview"] and 'name="title"' in result["preview"]


def test_designer_is_for_super_admins_only(browser, app):
    alice = browser("alice")
    assert alice.get("/admin/flow/designer/").status_code in (302, 403)
    response = post_json(alice, "/admin/flow/designer/save",
                         {"flow_id": None, "data": {"key": "x", "name": "x", "service_type": "request",
                                                    "nodes": [], "transitions": []}})
    assert response.status_code in (302, 403)
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db

        assert db.session.execute(select(Flow).where(Flow.key == "x")).first() is None


def test_a_blueking_export_opens_on_the_canvas_where_blueking_drew_it(admin, app):
    import io

    data = (FLOWS.parent / "tests" / "fixtures" / "bk_exports" / "itsm_dbm.json").read_bytes()
    admin.post("/admin/flow/import/", {"file": (io.BytesIO(data), "itsm_dbm.json")}, content_type="multipart/form-data")
    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db

        fid = db.session.execute(select(Flow.id).order_by(Flow.id.desc())).scalars().first()
    config = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))
    nodes = config["state"]["data"]["nodes"]
    assert nodes and all(isinstance(n["layout"]["x"], int) for n in nodes)
    assert config["state"]["ok"] is True


def test_a_template_whose_yaml_does_not_parse_opens_empty_and_cannot_be_overwritten(admin, app):
    from app.extensions import db
    from app.infra.uow import commit

    fid = flow_id(app, "problem_manage")
    with app.app_context():
        db.session.get(Flow, fid).source = "key: [unclosed\n"
        commit()
    config = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))
    assert config["state"]["data"] is None and config["state"]["source"] == "key: [unclosed\n"
    response = post_json(admin, "/admin/flow/designer/save", {"flow_id": fid, "data": {"key": "problem_manage"}})
    assert response.status_code == 400 and "YAML 编辑器中修正" in response.get_json()["error"]
    with app.app_context():
        assert db.session.get(Flow, fid).source == "key: [unclosed\n"


def test_in_english_the_designer_reads_english(admin, app):
    admin.post("/language", {"lang": "en"})
    fid = flow_id(app, "change_normal")
    page = admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True)
    config = config_of(page)
    assert ">1 Basics<" in page and "Review changes" in page and "基本信息" not in page
    assert config["lang"] == "en" and config["messages"]["添加字段"] == "Add field"


def test_a_save_over_a_yaml_changed_since_the_canvas_opened_is_refused(admin, app):
    from app.extensions import db
    from app.infra.uow import commit

    fid = flow_id(app, "account_apply")
    state = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]
    with app.app_context():       # meanwhile, someone edits the YAML
        row = db.session.get(Flow, fid)
        row.source = row.source.replace("# ", "# (edited) ", 1)
        commit()
        edited = row.source
    data = state["data"]
    data["name"] = "改名"
    response = post_json(admin, "/admin/flow/designer/save", {"flow_id": fid, "revision": state["revision"], "data": data})
    assert response.status_code == 400 and "请重新打开设计器" in response.get_json()["error"]
    with app.app_context():
        assert db.session.get(Flow, fid).source == edited
    fresh = config_of(admin.get(f"/admin/flow/designer/{fid}").get_data(as_text=True))["state"]
    saved = post_json(admin, "/admin/flow/designer/save", {"flow_id": fid, "revision": fresh["revision"], "data": data})
    assert saved.get_json()["ok"] is True and saved.get_json()["revision"] != fresh["revision"]


def _versions(app, key):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import FlowVersion

    with app.app_context():
        return db.session.execute(select(func.count()).select_from(FlowVersion).where(FlowVersion.flow_key == key)).scalar()


def test_deploy_from_the_designer_keeps_the_flows_notify_policy_and_is_guarded(admin, browser, app):
    fid = flow_id(app, "change_normal")
    before = _versions(app, "change_normal")
    alice = post_json(browser("alice"), "/admin/flow/designer/deploy", {"flow_id": fid})
    assert alice.status_code in (302, 403) and _versions(app, "change_normal") == before
    unsaved = post_json(admin, "/admin/flow/designer/deploy", {"flow_id": None})
    assert unsaved.status_code == 400 and unsaved.get_json()["error"] == "请先保存流程再部署"
    missing = post_json(admin, "/admin/flow/designer/deploy", {"flow_id": 999999})
    assert missing.status_code == 400 and _versions(app, "change_normal") == before
    deployed = post_json(admin, "/admin/flow/designer/deploy", {"flow_id": fid})
    assert deployed.status_code == 200 and deployed.get_json()["message"].startswith("已部署：")
    assert _versions(app, "change_normal") == before + 1
    from sqlalchemy import select

    from app.extensions import db
    from app.flowdef.loader import parse_flow_text
    from app.flowdef.model import NotifyPolicy
    from app.models import Flow, FlowVersion

    with app.app_context():
        source = db.session.execute(select(Flow.source).where(Flow.id == fid)).scalar_one()
        version = db.session.execute(select(FlowVersion).where(FlowVersion.flow_key == "change_normal")
                                     .order_by(FlowVersion.version_number.desc())).scalars().first()
        assert NotifyPolicy.model_validate(version.definition.get("notify", {})) == \
            parse_flow_text(source, "x.yaml").definition.notify


def test_the_designer_offers_registered_apis_and_installed_plugins(admin, app):
    from app.extensions import db
    from app.infra.uow import commit
    from app.models import ApiDef, ApiSystem

    with app.app_context():
        system = ApiSystem(key="idm", name="身份管理", base_url="http://127.0.0.1:9")
        db.session.add(system)
        db.session.flush()
        db.session.add(ApiDef(system_id=system.id, key="create_account", name="创建账号", method="POST", path="/a",
                              request_template='{"user": "", "dept": ""}', response_mapping="not json"))
        commit()
    vocab = config_of(admin.get("/admin/flow/designer/").get_data(as_text=True))["vocabulary"]
    assert vocab["apis"] == [{"key": "idm.create_account", "name": "身份管理 · 创建账号", "method": "POST",
                              "enabled": True, "params": ["user", "dept"], "response": []}]
    assert vocab["plugins"][:2] == [["http_webhook", "HTTP 回调"], ["set_fields", "设置字段值"]]
    assert ["daily", "首次通知后，次日起每天定时通知"] in vocab["notify_frequencies"]


def test_an_api_node_naming_an_unconfigured_api_is_flagged_on_the_node(admin):
    data = {"key": "probe_flow", "name": "探测", "service_type": "request", "nodes": [
        {"key": "submit", "name": "提单", "kind": "start"},
        {"key": "call", "name": "调用", "kind": "api", "api": "idm.nope"},
        {"key": "run", "name": "执行", "kind": "automation", "plugin": "no_such_plugin"},
        {"key": "end", "name": "结束", "kind": "end"}],
        "transitions": [{"from": "submit", "to": "call"}, {"from": "call", "to": "run"}, {"from": "run", "to": "end"}]}
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": None, "data": data}).get_json()
    assert result["ok"] and result["issues"] == []           # saving is allowed: the warning is for deploying
    assert [(w["target"], w["short"]) for w in result["warnings"]] == [
        ({"node": 1, "attr": "api"}, "「API」API「idm.nope」不存在或未启用，请在「API 配置」中添加或启用"),
        ({"node": 2, "attr": "plugin"}, "「插件」插件「no_such_plugin」未安装")]
    data["nodes"][2]["plugin"] = "set_fields"
    data["nodes"][2]["params"] = {"fields": {"x": "1"}}
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": None, "data": data}).get_json()
    assert [w["target"]["node"] for w in result["warnings"]] == [1]


def test_a_choice_field_fed_by_an_unconfigured_api_is_flagged_on_the_field(admin):
    data = {"key": "pick_flow", "name": "选择", "service_type": "request", "nodes": [
        {"key": "submit", "name": "提单", "kind": "start", "fields": [
            {"key": "host", "name": "主机", "type": "SELECT", "source": {"api": "cmdb.nope"}}]},
        {"key": "end", "name": "结束", "kind": "end"}],
        "transitions": [{"from": "submit", "to": "end"}]}
    result = post_json(admin, "/admin/flow/designer/check", {"flow_id": None, "data": data}).get_json()
    assert result["ok"] and result["issues"] == []           # saving is allowed: the warning is for deploying
    assert [(w["target"], w["short"]) for w in result["warnings"]] == [
        ({"node": 0, "field": 0, "attr": "source"}, "「数据来源」API「cmdb.nope」不存在或未启用，请在「API 配置」中添加或启用")]

def test_every_designer_label_has_its_english(app):
    """What designer.js shows through _t("…") and the vocabulary's names all read English in English mode."""
    from app.i18n.en_designer import DESIGNER_EN
    from app.services.flows.designer import vocabulary

    script = (FLOWS.parent / "app" / "static" / "designer" / "designer.js").read_text(encoding="utf-8")
    literals = set(re.findall(r'_t\("([^"]+)"\)', script))
    with app.app_context():
        vocab = vocabulary()
    names = {pair[1] for k in ("kinds", "field_types", "distribute_types", "processor_types", "operators", "service_types",
                               "regex_presets", "plugins", "notify_channels", "notify_frequencies", "ticket_attrs")
             for pair in vocab[k]}
    assert len(literals) > 100
    assert sorted(t for t in literals | names if t not in DESIGNER_EN) == []
