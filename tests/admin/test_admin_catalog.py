"""服务管理: services and catalogs through the admin, with their guards."""
from __future__ import annotations

from app.models import AuditLog, Catalog, CatalogService, FlowVersion, Service

from admin_kit import text_of


def _version_id(rows, key="account_apply"):
    return rows.one(FlowVersion, flow_key=key, version_number=1).id


def test_service_list_shows_catalogs_and_versions(admin):
    page = text_of(admin.get("/admin/service/"))
    assert "账号开通" in page and "账号与权限" in page and "账号开通 v1" in page


def test_create_edit_and_delete_a_service(admin, rows):
    account = rows.one(Catalog, key="account")
    response = admin.post("/admin/service/new/", {
        "name": "VPN 开通", "key": "vpn", "service_type": "request", "flow_version": str(_version_id(rows)),
        "desc": "远程办公", "owners": "admin", "is_valid": "y", "catalog_ids": [str(account.id)]})
    assert response.status_code == 302, text_of(response)
    service = rows.one(Service, key="vpn")
    assert service.name == "VPN 开通" and service.updated_by == "admin"
    assert rows.one(CatalogService, service_id=service.id).catalog_id == account.id

    response = admin.post(f"/admin/service/edit/?id={service.id}", {
        "name": "VPN 账号开通", "key": "vpn", "service_type": "request", "flow_version": str(_version_id(rows)),
        "desc": "", "owners": "admin", "catalog_ids": []})
    assert response.status_code == 302
    service = rows.one(Service, key="vpn")
    assert service.name == "VPN 账号开通" and service.is_valid is False
    assert rows.count(CatalogService, CatalogService.service_id == service.id) == 0

    response = admin.post("/admin/service/delete/", {"id": str(service.id), "url": "/admin/service/"},
                          follow_redirects=True)
    assert rows.one(Service, key="vpn") is None
    actions = [a.action for a in rows.all(AuditLog, AuditLog.model == "Service", order_by=AuditLog.id)]
    assert actions == ["create", "update", "delete"]


def test_service_type_must_match_the_bound_version(admin, rows):
    response = admin.post("/admin/service/new/", {
        "name": "错配", "key": "wrong", "service_type": "change", "flow_version": str(_version_id(rows)),
        "owners": "", "is_valid": "y"})
    assert response.status_code == 200
    assert "不一致" in text_of(response)
    assert rows.one(Service, key="wrong") is None


def test_service_in_a_catalog_cannot_be_deleted(admin, rows):
    service = rows.one(Service, key="account_apply")
    response = admin.post("/admin/service/delete/", {"id": str(service.id), "url": "/admin/service/"},
                          follow_redirects=True)
    assert "属于服务目录：账号与权限" in text_of(response)
    assert rows.one(Service, key="account_apply") is not None
    assert rows.count(AuditLog) == 0


def test_catalog_tree_create_child_edit_and_delete(admin, rows):
    root = rows.one(Catalog, key="root")
    page = text_of(admin.get("/admin/catalog/"))
    assert "根目录" in page and "基础设施" in page and "变更申请" in page
    response = admin.post("/admin/catalog/new/", {"name": "办公设备", "key": "office", "parent": str(root.id),
                                                  "desc": "电脑、打印机"})
    assert response.status_code == 302
    office = rows.one(Catalog, key="office")
    assert office.parent_id == root.id and office.level == 1
    response = admin.post(f"/admin/catalog/edit/?id={office.id}", {"name": "办公设备与耗材", "key": "office",
                                                                   "parent": "", "desc": ""})
    assert response.status_code == 302
    office = rows.one(Catalog, key="office")
    assert office.name == "办公设备与耗材" and office.parent_id is None and office.level == 0
    admin.post("/admin/catalog/delete/", {"id": str(office.id), "url": "/admin/catalog/"})
    assert rows.one(Catalog, key="office") is None


def test_catalog_with_children_cannot_be_deleted(admin, rows):
    infra = rows.one(Catalog, key="infra")
    response = admin.post("/admin/catalog/delete/", {"id": str(infra.id), "url": "/admin/catalog/"},
                          follow_redirects=True)
    assert "下还有子目录：变更申请、报障受理" in text_of(response)
    assert rows.one(Catalog, key="infra") is not None


def test_catalog_cannot_become_its_own_descendant(admin, rows):
    infra, child = rows.one(Catalog, key="infra"), rows.one(Catalog, key="infra_change")
    response = admin.post(f"/admin/catalog/edit/?id={infra.id}", {"name": "基础设施", "key": "infra",
                                                                  "parent": str(child.id), "desc": ""})
    assert "上级目录不能是该目录自己或它的下级目录" in text_of(response)
    assert rows.one(Catalog, key="infra").parent_id != child.id


def test_add_order_and_remove_services_in_a_catalog(admin, rows, browser):
    account = rows.one(Catalog, key="account")
    change, problem = rows.one(Service, key="change_normal"), rows.one(Service, key="problem_manage")
    url = f"/admin/catalog/services/{account.id}"
    admin.post(url, {"op": "add", "service_ids": [str(change.id), str(problem.id)]})
    links = rows.all(CatalogService, CatalogService.catalog_id == account.id, order_by=CatalogService.order)
    assert [link.service_id for link in links][1:] == [change.id, problem.id]
    admin.post(url, {"op": "up", "service_id": str(problem.id)})
    links = rows.all(CatalogService, CatalogService.catalog_id == account.id, order_by=CatalogService.order)
    assert [link.service_id for link in links][1:] == [problem.id, change.id]

    alice = browser("alice")
    assert "普通变更" in alice.get(f"/submit?catalog={account.id}").get_data(as_text=True)
    admin.post(url, {"op": "remove", "service_id": str(change.id)})
    # hidden from this catalog's submit entry, and nothing else changed
    assert "普通变更" not in alice.get(f"/submit?catalog={account.id}").get_data(as_text=True)
    infra_change = rows.one(Catalog, key="infra_change")
    assert "普通变更" in alice.get(f"/submit?catalog={infra_change.id}").get_data(as_text=True)
    assert rows.one(Service, key="change_normal").is_valid
    assert {a.action for a in rows.all(AuditLog, AuditLog.model == "Catalog")} >= {"add_services", "remove_service",
                                                                                   "reorder_services"}


def test_catalogs_move_up_and_down(admin, rows):
    quality, account = rows.one(Catalog, key="quality"), rows.one(Catalog, key="account")
    admin.post(f"/admin/catalog/move/{quality.id}/up")
    admin.post(f"/admin/catalog/move/{quality.id}/up")
    assert rows.one(Catalog, key="quality").order < rows.one(Catalog, key="account").order
    assert account.id


def test_bulk_delete_action_casts_ids(admin, rows):
    """Action ids arrive as strings: on PostgreSQL an uncast `IN` fails; the guard still applies per row."""
    for key in ("tmp1", "tmp2"):
        admin.post("/admin/service/new/", {"name": key, "key": key, "service_type": "request", "owners": "",
                                           "is_valid": "y"})
    ids = [str(rows.one(Service, key=k).id) for k in ("tmp1", "tmp2", "account_apply")]
    response = admin.post("/admin/service/action/", {"action": "delete", "rowid": ids, "url": "/admin/service/"},
                          follow_redirects=True)
    assert "已删除 2 条记录" in text_of(response)
    assert rows.one(Service, key="tmp1") is None and rows.one(Service, key="account_apply") is not None


def test_admin_post_without_csrf_is_refused(admin, rows):
    response = admin.post("/admin/service/new/", {"name": "x", "key": "nocsrf", "service_type": "request",
                                                  "owners": ""}, csrf=False)
    assert response.status_code == 400
    assert rows.one(Service, key="nocsrf") is None
