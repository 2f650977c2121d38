"""Messages after a back-office action (issue 16): one success message per save, in the admin's language,
and refusals that name what is in use in English too."""
from __future__ import annotations

import re

from admin_kit import text_of
from sqlalchemy import select

from app.extensions import db
from app.models import Role

ROLE = {"name": "临时组", "key": "temp_team", "desc": "", "member_names": ["eng1"]}


def _alerts(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [re.sub(r"<[^>]+>|&times;", "", a).strip()
            for a in re.findall(r'<div class="alert alert-\w+ alert-dismissable">(.*?)</div>\s*</div>', html, re.S)]


def _role_id(app, key: str) -> int:
    with app.app_context():
        return db.session.execute(select(Role.id).filter_by(key=key)).scalar()


def test_a_save_shows_one_success_message_in_chinese(admin):
    response = admin.post("/admin/role/new/", ROLE, follow_redirects=True)
    assert _alerts(response) == ["已新增。"]


def test_a_save_and_a_delete_speak_english_to_an_english_admin(admin, demo):
    admin.post("/language", {"lang": "en"})
    assert _alerts(admin.post("/admin/role/new/", ROLE, follow_redirects=True)) == ["Record was successfully created."]
    role_id = _role_id(demo, "temp_team")
    deleted = admin.post("/admin/role/action/", {"action": "delete", "rowid": [str(role_id)], "url": "/admin/role/"},
                         follow_redirects=True)
    assert _alerts(deleted) == ["Deleted 1 records"]


def test_a_refusal_names_the_role_in_use_in_english(admin, demo):
    admin.post("/language", {"lang": "en"})
    response = admin.post("/admin/role/delete/", {"id": str(_role_id(demo, "cab")), "url": "/admin/role/"},
                          follow_redirects=True)
    page = text_of(response)
    assert "Delete refused: \"变更评审委员会\" is referenced by flows in use" in page
    assert "正被使用中的流程引用" not in page
    # the places are listed in English too; only the names (user data) stay as written
    assert re.search(r'flow "普通变更[^"]*": node "[^"]+"', page), page
    assert not re.search(r"流程「|的节点|节点「", page)
