"""角色配置 and 系统配置: roles, CMDB sync, admin roles, dictionaries, settings, API config, audit log."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from admin_kit import text_of

from app.models import ApiCallLog, ApiDef, ApiSystem, AuditLog, Dictionary, DictionaryItem, Role, RoleMember, User

CMDB_YAML = """\
roles:
  - {key: biz_ops, name: 业务运维, bk_biz_id: 2, members: [ops1, ops2]}
  - {key: biz_dev, name: 业务开发, bk_biz_id: 2, members: [eng1]}
"""


# --- general roles -------------------------------------------------------------

def test_general_role_create_edit_delete_with_members(admin, rows):
    response = admin.post("/admin/role/new/", {"name": "数据库组", "key": "dba", "desc": "DBA",
                                               "member_names": ["eng1", "eng2"]})
    assert response.status_code == 302, text_of(response)
    role = rows.one(Role, key="dba")
    assert role.type == "GENERAL"
    assert sorted(m.username for m in rows.all(RoleMember, RoleMember.role_id == role.id)) == ["eng1", "eng2"]
    admin.post(f"/admin/role/edit/?id={role.id}", {"name": "数据库组", "key": "dba", "desc": "", "member_names": ["pm"]})
    assert [m.username for m in rows.all(RoleMember, RoleMember.role_id == role.id)] == ["pm"]
    audit = rows.all(AuditLog, AuditLog.model == "Role", order_by=AuditLog.id)
    assert audit[-1].before["members"] == ["eng1", "eng2"] and audit[-1].after["members"] == ["pm"]
    admin.post("/admin/role/delete/", {"id": str(role.id), "url": "/admin/role/"})
    assert rows.one(Role, key="dba") is None


def test_general_role_key_must_be_unique(admin, rows):
    response = admin.post("/admin/role/new/", {"name": "重复", "key": "it_ops", "desc": "", "member_names": []})
    assert "已被角色「运维实施组」使用" in text_of(response) or response.status_code == 200
    assert rows.count(Role, Role.key == "it_ops") == 1


# --- CMDB roles ----------------------------------------------------------------

def test_cmdb_sync_from_the_yaml_file_replaces_cmdb_roles(admin, rows, demo, tmp_path):
    source = tmp_path / "cmdb.yaml"
    source.write_text(CMDB_YAML, encoding="utf-8")
    demo.config["CMDB_SOURCE"] = str(source)
    try:
        response = admin.post("/admin/cmdbrole/sync/", follow_redirects=True)
        assert "已从 CMDB 同步 2 个业务角色" in text_of(response)
        assert sorted(r.key for r in rows.all(Role, Role.type == "CMDB")) == ["biz_dev", "biz_ops"]
        source.write_text("roles:\n  - {key: biz_ops, name: 业务运维, bk_biz_id: 2, members: [ops2]}\n", encoding="utf-8")
        admin.post("/admin/cmdbrole/sync/")
        cmdb = rows.all(Role, Role.type == "CMDB")
        assert [r.key for r in cmdb] == ["biz_ops"]
        assert [m.username for m in rows.all(RoleMember, RoleMember.role_id == cmdb[0].id)] == ["ops2"]
        assert rows.count(Role, Role.type == "GENERAL") == 9                 # general roles untouched
        page = text_of(admin.get("/admin/cmdbrole/"))
        assert "业务运维" in page and "立即同步" in page
        assert admin.get(f"/admin/cmdbrole/edit/?id={cmdb[0].id}").status_code in (302, 404)   # read-only
        assert rows.all(AuditLog, AuditLog.action == "sync", order_by=AuditLog.id)[-1].after == {"biz_ops": ["ops2"]}
    finally:
        demo.config["CMDB_SOURCE"] = "cmdb_roles.yaml"


def test_cmdb_sync_refuses_a_missing_or_broken_source(admin, rows, demo, tmp_path):
    demo.config["CMDB_SOURCE"] = str(tmp_path / "missing.yaml")
    try:
        assert "不存在" in text_of(admin.post("/admin/cmdbrole/sync/", follow_redirects=True))
        (tmp_path / "bad.yaml").write_text("roles: [{key: it_ops, name: 冲突}]\n", encoding="utf-8")
        demo.config["CMDB_SOURCE"] = str(tmp_path / "bad.yaml")
        assert "与通用角色重复" in text_of(admin.post("/admin/cmdbrole/sync/", follow_redirects=True))
        assert rows.count(Role, Role.type == "CMDB") == 0
    finally:
        demo.config["CMDB_SOURCE"] = "cmdb_roles.yaml"


# --- admin roles ---------------------------------------------------------------

def test_super_admin_grants_admin_roles(admin, rows, browser):
    pm = rows.one(User, username="pm")
    response = admin.post(f"/admin/adminrole/edit/?id={pm.id}", {"is_superuser": "y", "is_stats_admin": "y"})
    assert response.status_code == 302
    pm = rows.one(User, username="pm")
    assert pm.is_superuser and pm.is_stats_admin
    assert browser("pm").get("/admin/").status_code == 200


def test_super_admin_cannot_remove_their_own_role(admin, rows):
    me = rows.one(User, username="admin")
    response = admin.post(f"/admin/adminrole/edit/?id={me.id}", {"is_stats_admin": "y"})
    assert "不能取消自己的超级管理员角色" in text_of(response)
    assert rows.one(User, username="admin").is_superuser


# --- dictionaries --------------------------------------------------------------

def test_dictionary_create_edit_and_delete(admin, rows):
    response = admin.post("/admin/dictionary/new/", {"key": "PLANET", "name": "等级", "desc": "", "is_enabled": "y",
                                                     "items-0-key": "p1", "items-0-name": "一级"})
    assert response.status_code == 302, text_of(response)
    d = rows.one(Dictionary, key="PLANET")
    assert [i.key for i in rows.all(DictionaryItem, DictionaryItem.dictionary_id == d.id)] == ["p1"]
    admin.post("/admin/dictionary/delete/", {"id": str(d.id), "url": "/admin/dictionary/"})
    assert rows.one(Dictionary, key="PLANET") is None


def test_dictionary_duplicate_dictionary_code_is_refused(admin, rows):
    response = admin.post("/admin/dictionary/new/", {"key": "IMPACT", "name": "重复编码", "desc": "", "is_enabled": "y"})
    assert "已经存在" in text_of(response)      # Flask-Admin's unique check, before the service's
    assert rows.count(Dictionary, Dictionary.key == "IMPACT") == 1


def test_dictionary_used_by_a_flow_cannot_be_deleted_or_disabled(admin, rows):
    d = rows.one(Dictionary, key="RISK_LEVEL")
    response = admin.post("/admin/dictionary/delete/", {"id": str(d.id), "url": "/admin/dictionary/"},
                          follow_redirects=True)
    assert "正被流程引用：普通变更" in text_of(response)
    response = admin.post(f"/admin/dictionary/edit/?id={d.id}", {"key": "RISK_LEVEL", "name": d.name, "desc": "",
                                                                 "items-0-key": "low", "items-0-name": "低"})
    assert "正被流程引用" in text_of(response)
    assert rows.one(Dictionary, key="RISK_LEVEL").is_enabled
    assert rows.count(DictionaryItem, DictionaryItem.dictionary_id == d.id) > 1


def test_dictionaries_load_from_files(admin, rows):
    d = rows.one(Dictionary, key="IMPACT")
    admin.post(f"/admin/dictionary/edit/?id={d.id}", {"key": "IMPACT", "name": "改过", "desc": "", "is_enabled": "y",
                                                      "items-0-key": "x", "items-0-name": "X"})
    response = admin.post("/admin/dictionary/load/", follow_redirects=True)
    assert "加载" in text_of(response)
    assert rows.one(Dictionary, key="IMPACT").name == "影响范围"


# --- settings ------------------------------------------------------------------

def test_settings_save_attachment_limits_and_clear_cache(admin, rows):
    page = text_of(admin.get("/admin/settings/"))
    assert "附件存储" in page and "上次清除时间：从未清除" in page
    response = admin.post("/admin/settings/", {"upload_dir": "/srv/itsm/files", "upload_max_mb": "20"})
    assert response.status_code == 302
    response = admin.post("/admin/settings/", {"upload_dir": "/srv/itsm/files", "upload_max_mb": "0"})
    assert response.status_code == 200 and "应在 0.01 到 1024 之间" in text_of(response)
    page = text_of(admin.post("/admin/settings/clear-cache/", follow_redirects=True))
    assert "缓存已清除" in page and "上次清除时间：20" in page
    assert "/srv/itsm/files" in admin.get("/admin/settings/").get_data(as_text=True)
    assert {a.object_id for a in rows.all(AuditLog, AuditLog.model == "Setting")} == {
        "upload_dir", "upload_max_mb", "cache_cleared_at"}


# --- API configuration ---------------------------------------------------------

class _Echo(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        seen = self.headers.get("Authorization", "")
        payload = json.dumps({"result": True, "data": {"got": json.loads(body or b"{}"), "token": seen}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo_server():
    server = HTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_api_system_secrets_are_never_shown_and_test_call_is_logged_masked(admin, rows, echo_server):
    secret = "Bearer s3cr3t-token-value"
    response = admin.post("/admin/apisystem/new/", {"name": "CMDB", "key": "cmdb", "base_url": echo_server + "/",
                                                    "desc": "", "is_enabled": "y",
                                                    "headers_text": f"Authorization: {secret}"})
    assert response.status_code == 302, text_of(response)
    system = rows.one(ApiSystem, key="cmdb")
    assert system.auth_headers == {"Authorization": secret} and system.base_url == echo_server
    for url in ("/admin/apisystem/", f"/admin/apisystem/edit/?id={system.id}"):
        page = admin.get(url).get_data(as_text=True)
        assert "s3cr3t" not in page and "******" in page, url
    assert "s3cr3t" not in admin.get("/admin/auditlog/").get_data(as_text=True)
    # saving the form with the mask keeps the stored secret
    admin.post(f"/admin/apisystem/edit/?id={system.id}", {"name": "CMDB 系统", "key": "cmdb", "base_url": echo_server,
                                                          "desc": "", "is_enabled": "y",
                                                          "headers_text": "Authorization: ******"})
    assert rows.one(ApiSystem, key="cmdb").auth_headers == {"Authorization": secret}

    response = admin.post("/admin/apidef/new/", {"system": str(system.id), "name": "查主机", "key": "hosts",
                                                 "method": "POST", "path": "/hosts", "request_template": '{"biz": 2}',
                                                 "response_mapping": '{"n": "data.got.biz"}', "desc": "",
                                                 "is_enabled": "y"})
    assert response.status_code == 302, text_of(response)
    api = rows.one(ApiDef, key="hosts")
    page = admin.post(f"/admin/apidef/test/{api.id}", {"body": ""}).get_data(as_text=True)
    assert "成功" in page and "biz" in page and "s3cr3t" not in page
    log = rows.one(ApiCallLog, api_id=api.id)
    assert log.ok and log.status_code == 200 and "s3cr3t" not in log.response_body
    assert log.request_headers == {"Authorization": "******"}
    assert "s3cr3t" not in admin.get(f"/admin/apicalllog/details/?id={log.id}").get_data(as_text=True)
    assert rows.count(AuditLog) >= 3
    assert all("s3cr3t" not in json.dumps([a.before, a.after], ensure_ascii=False) for a in rows.all(AuditLog))


def test_api_validation_refuses_bad_paths_and_json(admin, rows):
    admin.post("/admin/apisystem/new/", {"name": "S", "key": "s", "base_url": "ftp://x", "headers_text": ""})
    assert rows.one(ApiSystem, key="s") is None
    admin.post("/admin/apisystem/new/", {"name": "S", "key": "s", "base_url": "http://x.test", "headers_text": ""})
    system = rows.one(ApiSystem, key="s")
    response = admin.post("/admin/apidef/new/", {"system": str(system.id), "name": "a", "key": "a", "method": "GET",
                                                 "path": "no-slash", "request_template": "", "response_mapping": ""})
    assert "接口路径应以 / 开头" in text_of(response)
    response = admin.post("/admin/apidef/new/", {"system": str(system.id), "name": "a", "key": "a", "method": "GET",
                                                 "path": "/a", "request_template": "{oops", "response_mapping": ""})
    assert "请求模板不是合法的 JSON" in text_of(response)
    assert rows.count(ApiDef) == 0


# --- audit log -----------------------------------------------------------------

def test_audit_log_is_read_only_and_lists_changes(admin, rows):
    admin.post("/admin/role/new/", {"name": "审计测试", "key": "audit_t", "desc": "", "member_names": ["pm"]})
    page = text_of(admin.get("/admin/auditlog/"))
    assert "审计测试" in page and "admin" in page
    entry = rows.one(AuditLog, model="Role")
    assert entry.actor == "admin" and entry.after["key"] == "audit_t" and entry.before is None
    assert admin.get(f"/admin/auditlog/details/?id={entry.id}").status_code == 200
    assert admin.get("/admin/auditlog/new/").status_code in (302, 404)
    admin.post("/admin/auditlog/delete/", {"id": str(entry.id), "url": "/admin/auditlog/"})
    assert rows.one(AuditLog, id=entry.id) is not None
