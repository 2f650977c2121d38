"""The back office speaks the manual's Chinese: no generic admin-panel leftovers, audit rows in words.

Flask-Admin's own strings come from our catalogue app/admin/translations/zh_Hans (compiled by
scripts/compile_admin_translations.py); English users keep Flask-Admin's English.
"""
from __future__ import annotations

from pathlib import Path

from admin_kit import text_of
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.models import Role

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "admin" / "translations"
LEFTOVERS = ("20 项目", "选中的", "表中没有任何记录", "API 调用日志", "CMDB 业务角色")


def _messages(catalog) -> dict:
    """id → translation; plural messages as tuples (read_po and read_mo give lists and tuples)."""
    def plain(value):
        return value if isinstance(value, str) else tuple(value)

    return {plain(m.id): plain(m.string) for m in catalog if m.id}


def test_each_compiled_catalogue_matches_its_source():
    pos = sorted(CATALOGUES.glob("*/LC_MESSAGES/admin.po"))
    assert pos, "no back-office catalogue"
    for po in pos:
        with po.open("rb") as f:
            source = _messages(read_po(f))
        with po.with_suffix(".mo").open("rb") as f:
            compiled = _messages(read_mo(f))
        assert compiled == source, f"{po} changed: run scripts/compile_admin_translations.py"


def test_list_pages_use_the_manuals_words(admin):
    page = text_of(admin.get("/admin/role/"))
    for word in ("新增", "批量操作", "20 条/页", "通用角色表", "业务角色表", "管理员角色表", "接入系统", "接口日志"):
        assert word in page, word
    for leftover in LEFTOVERS:
        assert leftover not in page, leftover
    assert "暂无记录" in text_of(admin.get("/admin/auditlog/"))


def test_english_users_keep_flask_admins_english(admin):
    admin.post("/language", {"lang": "en"})
    page = text_of(admin.get("/admin/role/"))
    assert "Create" in page and "With selected" in page
    assert "新增" not in page and "批量操作" not in page


def test_audit_rows_name_the_action_and_the_object_in_words(admin, rows):
    admin.post("/admin/role/new/", {"name": "临时组", "key": "temp_team", "desc": "", "member_names": ["eng1"]})
    role = rows.one(Role, key="temp_team")
    admin.post(f"/admin/role/edit/?id={role.id}", {"name": "临时小组", "key": "temp_team", "desc": "",
                                                   "member_names": ["eng1"]})
    log = text_of(admin.get("/admin/auditlog/"))
    assert "新增 角色" in log and "修改 角色" in log
    home = text_of(admin.get("/admin/"))
    assert f"修改 角色 {role.id}" in home and " update " not in home
