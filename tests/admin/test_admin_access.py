"""Only super admins use the back office: 403 for everyone else on every admin URL, no menu link."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import User

ADMIN_URLS = [
    "/admin/", "/admin/service/", "/admin/service/new/", "/admin/catalog/", "/admin/catalog/new/",
    "/admin/catalog/services/1", "/admin/flow/", "/admin/flow/new/", "/admin/flow/import/", "/admin/flow/preview/1",
    "/admin/flow/deploy/1", "/admin/flow/export/1", "/admin/flow/graph/1.svg", "/admin/flowversion/",
    "/admin/flowversion/preview/1", "/admin/apisystem/", "/admin/apidef/", "/admin/role/", "/admin/cmdbrole/",
    "/admin/adminrole/", "/admin/dictionary/", "/admin/settings/", "/admin/apicalllog/", "/admin/auditlog/",
    "/admin/notifysettings/", "/admin/notifysettings/template/todo/", "/admin/notifysettings/template/_layout/",
    "/admin/notification/",
]
ADMIN_POSTS = ["/admin/flow/validate/", "/admin/catalog/move/1/up", "/admin/cmdbrole/sync/", "/admin/settings/clear-cache/",
               "/admin/flowversion/restore/1", "/admin/service/delete/", "/admin/dictionary/load/"]


@pytest.fixture
def stats_admin(browser, demo):
    with demo.app_context():
        db.session.query(User).filter_by(username="pm").update({"is_stats_admin": True})
        commit()
    return browser("pm")


def _with_real_ids(demo, url: str) -> str:
    """The demo's first catalog/flow/version id (sequences do not restart between tests on PostgreSQL)."""
    from app.models import Catalog, Flow, FlowVersion

    with demo.app_context():
        ids = {"catalog": db.session.query(Catalog.id).order_by(Catalog.id).first()[0],
               "flowversion": db.session.query(FlowVersion.id).order_by(FlowVersion.id).first()[0],
               "flow": db.session.query(Flow.id).order_by(Flow.id).first()[0]}
    for kind in ("catalog", "flowversion", "flow"):
        if url.startswith(f"/admin/{kind}/") and ("/1" in url):
            return url.replace("/1", f"/{ids[kind]}", 1)
    return url


def test_super_admin_sees_every_admin_page(admin, demo):
    for url in ADMIN_URLS:
        response = admin.get(_with_real_ids(demo, url))
        assert response.status_code == 200, url


def test_super_admin_has_the_admin_link(admin):
    assert 'id="nav-admin"' in admin.get("/").get_data(as_text=True)


@pytest.mark.parametrize("who", ["alice", "stats"])
def test_others_get_403_on_every_admin_url_and_no_link(browser, stats_admin, who):
    user = stats_admin if who == "stats" else browser("alice")
    for url in ADMIN_URLS:
        assert user.get(url).status_code == 403, url
    for url in ADMIN_POSTS:
        assert user.post(url, {"id": "1"}).status_code == 403, url
    assert 'id="nav-admin"' not in user.get("/").get_data(as_text=True)


def test_anonymous_gets_403(demo):
    client = demo.test_client()
    assert client.get("/admin/").status_code == 403
    assert client.get("/admin/flow/").status_code == 403


def test_admin_pages_are_chinese_and_served_offline(admin):
    page = admin.get("/admin/service/").get_data(as_text=True)
    assert "服务管理" in page and "流程管理" in page and "角色配置" in page and "系统配置" in page
    assert "服务名称" in page and "创建" in page
    assert "cdn" not in page.lower() and "https://" not in page
