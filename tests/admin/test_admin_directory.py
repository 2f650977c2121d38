"""组织架构 in the back office: each user's department and leader, checked before saving."""
from admin_kit import text_of

from app.models import User


def test_a_super_admin_sets_a_users_department_and_leader(admin, rows):
    eng1 = rows.one(User, username="eng1")
    page = admin.get("/admin/directory/").get_data(as_text=True)
    assert "销售部" in page and "直属领导" in page
    response = admin.post(f"/admin/directory/edit/?id={eng1.id}", {"department": " 研发部 ", "leader": "pm"})
    assert response.status_code == 302
    eng1 = rows.one(User, username="eng1")
    assert (eng1.department, eng1.leader) == ("研发部", "pm")


def test_an_unknown_or_self_leader_is_refused_and_nothing_changes(admin, rows):
    eng2 = rows.one(User, username="eng2")
    response = admin.post(f"/admin/directory/edit/?id={eng2.id}", {"department": "研发部", "leader": "ghost"})
    assert "直属领导 ghost 不是已有用户" in text_of(response)
    response = admin.post(f"/admin/directory/edit/?id={eng2.id}", {"department": "研发部", "leader": "eng2"})
    assert "eng2 不能是自己的直属领导" in text_of(response)
    eng2 = rows.one(User, username="eng2")
    assert (eng2.department, eng2.leader) == ("", "")


def test_only_super_admins_reach_the_directory(browser):
    assert browser("alice").get("/admin/directory/").status_code == 403
