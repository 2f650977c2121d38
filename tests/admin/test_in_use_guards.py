"""Roles and APIs that a flow in use names cannot be deleted or re-keyed; steps nobody can act on are reported.

A flow version is in use when a service is bound to it or a ticket on it has an open step. Through the
back office as an admin would click: the refusal names what uses the thing, and nothing changes.
"""
from __future__ import annotations

from admin_kit import text_of

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiDef, ApiSystem, AuditLog, Role, RoleMember, Service

API_FLOW = """
key: probe_flow
name: 探测流程
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: host, name: 主机, type: SELECT, required: false,
         source: {api: probe.hosts, items: data.hosts, key_field: ip, name_field: hostname}}
  - key: call
    name: 调用接口
    kind: api
    api: probe.node
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: call}
  - {from: call, to: end}
"""

EMPTY_ROLE_FLOW = """
key: nobody_flow
name: 无人审批
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
  - key: review
    name: 空角色审核
    kind: manual
    processors: {type: GENERAL, value: [ghost_team]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: review}
  - {from: review, to: end}
"""


def _role_id(app, key: str) -> int:
    with app.app_context():
        return db.session.query(Role.id).filter_by(key=key).scalar()


def _audit_deletes(rows, model: str) -> int:
    return rows.count(AuditLog, AuditLog.model == model, AuditLog.action == "delete")


def test_deleting_a_role_a_bound_flow_uses_is_refused_with_the_places(admin, rows, demo):
    role_id = _role_id(demo, "cab")
    members_before = rows.count(RoleMember, RoleMember.role_id == role_id)
    response = admin.post("/admin/role/delete/", {"id": str(role_id), "url": "/admin/role/"}, follow_redirects=True)
    page = text_of(response)
    assert "角色「变更评审委员会」正被使用中的流程引用，不能删除" in page or "正被使用中的流程引用，不能删除" in page
    assert "流程「" in page and "的节点「" in page
    assert rows.one(Role, key="cab") is not None
    assert rows.count(RoleMember, RoleMember.role_id == role_id) == members_before
    assert _audit_deletes(rows, "Role") == 0


def test_the_bulk_delete_action_is_refused_too(admin, rows, demo):
    role_id = _role_id(demo, "change_managers")
    response = admin.post("/admin/role/action/", {"action": "delete", "rowid": [str(role_id)], "url": "/admin/role/"},
                          follow_redirects=True)
    assert "正被使用中的流程引用，不能删除" in text_of(response)
    assert rows.one(Role, key="change_managers") is not None


def test_re_keying_a_role_in_use_is_refused_and_other_edits_pass(admin, rows, demo):
    role = rows.one(Role, key="it_ops")
    members = [m.username for m in rows.all(RoleMember, RoleMember.role_id == role.id)]
    response = admin.post(f"/admin/role/edit/?id={role.id}", {"name": role.name, "key": "it_ops_2", "desc": "",
                                                               "member_names": members}, follow_redirects=True)
    assert "不能修改角色标识" in text_of(response)
    assert rows.one(Role, key="it_ops") is not None and rows.one(Role, key="it_ops_2") is None
    response = admin.post(f"/admin/role/edit/?id={role.id}", {"name": "运维实施", "key": "it_ops", "desc": "改名可以",
                                                               "member_names": members})
    assert response.status_code == 302
    assert rows.one(Role, key="it_ops").name == "运维实施"


def test_an_unused_role_is_deleted(admin, rows, demo):
    admin.post("/admin/role/new/", {"name": "临时组", "key": "temp_team", "desc": "", "member_names": ["eng1"]})
    role_id = _role_id(demo, "temp_team")
    admin.post("/admin/role/delete/", {"id": str(role_id), "url": "/admin/role/"})
    assert rows.one(Role, key="temp_team") is None


def test_a_role_only_an_unbound_version_used_can_go(admin, rows, demo, make_service):
    service_id = make_service(EMPTY_ROLE_FLOW.replace("ghost_team", "old_team"), roles={"old_team": ["eng1"]})
    with demo.app_context():
        db.session.get(Service, service_id).flow_version_id = None        # unbound, no tickets: not in use
        commit()
    admin.post("/admin/role/delete/", {"id": str(_role_id(demo, "old_team")), "url": "/admin/role/"})
    assert rows.one(Role, key="old_team") is None


def _api_service(app, make_service) -> int:
    with app.app_context():
        system = ApiSystem(key="probe", name="探测系统", base_url="http://127.0.0.1:9")
        db.session.add(system)
        db.session.flush()
        db.session.add_all([ApiDef(system_id=system.id, key="hosts", name="主机列表", method="GET", path="/hosts"),
                            ApiDef(system_id=system.id, key="node", name="节点接口", method="POST", path="/node"),
                            ApiDef(system_id=system.id, key="spare", name="备用接口", method="GET", path="/spare")])
        commit()
    return make_service(API_FLOW)


def test_deleting_or_disabling_an_api_a_flow_calls_is_refused(admin, rows, demo, make_service):
    _api_service(demo, make_service)
    node_api = rows.one(ApiDef, key="node")
    page = text_of(admin.post("/admin/apidef/delete/", {"id": str(node_api.id), "url": "/admin/apidef/"},
                              follow_redirects=True))
    assert "API「节点接口」正被使用中的流程引用，不能删除" in page and "节点「调用接口」" in page
    hosts = rows.one(ApiDef, key="hosts")
    page = text_of(admin.post("/admin/apidef/delete/", {"id": str(hosts.id), "url": "/admin/apidef/"},
                              follow_redirects=True))
    assert "字段「主机」" in page
    form = {"system": str(hosts.system_id), "name": hosts.name, "key": "hosts", "method": "GET", "path": "/hosts",
            "request_template": "{}", "response_mapping": "{}", "desc": ""}        # is_enabled unchecked
    assert "不能停用" in text_of(admin.post(f"/admin/apidef/edit/?id={hosts.id}", form, follow_redirects=True))
    assert rows.one(ApiDef, key="hosts").is_enabled
    assert rows.count(ApiDef) == 3 and _audit_deletes(rows, "ApiDef") == 0
    spare = rows.one(ApiDef, key="spare")
    admin.post("/admin/apidef/delete/", {"id": str(spare.id), "url": "/admin/apidef/"})
    assert rows.one(ApiDef, key="spare") is None


def test_the_overview_lists_open_steps_nobody_can_act_on(admin, browser, demo, make_service):
    service_id = make_service(EMPTY_ROLE_FLOW, roles={"ghost_team": []}, users=("alice",))
    alice = browser("alice")
    response = alice.post(f"/submit/{service_id}", data={"title": "没人能审"})
    assert response.status_code == 302
    page = text_of(admin.get("/admin/"))
    assert "无人可处理的步骤" in page
    assert "没人能审" in page and "空角色审核" in page and "GENERAL ghost_team" in page

