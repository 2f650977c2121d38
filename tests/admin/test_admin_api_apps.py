"""API apps in the back office, and attachment settings that take effect."""
import io
import json
import re

from admin_kit import text_of

from app.models import ApiApp, Attachment, AuditLog


def _secret(page: str) -> str:
    return re.search(r"bk_app_secret（只显示这一次[^）]*）：(\S+?)<", page).group(1)


def test_register_an_api_app_shows_the_secret_once_and_it_works(admin, rows, demo, browser):
    page = admin.post("/admin/apiapp/new/", {"app_code": "cmdb-sync", "name": "CMDB 同步", "act_for_users": "y",
                                             "is_enabled": "y"}, follow_redirects=True).get_data(as_text=True)
    secret = _secret(page)
    row = rows.one(ApiApp, app_code="cmdb-sync")
    assert row.act_for_users and row.is_enabled and secret not in row.secret_digest
    assert secret not in admin.get("/admin/apiapp/").get_data(as_text=True)
    headers = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": "cmdb-sync", "bk_app_secret": secret,
                                                    "bk_username": "alice"})}
    answer = demo.test_client().get("/api/c/compapi/v2/itsm/get_services/", headers=headers).get_json()
    assert answer["result"] is True
    assert rows.all(AuditLog, AuditLog.model == "ApiApp")


def test_duplicate_app_code_is_refused_and_nothing_changes(admin, rows):
    admin.post("/admin/apiapp/new/", {"app_code": "portal", "is_enabled": "y"})
    response = admin.post("/admin/apiapp/new/", {"app_code": "portal", "is_enabled": "y"}, follow_redirects=True)
    assert "应用 portal 已存在" in text_of(response)
    assert len(rows.all(ApiApp)) == 1


def test_reset_secret_invalidates_the_old_one(admin, rows, demo):
    old = _secret(admin.post("/admin/apiapp/new/", {"app_code": "portal", "act_for_users": "y", "is_enabled": "y"},
                             follow_redirects=True).get_data(as_text=True))
    app_id = rows.one(ApiApp, app_code="portal").id
    page = admin.post("/admin/apiapp/action/", {"action": "reset_secret", "rowid": str(app_id)},
                      follow_redirects=True).get_data(as_text=True)
    new = re.search(r"新 bk_app_secret（只显示这一次）：(\S+?)<", page).group(1)
    client = demo.test_client()

    def call(secret):
        headers = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": "portal", "bk_app_secret": secret,
                                                        "bk_username": "alice"})}
        return client.get("/api/c/compapi/v2/itsm/get_services/", headers=headers).get_json()["code"]

    assert call(old) == 3900401 and call(new) == 0


def test_api_apps_are_for_super_admins_only(browser):
    assert browser("alice").get("/admin/apiapp/").status_code == 403


def test_attachment_size_limit_from_the_settings_applies_to_uploads(admin, browser, rows, demo, tmp_path):
    folder = tmp_path / "files"
    assert admin.post("/admin/settings/", {"upload_dir": str(folder), "upload_max_mb": "0.02"}).status_code == 302
    alice = browser("alice")
    with demo.app_context():
        from app.extensions import db
        from app.models import Service

        service_id = db.session.query(Service.id).filter_by(key="incident_handle").scalar()
    data = {"title": "磁盘满", "event_type": "fault", "event_source": "monitor", "impact": "high", "urgency": "high",
            "occurred_at": "2026-11-28T09:30", "description": "日志写满磁盘"}
    big = {**data, "attachments": (io.BytesIO(b"x" * 40_000), "big.log")}
    response = alice.post(f"/submit/{service_id}", big, content_type="multipart/form-data")
    assert response.status_code in (302, 400)
    assert not rows.all(Attachment)
    small = {**data, "attachments": (io.BytesIO(b"disk full"), "small.log")}
    response = alice.post(f"/submit/{service_id}", small, content_type="multipart/form-data")
    assert response.status_code == 302
    (row,) = rows.all(Attachment)
    assert (folder / row.stored_name).read_bytes() == b"disk full"
