"""import_service / update_service with BlueKing service exports (the real files under tests/fixtures/bk_exports)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"


def export(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def root_catalog(api) -> dict:
    return next(c for c in api("get_service_catalogs")["data"] if c["key"] == "root" and c["level"] == 0)


@pytest.mark.parametrize("name", ["itsm_dbm.json", "plugins_create_approval.json"])
def test_a_service_export_imports_and_a_ticket_runs_on_it(api, name):
    body = export(name)
    catalog = api("create_service_catalog", parent__id=root_catalog(api)["id"], name="导入测试")["data"]
    answer = api("import_service", **body, catalog_id=catalog["id"])
    assert answer["code"] == 0, answer
    service = answer["data"]
    assert service["name"] == body["name"] and service["key"] == "request"
    assert any("is_auto_approve" in n for n in service["import_report"])     # what was not carried over
    listed = api("get_services", catalog_id=catalog["id"])["data"]
    assert [s["name"] for s in listed] == [body["name"]]
    detail = api("get_service_detail", service_id=service["id"])["data"]
    keys = [f["key"] for f in detail["fields"]]
    assert "title" in keys and "approver" in keys


def test_the_same_name_again_answers_3900035_and_changes_nothing(api, db_snapshot):
    body = export("plugins_create_approval.json")
    first = api("import_service", **body)
    assert first["code"] == 0, first
    again = api("import_service", **body)
    assert again["code"] == 3900035 and again["result"] is False
    assert "服务名称已经存在" in again["message"]
    names = [s["name"] for s in api("get_services")["data"]]
    assert names.count(body["name"]) == 1


def test_update_service_replaces_the_flow_and_keeps_the_service(api):
    body = export("itsm_dbm.json")
    sid = api("import_service", **body)["data"]["id"]
    old = api("get_service_detail", service_id=sid)["data"]["workflow_id"]
    answer = api("update_service", **body, id=sid)
    assert answer["code"] == 0, answer
    assert answer["data"]["id"] == sid
    assert api("get_service_detail", service_id=sid)["data"]["workflow_id"] != old


def test_a_broken_export_is_refused_with_what_is_wrong_and_saves_nothing(api):
    body = export("itsm_dbm.json")
    before = len(api("get_services")["data"])
    broken = json.loads(json.dumps(body))
    broken["workflow"]["states"]["1908"]["type"] = "ROUTER"
    answer = api("import_service", **broken)
    assert answer["code"] == 3900005, answer
    assert "states.1908" in answer["message"] and "ROUTER" in answer["message"]
    assert len(api("get_services")["data"]) == before


def _builtin_service(api, name="一般审批（蓝鲸内置）") -> int:
    workflows = export("bk_itsm_builtin_workflow.json")
    general = next(w for w in workflows if w["name"] == "一般审批流程")
    answer = api("import_service", key="request", name=name, desc="", is_valid=True, display_type="OPEN",
                 display_role="", project_key="0", source="custom", workflow=general)
    assert answer["code"] == 0, answer
    return answer["data"]["id"]


def _decide(api, sn: str, operator: str, decision: str) -> None:
    """Approve or reject the current approval step the way a client finds its fields: the workflow's state
    with that state_id lists its field ids; 审批意见 takes "true"/"false", 备注 a remark."""
    info = api("get_ticket_info", sn=sn)["data"]
    step = info["current_steps"][0]
    assert operator in step["processors"].split(","), step
    flow = api("get_workflow_detail", workflow_id=api("get_service_detail", service_id=info["service_id"])
               ["data"]["workflow_id"])["data"]
    state = next(s for s in flow["states"] if s["id"] == step["state_id"])
    fields = [f for f in flow["fields"] if f["id"] in state["fields"]]
    values = [{"key": f["key"], "value": decision if f["name"] == "审批意见" else "ok"} for f in fields]
    answer = api("operate_node", sn=sn, operator=operator, state_id=step["state_id"], action_type="TRANSITION",
                 fields=values)
    assert answer["result"] is True, answer


@pytest.mark.parametrize("second", ["true", "false"])
def test_upstreams_builtin_general_approval_runs_a_ticket_to_its_end(api, second):
    """一般审批流程 from bk-itsm's initials: 提单 → 负责人审批 (VARIABLE 指定审批人) → 管理员审批 (admin) → 结束."""
    sid = _builtin_service(api)
    created = api("create_ticket", service_id=sid, creator="alice",
                  fields=[{"key": "title", "value": "申请测试机"}, {"key": "apply_content", "value": "2 台 4C8G"},
                          {"key": "apply_reason", "value": "压测"}, {"key": "ZHIDINGSHENPIREN", "value": "leader"}])
    assert created["code"] == 0, created
    sn = created["data"]["sn"]
    _decide(api, sn, "leader", "true")
    assert api("get_ticket_info", sn=sn)["data"]["current_steps"][0]["name"] == "管理员审批"
    _decide(api, sn, "admin", second)
    result = api("ticket_approval_result", sn=[sn])["data"][0]
    assert result["current_status"] == "FINISHED"
    assert result["approve_result"] is (second == "true")


def test_a_rejection_at_the_first_approval_ends_the_builtin_flow_rejected(api):
    sid = _builtin_service(api)
    sn = api("create_ticket", service_id=sid, creator="alice",
             fields=[{"key": "title", "value": "x"}, {"key": "apply_content", "value": "y"},
                     {"key": "apply_reason", "value": "z"}, {"key": "ZHIDINGSHENPIREN", "value": "leader"}]
             )["data"]["sn"]
    _decide(api, sn, "leader", "false")
    result = api("ticket_approval_result", sn=[sn])["data"][0]
    assert result["current_status"] == "FINISHED" and result["approve_result"] is False


def _ensure_users(app, *names):
    from app.extensions import db
    from app.infra.uow import commit
    from app.services.people.users import create_user, find_user

    with app.app_context():
        for name in names:
            if find_user(name) is None:
                create_user(name, display_name=name)
        commit()
        db.session.remove()


def test_a_workflow_with_parallel_branches_imports_runs_through_every_branch_and_exports_back(api, demo):
    """Upstream's own test flow (itsm/tests/data/flow1.json): ROUTER-P opens three branches, COVERAGE joins them."""
    from app.extensions import db
    from app.models import Flow
    from app.services.flows import export_bk_flow

    _ensure_users(demo, "pitou", "miya")
    workflow = export("bk_itsm_parallel_flow1.json")[0]
    answer = api("import_service", key="request", name="项目开发（并行）", desc="", workflow=workflow)
    assert answer["code"] == 0, answer
    sid = answer["data"]["id"]
    detail = api("get_workflow_detail", workflow_id=api("get_service_detail", service_id=sid)["data"]["workflow_id"])
    types = sorted(s["type"] for s in detail["data"]["states"])
    assert types.count("ROUTER-P") == 1 and types.count("COVERAGE") == 1

    def current():
        return {s["name"]: s for s in api("get_ticket_status", sn=sn, operator="admin")["data"]["current_steps"]}

    def done(name, who, **values):
        if current()[name]["status"] == "RECEIVING":             # two or more processors: claim it first
            assert api("operate_node", username=who, sn=sn, operator=who, state_id=current()[name]["state_id"],
                       action_type="CLAIM")["result"]
        r = api("operate_node", username=who, sn=sn, operator=who, state_id=current()[name]["state_id"],
                action_type="TRANSITION", fields=[{"key": k, "value": v} for k, v in values.items()])
        assert r["result"], r

    sn = api("create_ticket", username="admin", service_id=sid, creator="admin", fields=[
        {"key": k, "value": v} for k, v in dict(title="官网改版", impact="low", urgency="low", priority="P3",
                                                XIANGMUMING="官网", XIANGMUBEIJING="旧版", XIANGMUMUBIAO="新版").items()
    ])["data"]["sn"]
    done("认领+方案", "pitou", TIANXIEFANGAN="分三块并行")
    done("审核", "miya", SHIFOUTONGYI="SHI", DAHUIYUANYIN="无")
    done("项目启动", "pitou", JIHUASHIJIAN="2030-01-01", JIHUAYONGSHI=5, SHISHINANDU="YIBAN",
         SHISHIRENYUAN=["pitou", "miya"], SHISHIFANGAN="<p>方案</p>")
    assert sorted(current()) == ["产品设计工作", "前端开发工作", "后端开发工作"]       # all three branches at once
    done("后端开发工作", "pitou", HOUTAIPINGGU="3 天")
    done("产品设计工作", "miya", SHEJIPINGGU="2 天")
    assert sorted(current()) == ["前端开发工作"]                 # the COVERAGE waits for the last branch
    done("前端开发工作", "miya", QIANDUANPINGGU="4 天")
    assert sorted(current()) == ["工作总结"]
    assert api("operate_node", username="admin", sn=sn, operator="admin", state_id=current()["工作总结"]["state_id"],
               action_type="DISTRIBUTE", processors_type="PERSON", processors="pitou")["result"]   # the starter assigns
    done("工作总结", "pitou", SHIJIHAOSHI="9 天", SHISHIJIEGUO="上线")
    assert api("get_ticket_status", sn=sn)["data"]["current_status"] == "FINISHED"

    with demo.app_context():
        key = db.session.query(Flow.key).filter(Flow.name == workflow["name"]).scalar()
        exported, _notes = export_bk_flow(key)
    states = exported[0]["states"].values()
    by_id = {str(s["id"]): s for s in states}
    gateways = {s["type"]: str(s["id"]) for s in states if s["type"] in ("ROUTER-P", "COVERAGE")}
    assert set(gateways) == {"ROUTER-P", "COVERAGE"}
    lines = exported[0]["transitions"].values()
    fanned = sorted(by_id[str(t["to_state"])]["name"] for t in lines if str(t["from_state"]) == gateways["ROUTER-P"])
    joined = sorted(by_id[str(t["from_state"])]["name"] for t in lines if str(t["to_state"]) == gateways["COVERAGE"])
    assert fanned == joined == ["产品设计工作", "前端开发工作", "后端开发工作"]
